"""The web app's routes through Starlette's TestClient: pages, CSRF, uploads, sessions, roles."""

from __future__ import annotations

import re
import warnings
from html import unescape

import pytest

from model.web import security as sec
from model.web import whatif as wi

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from model.web.app import create_app

BASELINE = (wi.SCENARIO_DIR / "baseline.yaml").read_bytes()


def token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="module")
def app():
    app = create_app(codes=sec.Codes.issue(["red", "blue"]), secret="test-secret")
    # every client here has the same address: only the session's limit is tested here (the
    # address's and the server's: test_limits.py)
    app.state.web.limits = sec.RunLimits(address=sec.RateLimiter(burst=10_000),
                                         server=sec.RateLimiter(burst=10_000, max_keys=1))
    return app


@pytest.fixture
def client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(app)


def whatif(client) -> tuple[str, str]:
    r = client.get("/whatif")
    assert r.status_code == 200
    return r.text, token(r.text)


def test_index_and_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and "No game is being served" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()


def test_whatif_page_draws_the_baseline(client):
    html, _ = whatif(client)
    assert '<svg id="bloc-chart"' in html and '<svg id="state-chart"' in html
    assert 'id="lever-cpec-intensity"' in html and 'id="lever-public_diplomacy-intensity"' in html
    assert re.search(r'href="/whatif/scenario/[0-9a-f]{20}\.yaml"', html)
    assert "<script src=\"/static/htmx.min.js\"" in html and "https://" not in html


