"""The web server under load on loopback: what-if redraw time, and 40 clients polling.

Starts ``blocsim serve`` as a subprocess on a free loopback port, then:

1. **Redraw**: one session moves a slider ``--redraws`` times (each a new intensity, so nothing
   is cached but the scenario as shipped): the time of ``POST /whatif/run`` from request to the
   full chart fragment (100 replications on the engine, fans, drivers, SVG), p50 and p95.
2. **Load**: ``--clients`` clients (threads, each its own session) poll the board's version and
   page every ``--interval`` seconds for ``--seconds``, while ``--movers`` of them also move a
   what-if slider every few seconds: response-time percentiles per route, and errors.

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


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "model", "serve", "--port", str(port)],
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


def load(base: str, clients: int, movers: int, seconds: float, interval: float) -> dict:
    results: dict[str, list[float]] = {"GET /whatif (first visit)": [],
                                       "GET /board/version": [], "GET /board": [],
                                       "POST /whatif/run": []}
    errors: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    stop = [0.0]

    def one(i: int) -> None:
        # httpx makes an SSL context per client (tens of ms of the benchmark's own CPU): not timed
        client = httpx.Client(base_url=base, timeout=30)
        t = time.perf_counter()
        client, csrf = session(base, client)  # every client opens the what-if page first
        with lock:
            results["GET /whatif (first visit)"].append(time.perf_counter() - t)
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
                t = time.perf_counter()
                try:
                    r = call()
                    ok = r.status_code in (200, 429)
                except httpx.HTTPError as exc:
                    ok, r = False, exc
                dt = time.perf_counter() - t
                with lock:
                    results[name].append(dt)
                    if not ok:
                        errors.append(f"{name}: {getattr(r, 'status_code', r)}")
            k += 1
            time.sleep(interval)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()  # polling starts once every session exists
    stop[0] = time.monotonic() + seconds
    for t in threads:
        t.join()
    return {"results": results, "errors": errors}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--redraws", type=int, default=10)
    p.add_argument("--clients", type=int, default=40)
    p.add_argument("--movers", type=int, default=4)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--interval", type=float, default=2.0)
    args = p.parse_args()
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
