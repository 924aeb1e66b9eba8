"""Speed of one model run: the baseline, whole default world, full horizon, recording on.

Prints milliseconds per run (median of repeated runs, each building the Mesa model and its 193
agents and recording every step), the time per state-step, peak memory, and, for reference, the
alignment update written as one numpy expression against the same rule as a per-agent Python
loop. Target (issue 2): at most 5 ms per run on one core of the 2-core machine.

    python benchmarks/bench_model.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.config.build import run_scenario  # noqa: E402
from model.config.checks import prepare_world  # noqa: E402
from model.config.scenario import load_scenario  # noqa: E402
from model.core.dynamics import alignment_step  # noqa: E402
from model.core.seeds import replication_seeds  # noqa: E402

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


def loop_alignment_step(a, pushes, dt):
    """The rule of ``dynamics.alignment_step`` state by state, driver by driver, in Python."""
    n_drivers, n = len(pushes), len(a)
    new = [0.0] * n
    contrib = [[0.0] * n for _ in range(n_drivers)]
    for i in range(n):
        pos = sum(max(pushes[d][i], 0.0) for d in range(n_drivers))
        neg = sum(max(-pushes[d][i], 0.0) for d in range(n_drivers))
        up = (1.0 - a[i]) * -math.expm1(-dt * pos / 2.0)
        down = (1.0 + a[i]) * -math.expm1(-dt * neg / 2.0)
        for d in range(n_drivers):
            p = pushes[d][i]
            contrib[d][i] = up * p / pos if p > 0 else (-down * -p / neg if p < 0 else 0.0)
        new[i] = a[i] + up - down
    return new, contrib


def time_call(fn, repeat: int) -> float:
    """Median seconds of ``fn()`` over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    scenario = load_scenario(BASELINE)
    world = prepare_world(scenario, BASELINE.parent)
    seeds = replication_seeds(scenario.seed, args.repeat)
    for s in seeds[:5]:  # warm caches and imports
        run_scenario(scenario, rng=s, world=world)
    it = iter(seeds * 2)
    per_run = time_call(lambda: run_scenario(scenario, rng=next(it), world=world), args.repeat)
    steps = int(round(scenario.horizon / scenario.dt))
    state_steps = world.n * steps

    tracemalloc.start()
    run_scenario(scenario, rng=seeds[0], world=world)
    _, peak_py = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, world.n)
    pushes = rng.normal(0, 0.1, (18, world.n))
    t_np = time_call(lambda: alignment_step(a, pushes, 1.0), 2000)
    a_l, p_l = a.tolist(), pushes.tolist()
    t_loop = time_call(lambda: loop_alignment_step(a_l, p_l, 1.0), 50)
    new_l, _ = loop_alignment_step(a_l, p_l, 1.0)
    assert np.allclose(new_l, alignment_step(a, pushes, 1.0)[0])

    print(f"baseline: {world.n} states x {steps} steps, {len(scenario.lever_configs())} levers, "
          f"recording on; {args.repeat} runs")
    print(f"  per run (median):        {per_run * 1e3:8.2f} ms   (target <= 5 ms)")
    print(f"  per state-step:          {per_run / state_steps * 1e6:8.2f} us")
    print(f"  peak Python allocations: {peak_py / 2**20:8.2f} MiB in one run (tracemalloc)")
    print(f"  peak resident memory:    {rss_mb:8.1f} MiB for the whole process")
    print(f"alignment update for {world.n} states, 18 drivers:")
    print(f"  numpy expression:        {t_np * 1e6:8.1f} us")
    print(f"  per-agent Python loop:   {t_loop * 1e6:8.1f} us   ({t_loop / t_np:.0f}x slower)")


if __name__ == "__main__":
    main()