def test_static_htmx_is_vendored(client):
    r = client.get("/static/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    assert client.get("/static/htmx.LICENSE").status_code == 200


def test_moving_a_lever_redraws_with_the_difference(client):
    _, csrf = whatif(client)
    r = client.post("/whatif/run", data={
        "csrf": csrf, "source": "baseline", "measure": "gdp_share", "states": ["IND"],
        "lever-public_diplomacy-intensity": "1", "lever-public_diplomacy-targets": ["world"]})
    assert r.status_code == 200
    assert "baseline-whatif" in r.text
    assert 'id="err-lever-cpec" class="err" hx-swap-oob="true"></span>' in r.text  # errors cleared
    key = re.search(r'data-key="([0-9a-f]{20})"', r.text).group(1)
    drivers = client.get(f"/whatif/drivers/{key}")  # fetched by the fragment once drawn
    assert drivers.status_code == 200
    first = re.search(r"<tbody><tr><th>([^<]+)</th>", drivers.text).group(1)
    assert first == "West: public diplomacy"  # the lever moved is the largest change


def test_post_without_or_with_a_wrong_csrf_token_is_refused(client):
    whatif(client)
    for data, headers in (({"source": "baseline"}, {}),
                          ({"csrf": "forged", "source": "baseline"}, {}),
                          ({"source": "baseline"}, {"X-CSRF-Token": "forged"})):
        r = client.post("/whatif/run", data=data, headers=headers)
        assert r.status_code == 403 and "security token" in r.text


def test_csrf_header_is_accepted(client):
    _, csrf = whatif(client)
    r = client.post("/whatif/run", data={"source": "baseline"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200


def test_another_sessions_token_does_not_pass(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = TestClient(app), TestClient(app)
    _, csrf_a = whatif(a)
    whatif(b)
    r = b.post("/whatif/run", data={"csrf": csrf_a, "source": "baseline"})
    assert r.status_code == 403


def test_bad_lever_value_is_shown_next_to_its_field_and_keeps_the_chart(client):
    _, csrf = whatif(client)
    r = client.post("/whatif/run", data={"csrf": csrf, "source": "baseline",
                                         "lever-cpec-intensity": "7"})
    assert r.status_code == 422 and r.headers["hx-reswap"] == "none"
    assert re.search(r'id="err-lever-cpec"[^>]*>[^<]*less than or equal to 1', r.text)
    r = client.post("/whatif/run", data={"csrf": csrf, "source": "baseline",
                                         "lever-cpec-intensity": "0.5",
                                         "lever-cpec-targets": ["NOWHERE"]})
    assert r.status_code == 422 and "unknown state code or group 'NOWHERE'" in unescape(r.text)
    assert re.search(r'id="err-lever-cpec"[^>]*>unknown state code', r.text)
    r = client.post("/whatif/run", data={"csrf": csrf, "source": "baseline", "states": ["XYZ"]})
    assert r.status_code == 422 and re.search(r'id="err-states"[^>]*>unknown state code', r.text)


def test_upload_validation(client):
    _, csrf = whatif(client)
    bad = b"name: x\nsco:\n  cpec:\n    intensity: 3\n"
    r = client.post("/whatif/upload", data={"csrf": csrf}, files={"file": ("bad.yaml", bad)})
    assert r.status_code == 422
    assert "upload bad.yaml:4: sco.cpec.intensity" in r.text and 'id="err-upload"' in r.text
    r = client.post("/whatif/upload", data={"csrf": csrf},
                    files={"file": ("x.yaml", b"name: x\nextends: ../../etc/passwd\n")})
    assert r.status_code == 422 and "cannot extend" in r.text
    r = client.post("/whatif/upload", data={"csrf": csrf},
                    files={"file": ("big.yaml", b"#" * (sec.MAX_BODY + 10))})
    assert r.status_code == 413
    r = client.post("/whatif/upload", files={"file": ("b.yaml", BASELINE)})
    assert r.status_code == 403


def test_upload_then_use_it_in_this_session_only(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = TestClient(app), TestClient(app)
    _, csrf = whatif(a)
    mine = BASELINE.replace(b"seed: 20240", b"seed: 777")  # content no other session has
    r = a.post("/whatif/upload", data={"csrf": csrf}, files={"file": ("mine.yaml", mine)},
               follow_redirects=False)
    assert r.status_code == 303
    target = r.headers["location"]
    assert re.fullmatch(r"/whatif\?scenario=upload:[0-9a-f]{20}", target)
    page = a.get(target)
    assert page.status_code == 200 and "uploaded: baseline" in page.text
    other = b.get(target)  # another session cannot reach the upload
    assert other.status_code == 200 and "not in this session" in other.text
    link = re.search(r'href="(/whatif/scenario/[0-9a-f]{20}\.yaml)"', page.text).group(1)
    assert a.get(link).status_code == 200
    assert b.get(link).status_code == 404
    key = link.rsplit("/", 1)[1].removesuffix(".yaml")
    assert b.get(f"/whatif/drivers/{key}").status_code == 404
    assert b.get(f"/whatif/numbers/{key}.csv").status_code == 404


def test_download_is_the_scenario_on_screen(client):
    _, csrf = whatif(client)
    r = client.post("/whatif/run", data={"csrf": csrf, "source": "baseline",
                                         "lever-cpec-intensity": "0.95",
                                         "lever-cpec-targets": ["PAK"]})
    key = re.search(r'data-key="([0-9a-f]{20})"', r.text).group(1)
    y = client.get(f"/whatif/scenario/{key}.yaml")
    assert y.status_code == 200 and "attachment" in y.headers["content-disposition"]
    s = wi.read_upload(y.content, "download")
    assert s.sco.cpec.intensity == 0.95 and s.replications == wi.RUNS
    assert client.get("/whatif/scenario/../../etc/passwd.yaml").status_code == 404
    assert client.get("/whatif/scenario/" + "0" * 20 + ".yaml").status_code == 404


def test_rate_limit_per_session(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = TestClient(app), TestClient(app)
    _, csrf = whatif(a)
    codes = [a.post("/whatif/run", data={"csrf": csrf, "source": "baseline"}).status_code
             for _ in range(12)]
    assert 429 in codes and codes[0] == 200
    _, csrf_b = whatif(b)  # another session is not slowed by it
    assert b.post("/whatif/run", data={"csrf": csrf_b, "source": "baseline"}).status_code == 200


def test_unknown_shipped_name_falls_back_with_a_message(client):
    r = client.get("/whatif", params={"scenario": "../../etc/passwd"})
    assert r.status_code == 200 and "no shipped scenario named" in r.text


def test_codes_grant_roles_and_roles_guard_pages(app):
    codes = app.state.web.codes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        team, boss = TestClient(app), TestClient(app)
    for c in (team, boss):
        assert c.get("/facilitator").status_code == 403
        assert c.get("/team").status_code == 403
    csrf = token(team.get("/join").text)
    r = team.post("/join", data={"csrf": csrf, "code": "WRONG123"})
    assert r.status_code == 422 and "unknown code" in r.text
    r = team.post("/join", data={"csrf": csrf, "code": codes.teams["red"].lower()},
                  follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/team"
    assert "team:red" in team.get("/team").text
    assert team.get("/facilitator").status_code == 403  # a team's session is not the facilitator
    csrf = token(boss.get("/join").text)
    assert boss.post("/join", data={"csrf": csrf, "code": codes.facilitator}).status_code == 200
    assert boss.get("/facilitator").status_code == 200
    assert team.post("/join", data={"code": codes.facilitator}).status_code == 403  # no CSRF


def test_board_version_moves_when_published(app, client):
    before = int(client.get("/board/version").text)
    app.state.web.board.publish()
    assert int(client.get("/board/version").text) == before + 1


def test_body_limit_applies_to_streamed_bodies_too(client):
    _, csrf = whatif(client)

    def chunks():  # no Content-Length: the limit counts bytes as they arrive
        for _ in range(40):
            yield b"x" * 10_000

    r = client.post("/whatif/upload", content=chunks(),
                    headers={"content-type": "multipart/form-data; boundary=b",
                             "x-csrf-token": csrf})
    assert r.status_code == 413 and "request too large" in r.text


def test_pages_are_compressed_but_event_streams_are_not(client):
    r = client.get("/whatif", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    with client.stream("GET", "/board/events", headers={"accept-encoding": "gzip"}) as r:
        assert "content-encoding" not in r.headers
        assert r.headers["content-type"].startswith("text/event-stream")
        assert next(r.iter_text()).startswith("event: version")


def test_target_pickers_load_on_demand_with_the_targets_selected(client):
    html, _ = whatif(client)
    assert len(html) < 80_000  # 13 pickers of 230 options are not in the page
    assert '<input type="hidden" name="lever-cpec-targets" value="PAK">' in html
    r = client.get("/whatif/picker/cpec", params={"source": "baseline", "t": ["PAK", "IRN"]})
    assert r.status_code == 200 and 'name="lever-cpec-targets"' in r.text
    assert '<option value="PAK" selected>' in r.text and '<option value="IRN" selected>' in r.text
    assert '<option value="IND">' in r.text and '<option value="sco_members">' in r.text
    assert client.get("/whatif/picker/nolever").status_code == 404
    assert client.get("/whatif/picker/cpec", params={"source": "../x"}).status_code == 404
