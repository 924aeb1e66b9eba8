"""An experiment's design: its fixed, ordered table of runs, cut into chunks.

A design expands into a fixed, ordered table of runs; replication k has the same seed in every
cell (common random numbers), so differences between strategies are paired, not noise. The
table is cut into chunks that are the unit of work, of storage and of resumption. Imports base,
data, core, config and run only.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from model import __version__

from ..base.errors import ScenarioError
from ..config.checks import load_listed_scenario, prepare_world
from ..config.costs import cost_summary, scale_strategy
from ..config.experiment import ExperimentSpec, check_sweep
from ..config.scenario import (
    Scenario,
    Strategy,
    load_strategy,
)
from ..core.seeds import replication_seeds


@dataclass(frozen=True)
class Cell:
    """One scenario x strategy x sweep point: the fully resolved scenario to run."""

    scenario: str
    strategy: str
    point: int
    params: dict[str, float]
    resolved: dict  # Scenario.model_dump(mode="json") with the strategy and point applied



@dataclass(frozen=True)
class Chunk:
    """A unit of work: consecutive runs of one cell."""

    chunk_id: int
    cell: int
    run_ids: tuple[int, ...]
    replications: tuple[int, ...]
    seeds: tuple[int, ...]



@dataclass
class Design:
    """The expanded experiment: cells, seeds, chunks and a hash that identifies it."""

    spec: ExperimentSpec
    cells: list[Cell]
    seeds: list[int]
    chunks: list[Chunk]
    swept: list[str]
    swing: dict[str, list[str]]  # per scenario: the swing group's states in its world
    digest: str
    states: dict[str, int] = field(default_factory=dict)  # per scenario: its world's states
    costs: list[dict] = field(default_factory=list)  # per scenario x strategy (config.costs)

    @property
    def runs(self) -> int:
        """Total number of runs."""
        return len(self.cells) * len(self.seeds)



def sweep_points(spec: ExperimentSpec) -> tuple[list[str], list[dict[str, float]]]:
    """The swept parameter names and the design's points (one empty point without a sweep)."""
    sweep = spec.sweep
    if sweep is None:
        return [], [{}]
    names = list(sweep.parameters)
    ranges = [sweep.parameters[n] for n in names]
    if sweep.design == "factorial":
        combos = itertools.product(*ranges)
        return names, [dict(zip(names, map(float, c), strict=True)) for c in combos]
    problem = {"num_vars": len(names), "names": names, "bounds": [list(r) for r in ranges]}
    if sweep.design == "lhs":
        from scipy.stats import qmc
        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(spec.seed)).random(
            sweep.samples)
        lo, hi = np.array([r[0] for r in ranges]), np.array([r[1] for r in ranges])
        x = qmc.scale(unit, lo, hi)
    elif sweep.design == "morris":
        from SALib.sample import morris
        x = morris.sample(problem, N=sweep.samples, num_levels=sweep.levels, seed=spec.seed)
    else:
        from SALib.sample import sobol
        x = sobol.sample(problem, N=sweep.samples, calc_second_order=False, seed=spec.seed)
    return names, [dict(zip(names, map(float, row), strict=True)) for row in x]



def _strategies(spec: ExperimentSpec, base: Path) -> list[Strategy | None]:
    out: list[Strategy | None] = []
    for i, item in enumerate(spec.strategies):
        if isinstance(item, Strategy):
            item._source, item._where = spec._source, spec._where
            out.append(item)
        else:
            path = base / item
            if not path.exists():
                raise spec.error(f"strategy file not found: {item}", ("strategies", i))
            out.append(load_strategy(path))
    names = [s.name for s in out if s is not None]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise spec.error(f"strategy names must differ: {', '.join(sorted(dup))}", ("strategies",))
    return out or [None]



