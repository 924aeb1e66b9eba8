"""The space a search explores: shares of a yearly budget over lever x target-group pairs.

A candidate is a weight in 0..1 (on a grid of ``step``) for each allowed (lever, group) pair and,
when the budget need not all be spent (``spend: up_to``), the share of it spent. The pair's
money per year is ``budget * spent * weight / sum of weights``, shared equally by the states of
its group. Groups are made disjoint in the order the spec lists them (a state in two groups
counts in the first), so no state is paid for twice. A candidate becomes an ordinary
``Strategy``: a lever on one whole group takes its ``budget`` per target state; otherwise its
``targets`` map each group to the intensity that money buys (``Lever.effort``), written in
reverse order so that a state in two groups takes the first group's value (the schema's "later
entry wins"). What is evaluated is that strategy, so a written file gives the same runs.

Imports base, data, core and config only (it belongs to ``search``, rank 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base.errors import ScenarioError
from ..config.scenario import LeverConfig, Strategy, WestLevers
from ..config.search import SearchSpec
from ..core.dynamics import saturate
from ..core.levers import LEVERS
from ..data.world import World

SPEND = "spend"
MAX_BUDGET = 1000.0  # the schema's limit on a lever's budget per target state and year


@dataclass(frozen=True)
class Unit:
    """One (lever, group) pair: the states it pays for (those of the group not in earlier ones)."""

    lever: str
    group: str
    states: int

    @property
    def key(self) -> str:
        """The weight's name in the journal and the tables: ``lever@group``."""
        return f"{self.lever}@{self.group}"


@dataclass(frozen=True)
class Space:
    """The allowed pairs, the budget and the grid; ``overlaps[g]``: earlier groups sharing states."""

    units: tuple[Unit, ...]
    budget: float
    spend: str
    step: float
    groups: tuple[str, ...]
    whole: dict[str, bool]            # the group keeps all its states (no earlier group overlaps)
    overlaps: dict[str, tuple[str, ...]]

    @property
    def names(self) -> list[str]:
        """The search's variables, in order."""
        return [u.key for u in self.units] + ([SPEND] if self.spend == "up_to" else [])


def make_space(spec: SearchSpec, world: World) -> Space:
    """The space of ``spec`` in ``world`` (groups resolved there); errors name the spec's field."""
    masks, seen = {}, np.zeros(world.n, dtype=bool)
    overlaps: dict[str, tuple[str, ...]] = {}
    for i, group in enumerate(spec.targets):
        try:
            full = world.mask([group])
        except KeyError:
            raise spec.error(f"unknown state code or group '{group}'", ("targets", i)) from None
        own = full & ~seen
        if not own.any():
            raise spec.error(f"every state of '{group}' is already in an earlier target group; "
                             f"drop it or list it first", ("targets", i))
        overlaps[group] = tuple(g for g in masks if (masks[g] & full).any())
        masks[group] = own
        seen |= full
    units = tuple(Unit(lv, g, int(masks[g].sum())) for lv in spec.levers for g in spec.targets)
    smallest = min(u.states for u in units)
    if spec.budget / smallest > MAX_BUDGET:
        raise spec.error(f"{spec.budget:g} bn a year on a group of {smallest} state(s) would be "
                         f"more than {MAX_BUDGET:g} bn per target state and year, the schema's "
                         f"limit", ("budget",))
    return Space(units, spec.budget, spec.spend, spec.step, tuple(spec.targets),
                 {g: not overlaps[g] for g in spec.targets}, overlaps)


def corners(space: Space) -> list[dict[str, float]]:
    """Candidates tried first: each lever alone, then each (lever, group) pair alone.

    A lever alone is spread over every group with about equal money per state; all the budget
    is spent.

    A search over shares reaches a concentrated allocation only by luck, and the hand-written
    strategies are concentrated; starting from the corners lets the sampler refine them.
    """
    biggest = max(u.states for u in space.units)
    out = []
    for lever in dict.fromkeys(u.lever for u in space.units):
        out.append({u.key: (max(space.step, round(u.states / biggest / space.step) * space.step)
                            if u.lever == lever else 0.0) for u in space.units})
    for unit in space.units:
        out.append({u.key: 1.0 if u == unit else 0.0 for u in space.units})
    if space.spend == "up_to":
        out = [{**p, SPEND: 1.0} for p in out]
    return [{k: min(1.0, float(v)) for k, v in p.items()} for p in out]


def spent(space: Space, params: dict[str, float]) -> float:
    """US$ bn a year the candidate spends (before the written budgets' rounding)."""
    any_weight = any(float(params[u.key]) > 0 for u in space.units)
    return float(params.get(SPEND, 1.0)) * space.budget if any_weight else 0.0


def allocation(space: Space, params: dict[str, float]) -> dict[str, float]:
    """US$ bn per year of each pair (by ``Unit.key``), from the candidate's weights."""
    w = np.array([float(params[u.key]) for u in space.units])
    spent = float(params.get(SPEND, 1.0)) * space.budget
    total = w.sum()
    money = w / total * spent if total > 0 else np.zeros_like(w)
    return {u.key: float(m) for u, m in zip(space.units, money, strict=True)}


def _round(x: float) -> float:
    """Six significant digits: what the strategy file says is what was evaluated."""
    return float(f"{x:.6g}")


def per_state_budgets(space: Space, alloc: dict[str, float]) -> dict[tuple[str, str], float]:
    """US$ bn per target state and year of each funded pair, rounded as written."""
    return {(u.lever, u.group): _round(alloc[u.key] / u.states)
            for u in space.units if alloc[u.key] > 0}


def to_strategy(space: Space, params: dict[str, float], name: str,
                description: str = "") -> Strategy:
    """The candidate as an ordinary strategy (the object that is evaluated and written)."""
    budgets = per_state_budgets(space, allocation(space, params))
    west = WestLevers()
    for lever in dict.fromkeys(u.lever for u in space.units):
        funded = [g for g in space.groups if (lever, g) in budgets]
        if not funded:
            continue
        if len(funded) == 1 and space.whole[funded[0]]:
            cfg = LeverConfig(budget=budgets[(lever, funded[0])], targets=[funded[0]])
        else:
            half = LEVERS[lever].half_budget_bn
            shown = set(funded) | {o for g in funded for o in space.overlaps[g]}
            mapping = {g: float(saturate(budgets.get((lever, g), 0.0), half))
                       for g in reversed(space.groups) if g in shown}
            cfg = LeverConfig(targets=mapping)
        setattr(west, lever, cfg)
    try:
        return Strategy(name=name, description=description, west=west)
    except ValueError as exc:  # pragma: no cover - the schema's limits hold by construction
        raise ScenarioError(f"candidate {name}: {exc}") from None
