"""Experiment files: strategies x scenarios x sweeps x replications, read and checked.

An experiment file lists the scenarios (what the world and the SCO do), the strategies (what the
West chooses), the replications, the seed, optional parameter sweeps and the outcomes to keep
(EMA Workbench's split of uncertainties and levers). ``run.design`` expands it into runs.
Imports base, core and config only.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator

from ..base.errors import ScenarioError
from ..core.outcomes import OUTCOMES
from .scenario import (
    Located,
    Name,
    Parameters,
    Strategy,
    Strict,
    load_spec,
)

# Limits on the size of a design, checked from the spec's counts before anything is built: a
# typo such as ``--sweep inertia=0.1:0.2:1000000`` must be one line, not minutes and gigabytes.
MAX_SWEEP_POINTS = 100_000  # points of one design (values of a factorial product, or samples)
MAX_CELLS = 100_000  # scenarios x strategies x points: each is a resolved scenario in memory
MAX_RUNS = 10_000_000  # runs of one batch
MAX_CHUNKS = 1_000_000  # chunks of one batch (runs / chunk_size per cell)
MAX_REPLICATIONS = 100_000  # as for one scenario

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
    replications: int = Field(100, ge=1, le=MAX_REPLICATIONS)
    seed: int = Field(2024, ge=0, le=2**63 - 1)
    horizon: int | None = Field(None, ge=1, le=100)
    outcomes: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES))
    primary: str = "gdp_share_west"
    swing_group: list[str] = Field(default_factory=lambda: ["swing_states"])
    sweep: Sweep | None = None
    keep_trajectories: bool = True
    chunk_size: int = Field(50, ge=1, le=100_000)
    equal_cost: float | None = Field(None, gt=0, le=100_000,
                                     description="scale every strategy to this many US$ bn a year")

    @field_validator("outcomes", "primary")
    @classmethod
    def _check_outcomes(cls, value: list[str] | str) -> list[str] | str:
        for name in [value] if isinstance(value, str) else value:
            if name not in OUTCOMES:
                guess = difflib.get_close_matches(name, list(OUTCOMES), n=1)
                hint = f" (did you mean '{guess[0]}'?)" if guess else ""
                raise ValueError(f"unknown outcome '{name}'{hint}; known: {', '.join(OUTCOMES)}")
        return value



def load_experiment(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment file (scenario and strategy files are checked later)."""
    return load_spec(path, ExperimentSpec)



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
                if not parts[2] >= 1 or parts[2] != int(parts[2]):
                    raise ScenarioError(f"--sweep {text!r}: N (the number of values) must be a "
                                        f"whole number of at least 1")
                n = int(parts[2])
                if n > MAX_SWEEP_POINTS:
                    raise ScenarioError(f"--sweep {text!r}: N ({n}) is above the limit of "
                                        f"{MAX_SWEEP_POINTS} values per sweep")
                return name, [float(v) for v in np.linspace(parts[0], parts[1], n)]
            if len(parts) == 2:
                return name, parts
            raise ValueError
        listed = values.split(",")
        if len(listed) > MAX_SWEEP_POINTS:
            raise ScenarioError(f"--sweep {name}=...: {len(listed)} values, above the limit of "
                                f"{MAX_SWEEP_POINTS} values per sweep")
        return name, [float(v) for v in listed]
    except (ValueError, OverflowError):
        raise ScenarioError(f"--sweep {text!r}: values must be numbers, as LOW:HIGH[:N] "
                            f"or V1,V2,...") from None



def design_points(sweep: Sweep | None) -> int:
    """How many points a sweep's design has, from its counts alone (nothing is built)."""
    if sweep is None:
        return 1
    k = len(sweep.parameters)
    if sweep.design == "factorial":
        return math.prod(len(v) for v in sweep.parameters.values())
    if sweep.design == "lhs":
        return sweep.samples
    if sweep.design == "morris":
        return sweep.samples * (k + 1)
    return sweep.samples * (k + 2)  # sobol without second-order indices



def check_size(spec: ExperimentSpec) -> None:
    """The design's points, cells, runs and chunks must be within the limits above.

    Computed from the spec's counts (files listed, values per parameter, samples, replications)
    before any scenario is read or any point is made; the error is one line naming the limit.
    """
    points = design_points(spec.sweep)
    if points > MAX_SWEEP_POINTS:
        sweep = spec.sweep
        how = (" x ".join(f"{len(v)} values of {n}" for n, v in sweep.parameters.items())
               if sweep.design == "factorial" else
               f"{sweep.design} with {sweep.samples} samples and {len(sweep.parameters)} parameters")
        raise spec.error(f"the design has {points} points ({how}); at most {MAX_SWEEP_POINTS} "
                         f"points per sweep: use fewer values or samples", ("sweep",))
    cells = len(spec.scenarios) * max(1, len(spec.strategies)) * points
    runs = cells * spec.replications
    shape = (f"{len(spec.scenarios)} scenario(s) x {max(1, len(spec.strategies))} strategy(ies) "
             f"x {points} point(s)")
    if cells > MAX_CELLS:
        raise spec.error(f"the design has {cells} cells ({shape}); at most {MAX_CELLS}: use fewer "
                         f"sweep points, scenarios or strategies", ("sweep",))
    if runs > MAX_RUNS:
        raise spec.error(f"the design has {runs} runs ({shape} x {spec.replications} "
                         f"replications); at most {MAX_RUNS} in one batch: use fewer replications "
                         f"(--runs) or sweep points", ("replications",))
    chunks = cells * -(-spec.replications // spec.chunk_size)
    if chunks > MAX_CHUNKS:
        raise spec.error(f"the design has {chunks} chunks ({cells} cells, chunk_size "
                         f"{spec.chunk_size}); at most {MAX_CHUNKS}: raise chunk_size",
                         ("chunk_size",))



def check_sweep(spec: ExperimentSpec) -> None:
    """Swept parameters must exist and their values or ranges be allowed; errors name the field.

    The design's size is checked first (``check_size``), from its counts alone.
    """
    sweep = spec.sweep
    known = list(Parameters.model_fields)
    for name in sweep.parameters if sweep is not None else ():
        if name not in known:
            guess = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise spec.error(f"unknown parameter '{name}'{hint}", ("sweep", "parameters", name))
    check_size(spec)
    if sweep is None:
        return
    for name, values in sweep.parameters.items():
        path = ("sweep", "parameters", name)
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
