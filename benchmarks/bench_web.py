"""The web server under load on loopback: what-if redraw time, and 40 clients polling.

Starts ``blocsim serve`` as a subprocess on a free loopback port, then:

1. **Redraw**: one session moves a slider ``--redraws`` times (each a new intensity, so nothing
   is cached but the scenario as shipped): the time of ``POST /whatif/run`` from request to the
   full chart fragment (100 replications on the engine, fans, drivers, SVG), p50 and p95.
2. **Load**: ``--clients`` clients (threads, each its own session) poll the board's version and
   page every ``--interval`` seconds for ``--seconds``, while ``--movers`` of them also move a
   what-if slider every few seconds: response-time percentiles per route, and errors.

3. **Game** (``--game GAME.yaml``, instead of 1-2): the game served from a fresh save folder;
   ``--clients`` devices join with the teams' codes (spread over the teams) and poll
   ``/game/stamp`` (as a team's page does) every ``--interval`` seconds, reloading their team
   page every third poll and submitting a move every ``--submit-every`` polls (each judged by
   the engine: accepted, or refused with a 422); a facilitator thread opens and closes
   ``--turns`` turns of ``--turn-seconds``.

The issue's targets: a redraw of 100 replications of the baseline in at most 0.5 s, p95 page
response under 200 ms with 40 clients. Wall times on a shared machine: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "model", "serve", *extra, "--port", str(port)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/board/version", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start: " + proc.stderr.read().decode()[-500:])


def session(base: str, client: httpx.Client | None = None) -> tuple[httpx.Client, str]:
    """A client with its own session cookie, and the session's CSRF token (from the page)."""
    client = client or httpx.Client(base_url=base, timeout=30)
    page = client.get("/whatif")
    return client, re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def move(client: httpx.Client, csrf: str, value: float) -> httpx.Response:
    return client.post("/whatif/run", data={
        "csrf": csrf, "source": "baseline", "measure": "gdp_share", "states": ["IND", "KAZ"],
        "lever-public_diplomacy-intensity": f"{value:.4f}",
        "lever-public_diplomacy-targets": ["swing_states"]})


def pct(times: list[float]) -> str:
    a = np.asarray(times) * 1000
    return (f"n={len(a)}, p50 {np.percentile(a, 50):.0f} ms, p95 {np.percentile(a, 95):.0f} ms, "
            f"max {a.max():.0f} ms")


def redraws(base: str, n: int) -> list[float]:
    client, csrf = session(base)
    move(client, csrf, 0.01)  # the shipped scenario's runs are computed once and cached
    out = []
    for k in range(n):
        time.sleep(1.6)  # a person moving a slider, within the per-session rate limit
        t = time.perf_counter()
        r = move(client, csrf, 0.05 + 0.9 * k / max(1, n))
        out.append(time.perf_counter() - t)
        assert r.status_code == 200 and 'id="bloc-chart"' in r.text, r.status_code
    return out


class Recorder:
    """Response times per route and the failed answers, from many threads."""

    def __init__(self, names: list[str]) -> None:
        self.results: dict[str, list[float]] = {n: [] for n in names}
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def timed(self, name: str, call, ok=(200,)) -> None:
        """Time ``call()``; an answer outside ``ok`` (or no answer) counts as an error."""
        t = time.perf_counter()
        try:
            r = call()
            good = r.status_code in ok
        except httpx.HTTPError as exc:
            good, r = False, exc
        dt = time.perf_counter() - t
        with self.lock:
            self.results[name].append(dt)
            if not good:
                self.errors.append(f"{name}: {getattr(r, 'status_code', r)}")

    def out(self) -> dict:
        """What ``load`` and ``game_load`` report."""
        return {"results": self.results, "errors": self.errors}


def load(base: str, clients: int, movers: int, seconds: float, interval: float) -> dict:
    rec = Recorder(["GET /whatif (first visit)", "GET /board/version", "GET /board",
                    "POST /whatif/run"])
    ready = threading.Barrier(clients + 1)
    stop = [0.0]

    def one(i: int) -> None:
        # httpx makes an SSL context per client (tens of ms of the benchmark's own CPU): not timed
        client = httpx.Client(base_url=base, timeout=30)
        t = time.perf_counter()
        client, csrf = session(base, client)  # every client opens the what-if page first
        with rec.lock:
            rec.results["GET /whatif (first visit)"].append(time.perf_counter() - t)
        ready.wait()
        rng = np.random.default_rng(i)
        time.sleep(rng.uniform(0, interval))
        k = 0
        while time.monotonic() < stop[0]:
            calls = [("GET /board/version", lambda: client.get("/board/version")),
                     ("GET /board", lambda: client.get("/board"))]
            if i < movers and k % 3 == 0:
                value = float(rng.uniform(0, 1))
                calls.append(("POST /whatif/run", lambda v=value: move(client, csrf, v)))
            for name, call in calls:
                rec.timed(name, call, ok=(200, 429))
            k += 1
            time.sleep(interval)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()  # polling starts once every session exists
    stop[0] = time.monotonic() + seconds
    for t in threads:
        t.join()
    return rec.out()


