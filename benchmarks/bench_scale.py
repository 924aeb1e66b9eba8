"""Scale of blocsim in the number of states: relations, BlocModel steps, ensemble engine steps.

For each size (default 1,000, 10,000 and 100,000 states) a synthetic world
(``benchmarks/synthetic_world.py``, seed 1) is written to a temporary CSV and loaded through the
normal ``world:`` path. Timed, in CPU seconds of this process (best of ``--repeat``):

- building the relations (``world.build_relations``) with large groups factored (the default
  cap), and for comparison with every group written out pair by pair (``clique_cap=None``;
  skipped above ``--explicit-max`` states, where it needs tens of GB);
- loading the whole world (CSV parse, checks, relations);
- one peer product ``relations @ x``;
- BlocModel: ``--steps`` yearly steps of a scenario with two levers (SCO trade facilitation to
  its members, Western trade agreements to NATO and the EU), model construction excluded;
- the ensemble engine (``model.ensemble``): the same scenario, ``--runs`` replications together.

Prints microseconds per state-step (per run-state-step for the engine) and whether the largest
size stays within 1.5x of linear from the smallest (the issue-8 target).

    python benchmarks/bench_scale.py [--sizes 1000 10000 100000] [--steps 5] [--runs 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_world import write_world  # noqa: E402

from model.config.build import (
    model_from_scenario,  # noqa: E402
    prepare_plan,  # noqa: E402
)
from model.config.scenario import load_scenario  # noqa: E402
from model.core.ensemble import Ensemble
from model.core.seeds import replication_seeds  # noqa: E402
from model.data import world as world_mod  # noqa: E402

SCENARIO = """\
name: scale
start_year: 2024
horizon: {steps}
seed: 7
replications: 1
world: {world}
key_states: [CHN, RUS, USA, DEU]
sco:
  trade_facilitation:
    intensity: 0.5
    targets: [sco_members]
west:
  trade_agreements:
    intensity: 0.4
    targets: [nato, eu]
"""


def cpu(fn, repeat: int = 1):
    """Best CPU seconds of ``fn()`` over ``repeat`` calls, and its last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        out = None
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def arrays_of(w) -> dict[str, np.ndarray]:
    return {k: getattr(w, k) for k in ("iso3", "subregion", "nato", "eu", "csto", "sco_status",
                                       "e_sco", "e_west")}


def measure(n: int, args, tmp: Path) -> dict[str, float]:
    csv = write_world(n, tmp / f"world_{n}.csv", seed=1)
    world_mod._load.cache_clear()
    t_load, w = cpu(lambda: world_mod.load_world(str(csv), 2024))
    iso_a, iso_b = world_mod._user_snapshot(str(csv), 2024, None)[1]
    borders = {"iso_a": iso_a, "iso_b": iso_b}
    a = arrays_of(w)
    t_build, rel = cpu(lambda: world_mod.build_relations(a, borders), args.repeat)
    t_old = np.nan
    if n <= args.explicit_max:
        t_old, _ = cpu(lambda: world_mod.build_relations(a, borders, clique_cap=None))
    x = np.random.default_rng(0).normal(size=n)
    t_prod, _ = cpu(lambda: [rel @ x for _ in range(10)], args.repeat)
    yaml = tmp / f"scale_{n}.yaml"
    yaml.write_text(SCENARIO.format(steps=args.steps, world=csv))
    scenario = load_scenario(yaml)
    t_new, m = cpu(lambda: model_from_scenario(scenario, rng=np.random.default_rng(7), world=w))
    t_model, _ = cpu(lambda: m.run(), 1)
    m.release()
    out = dict(n=n, load=t_load, build=t_build, build_old=t_old, prod=t_prod / 10,
               peers=rel.peers_per_state(), stored=rel.stored_per_state(), construct=t_new,
               model=t_model / (args.steps * n) * 1e6)
    if args.runs:
        plan = prepare_plan(scenario, world=w)
        seeds = replication_seeds(7, args.runs)
        t_eng, _ = cpu(lambda: Ensemble(plan, seeds, attribution=True).run(), 1)
        out["engine"] = t_eng / (args.steps * n * args.runs) * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10, help="engine replications (0: skip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explicit-max", type=int, default=10000,
                        help="time the written-out relations only up to this size")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.append(measure(n, args, Path(tmp)))
            r = rows[-1]
            print(f"{n:>7} states: {r['peers']:.0f} peers/state stored as {r['stored']:.1f}/state",
                  flush=True)
    print()
    head = (f"{'states':>7} {'build ms':>9} {'(pairwise)':>11} {'load s':>7} {'A@x us':>8} "
            f"{'new model s':>11} {'model us/st-step':>17} {'engine us/run-st-step':>22}")
    print(head)
    print("-" * len(head))
    for r in rows:
        old = f"{1e3 * r['build_old']:.0f}" if np.isfinite(r["build_old"]) else "-"
        eng = f"{r['engine']:.2f}" if "engine" in r else "-"
        print(f"{r['n']:>7} {1e3 * r['build']:>9.0f} {old:>11} {r['load']:>7.2f} "
              f"{1e6 * r['prod']:>8.0f} {r['construct']:>11.2f} {r['model']:>17.2f} {eng:>22}")
    lo, hi = rows[0], rows[-1]
    print(f"\nfrom {lo['n']} to {hi['n']} states (x{hi['n'] / lo['n']:.0f}), per state:")
    for key, label in (("build", "relations build"), ("model", "BlocModel step"),
                       ("engine", "engine step")):
        if key in lo and key in hi:
            f = (hi[key] / hi["n"]) / (lo[key] / lo["n"]) if key == "build" else hi[key] / lo[key]
            verdict = "within" if f <= 1.5 else "NOT within"
            print(f"  {label:<16} x{f:.2f} of linear: {verdict} 1.5x")


if __name__ == "__main__":
    main()
