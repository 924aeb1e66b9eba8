"""Limits a client cannot step around by dropping its cookie: per address, across the server,
event streams capped, repeated targets counted once."""

from __future__ import annotations

import re
import time
import warnings

from model.web import security as sec
from model.web import whatif as wi

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from model.web import app as webapp
from model.web.app import create_app

BASELINE = (wi.SCENARIO_DIR / "baseline.yaml").read_bytes()


def fresh(app, address: str = "testclient") -> TestClient:
    """A client with no cookie yet (a new session) from ``address``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(app, client=(address, 50000))


def run_once(client):
    page = client.get("/whatif")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/whatif/run", data={"csrf": csrf, "source": "baseline"})


def test_fresh_sessions_from_one_address_are_limited_and_others_are_not():
    app = create_app(secret="s")
    answers = [run_once(fresh(app)) for _ in range(12)]  # a new cookie each time
    codes = [r.status_code for r in answers]
    assert codes == [200] * 8 + [429] * 4
    assert "from this address" in answers[-1].text
    assert run_once(fresh(app, "10.0.0.2")).status_code == 200  # another device is not slowed


def test_the_server_limit_holds_across_addresses_and_sessions():
    now = [0.0]
    limits = sec.RunLimits(server=sec.RateLimiter(burst=3, every=1.0, max_keys=1,
                                                  clock=lambda: now[0]))
    assert [limits.allow(f"s{k}", f"a{k}") for k in range(4)] == [None, None, None, "server"]
    now[0] += 1.0
    assert limits.allow("s9", "a9") is None and limits.allow("s10", "a10") == "server"
    by_address = sec.RunLimits()  # the default: a burst of 8 per address, whatever the session
    assert [by_address.allow(f"t{k}", "one") for k in range(9)] == [None] * 8 + ["address"]
    assert by_address.allow("t0", "two") is None


def test_an_uploaded_scenarios_page_is_rate_limited(tmp_path):
    app = create_app(secret="s")
    client = fresh(app)
    page = client.get("/whatif")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    mine = BASELINE.replace(b"seed: 20240", b"seed: 778")
    r = client.post("/whatif/upload", data={"csrf": csrf}, files={"file": ("m.yaml", mine)},
                    follow_redirects=False)
    target = r.headers["location"]
    codes = [client.get(target).status_code for _ in range(6)]
    assert codes[0] == 200 and 429 in codes
    assert client.get("/whatif").status_code == 200  # the cached baseline page is not limited


def test_event_streams_are_capped_per_address_and_in_all():
    app = create_app(secret="s")
    app.state.web.streams = sec.StreamSlots(per_address=2, total=3)
    a, b, c = fresh(app, "10.0.0.1"), fresh(app, "10.0.0.2"), fresh(app, "10.0.0.3")
    with a.stream("GET", "/board/events") as s1, a.stream("GET", "/board/events") as s2:
        assert s1.status_code == s2.status_code == 200
        assert a.get("/board/events").status_code == 429  # a third from the same address
        with b.stream("GET", "/board/events") as s3:
            assert s3.status_code == 200
            assert c.get("/board/events").status_code == 429  # the server's cap
    deadline = time.monotonic() + 5
    while app.state.web.streams._open and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.state.web.streams._open == {}  # closed streams give their slots back
    assert webapp.STREAM_MESSAGES * 15 <= 300  # a stream ends within 5 minutes (the browser reconnects)


def test_a_target_repeated_hundreds_of_times_counts_once():
    s = wi.load_shipped("baseline")
    out = wi.apply_levers(s, {"lever-cpec-intensity": ["0.9"],
                              "lever-cpec-targets": ["PAK"] * 390 + ["IRN", "PAK"]})
    assert out.sco.cpec.targets == ["PAK", "IRN"]


def test_uploads_count_against_the_same_limits():
    app = create_app(secret="s")
    codes = []
    for k in range(10):  # a fresh session each time, one address
        client = fresh(app)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/whatif").text).group(1)
        mine = BASELINE.replace(b"seed: 20240", f"seed: {900 + k}".encode())
        codes.append(client.post("/whatif/upload", data={"csrf": csrf},
                                 files={"file": ("m.yaml", mine)},
                                 follow_redirects=False).status_code)
    assert codes == [303] * 8 + [429] * 2
