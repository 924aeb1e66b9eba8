"""Scores: each team's objectives evaluated on the world as it stands after a turn.

A score is a function of the world now and at the start, not a running sum, so undoing a turn
undoes its points. Kinds (``spec.Objective``): ``outcome`` (weight x change of a run outcome
since the start, sign by ``better``), ``threshold`` (weight if the mean alignment of the named
states is below and/or above the bounds), ``towards`` (weight x the mean alignment's move towards
a side since the start), ``channel`` (weight x change of a structure channel, sign by ``better``).

Imports numpy, core, data and the game's own modules only.
"""

from __future__ import annotations

import numpy as np

from ..core.blocs import bloc_series
from ..core.dynamics import CHANNELS
from ..data.world import World
from .spec import GameSpec, Objective


def outcomes_now(alignment: np.ndarray, status: np.ndarray, world: World,
                 threshold: float) -> dict[str, float]:
    """The run outcomes (``core.outcomes.OUTCOMES``) of one moment of the world."""
    swing = world.groups()["swing_states"]
    rows = bloc_series(alignment[None], status[None], world.gdp_usd, world.population,
                       threshold, swing)
    return {k: float(v[0]) for k, v in rows.items()}


def objective_points(obj: Objective, now: dict, start: dict, world: World) -> float:
    """Points of one objective; ``now``/``start`` hold alignment, structure and outcomes."""
    sign = 1.0 if obj.better != "lower" else -1.0
    if obj.kind == "outcome":
        return obj.weight * sign * (now["outcomes"][obj.outcome] - start["outcomes"][obj.outcome])
    idx = [world.index[s] for s in obj.targets()]
    if obj.kind == "channel":
        c = CHANNELS.index(obj.channel)
        change = now["structure"][c, idx].mean() - start["structure"][c, idx].mean()
        return obj.weight * sign * float(change)
    a_now = float(now["alignment"][idx].mean())
    if obj.kind == "towards":
        move = a_now - float(start["alignment"][idx].mean())
        return obj.weight * (move if obj.towards == "sco" else -move)
    holds = ((obj.below is None or a_now < obj.below)
             and (obj.above is None or a_now > obj.above))
    return obj.weight if holds else 0.0


def scores(spec: GameSpec, now: dict, start: dict, world: World) -> dict[str, dict]:
    """Per team: its total and each objective's points (in the file's order)."""
    out = {}
    for tid, team in spec.teams.items():
        parts = [objective_points(o, now, start, world) for o in team.objectives]
        out[tid] = {"total": float(sum(parts)), "parts": [float(p) for p in parts]}
    return out
