"""What a strategy costs: each lever's money per target state and year, summed over the horizon.

The cost rule (``docs/model.md``, section 4.1 "What a lever costs"): a lever given a *budget*
costs that budget (US$ bn per target state per year) in every target state; a lever given an
*intensity* (or a mapping of intensities) costs the budget that buys that effort on the lever's
own curve, the inverse of ``Lever.effort``: ``budget = -half_budget_bn * ln(1 - effort)`` (so
intensity 0.6 on a lever whose ``half_budget_bn`` is 1 costs 0.92 bn per target state per year,
and intensity 1 costs without limit). A lever costs that in every simulated year inside its
window (``start``..``end``, whole years after the start year up to the horizon); a strategy's
cost is the sum over its levers, target states and years. Receptiveness and ``efficiency`` change
what the money does, not what it costs.

Part of the core: pure arithmetic over numbers and a ``Plan``; imports numpy and the core only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .levers import LEVERS
from .plan import Plan

__all__ = ["LeverCost", "budget_for_effort", "active_years", "lever_cost", "plan_costs",
           "total_bn", "per_year_bn", "COST_RULE"]

#: The rule in one sentence, written beside costs in outputs.
COST_RULE = ("cost = sum over levers, target states and active years of the budget per target "
             "state and year: the lever's budget, or for an intensity x the budget that buys it "
             "on the lever's curve, -half_budget_bn * ln(1 - x) (US$ bn)")


@dataclass(frozen=True)
class LeverCost:
    """One lever's cost: US$ bn per year (all its target states), active years and the total."""

    lever: str
    states: int
    bn_per_year: float
    years: int
    total_bn: float


def budget_for_effort(effort, half_budget_bn: float) -> np.ndarray:
    """The budget (US$ bn per state and year) that buys ``effort`` (0..1): inf at effort 1."""
    effort = np.clip(np.asarray(effort, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return -half_budget_bn * np.log1p(-effort)


def active_years(first: int, last: int, start_year: int, end_year: int) -> int:
    """Simulated years (``start_year`` < y <= ``end_year``) inside the window ``first..last``."""
    return max(0, min(last, end_year) - max(first, start_year + 1) + 1)


def lever_cost(name: str, budget_per_state, first: int, last: int, *, start_year: int,
               end_year: int) -> LeverCost:
    """A lever's cost from its budget per state and year (0 where it is not aimed)."""
    b = np.asarray(budget_per_state, dtype=float)
    years = active_years(first, last, start_year, end_year)
    per_year = float(b.sum())
    return LeverCost(name, int(np.count_nonzero(b)), per_year, years,
                     per_year * years if years else 0.0)


def plan_costs(plan: Plan, *, start_year: int, end_year: int,
               bloc: str | None = "west") -> tuple[LeverCost, ...]:
    """The cost of each lever of ``plan`` (of ``bloc`` only, unless None), from its effort.

    A plan holds efforts, not budgets, so a budget comes back through the curve: exact but for
    rounding, except that an effort rounded to 1.0 (a budget far past ``half_budget_bn``) comes
    back as inf. ``config.costs`` reads budgets from the scenario itself where it gives them.
    """
    out = []
    for lv in plan.levers:
        lever = LEVERS[lv.name]
        if bloc is not None and lever.bloc != bloc:
            continue
        out.append(lever_cost(lv.name, budget_for_effort(lv.effort, lever.half_budget_bn),
                              lv.first_year, lv.last_year, start_year=start_year,
                              end_year=end_year))
    return tuple(out)


def total_bn(costs) -> float:
    """A strategy's cost over the horizon: the sum of its levers' totals (US$ bn)."""
    return float(sum(c.total_bn for c in costs))


def per_year_bn(costs, horizon: int) -> float:
    """A strategy's mean cost per simulated year (US$ bn): its total over ``horizon`` years."""
    return total_bn(costs) / horizon if horizon else 0.0