def expand(spec: ExperimentSpec, *, base_dir: Path | None = None) -> Design:
    """Load every scenario and strategy, check them, and expand the run table."""
    base = Path(base_dir) if base_dir else Path(spec._source).parent
    check_sweep(spec)
    scenarios: list[Scenario] = []
    for i, rel in enumerate(spec.scenarios):
        sc, _ = load_listed_scenario(spec, base, rel, i, spec.horizon,
                                     hint="; list it under strategies")
        scenarios.append(sc)
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise spec.error("scenario names must differ", ("scenarios",))
    strategies = _strategies(spec, base)
    strategy_names = [s.name if s else "as_in_scenario" for s in strategies]
    if spec.reference is not None and spec.reference not in strategy_names:
        raise spec.error(f"reference '{spec.reference}' is not one of the strategies: "
                         f"{', '.join(strategy_names)}", ("reference",))
    swept, points = sweep_points(spec)
    cells, costs = [], []
    for sc in scenarios:
        world = prepare_world(sc)
        for strat, sname in zip(strategies, strategy_names, strict=True):
            if strat is not None and spec.equal_cost is not None:
                strat = _at_cost(spec, strat, sc, world)
            combined = sc.with_strategy(strat) if strat is not None else sc
            costs.append({"scenario": sc.name, "strategy": sname,
                          **cost_summary(combined, world)})
            for p, values in enumerate(points):
                doc = combined.model_dump(mode="json")
                doc["parameters"].update(values)
                doc["replications"] = spec.replications
                cells.append(Cell(sc.name, sname, p, values, doc))
    for cell in cells:  # every combination must still be a valid scenario
        try:
            Scenario.model_validate(cell.resolved)
        except ValidationError as exc:
            raise spec.error(f"{cell.scenario} x {cell.strategy} x point {cell.point}: "
                             f"{exc.errors()[0]['msg']}", ("sweep",)) from None
    seeds = replication_seeds(spec.seed, spec.replications)
    chunks = []
    run_id = 0
    for c in range(len(cells)):
        for start in range(0, len(seeds), spec.chunk_size):
            reps = tuple(range(start, min(start + spec.chunk_size, len(seeds))))
            chunks.append(Chunk(len(chunks), c, tuple(run_id + r - start for r in reps), reps,
                                tuple(seeds[r] for r in reps)))
            run_id += len(reps)
    swing = {}  # each scenario's own world decides who is in the group (memberships by year)
    states = {}
    for sc in scenarios:
        world = prepare_world(sc)
        states[sc.name] = world.n
        try:
            swing[sc.name] = [str(c) for c in world.iso3[world.mask(spec.swing_group)]]
        except KeyError as exc:
            raise spec.error(f"unknown state code or group {exc}", ("swing_group",)) from None
    digest = _digest(spec, cells, seeds)
    return Design(spec, cells, seeds, chunks, swept, swing, digest, states, costs)


def _at_cost(spec: ExperimentSpec, strategy: Strategy, scenario: Scenario, world) -> Strategy:
    """The strategy scaled to the experiment's ``equal_cost`` in this scenario (config.costs)."""
    try:
        return scale_strategy(strategy, scenario, world, spec.equal_cost)
    except ScenarioError as exc:
        raise spec.error(exc.detail, ("equal_cost",)) from None



def _digest(spec: ExperimentSpec, cells: list[Cell], seeds: list[int]) -> str:
    """A hash of what decides the results: same hash, same run table, same result files.

    Descriptions, file locations and the outcomes to report (primary, reference) do not change
    a run, so they are left out; a custom world enters by its content, not its path.
    """
    def run_part(resolved: dict) -> dict:
        doc = {k: v for k, v in resolved.items() if k not in ("description", "key_states")}
        if doc["world"] != "builtin":
            doc["world"] = hashlib.sha256(Path(doc["world"]).read_bytes()).hexdigest()
        return doc

    doc = {"version": __version__, "seeds": seeds, "chunk_size": spec.chunk_size,
           "keep_trajectories": spec.keep_trajectories, "swing_group": spec.swing_group,
           "cells": [(c.scenario, c.strategy, c.point, run_part(c.resolved)) for c in cells]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()



def spec_from_files(scenarios: list[Path], strategies: list[Path], *, name: str,
                    replications: int, seed: int) -> ExperimentSpec:
    """An experiment built from the command line instead of a file."""
    spec = ExperimentSpec(name=name, scenarios=[str(p.resolve()) for p in scenarios],
                          strategies=[str(p.resolve()) for p in strategies],
                          replications=replications, seed=seed)
    spec._source = "<command line>"
    return spec
