"""``blocsim history``: the rolling-origin hindcast, its tables and report.html.

Argument parsing lives in ``cli.py`` (``add_history_arguments`` here keeps its block small);
the work is ``model.history``. Imports every layer below apps.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..base.errors import ScenarioError

__all__ = ["add_history_arguments", "run_history_command", "QUICK"]

#: ``--quick``: two origins per set, three horizons, few runs (for tests and a first look).
QUICK = {"validation": (2009, 2011), "test": (2014, 2019), "horizons": (1, 3, 5), "runs": 8,
         "n_boot": 50}


def _years(text: str) -> tuple[int, ...]:
    """'2005-2013' or '2014,2016,2019' (or a mix) as a sorted tuple of years."""
    out: set[int] = set()
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give years as 2005-2013 or 2014,2019") from None
    return tuple(sorted(out))


def add_history_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``blocsim history``."""
    p.add_argument("--out", type=Path, default=Path("out/history"),
                   help="output folder (default: out/history)")
    p.add_argument("--origins", type=_years, metavar="YEARS",
                   help="origins, e.g. 2005-2023 or 2010,2014,2019: those before 2014 are "
                        "validation, the others test (default: 2005-2013 and 2014-2023)")
    p.add_argument("--horizons", type=_years, metavar="YEARS", help="horizons (default: 1-10)")
    p.add_argument("--runs", type=int, help="replications per origin (default: 30)")
    p.add_argument("--seed", type=int, help="root seed (default: 2014)")
    p.add_argument("--scale", action="append", choices=("alignment", "alignment_stretched",
                                                        "alignment_ideal"),
                   help="score on this scale (repeatable; default: every scale in the data)")
    p.add_argument("--mode", action="append", choices=("projection", "conditional"),
                   help="projection and/or conditional (default: both)")
    p.add_argument("--membership-rule", choices=("threshold", "hazard"),
                   help="the model's SCO membership rule (default: the scenario default, "
                        "threshold; docs/model.md 4.11)")
    p.add_argument("--quick", action="store_true",
                   help="a small run: origins 2009, 2011 | 2014, 2019, horizons 1, 3, 5, 8 runs")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the report's path")


def config_from_args(args: argparse.Namespace):
    """The ``HistoryConfig`` the options ask for (``--quick`` first, explicit options over it)."""
    from ..history.harness import LAST_VALIDATION_YEAR, HistoryConfig

    values: dict = dict(QUICK) if args.quick else {}
    if args.origins:
        values["validation"] = tuple(o for o in args.origins if o < LAST_VALIDATION_YEAR)
        values["test"] = tuple(o for o in args.origins if o >= LAST_VALIDATION_YEAR)
    if args.horizons:
        values["horizons"] = args.horizons
    if args.runs is not None:
        if not 1 <= args.runs <= 1000:
            raise ScenarioError("--runs: between 1 and 1000")
        values["runs"] = args.runs
    if args.seed is not None:
        if not 0 <= args.seed < 2**63:
            raise ScenarioError("--seed: between 0 and 2**63-1")
        values["seed"] = args.seed
    if args.scale:
        values["scales"] = tuple(dict.fromkeys(args.scale))
    if args.mode:
        values["modes"] = tuple(dict.fromkeys(args.mode))
    if args.membership_rule:
        values["membership_rule"] = args.membership_rule
    return HistoryConfig(**values)


def _targets_line(path: Path) -> str:
    """Issue 10's targets in one line: how many met, missed, not measured (targets.csv)."""
    import pandas as pd

    from ..history.targets import MET, MISSED, NOT_MEASURED, target_summary

    status = target_summary(pd.read_csv(path))["status"]
    counts = ", ".join(f"{(status == s).sum()} {s}" for s in (MET, MISSED, NOT_MEASURED))
    return f"Targets (issue 10): {counts} ({path.name}, and the report's first section)"


def run_history_command(args: argparse.Namespace) -> int:
    """``blocsim history``: run the hindcasts, write the folder, print the headline."""
    from ..history.data import load_history
    from ..history.harness import run_hindcasts
    from ..history.report import check_out, write_history
    from ..history.tables import headline, score_table

    cfg = config_from_args(args)
    history = load_history()
    cfg.check(history)
    check_out(args.out)
    t0 = time.perf_counter()
    forecasts, tuned = run_hindcasts(history, cfg)
    scores = score_table(forecasts, n_boot=cfg.n_boot, seed=cfg.seed)
    path = write_history(args.out, scores, forecasts, history, cfg, tuned)
    if not args.quiet:
        head = headline(scores)
        cols = ["scale", "mode", "horizon", "model_rmse", "persistence_rmse", "best_baseline",
                "best_rmse", "model_skill"]
        print("Test origins (skill = 1 - RMSE / RMSE of persistence):", file=sys.stdout)
        print(head[cols].round(4).to_string(index=False))
        print(_targets_line(path / "targets.csv"))
        print(f"Report: {path / 'report.html'} ({time.perf_counter() - t0:.0f} s)")
    else:
        print(path / "report.html")
    return 0
