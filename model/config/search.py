"""Search spec files: which allocations of a Western budget ``blocsim search`` tries, and how it judges.

A search spec names the scenarios (what the world and the SCO do), the West's budget per year,
the levers and target groups it may spend on, the outcome to improve, a robustness criterion
across scenarios and replications, and the optimiser's settings. ``search.space`` turns it into
candidate strategies; ``search.optimise`` runs the search. Field by field in
``scenarios/README.md`` ("Search specs"). Imports base, core and config only.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..core.levers import WEST_LEVERS
from ..core.outcomes import INFO, OUTCOMES
from .experiment import MAX_RUNS
from .scenario import Located, Name, load_spec

ROBUSTNESS = ("mean", "worst", "regret", "percentile")
SAMPLERS = ("tpe", "random")


class SearchSpec(Located):
    """The search spec file's schema."""

    name: Name
    description: str = ""
    scenarios: list[str] = Field(min_length=1, max_length=50)
    budget: float = Field(gt=0, le=100_000, description="the West's US$ bn per year")
    spend: Literal["all", "up_to"] = "all"
    levers: list[str] = Field(min_length=1)
    targets: list[str] = Field(min_length=1, max_length=20)
    outcome: str = "gdp_share_sco"
    robustness: Literal[ROBUSTNESS] = "mean"
    percentile: float = Field(10.0, ge=0, le=100)
    replications: int = Field(20, ge=1, le=10_000)
    seed: int = Field(2024, ge=0, le=2**63 - 1)
    horizon: int | None = Field(None, ge=1, le=100)
    trials: int = Field(200, ge=1, le=100_000)
    batch: int = Field(8, ge=1, le=256, description="candidates proposed before any is scored")
    sampler: Literal[SAMPLERS] = "tpe"
    step: float = Field(0.05, gt=0, le=1, description="grid of each weight in 0..1")
    best: int = Field(5, ge=1, le=100, description="allocations written as strategy files")
    compare: list[str] = Field(default_factory=list, max_length=100)
    swing_group: list[str] = Field(default_factory=lambda: ["swing_states"])

    @field_validator("levers")
    @classmethod
    def _check_levers(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in WEST_LEVERS:
                guess = difflib.get_close_matches(name, list(WEST_LEVERS), n=1)
                hint = f" (did you mean '{guess[0]}'?)" if guess else ""
                raise ValueError(f"unknown Western lever '{name}'{hint}; known: "
                                 f"{', '.join(WEST_LEVERS)}")
        if len(set(value)) != len(value):
            raise ValueError("a lever is listed twice")
        return value

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a target group is listed twice")
        return value

    @field_validator("outcome")
    @classmethod
    def _check_outcome(cls, value: str) -> str:
        if value not in OUTCOMES:
            guess = difflib.get_close_matches(value, list(OUTCOMES), n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise ValueError(f"unknown outcome '{value}'{hint}; known: {', '.join(OUTCOMES)}")
        if OUTCOMES[value].direction == INFO:
            raise ValueError(f"outcome '{value}' has no better direction (information only); "
                             f"a search needs one that the West wants more or less of")
        return value

    @model_validator(mode="after")
    def _size(self) -> SearchSpec:
        units = len(self.levers) * len(self.targets)
        if units > 100:
            raise ValueError(f"{units} lever x target pairs; at most 100 in one search")
        runs = (self.trials + len(self.compare)) * self.replications * len(self.scenarios)
        if runs > MAX_RUNS:  # each field alone is in range; together they could take years
            raise ValueError(f"(trials + compared strategies) x replications x scenarios is "
                             f"{runs:,} model runs; at most {MAX_RUNS:,} in one search, as in "
                             f"one batch: use fewer trials or replications")
        return self


def load_search(path: str | Path) -> SearchSpec:
    """Read and validate a search spec (scenario and strategy files are checked when loaded)."""
    return load_spec(path, SearchSpec)
