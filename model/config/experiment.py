"""Experiment files: strategies x scenarios x sweeps x replications, read and checked.

An experiment file lists the scenarios (what the world and the SCO do), the strategies (what the
West chooses), the replications, the seed, optional parameter sweeps and the outcomes to keep
(EMA Workbench's split of uncertainties and levers). ``run.design`` expands it into runs.
Imports base, core and config only.
"""

from __future__ import annotations

import difflib
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
