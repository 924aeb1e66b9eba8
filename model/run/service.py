"""The run service: one scenario's replications, checked, run and written. Every caller uses it.

The command line (``blocsim run``), the notebooks and the coming web app call ``execute_run``:
it reads and checks the scenario (a file or a ``Scenario``), applies the overrides, checks the
world, the memory and the output folder *before* any run, runs the replications and writes the
tables, the resolved scenario and (with a plotter passed in from above) the plots. It prints
nothing: notes and progress go to callbacks, and what was made comes back as a ``RunOutput``.

There is one run loop, ``replicate``: R replications of one scenario, all stepped together by
the ensemble engine (``core.ensemble``), whose run r is bit for bit the ``BlocModel`` run with
seed r. The batch's chunks call it too. ``BlocModel`` stays the model of record for one run
steered step by step (``config.build.model_from_scenario``); ``replicate`` falls back to it
only to name a failing run (its ``NonFiniteError``: the engine does not check each step) or,
with ``errors="collect"``, to tell a failing run from the others.

Replication seeds are spawned up front from the scenario's root seed with
``numpy.random.SeedSequence`` and recorded, so any run can be repeated alone and replication k
sees the same random numbers under every strategy (common random numbers).

Imports base, data, core, config and run only; pandas and yaml (``run.tables``) only when
tables are made, and mesa only when a run falls back to ``BlocModel``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..base.errors import ScenarioError
from ..core.seeds import replication_seeds

if TYPE_CHECKING:
    import pandas as pd

    from ..config.scenario import Scenario
    from ..core.record import RunResult
    from ..data.world import World
    from .tables import RunTables

__all__ = ["execute_run", "RunOutput", "DEFAULT_OUT", "replicate", "run_replications",
           "replication_seeds", "write_run", "check_memory", "apply_override", "MEMORY_LIMIT"]

# 'blocsim run' keeps every replication in memory (records, then the tables built from them):
# about 8 bytes x 3 copies per value, per state and year, of alignment, status, the structure
# channels and the driver contributions (1.5 MB a replication for the baseline's 193 states x 12
# years). Larger counts belong to 'blocsim batch', which streams runs to disk.
MEMORY_LIMIT = 4 * 2**30
BYTES_PER_VALUE = 8 * 3

#: Replications the engine steps together at a time: progress is reported after each group.
GROUP = 50


class _DefaultOut:
    def __repr__(self) -> str:
        return "DEFAULT_OUT"


#: ``execute_run(out=DEFAULT_OUT)``: the folder ``out/<scenario name>`` (``base.files.default_out_dir``).
DEFAULT_OUT = _DefaultOut()


# --- the run loop -------------------------------------------------------------------------------

def replicate(scenario: Scenario, seeds: Sequence[int], world: World | None = None, *,
              attribution: bool = True, progress: Callable[[int], None] | None = None,
              errors: Literal["raise", "collect"] = "raise",
              group: int = GROUP) -> list[RunResult | Exception]:
    """One run per seed, in order: THE run loop of every replicated run (run, notebooks, batch).

    The ensemble engine steps ``group`` replications at a time (``progress(k)`` after each
    group of k); run r is bit for bit ``BlocModel`` with ``seeds[r]``, so the grouping changes
    nothing but the memory and the progress steps.

    Args:
        scenario: the scenario, already checked against ``world``.
        seeds: one seed per replication (``replication_seeds`` gives them).
        world: the scenario's world (loaded here when None).
        attribution: record each driver's contributions (the trajectories table needs them;
            the batch's tables do not: without, ``contributions`` are zeros).
        errors: "raise" lets a failing run stop everything (a ``NonFiniteError`` naming the
            step, year and state, as ``BlocModel`` raises it); "collect" puts the exception in
            that run's place and returns the others.

    Returns:
        A ``RunResult`` per seed (or, with errors="collect", the exception of a failed run).
    """
    seeds = list(seeds)
    results: list = []
    plan = None
    for lo in range(0, len(seeds), max(1, group)):
        part = seeds[lo:lo + max(1, group)]
        if plan is None:
            from ..config.build import prepare_plan
            plan = prepare_plan(scenario, world=world)
        ens, alone = run_group(scenario, part, world, plan=plan, attribution=attribution,
                               errors=errors)
        for r in range(len(part)):
            if r in alone:
                if errors == "raise" and isinstance(alone[r], Exception):
                    raise alone[r]
                results.append(alone[r])
            else:
                results.append(ens.run_result(r))
        if progress:
            progress(len(part))
    return results


def run_group(scenario: Scenario, seeds: Sequence[int], world: World | None, *, plan,
              attribution: bool, errors: Literal["raise", "collect"] = "collect"):
    """The one loop's body: ``seeds`` stepped together on the engine, with ``BlocModel`` as judge.

    A run whose state went non-finite is run again alone on ``BlocModel``, which stops at the
    step it went wrong with a ``NonFiniteError`` naming step, year and state. If the engine
    raises as a whole (with errors="collect"), every run goes through ``BlocModel`` alone, so
    a failing seed is told apart from the others. Both ``replicate`` (run, notebooks) and the
    batch's chunks (``run.chunks``) call this, so there is one way of running replications.

    Returns:
        ``(ensemble result or None, {r: RunResult or exception})``: the second holds the runs
        that were run alone; every other run ``r`` is the ensemble's.
    """
    from ..core.ensemble import Ensemble

    seeds = list(seeds)
    try:
        ens = Ensemble(plan, seeds, attribution=attribution).run()
    except Exception:  # noqa: BLE001 - run by run to tell which seed failed, and why
        if errors == "raise":
            raise
        return None, dict(enumerate(_one_by_one(scenario, seeds, world, attribution)))
    bad = np.flatnonzero(~_finite_runs(ens)).tolist()
    alone = _one_by_one(scenario, [seeds[r] for r in bad], world, attribution)
    return ens, dict(zip(bad, alone, strict=True))


def _finite_runs(ens) -> np.ndarray:
    """Per run: every recorded value finite (alignment, structure, pushes)."""
    finite = np.isfinite(ens.alignment).all(axis=(1, 2))
    shared = [ens.structure_shared] + ([ens.pushes_shared] if ens.attribution else [])
    if not all(np.isfinite(x).all() for x in shared):
        return np.zeros_like(finite)
    for pairs in [ens.structure_pairs] + ([ens.pushes_pairs] if ens.attribution else []):
        for _, runs, vals in pairs:
            bad = ~np.isfinite(vals).all(axis=0)
            finite[np.unique(runs[bad])] = False
    if ens.attribution:
        finite &= np.isfinite(ens.peer).all(axis=(0, 1)) & np.isfinite(ens.shock).all(axis=(0, 1))
    return finite


def _one_by_one(scenario: Scenario, seeds: Sequence[int], world: World | None,
                attribution: bool) -> list[RunResult | Exception]:
    """Each seed through ``BlocModel`` alone: a run's exception in its place (the fallback)."""
    from ..config.build import run_scenario

    out: list = []
    for seed in seeds:
        try:
            out.append(run_scenario(scenario, rng=np.random.default_rng(seed), world=world))
        except Exception as exc:  # noqa: BLE001 - a failing run is data for the caller
            out.append(exc)
    return out


