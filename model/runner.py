"""Running a scenario: seeds for replications, the runs themselves, and the output folder.

Replication seeds are spawned up front from the scenario's root seed with
``numpy.random.SeedSequence`` and recorded, so any run can be repeated alone and replication k
sees the same random numbers under every strategy (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import outputs
from .build import model_from_scenario, run_scenario
from .errors import ScenarioError
from .scenario import Scenario
from .seeds import replication_seeds
from .simulation import RunResult
from .world import World, check_scenario, load_world

__all__ = ["replication_seeds", "prepare_world", "run_one", "run_seeds", "run_replications",
           "write_run", "summary_table", "RunOutput", "check_memory", "MEMORY_LIMIT"]

# 'blocsim run' keeps every replication in memory (records, then the tables built from them):
# about 8 bytes x 3 copies per value, per state and year, of alignment, status, the structure
# channels and the driver contributions (1.5 MB a replication for the baseline's 193 states x 12
# years). Larger counts belong to 'blocsim batch', which streams runs to disk.
MEMORY_LIMIT = 4 * 2**30
BYTES_PER_VALUE = 8 * 3


def replication_bytes(scenario: Scenario, world: World) -> int:
    """Memory one replication of ``blocsim run`` holds, estimated from the scenario's size."""
    from .dynamics import CHANNELS
    from .simulation import DRIVERS

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


def prepare_world(scenario: Scenario, base_dir: Path | None = None) -> World:
    """Load the scenario's world and check every state and group it names, before any output."""
    try:
        world = load_world(scenario.world, scenario.start_year, base_dir)
    except ScenarioError as exc:
        if exc.file:
            raise
        raise scenario.error(exc.detail, (exc.path or "world",)) from None
    check_scenario(scenario, world)
    return world


def run_one(scenario: Scenario, seed: int, world: World) -> RunResult:
    """One replication with its own seed."""
    return run_scenario(scenario, rng=seed, world=world)


def run_seeds(scenario: Scenario, seeds: list[int], world: World,
              progress: Callable[[int], None] | None = None) -> list[RunResult]:
    """One run per seed, reusing one model (``BlocModel.reset``): identical to ``run_one`` each."""
    model = None
    results = []
    for s in seeds:
        if model is None:
            model = model_from_scenario(scenario, rng=np.random.default_rng(s), world=world)
        else:
            model.reset(np.random.default_rng(s))
        results.append(model.run())
        if progress:
            progress(1)
    if model is not None:
        model.release()
    return results


def run_replications(scenario: Scenario, world: World, *, runs: int | None = None,
                     progress: Callable[[int], None] | None = None) -> tuple[list[RunResult], list[int]]:
    """All replications of a scenario, in order; ``progress(1)`` after each."""
    seeds = replication_seeds(scenario.seed, runs or scenario.replications)
    return run_seeds(scenario, seeds, world, progress), seeds


@dataclass
class RunOutput:
    """What a scenario run produced, as tables, and where it was written."""

    out_dir: Path
    trajectories: pd.DataFrame
    blocs: pd.DataFrame
    status_changes: pd.DataFrame
    plots: list[Path]


def write_run(scenario: Scenario, world: World, results: list[RunResult], seeds: list[int],
              out_dir: Path, *, plots: bool = True) -> RunOutput:
    """Write tables, the resolved scenario and the plots into ``out_dir`` atomically."""
    threshold = scenario.parameters.lean_threshold
    names = dict(zip(world.iso3, world.name, strict=True))
    traj = outputs.trajectories_frame(results, names, threshold)
    blocs = outputs.blocs_frame(results, threshold)
    changes = outputs.status_frame(results)
    written: list[Path] = []

    def fill(tmp: Path) -> None:
        outputs.write_csv(traj, tmp / "trajectories.csv")
        outputs.write_csv(blocs, tmp / "blocs.csv")
        outputs.write_csv(changes, tmp / "status_changes.csv")
        (tmp / "scenario.resolved.yaml").write_text(
            outputs.resolved_yaml(scenario, seeds), encoding="utf-8")
        if plots:
            from .plots import write_plots  # matplotlib only when plots are wanted
            written.extend(p.relative_to(tmp) for p in write_plots(traj, blocs, world, scenario,
                                                                    tmp / "plots"))

    out_dir = outputs.write_atomic_dir(out_dir, fill, marker="scenario.resolved.yaml")
    return RunOutput(out_dir, traj, blocs, changes, [out_dir / p for p in written])


def summary_table(scenario: Scenario, blocs: pd.DataFrame, traj: pd.DataFrame, top: int = 5) -> str:
    """A short text summary: camps at the start and the end, and the states that moved most.

    The camps are the median over runs, the statistic the bloc-share plots draw (as the line in
    their bands), so the summary and ``plots/bloc_shares.png`` give the same numbers. The states
    that moved most are ranked by the mean change over runs, as in ``plots/attribution.png``
    and the world heatmap (a mean, because the drivers' mean contributions add up to it).
    """
    first, last = blocs["year"].min(), blocs["year"].max()
    median = blocs.groupby("year").median(numeric_only=True)
    lines = [f"{scenario.name}: {first}-{last}, {blocs['run'].nunique()} run(s); camps by "
             f"|alignment| > {scenario.parameters.lean_threshold} (median over runs, as in the plots)",
             f"{'':12}{'states':>22}{'GDP share':>24}{'SCO':>6}",
             f"{'year':12}{'SCO  non-al.  West':>22}{'SCO  non-al.  West':>24}{'mem.':>6}"]
    for y in (first, last):
        r = median.loc[y]
        lines.append(f"{y!s:12}{r.states_sco:6.0f}{r.states_nonaligned:8.0f}{r.states_west:7.0f}"
                     f"{r.gdp_share_sco:9.1%}{r.gdp_share_nonaligned:8.1%}{r.gdp_share_west:7.1%}"
                     f"{r.sco_members:6.1f}")
    a = traj.pivot_table(index="iso3", columns="year", values="alignment", aggfunc="mean")
    change = (a[last] - a[first]).sort_values(key=np.abs, ascending=False).head(top)
    contrib_cols = [c for c in traj.columns if c.startswith("c_")]
    total = traj.groupby("iso3")[contrib_cols].sum() / traj["run"].nunique()
    lines.append(f"States that moved most (mean change {first}-{last} over runs; the driver that "
                 f"pushed most in that direction):")
    for iso, d in change.items():
        drivers = total.loc[iso]
        main = (drivers * np.sign(d)).idxmax()
        lines.append(f"  {iso}  {a.loc[iso, first]:+.3f} -> {a.loc[iso, last]:+.3f}  "
                     f"({d:+.3f}; {main[2:]} {drivers[main]:+.3f})")
    return "\n".join(lines)
