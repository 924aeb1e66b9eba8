"""Speed of ``blocsim search``: candidates scored per second, and the time to a converged front.

Runs a search spec (by default the shipped ``scenarios/experiments/west_budget_search.yaml``:
2 scenarios x 20 replications per candidate, 240 candidates) into a temporary folder with
``search.service.execute_search``, once per ``--workers`` value, and reports:

* candidates scored per second and model runs per second (candidates x scenarios x
  replications), over the search loop (sampler, strategy building, runs, journal);
* the time, and the candidate, at which the best score first came within ``--tol`` of the final
  best (the search's convergence on its criterion), and at which the Pareto front (mean, cost,
  worst) last changed membership among the candidates it ends with;
* whether the files are the same bytes for every workers value (they must be).

Wall-clock times: other work on the machine inflates them; the header prints the load average.

    python benchmarks/bench_search.py [--spec FILE] [--trials N] [--workers 1,2] [--tol 1e-4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.search.service import execute_search  # noqa: E402


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".blocsim.lock"}


def one(spec: Path, trials: int | None, workers: int, out: Path, tol: float) -> dict:
    stamps: list[tuple[int, float, float]] = []
    t0 = time.perf_counter()

    def progress(done: int, total: int, best: float) -> None:
        stamps.append((done, time.perf_counter() - t0, best))

    result = execute_search(spec, out=out, workers=workers, trials=trials, progress=progress)
    run, cand = result.run, result.tables.candidates
    final = stamps[-1][2]
    reach = next((d, t) for d, t, b in stamps if abs(b - final) <= tol)
    front = set(cand.loc[cand["pareto"], "trial"])
    last_front_member = max(front) if front else 0
    front_time = next(t for d, t, _ in stamps if d > last_front_member)
    runs = len(run.trials) * len(run.problem.names) * len(run.problem.seeds)
    return {"workers": workers, "candidates": len(run.trials), "scored": run.scored_now,
            "loop_s": run.elapsed, "total_s": time.perf_counter() - t0,
            "cand_per_s": run.scored_now / run.elapsed, "runs_per_s": runs / run.elapsed,
            "best_reached_at": reach, "front_settled_at": (last_front_member + 1, front_time),
            "final_best": final, "front": len(front), "files": files(out)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", type=Path,
                    default=ROOT / "scenarios" / "experiments" / "west_budget_search.yaml")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--tol", type=float, default=1e-4, help="of the score (a share: 0.01 pp)")
    args = ap.parse_args()
    print(f"# bench_search: {args.spec.name}, load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores")
    tmp = Path(tempfile.mkdtemp(prefix="bench_search."))
    try:
        results = [one(args.spec, args.trials, int(w), tmp / f"w{w}", args.tol)
                   for w in args.workers.split(",")]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| workers | candidates | loop s | cand/s | runs/s | best within tol at (cand, s) "
          "| front settled at (cand, s) | front size | final best |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['workers']} | {r['candidates']} | {r['loop_s']:.1f} | {r['cand_per_s']:.1f} | "
              f"{r['runs_per_s']:.0f} | {r['best_reached_at'][0]}, {r['best_reached_at'][1]:.1f} | "
              f"{r['front_settled_at'][0]}, {r['front_settled_at'][1]:.1f} | {r['front']} | "
              f"{r['final_best']:.5g} |")
    same = all(r["files"] == results[0]["files"] for r in results)
    print(f"same files for every workers value: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
