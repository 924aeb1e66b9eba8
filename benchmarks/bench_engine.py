"""Speed of the ensemble engine against BlocModel run by run, same seeds, same results.

For each R (default 100 and 1,000 replications of the baseline): BlocModel stepped run by run,
one model reused via ``reset``; the engine (``model.core.ensemble``)
with attribution on and off; and the engine with attribution plus every run put together as a
``RunResult`` (what a caller wanting per-run records pays). Asserts that every run's alignment
equals the model's, bit for bit. Prints microseconds per run and the model/engine ratio.

Times are CPU seconds of this process (``time.process_time``), best of ``--repeat``: the
machine is shared, and CPU time is what waiting for another process's time slice does not
inflate. Wall-clock figures are printed beside them. Target (issue 8): the engine, attribution
on, at least 10x faster per run than BlocModel.

    python benchmarks/bench_engine.py [--runs 100 1000] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.config.build import (
    model_from_scenario,  # noqa: E402
    prepare_plan,  # noqa: E402
)
from model.config.checks import prepare_world  # noqa: E402
from model.config.scenario import load_scenario  # noqa: E402
from model.core.ensemble import Ensemble  # noqa: E402
from model.core.seeds import replication_seeds  # noqa: E402

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def timed(fn, repeat: int):
    """Best CPU and wall seconds of ``fn()`` over ``repeat`` calls, and its last result."""
    cpu, wall, out = [], [], None
    for _ in range(repeat):
        out = None  # let the previous result go before the next is built
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall), out


def model_runs(scenario, seeds, world) -> np.ndarray:
    """Every seed through one BlocModel, reset between seeds; the alignments (R, T+1, n)."""
    model = model_from_scenario(scenario, rng=np.random.default_rng(seeds[0]), world=world)
    out = []
    for i, s in enumerate(seeds):
        if i:
            model.reset(np.random.default_rng(s))
        out.append(model.run().alignment.copy())
    model.release()
    return np.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile the engine at the largest R")
    args = parser.parse_args()

    scenario = load_scenario(SCENARIOS / f"{args.scenario}.yaml")
    world = prepare_world(scenario)
    c0 = time.process_time()
    plan = prepare_plan(scenario, world=world)
    print(f"{args.scenario}: {plan.steps} steps x {plan.n} states; plan built once in "
          f"{1e3 * (time.process_time() - c0):.1f} ms CPU (not in the figures below)")
    model_runs(scenario, replication_seeds(1, 3), world)  # warm imports and caches
    Ensemble(plan, replication_seeds(1, 3)).run()

    header = f"{'R':>6} {'what':<34} {'us/run CPU':>11} {'(wall)':>9} {'model/this':>11}"
    print(header)
    print("-" * len(header))
    for R in args.runs:
        seeds = replication_seeds(scenario.seed, R)
        m_cpu, m_wall, ref = timed(lambda s=seeds: model_runs(scenario, s, world), 1)
        rows = [("BlocModel, reused via reset", m_cpu, m_wall)]
        for label, att, materialise in (("engine, attribution on", True, False),
                                        ("engine, attribution off", False, False),
                                        ("engine, attribution on + RunResults", True, True)):
            def go(att=att, materialise=materialise, seeds=seeds):
                res = Ensemble(plan, seeds, attribution=att).run()
                if materialise:
                    res.run_results()
                return res
            cpu, wall, res = timed(go, args.repeat)
            assert np.array_equal(res.alignment, ref), f"R={R}, {label}: alignments differ"
            rows.append((label, cpu, wall))
        for label, cpu, wall in rows:
            print(f"{R:>6} {label:<34} {1e6 * cpu / R:>11.0f} {1e6 * wall / R:>9.0f} "
                  f"{m_cpu / cpu:>10.1f}x")
        print(f"{R:>6} alignments of all {R} runs equal to BlocModel's, bit for bit")
    if args.profile:
        seeds = replication_seeds(scenario.seed, max(args.runs))
        prof = cProfile.Profile()
        prof.enable()
        Ensemble(plan, seeds, attribution=True).run()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
