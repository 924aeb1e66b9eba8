"""``blocsim batch``: the experiment from a file or the command line, run, summarised, reported.

Imports every layer below apps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..base.errors import ScenarioError
from ..base.files import default_out_dir
from ..config.experiment import check_sweep, load_experiment, parse_sweep_option
from ..run.batch import BatchSummary, run_batch
from ..run.design import Design, expand, spec_from_files
from ..run.store import export_csv


def design_from_args(args: argparse.Namespace) -> tuple[Design, str]:
    """The experiment from a file or from --scenario/--strategy, with command-line overrides."""
    from pydantic import ValidationError

    try:
        return _design_from_args(args)
    except ValidationError as exc:  # an option's value outside the schema (--runs, --name, --sample)
        err = exc.errors()[0]
        if err["loc"] and err["loc"][0] == "replications" and args.runs is not None:
            from ..config.experiment import MAX_REPLICATIONS
            raise ScenarioError(f"--runs {args.runs}: replications must be between 1 and "
                                f"{MAX_REPLICATIONS}") from None
        raise ScenarioError(f"{'.'.join(map(str, err['loc'])) or 'batch'}: "
                            f"{err['msg'].removeprefix('Value error, ')} "
                            f"(got {err['input']!r})") from None



def _design_from_args(args: argparse.Namespace) -> tuple[Design, str]:
    if args.experiment is not None:
        if args.scenario or args.strategy:
            raise ScenarioError("give an experiment file or --scenario/--strategy, not both")
        if args.name is not None:
            raise ScenarioError("--name names a batch built from --scenario; an experiment file "
                                "has its own 'name' (choose its folder with --out)")
        spec = load_experiment(args.experiment)
        source = str(args.experiment)
    elif args.scenario:
        spec = spec_from_files(args.scenario, args.strategy, name=args.name or "batch",
                               replications=args.runs or 100, seed=args.seed or 2024)
        source = "<command line>"
    else:
        raise ScenarioError("batch needs an experiment file or at least one --scenario")
    if args.runs is not None:
        spec.replications = args.runs
    if args.seed is not None:
        spec.seed = args.seed
    if args.sweep or args.sample:
        spec.sweep = _sweep_from_args(spec, args)
    base = args.experiment.parent if args.experiment is not None else Path.cwd()
    return expand(spec, base_dir=base), source



def _sweep_from_args(spec, args: argparse.Namespace):
    from ..config.experiment import Sweep

    given = dict(parse_sweep_option(s) for s in args.sweep)
    params = {**spec.sweep.parameters, **given} if spec.sweep is not None else dict(given)
    if not params:
        raise ScenarioError("--sample needs parameter ranges: give them with --sweep NAME=LOW:HIGH")
    design, samples = "factorial", 16
    levels = spec.sweep.levels if spec.sweep is not None else 4
    if args.sample:
        kind, _, n = args.sample.partition(":")
        if kind not in ("lhs", "morris", "sobol") or not n.isdigit() or len(n) > 12 or int(n) < 1:
            raise ScenarioError(f"--sample {args.sample!r}: write lhs:N, morris:N or sobol:N")
        design, samples = kind, int(n)
    elif spec.sweep is not None:
        design, samples = spec.sweep.design, spec.sweep.samples
    # Check what the command line gave against the command line, not the file's lines.
    cli = spec.model_copy(update={"sweep": Sweep(design=design, samples=samples, levels=levels,
                                                 parameters=given or params)})
    cli._source, cli._where = "command line (--sweep/--sample)", {}
    check_sweep(cli)
    return Sweep(design=design, parameters=params, samples=samples, levels=levels)



def run_batch_command(args: argparse.Namespace) -> int:
    """``blocsim batch``: expand, run what is missing, summarise, optionally report."""
    design, source = design_from_args(args)
    out_dir = args.out or default_out_dir("batch", design.spec.name)

    def then(summary: BatchSummary) -> None:  # while the folder is still locked
        if args.csv:
            export_csv(out_dir)
        if not args.quiet:
            rate = summary.runs_now / summary.elapsed if summary.elapsed > 0 else float("nan")
            print(f"{design.spec.name}: {summary.runs} runs in {len(design.cells)} cells "
                  f"({summary.runs - summary.runs_now} already done, {summary.runs_now} run now in "
                  f"{summary.elapsed:.1f} s, {rate:.0f} runs/s); {summary.failed} failed")
            print(f"Results in {out_dir}/ (outcomes, states, blocs"
                  f"{', trajectories' if design.spec.keep_trajectories else ''}; manifest.json)")
        if args.report:
            from ..report.html import write_report
            path = write_report(out_dir)
            if not args.quiet:
                print(f"Report: {path}")

    summary = run_batch(design, out_dir, workers=args.workers, scheduler=args.scheduler,
                        experiment_file=source, progress=not args.quiet, then=then,
                        inline=getattr(args, "inline", True))
    return 1 if summary.failed and summary.failed == summary.runs else 0