def run_replications(scenario: Scenario, world: World, *, runs: int | None = None,
                     progress: Callable[[int], None] | None = None) -> tuple[list[RunResult], list[int]]:
    """The scenario's replications (``runs`` overrides its count) and their seeds, in order."""
    seeds = replication_seeds(scenario.seed, runs or scenario.replications)
    return replicate(scenario, seeds, world, progress=progress), seeds


# --- checks before any run ----------------------------------------------------------------------

def replication_bytes(scenario: Scenario, world: World) -> int:
    """Memory one replication of ``blocsim run`` holds, estimated from the scenario's size."""
    from ..core.dynamics import CHANNELS
    from ..core.record import DRIVERS

    times = int(round(scenario.horizon / scenario.dt)) + 1
    values = 2 + len(CHANNELS) + len(DRIVERS)  # alignment, status, structure, contributions
    return times * len(world.iso3) * values * BYTES_PER_VALUE


def check_memory(scenario: Scenario, world: World, limit: int = MEMORY_LIMIT,
                 file: str = "FILE") -> None:
    """Refuse a replication count whose records would not fit in memory (before any run)."""
    per_run = replication_bytes(scenario, world)
    most = max(1, limit // per_run)
    if scenario.replications > most:
        raise ScenarioError(
            f"{scenario.replications} replications would need about "
            f"{scenario.replications * per_run / 2**30:.1f} GB of memory ({per_run / 2**20:.1f} MB "
            f"each); 'blocsim run' takes at most {most} here: for more, use 'blocsim batch "
            f"--scenario {file} --runs {scenario.replications}', which streams runs to disk")


def apply_override(document, field: str, value, flag: str | None = None) -> None:
    """Set a validated field (``seed``, ``replications``); a bad value is a one-line error."""
    from pydantic import ValidationError

    if value is None:
        return
    try:
        setattr(document, field, value)
    except ValidationError as exc:
        raise ScenarioError(f"{flag or field} {value}: {exc.errors()[0]['msg']}") from None


# --- the service --------------------------------------------------------------------------------

class RunOutput:
    """What a scenario run produced, as tables, and where it was written (None: in memory).

    ``trajectories``, ``blocs`` and ``status_changes`` are DataFrames made from the run's
    columns when first read (``run.tables.RunTables``): a run that only writes its files never
    loads pandas.
    """

    def __init__(self, out_dir: Path | None, tables: RunTables, plots: list[Path], seeds: list[int],
                 scenario: Scenario | None = None, world: World | None = None):
        self.out_dir, self.tables, self.plots, self.seeds = out_dir, tables, plots, seeds
        self.scenario, self.world = scenario, world

    @property
    def trajectories(self) -> pd.DataFrame:
        """One row per run, year and state (``trajectories.csv``)."""
        return self.tables.frame("trajectories")

    @property
    def blocs(self) -> pd.DataFrame:
        """One row per run and year (``blocs.csv``)."""
        return self.tables.frame("blocs")

    @property
    def status_changes(self) -> pd.DataFrame:
        """One row per change of SCO status (``status_changes.csv``)."""
        return self.tables.frame("status_changes")


def execute_run(scenario: Scenario | str | Path, *, seed: int | None = None,
                runs: int | None = None, out: Path | str | None | _DefaultOut = DEFAULT_OUT,
                plotter: Callable[..., list[Path]] | None = None,
                progress: Callable[[int, int, str], None] | None = None,
                note: Callable[[str], None] | None = None,
                base_dir: Path | None = None, seed_flag: str = "--seed",
                runs_flag: str = "--runs") -> RunOutput:
    """Check, run and write one scenario's replications; nothing is written if a check fails.

    Args:
        scenario: a scenario file, or a ``Scenario`` (then copied before any override).
        seed, runs: overrides of the root seed and the number of replications.
        out: the output folder; ``DEFAULT_OUT`` for ``out/<scenario name>``; None keeps the
            tables in memory only (no files, no plots).
        plotter: draws the plots into a folder (``report.run_plots.write_plots``, passed in by
            the caller: plots are a higher layer); None writes the tables only. Its ``prepare()``,
            if it has one, is called once the input has passed its checks, before the runs.
        progress: ``progress(done, total, scenario name)`` as replications finish (also at 0).
        note: called with each warning about what is valid but probably not meant.
        base_dir: where a ``Scenario`` object's relative world path starts (a file: its folder).
        seed_flag, runs_flag: how the overrides are named in error messages.

    Raises:
        ScenarioError: a mistake in the input or the output folder (before any run).
    """
    import shlex

    from ..base.files import check_output_dir, check_writable, default_out_dir, only_run_files
    from ..config import scenario as scenario_mod
    from ..config.checks import prepare_world

    if isinstance(scenario, str | Path):
        file = Path(scenario)
        scenario = scenario_mod.load_scenario(file)  # looked up here: tests may stand in for it
        base_dir = file.parent if base_dir is None else base_dir
    else:
        file = Path(scenario._source) if getattr(scenario, "_source", None) else Path("FILE")
        if seed is not None or runs is not None:
            scenario = scenario.model_copy(deep=True)
    apply_override(scenario, "seed", seed, seed_flag)
    apply_override(scenario, "replications", runs, runs_flag)
    world = prepare_world(scenario, base_dir)
    if note:
        for text in scenario.inactive_levers():
            note(f"{scenario._source}: {text}")
    check_memory(scenario, world, file=shlex.quote(str(file)))
    out_dir = default_out_dir(scenario.name) if isinstance(out, _DefaultOut) else out
    if out_dir is not None:
        out_dir = Path(out_dir)
        check_output_dir(out_dir, "scenario.resolved.yaml", replace_only=only_run_files)
        check_writable(out_dir)  # before the simulation, not after it
        if plotter is not None and hasattr(plotter, "prepare"):
            plotter.prepare()  # the checks passed: the plotter may start its helpers now
    seeds = replication_seeds(scenario.seed, scenario.replications)
    step = None
    if progress:
        done = [0]
        progress(0, len(seeds), scenario.name)

        def step(k: int) -> None:
            done[0] += k
            progress(done[0], len(seeds), scenario.name)
    results = replicate(scenario, seeds, world, progress=step)
    if out_dir is None:
        return RunOutput(None, _tables(scenario, world, results), [], seeds, scenario, world)
    output = write_run(scenario, world, results, seeds, out_dir, plotter=plotter)
    output.scenario, output.world = scenario, world
    return output


def _tables(scenario: Scenario, world: World, results: list[RunResult]) -> RunTables:
    """The three tables of a run, in memory."""
    from .tables import RunTables

    names = dict(zip(world.iso3, world.name, strict=True))
    return RunTables(results, names, scenario.parameters.lean_threshold)


def write_run(scenario: Scenario, world: World, results: list[RunResult], seeds: list[int],
              out_dir: Path, *, plotter: Callable[..., list[Path]] | None = None) -> RunOutput:
    """Write tables, the resolved scenario and the plots into ``out_dir`` atomically.

    ``plotter`` (``report.run_plots.write_plots``, passed in by the caller: plots are a higher
    layer) draws the plots into the folder; None writes the tables only.
    """
    from ..base.files import only_run_files, write_atomic_dir
    from . import tables

    tabs = _tables(scenario, world, results)
    written: list[Path] = []

    def write_tables(tmp: Path) -> None:
        for name in ("trajectories", "blocs", "status_changes"):
            tables.write_bytes(tabs.csv_bytes(name), tmp / f"{name}.csv")
        (tmp / "scenario.resolved.yaml").write_text(
            tables.resolved_yaml(scenario, seeds), encoding="utf-8")

    def fill(tmp: Path) -> None:
        if plotter is None:
            return write_tables(tmp)
        from concurrent.futures import ThreadPoolExecutor

        # the tables are written in a thread while the figures are drawn (numpy sorts and copies
        # without holding the GIL); the block waits for both, and an error in either is raised
        with ThreadPoolExecutor(1) as pool:
            done = pool.submit(write_tables, tmp)
            drawn = plotter(tabs.arrays("trajectories"), tabs.arrays("blocs"), world, scenario, tmp / "plots")
            done.result()
        written.extend(p.relative_to(tmp) for p in drawn)

    out_dir = write_atomic_dir(out_dir, fill, marker="scenario.resolved.yaml",
                               replace_only=only_run_files)
    return RunOutput(out_dir, tabs, [out_dir / p for p in written], list(seeds), scenario, world)
