"""Running a scenario: seeds for replications, the runs themselves, and the output folder.

Replication seeds are spawned up front from the scenario's root seed with
``numpy.random.SeedSequence`` and recorded, so any run can be repeated alone and replication k
sees the same random numbers under every strategy (common random numbers).

Imports base, data, core, config and run only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..base.errors import ScenarioError
from ..base.files import only_run_files, write_atomic_dir
from ..config.build import model_from_scenario, run_scenario
from ..config.scenario import Scenario
from ..core.seeds import replication_seeds
from ..core.simulation import RunResult
from ..data.world import World
from . import tables

__all__ = ["replication_seeds", "run_one", "run_seeds", "run_replications",
           "write_run", "RunOutput", "check_memory", "MEMORY_LIMIT"]

# 'blocsim run' keeps every replication in memory (records, then the tables built from them):
# about 8 bytes x 3 copies per value, per state and year, of alignment, status, the structure
# channels and the driver contributions (1.5 MB a replication for the baseline's 193 states x 12
# years). Larger counts belong to 'blocsim batch', which streams runs to disk.
MEMORY_LIMIT = 4 * 2**30
BYTES_PER_VALUE = 8 * 3


def replication_bytes(scenario: Scenario, world: World) -> int:
    """Memory one replication of ``blocsim run`` holds, estimated from the scenario's size."""
    from ..core.dynamics import CHANNELS
    from ..core.simulation import DRIVERS

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
              out_dir: Path, *, plotter: Callable[..., list[Path]] | None = None) -> RunOutput:
    """Write tables, the resolved scenario and the plots into ``out_dir`` atomically.

    ``plotter`` (``report.run_plots.write_plots``, passed in by the caller: plots are a higher
    layer) draws the plots into the folder; None writes the tables only.
    """
    threshold = scenario.parameters.lean_threshold
    names = dict(zip(world.iso3, world.name, strict=True))
    traj = tables.trajectories_frame(results, names, threshold)
    blocs = tables.blocs_frame(results, threshold)
    changes = tables.status_frame(results)
    written: list[Path] = []

    def fill(tmp: Path) -> None:
        tables.write_csv(traj, tmp / "trajectories.csv")
        tables.write_csv(blocs, tmp / "blocs.csv")
        tables.write_csv(changes, tmp / "status_changes.csv")
        (tmp / "scenario.resolved.yaml").write_text(
            tables.resolved_yaml(scenario, seeds), encoding="utf-8")
        if plotter is not None:
            written.extend(p.relative_to(tmp) for p in plotter(traj, blocs, world, scenario,
                                                                tmp / "plots"))

    out_dir = write_atomic_dir(out_dir, fill, marker="scenario.resolved.yaml",
                               replace_only=only_run_files)
    return RunOutput(out_dir, traj, blocs, changes, [out_dir / p for p in written])
