"""``blocsim search``: the best allocations of a Western budget, from a search spec file.

Parses nothing itself beyond its flags: ``search.service.execute_search`` does the work; this
module makes the progress bar, passes the Pareto plot in from the report layer and prints a
summary. Imports every layer below apps.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXAMPLES = """Examples:
  blocsim search scenarios/experiments/west_budget_search.yaml --workers 2
  blocsim search scenarios/experiments/west_budget_search.yaml --trials 600   # continues
  blocsim batch out/search/west_budget_search/experiment.yaml --report       # check the best
  blocsim compare out/batch/west_budget_search_check --when "west_budget_search_best1 loses to none"
"""


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``blocsim search``."""
    p.add_argument("spec", type=Path, help="search spec YAML file (scenarios/README.md)")
    p.add_argument("--out", type=Path, help="output folder (default: out/search/<name>)")
    p.add_argument("--trials", type=int, help="candidates to score (overrides the spec's)")
    p.add_argument("--seed", type=int, help="seed of the replications and the sampler")
    p.add_argument("--workers", type=int, default=1,
                   help="processes scoring candidates at once (results do not depend on it)")
    p.add_argument("--no-plots", action="store_true", help="no pareto.png")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")


def run_search_command(args: argparse.Namespace) -> int:
    """Run or resume a search and print where its files are."""
    from ..base.errors import ScenarioError
    from ..config.search import load_search
    from ..search.service import execute_search

    if args.workers < 1:
        raise ScenarioError(f"--workers {args.workers}: must be at least 1")
    spec = load_search(args.spec)  # read again by the service; here for the progress line only
    label = f"{spec.outcome} ({spec.robustness})"
    bar = None

    def progress(done: int, total: int, best: float) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            from tqdm import tqdm
            bar = tqdm(total=total, unit="cand", desc="search", file=sys.stderr)
        bar.update(done - bar.n)
        bar.set_postfix_str(f"best {label} {best:.4g}", refresh=False)

    def plotter(tables, spec) -> bytes:
        from ..report.search_plots import search_png
        return search_png(tables, spec)

    try:
        out = execute_search(args.spec, out=args.out, workers=min(args.workers, os.cpu_count() or 1)
                             if args.workers > 1 else 1, trials=args.trials, seed=args.seed,
                             plotter=None if args.no_plots else plotter, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        run, comp = out.run, out.tables.comparison
        rate = run.scored_now / run.elapsed if run.elapsed > 0 else float("nan")
        print(f"{run.spec.name}: {len(run.trials)} candidates ({run.from_journal} from the journal, "
              f"{run.scored_now} scored now in {run.elapsed:.1f} s, {rate:.1f}/s)")
        top = out.tables.candidates.sort_values("rank").iloc[0] if len(out.tables.candidates) else None
        if top is not None:
            print(f"Best: trial {int(top['trial'])}, {run.spec.outcome} {top['criterion']:.4g} "
                  f"({run.spec.robustness}), mean {top['mean']:.4g}, worst {top['worst']:.4g}, "
                  f"{top['cost_bn_per_year']:.4g} US$ bn a year")
        if len(comp):
            beaten = int(comp["best_beats_it"].iloc[1:].sum())
            print(f"At equal cost it beats {beaten} of {len(comp) - 1} hand-written strategies")
        print(f"Files in {out.out_dir}/ (report.md, candidates.csv, pareto.csv, strategies/)")
        print(f"Check the best: blocsim batch {out.out_dir}/experiment.yaml, then blocsim compare "
              f"on that batch (report.md, 'Next', has the commands)")
    return 0