def joined(base: str, code: str) -> tuple[httpx.Client, str]:
    """A client whose session entered ``code``, and its CSRF token."""
    client = httpx.Client(base_url=base, timeout=30)
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/join").text).group(1)
    page = client.post("/join", data={"csrf": csrf, "code": code}, follow_redirects=True)
    return client, re.search(r'"X-CSRF-Token": "([^"]+)"', page.text).group(1)


def game_load(base: str, keys: dict, menus: dict, clients: int, turns: int,
              turn_seconds: float, interval: float, submit_every: int) -> dict:
    """Devices of every team polling and submitting while a facilitator plays ``turns`` turns."""
    rec = Recorder(["GET /game/stamp", "GET /team", "GET /board", "POST /team/move",
                    "POST /facilitator/act"])
    teams = list(keys["teams"])
    done = threading.Event()

    def timed(name: str, call, ok=(200, 303, 422)) -> None:
        rec.timed(name, call, ok)

    def device(i: int) -> None:
        team = teams[i % len(teams)]
        client, csrf = joined(base, keys["teams"][team])
        rng = np.random.default_rng(i)
        time.sleep(rng.uniform(0, interval))
        k = 0
        while not done.is_set():
            timed("GET /game/stamp", lambda: client.get("/game/stamp"))  # as a team's page does
            if k % 3 == 0:
                timed("GET /team", lambda: client.get("/team"))
            if k % submit_every == submit_every - 1 and menus[team]:
                move, targets = menus[team][int(rng.integers(len(menus[team])))]
                data = {"csrf": csrf, "kind": "spend", "move": move, "form": f"menu-{move}",
                        "targets": [targets[int(rng.integers(len(targets)))]],
                        "intensity": f"{rng.uniform(0.1, 1):.2f}"}
                timed("POST /team/move", lambda d=data: client.post("/team/move", data=d))
            k += 1
            time.sleep(interval)

    def facilitator() -> None:
        client, csrf = joined(base, keys["facilitator"])
        for _ in range(turns):
            for do in ("open", "close"):
                timed("POST /facilitator/act", lambda d=do: client.post(
                    "/facilitator/act", data={"csrf": csrf, "do": d}), ok=(303,))
                timed("GET /board", lambda: client.get("/board"))
                time.sleep(turn_seconds if do == "open" else 1.0)
        done.set()

    threads = [threading.Thread(target=device, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(interval)
    facilitator()
    for t in threads:
        t.join()
    return rec.out()


def run_game(args) -> None:
    import json
    import tempfile

    import yaml

    spec = yaml.safe_load(Path(args.game).read_text(encoding="utf-8"))
    menus = {t: [(m, [x for x in item.get("targets", ["own"]) if x != "own"]
                  or team.get("states", [])) for m, item in team.get("menu", {}).items()]
             for t, team in spec["teams"].items()}
    folder = Path(tempfile.mkdtemp(prefix="bench-game-"))
    port = free_port()
    server = start_server(port, str(args.game), "--save", str(folder / "game"))
    base = f"http://127.0.0.1:{port}"
    try:
        keys = json.loads((folder / "game" / "web.json").read_text(encoding="utf-8"))
        print(f"load average before: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}")
        out = game_load(base, keys, menus, args.clients, args.turns, args.turn_seconds,
                        args.interval, args.submit_every)
        print(f"game {spec['name']}: {args.clients} devices over {len(keys['teams'])} teams, "
              f"polling every {args.interval:g} s and submitting a move every "
              f"{args.submit_every} polls, {args.turns} turns of {args.turn_seconds:g} s")
        every = [t for ts in out["results"].values() for t in ts]
        for name, ts in out["results"].items():
            if ts:
                print(f"  {name:26} {pct(ts)}")
        print(f"  {'all requests':26} {pct(every)}")
        print(f"  errors: {len(out['errors'])}" + (f" (first: {out['errors'][0]})"
                                                   if out["errors"] else ""))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--redraws", type=int, default=10)
    p.add_argument("--clients", type=int, default=40)
    p.add_argument("--movers", type=int, default=4)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--game", type=Path, help="load a served game instead (see 3. above)")
    p.add_argument("--turns", type=int, default=3)
    p.add_argument("--turn-seconds", type=float, default=10.0)
    p.add_argument("--submit-every", type=int, default=4, help="polls between a device's moves")
    args = p.parse_args()
    if args.game is not None:
        return run_game(args)
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}")
        times = redraws(base, args.redraws)
        print(f"what-if redraw (100 replications of the baseline, one lever moved): {pct(times)}")
        out = load(base, args.clients, args.movers, args.seconds, args.interval)
        print(f"load: {args.clients} clients polling every {args.interval:g} s for "
              f"{args.seconds:g} s, {args.movers} of them moving a what-if slider every "
              f"{3 * args.interval:g} s")
        for name, ts in out["results"].items():
            if ts:
                print(f"  {name:26} {pct(ts)}")
        print(f"  errors: {len(out['errors'])}" + (f" (first: {out['errors'][0]})"
                                                   if out["errors"] else ""))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
