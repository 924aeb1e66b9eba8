"""The command line: ``blocsim`` (or ``python run.py``) parses arguments and calls the package.

Each command is argument parsing, one call and printing: ``run`` calls ``run.service.execute_run``
(which checks, runs and writes), ``validate`` the schema and the world check, ``list`` the YAML
reader, ``batch`` and ``compare`` their ``*_command`` modules. ``validate``, ``list`` and
``compare`` never import Mesa (``tests/apps/test_light_imports.py``).

User mistakes (``ScenarioError``) are caught here, in one place, and printed as one line with
exit status 2; nothing is written before the input has been checked. Exit statuses: 0 done;
2 the input or the environment is wrong and the user can fix it (a bad file or option, a folder
that is not writable, a full disk, a damaged batch part, a batch folder in use); 1 a failure that
is not the user's input (every run of a batch failed, or a bug: then with its traceback);
130 interrupted.

Imports any lower layer, lazily inside each command, so ``blocsim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from model import __version__

from ..base import cores
from ..base.errors import NonFiniteError, ScenarioError

SUBCOMMANDS = ("run", "validate", "list", "batch", "compare", "game", "serve", "search", "discover",
               "history")
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


BATCH_EXAMPLES = """Examples:
  blocsim batch scenarios/experiments/west_strategies.yaml --workers 2 --report
  blocsim batch --scenario scenarios/baseline.yaml \\
      --strategy scenarios/strategies/none.yaml \\
      --strategy scenarios/strategies/trade_agreements.yaml --runs 200
  blocsim batch scenarios/experiments/west_strategies.yaml --sweep parameters.peer_weight=0.05:0.4:4
  blocsim batch --scenario scenarios/baseline.yaml --sweep peer_weight=0.05:0.4 \\
      --sweep inertia=0.1:0.5 --sample morris:10 --report
  blocsim batch scenarios/experiments/west_strategies.yaml --scheduler tcp://127.0.0.1:8786"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63-1 (got {value})")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="blocsim",
        description="Simulate how states drift between the West and the SCO under a YAML scenario.",
        epilog="Examples:\n  blocsim scenarios/baseline.yaml\n"
               "  blocsim run scenarios/sco_expansion.yaml --runs 50 --out out/expansion\n"
               "  blocsim validate my_scenario.yaml\n  blocsim list\n\n"
               "A bare scenario file means 'run'; its options (blocsim run --help): --out DIR,\n"
               "--seed N, --runs N, --no-plots, --quiet. Mistakes in input exit with status 2.\n"
               "The scenario format: scenarios/README.md. The model: docs/model.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"blocsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write tables and plots",
                         description="Run a scenario: tables (CSV), the resolved scenario and "
                                     "plots (PNG) go to the output folder.")
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--out", type=Path, help="output folder (default: out/<scenario name>)")
    run.add_argument("--seed", type=_seed, help="root seed (overrides the scenario's)")
    run.add_argument("--runs", type=_positive, help="replications (overrides the scenario's)")
    run.add_argument("--no-plots", action="store_true", help="write the tables only")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")

    val = sub.add_parser("validate", help="check scenario files without running them",
                         description="Check scenario files against the schema and the world.")
    val.add_argument("scenario", type=Path, nargs="+", help="scenario YAML file(s)")

    sub.add_parser("list", help="list the shipped scenarios with their descriptions",
                   description=f"List the scenarios in {SCENARIO_DIR}.")

    add_batch_arguments(sub.add_parser(
        "batch", help="run an experiment: strategies x scenarios x replications (x sweeps)",
        description="Run many replications and parameter sweeps on local processes or a Dask "
                    "cluster. Results stream to Parquet as runs finish; a killed batch started "
                    "again with the same command computes only the missing runs.",
        epilog=BATCH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter))
    compare = sub.add_parser(
        "compare", help="compare strategies of a finished batch and write report.html",
        description="Paired comparison of the strategies in a batch folder: summaries, paired "
                    "differences with bootstrap intervals, P(best), robustness across "
                    "scenarios, a ranking, plots, and one self-contained report.html.")
    compare.add_argument("batch_dir", type=Path, help="folder written by 'blocsim batch'")
    compare.add_argument("--out", type=Path, help="report folder (default: <batch_dir>/report)")
    compare.add_argument("--reference", help="reference strategy (default: the experiment's)")
    compare.add_argument("--primary", help="outcome to rank by (default: the experiment's)")
    compare.add_argument("--quiet", "-q", action="store_true", help="print only the report path")
    compare.add_argument("--no-plots", action="store_true",
                         help="write the report without figures (tables only; much faster)")
    from .discover_command import add_discover_parser, add_when_arguments
    add_when_arguments(compare)
    add_discover_parser(sub)
    from .game_command import add_game_arguments
    add_game_arguments(sub.add_parser(
        "game", help="the classroom wargame: play, brief, resolve, debrief (docs/game.md)",
        description="The classroom wargame: teams spend budgets on levers turn by turn."))
    from .serve_command import add_serve_arguments
    add_serve_arguments(sub.add_parser(
        "serve", help="serve the web pages: the what-if page, and a classroom game's pages",
        description="Serve the what-if page, and with GAME.yaml the game's pages (join, team, "
                    "facilitator, board), in a browser; on this machine only unless --host."))
    from .search_command import EXAMPLES, add_search_arguments
    add_search_arguments(sub.add_parser(
        "search", help="search allocations of a Western budget for the most robust strategy",
        description="Search allocations of a yearly budget over levers and target groups with "
                    "optuna, scoring each on the same seeds; writes the best as strategy files.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter))
    from .history_command import add_history_arguments
    add_history_arguments(sub.add_parser(
        "history", help="rolling-origin hindcast: the model against baselines, report.html",
        description="Forecast every state's alignment 1-10 years ahead from past origins "
                    "(validation 2005-2013, test 2014-2023), with the model and statistical "
                    "baselines, and score them (docs/model.md section 12)."))
    return parser


def add_batch_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``blocsim batch``."""
    p.add_argument("experiment", type=Path, nargs="?",
                   help="experiment YAML file (or give --scenario and --strategy)")
    p.add_argument("--scenario", type=Path, action="append", default=[],
                   help="scenario file (repeatable), instead of an experiment file")
    p.add_argument("--strategy", type=Path, action="append", default=[],
                   help="strategy file (repeatable), with --scenario")
    p.add_argument("--name", help="experiment name with --scenario (default: batch)")
    p.add_argument("--out", type=Path, help="output folder (default: out/batch/<name>)")
    p.add_argument("--runs", type=_positive, help="replications per cell (overrides the file)")
    p.add_argument("--seed", type=_seed, help="root seed (overrides the file)")
    p.add_argument("--sweep", action="append", default=[], metavar="NAME=LOW:HIGH[:N]",
                   help="sweep a parameter: values LOW..HIGH in N steps (factorial), "
                        "V1,V2,... or a LOW:HIGH range for --sample (repeatable)")
    p.add_argument("--sample", metavar="DESIGN:N",
                   help="sample the --sweep ranges: lhs:200, morris:20 (trajectories), sobol:64")
    p.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                   help="local worker processes (default: all cores)")
    p.add_argument("--no-inline", dest="inline", action="store_false",
                   help="start the worker processes even for a batch too small to gain from "
                        "them (by default one estimated under 3 s of compute runs in-process)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--report", action="store_true", help="write the comparison report at the end")
    p.add_argument("--csv", action="store_true", help="also export each table as one CSV")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    cores.mark()  # the first reading of idle CPU time: decisions on helpers measure from here
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in SUBCOMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "run")
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 0
    # figures are written to files: no GUI backend to look for (matplotlib would import pyplot
    # and probe Tk, Qt, GTK and wx the first time a box plot reads its settings); a user's own
    # wins; for this command only (``model.main`` may be called from a script that plots later)
    ours = "MPLBACKEND" not in os.environ
    os.environ.setdefault("MPLBACKEND", "agg")
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        print(f"blocsim: error: {exc}", file=sys.stderr)
        return 2
    except NonFiniteError as exc:  # a valid input the model failed on: its fault, not the user's
        print(f"blocsim: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # one not caught where it happened: still the user's environment
        if isinstance(exc, BrokenPipeError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
            return 0
        from ..base.files import os_error
        print(f"blocsim: error: {os_error(exc, doing='use')}", file=sys.stderr)
        return 2
    except MemoryError:  # the machine's limit, not a bug: say so in one line
        print("blocsim: error: out of memory: the world or the number of runs is too large for "
              "this machine (use fewer runs, or 'blocsim batch', which streams runs to disk)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        resumes = args.command in ("batch", "search")  # the others start again from the start
        print("blocsim: interrupted" + (f" (a {args.command} started again with the same command "
                                         "resumes)" if resumes else ""), file=sys.stderr)
        return 130
    finally:
        if ours:
            os.environ.pop("MPLBACKEND", None)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario with its replications and write the output folder (``run.service``)."""
    from ..report.workers import RunPlotter  # matplotlib only once the run is done
    from ..run.service import DEFAULT_OUT, execute_run

    plotter = None if args.no_plots else RunPlotter()
    bar = None

    def progress(done: int, total: int, name: str) -> None:
        nonlocal bar
        if total < 2:
            return
        if bar is None:
            from tqdm import tqdm
            bar = tqdm(total=total, unit="run", desc=name, file=sys.stderr)
        bar.update(done - bar.n)

    def note(text: str) -> None:
        print(f"blocsim: note: {text}", file=sys.stderr)

    try:
        out = execute_run(args.scenario, seed=args.seed, runs=args.runs,
                          out=args.out or DEFAULT_OUT, plotter=plotter, note=note,
                          progress=None if args.quiet else progress)
    finally:
        if bar is not None:
            bar.close()
        if plotter is not None:
            plotter.close()
    if not args.quiet:
        from ..report.summary import summary_table
        print(summary_table(out.scenario, out.tables.arrays("blocs"), out.tables.arrays("trajectories")))
        print(f"\nTables and resolved scenario in {out.out_dir}/")
        if out.plots:
            print(f"Plots in {out.out_dir / 'plots'}/: " + ", ".join(p.name for p in out.plots))
    return 0


def _notes(scenario) -> None:
    """Warn, without stopping, about what is valid but probably not meant."""
    for note in scenario.inactive_levers():
        print(f"blocsim: note: {scenario._source}: {note}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check each file; the first mistake stops with status 2."""
    from ..config.checks import prepare_world
    from ..config.scenario import load_scenario

    for path in args.scenario:
        scenario = load_scenario(path)
        prepare_world(scenario, path.parent)
        _notes(scenario)
        print(f"{path}: ok ({scenario.name}: {scenario.start_year}-{scenario.end_year}, "
              f"{len(scenario.lever_configs())} levers, {len(scenario.events)} events)")
    return 0


def _first_sentence(text: str, limit: int = 100) -> str:
    """The first sentence of a description, cut to ``limit`` characters."""
    text = " ".join(text.split())
    ends = [i for i in (text.find("? "), text.find(". ")) if i >= 0]
    first = text[: min(ends) + 1] if ends else text
    return first if len(first) <= limit else first[: limit - 3].rsplit(" ", 1)[0] + "..."


def cmd_list(args: argparse.Namespace) -> int:
    """Print the shipped scenarios with the first line of their descriptions."""
    from ..config.yamlfile import read_yaml  # the reader alone: no schema, no numpy

    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        data, _ = read_yaml(path)
        print(f"{path.name:32} {_first_sentence(str(data.get('description', '')))}")
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    """Run an experiment (see ``batch``)."""
    from .batch_command import run_batch_command
    return run_batch_command(args)


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare the strategies of a finished batch (see ``compare``)."""
    from .compare_command import run_compare_command
    return run_compare_command(args)


def cmd_game(args: argparse.Namespace) -> int:
    """The classroom wargame (see ``game_command``)."""
    from .game_command import run_game_command
    return run_game_command(args)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web pages (see ``serve``)."""
    from .serve_command import run_serve_command
    return run_serve_command(args)


def cmd_search(args: argparse.Namespace) -> int:
    """Search allocations of a budget (see ``search``)."""
    from .search_command import run_search_command
    return run_search_command(args)


def cmd_discover(args: argparse.Namespace) -> int:
    """Scenario discovery on a batch (see ``discover_command``)."""
    from .discover_command import run_discover_command
    return run_discover_command(args)


def cmd_history(args: argparse.Namespace) -> int:
    """Run the rolling-origin hindcast (see ``history_command``)."""
    from .history_command import run_history_command
    return run_history_command(args)


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "list": cmd_list, "batch": cmd_batch,
            "compare": cmd_compare, "game": cmd_game, "serve": cmd_serve, "search": cmd_search,
            "discover": cmd_discover, "history": cmd_history}


if __name__ == "__main__":  # ``python -m model.apps.cli`` (or ``python -m model``)
    sys.exit(main())
