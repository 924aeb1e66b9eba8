"""Experiments: strategies x scenarios x sweep points x replications, and their run table.

An experiment file lists the scenarios (what the world and the SCO do), the strategies (what the
West chooses), the replications, the seed, optional parameter sweeps and the outcomes to keep
(EMA Workbench's split of uncertainties and levers). Its design expands into a fixed, ordered
table of runs; replication k has the same seed in every cell (common random numbers), so
differences between strategies are paired, not noise. The table is cut into chunks that are
the unit of work, of storage and of resumption.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator

from . import __version__
from .errors import ScenarioError
from .outcomes import OUTCOMES
from .runner import prepare_world, replication_seeds
from .scenario import (
    Located,
    Name,
    Parameters,
    Scenario,
    Strategy,
    Strict,
    load_scenario,
    load_strategy,
    parse,
    read_yaml,
)

DEFAULT_OUTCOMES = ("gdp_share_west", "gdp_share_sco", "pop_share_west", "sco_members",
                    "swing_mean_alignment", "mean_alignment")


class Sweep(Strict):
    """Parameters to vary: listed values (factorial) or [low, high] ranges (lhs, morris, sobol)."""

    design: Literal["factorial", "lhs", "morris", "sobol"] = "factorial"
    parameters: dict[str, list[float]] = Field(min_length=1)
    samples: int = Field(16, ge=1, le=1_000_000,
                         description="lhs: points; morris: trajectories; sobol: base sample N")
    levels: int = Field(4, ge=2, le=64, description="morris grid levels")


class ExperimentSpec(Located):
    """The experiment file's schema."""

    name: Name
    description: str = ""
    scenarios: list[str] = Field(min_length=1)
    strategies: list[str | Strategy] = Field(default_factory=list)  # files, or written inline
    reference: str | None = None
    replications: int = Field(100, ge=1, le=1_000_000)
    seed: int = Field(2024, ge=0, le=2**63 - 1)
    horizon: int | None = Field(None, ge=1, le=100)
    outcomes: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES))
    primary: str = "gdp_share_west"
    swing_group: list[str] = Field(default_factory=lambda: ["swing_states"])
    sweep: Sweep | None = None
    keep_trajectories: bool = True
    chunk_size: int = Field(50, ge=1, le=100_000)

    @field_validator("outcomes", "primary")
    @classmethod
    def _check_outcomes(cls, value: list[str] | str) -> list[str] | str:
        for name in [value] if isinstance(value, str) else value:
            if name not in OUTCOMES:
                guess = difflib.get_close_matches(name, list(OUTCOMES), n=1)
                hint = f" (did you mean '{guess[0]}'?)" if guess else ""
                raise ValueError(f"unknown outcome '{name}'{hint}; known: {', '.join(OUTCOMES)}")
        return value


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

    @property
    def runs(self) -> int:
        """Total number of runs."""
        return len(self.cells) * len(self.seeds)


# --- reading ----------------------------------------------------------------------------------

def load_experiment(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment file (scenario and strategy files are checked later)."""
    path = Path(path)
    data, lines = read_yaml(path)
    where = {p: (str(path), ln) for p, ln in lines.items()}
    spec = parse(data, ExperimentSpec, where, str(path))
    spec._source, spec._where = str(path), where
    return spec


def parse_sweep_option(text: str) -> tuple[str, list[float]]:
    """``parameters.peer_weight=0.1:0.5:5`` (5 values), ``=0.1,0.2`` (listed) or ``=0.1:0.5``."""
    name, sep, values = text.partition("=")
    name = name.strip().removeprefix("parameters.")
    if not sep or not name or not values:
        raise ScenarioError(f"--sweep {text!r}: write NAME=LOW:HIGH[:N] or NAME=V1,V2,...")
    try:
        if ":" in values:
            parts = [float(v) for v in values.split(":")]
            if len(parts) in (2, 3) and not parts[0] < parts[1]:
                raise ScenarioError(f"--sweep {text!r}: LOW ({parts[0]:g}) must be below HIGH "
                                    f"({parts[1]:g}); write NAME=LOW:HIGH[:N]")
            if len(parts) == 3:
                n = int(parts[2])
                if n < 1 or n != parts[2]:
                    raise ScenarioError(f"--sweep {text!r}: N (the number of values) must be a "
                                        f"whole number of at least 1")
                return name, [float(v) for v in np.linspace(parts[0], parts[1], n)]
            if len(parts) == 2:
                return name, parts
            raise ValueError
        return name, [float(v) for v in values.split(",")]
    except ValueError:
        raise ScenarioError(f"--sweep {text!r}: values must be numbers, as LOW:HIGH[:N] "
                            f"or V1,V2,...") from None


# --- expanding the design -------------------------------------------------------------------

def check_sweep(spec: ExperimentSpec) -> None:
    """Swept parameters must exist and their values or ranges be allowed; errors name the field."""
    sweep = spec.sweep
    if sweep is None:
        return
    known = list(Parameters.model_fields)
    for name, values in sweep.parameters.items():
        path = ("sweep", "parameters", name)
        if name not in known:
            guess = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise spec.error(f"unknown parameter '{name}'{hint}", path)
        if not values:
            raise spec.error("empty list of values", path)
        if sweep.design != "factorial":
            if len(values) != 2:
                raise spec.error(f"a {sweep.design} design needs a range [low, high], "
                                 f"got {len(values)} values", path)
            if not values[0] < values[1]:
                raise spec.error(f"empty or inverted range [{values[0]}, {values[1]}]", path)
        for v in values:
            try:
                Parameters(**{name: v})
            except ValidationError as exc:
                raise spec.error(f"value {v} is not allowed: {exc.errors()[0]['msg']}", path) from None
    if sweep.design == "sobol" and sweep.samples & (sweep.samples - 1):
        raise spec.error("sobol needs a power of two (e.g. 64, 128)", ("sweep", "samples"))


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
        path = base / rel
        if not path.exists():
            raise spec.error(f"scenario file not found: {rel}", ("scenarios", i))
        keys = set(read_yaml(path)[0])
        if "west" in keys and keys <= {"name", "description", "west"}:
            raise spec.error(f"{rel} is a strategy (only name, description and west); "
                             f"list it under strategies", ("scenarios", i))
        sc = load_scenario(path)
        if spec.horizon is not None:
            sc.horizon = spec.horizon
            sc.check_horizon()
        if sc.world != "builtin":
            sc.world = str((path.parent / sc.world).resolve())
        prepare_world(sc)
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
    cells = []
    for sc in scenarios:
        for strat, sname in zip(strategies, strategy_names, strict=True):
            combined = sc.with_strategy(strat) if strat is not None else sc
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
    for sc in scenarios:
        world = prepare_world(sc)
        try:
            swing[sc.name] = [str(c) for c in world.iso3[world.mask(spec.swing_group)]]
        except KeyError as exc:
            raise spec.error(f"unknown state code or group {exc}", ("swing_group",)) from None
    digest = _digest(spec, cells, seeds)
    return Design(spec, cells, seeds, chunks, swept, swing, digest)


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
