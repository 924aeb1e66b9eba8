"""Outcomes of a run, each declaring whether more is better, less is better, or neither.

Directions are from the West's point of view (the player whose strategies are compared), so
ranking and comparison code never guesses (EMA Workbench's habit). A run's outcomes are computed
from its ``RunResult`` at the horizon; per-state outcomes (end alignment, end camp, the first
year a state stands in a camp) go to a table of their own.

Part of the core: imports numpy and the core's own modules only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .blocs import bloc_series, camp_of

if TYPE_CHECKING:
    from .record import RunResult

MAXIMIZE, MINIMIZE, INFO = "max", "min", "info"


@dataclass(frozen=True)
class Outcome:
    """A named scalar outcome of a run and the direction that is better for the West."""

    name: str
    direction: str
    description: str


OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    Outcome("gdp_share_west", MAXIMIZE, "share of world GDP in states leaning West at the horizon"),
    Outcome("gdp_share_sco", MINIMIZE, "share of world GDP in states leaning SCO at the horizon"),
    Outcome("gdp_share_nonaligned", INFO, "share of world GDP in non-aligned states at the horizon"),
    Outcome("pop_share_west", MAXIMIZE, "share of world population leaning West at the horizon"),
    Outcome("pop_share_sco", MINIMIZE, "share of world population leaning SCO at the horizon"),
    Outcome("pop_share_nonaligned", INFO, "share of world population non-aligned at the horizon"),
    Outcome("states_west", MAXIMIZE, "number of states leaning West at the horizon"),
    Outcome("states_sco", MINIMIZE, "number of states leaning SCO at the horizon"),
    Outcome("states_nonaligned", INFO, "number of non-aligned states at the horizon"),
    Outcome("sco_members", MINIMIZE, "number of SCO full members at the horizon"),
    Outcome("sco_any_status", MINIMIZE, "states with any SCO status at the horizon"),
    Outcome("mean_alignment", MINIMIZE, "mean alignment of all states (-1 West .. +1 SCO)"),
    Outcome("gdp_weighted_alignment", MINIMIZE, "GDP-weighted mean alignment"),
    Outcome("swing_mean_alignment", MINIMIZE, "mean alignment of the experiment's swing group"),
)}


def better_sign(name: str) -> float:
    """+1 if more is better, -1 if less is better, 0 for information only."""
    d = OUTCOMES[name].direction
    return 1.0 if d == MAXIMIZE else (-1.0 if d == MINIMIZE else 0.0)


def run_outcomes(r: RunResult, threshold: float, swing: np.ndarray) -> dict[str, float]:
    """Every outcome of ``OUTCOMES`` for one run, at its last recorded time."""
    last = bloc_series(r.alignment[-1:], r.status[-1:], r.gdp_usd, r.population, threshold, swing)
    return {name: float(last[name][0]) for name in OUTCOMES}


def first_year_in_camp(r: RunResult, threshold: float, camp: int) -> np.ndarray:
    """Per state, the first year after the start in which it stands in ``camp``.

    NaN if it never crosses into it, or stood there at the start.
    """
    camps = camp_of(r.alignment, threshold)
    inside = camps[1:] == camp
    crossed = inside.any(axis=0) & (camps[0] != camp)
    first = np.argmax(inside, axis=0)
    return np.where(crossed, r.times[1:][first], np.nan)
