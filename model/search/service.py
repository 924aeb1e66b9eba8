"""The search service: a spec file in, a search folder out. The command line and notebooks call it.

``execute_search`` reads and checks everything a search needs (the spec, its scenarios, the
target groups, the strategies to compare with, the output folder) before any run, holds the
folder's lock, runs or resumes the search (``optimise.run_search``), and writes the tables, the
strategy files, the experiment and the report (``outputs``). It prints nothing: progress goes
to a callback, and the paths come back in a ``SearchOutput``.

Imports base, data, core, config, run and search only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..base.errors import ScenarioError
from ..base.files import check_writable, default_out_dir, file_problem
from ..config.checks import prepare_world
from ..config.scenario import Scenario, load_strategy
from ..config.search import SearchSpec, load_search
from ..run.service import apply_override
from .evaluate import load_problem
from .optimise import SearchRun, run_search
from .outputs import SEARCH_FILES, write_outputs
from .results import SearchTables, search_tables
from .space import make_space

LOCK_FILE = ".blocsim.lock"


@dataclass
class SearchOutput:
    """What a search made: its run, its tables and the files written."""

    out_dir: Path
    run: SearchRun
    tables: SearchTables
    files: list[Path]


def _check_folder(out_dir: Path) -> None:
    """A search folder must be new, empty, or an earlier search's (holding only its files)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"--out {out_dir} is a file, not a folder")
    if not out_dir.is_dir():
        return
    names = {p.name for p in out_dir.iterdir() if not (p.name.startswith(".") and
                                                      p.name.endswith(".tmp"))} - {LOCK_FILE}
    if names and ("journal.jsonl" not in names or not names <= SEARCH_FILES):
        raise ScenarioError(f"--out {out_dir} holds files that are not a blocsim search's "
                            f"({', '.join(sorted(names - SEARCH_FILES)) or 'no journal.jsonl'}); "
                            f"nothing was written: choose another folder")


def prepare(spec_file: Path, *, trials: int | None = None, seed: int | None = None) -> tuple:
    """The spec (overrides applied), its problem, the first scenario and world, and the space."""
    spec: SearchSpec = load_search(spec_file)
    apply_override(spec, "trials", trials, "--trials")
    apply_override(spec, "seed", seed, "--seed")
    problem = load_problem(spec)
    scenario = Scenario.model_validate(problem.scenarios[0])
    world = prepare_world(scenario)
    space = make_space(spec, world)
    for i, rel in enumerate(spec.compare):  # checked before any run, not after the search
        path = Path(spec._source).parent / rel
        if why := file_problem(path, "strategy file"):
            raise spec.error(f"{why}: {rel}", ("compare", i))
        load_strategy(path)
    return spec, problem, scenario, world, space


def execute_search(spec_file: Path | str, *, out: Path | None = None, workers: int = 1,
                   trials: int | None = None, seed: int | None = None,
                   plotter: Callable | None = None,
                   progress: Callable[[int, int, float], None] | None = None,
                   evaluator: Callable | None = None) -> SearchOutput:
    """Check, run (or resume) and write a search; nothing is written if a check fails."""
    from ..run.store import batch_lock

    spec_file = Path(spec_file)
    spec, problem, scenario, world, space = prepare(spec_file, trials=trials, seed=seed)
    out_dir = Path(out) if out is not None else default_out_dir("search", spec.name)
    _check_folder(out_dir)
    check_writable(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with batch_lock(out_dir):
        run = run_search(spec, problem, space, out_dir, workers=workers, progress=progress,
                         evaluator=evaluator)
        tables = search_tables(run, scenario, world, base_dir=spec_file.parent)
        files = write_outputs(run, tables, out_dir, scenario, world, spec_file=spec_file,
                              plotter=plotter)
    return SearchOutput(out_dir, run, tables, files)
