"""A scenario's Western levers costed, and a strategy scaled to a budget (equal-cost comparisons).

The rule is ``core.costs`` (``docs/model.md``, 4.1): a budget costs itself, an intensity the
budget that buys it on the lever's curve, in every target state and active year. Here the
scenario's own numbers are read, so a lever given a budget costs exactly that budget (no round
trip through the effort). ``scale_strategy`` multiplies every lever's budget per target state by
one factor, so a strategy keeps its mix and its targets and costs what is asked.

Imports base, data, core and config only.
"""

from __future__ import annotations

import numpy as np

from ..base.errors import ScenarioError
from ..core.costs import LeverCost, budget_for_effort, lever_cost, total_bn
from ..core.dynamics import saturate
from ..core.levers import LEVERS, WEST_LEVERS
from ..data.world import World
from .scenario import LeverConfig, Scenario, Strategy

__all__ = ["lever_budgets", "strategy_costs", "scale_strategy", "cost_summary"]


def lever_budgets(scenario: Scenario, name: str, cfg: LeverConfig, world: World) -> np.ndarray:
    """Budget per state and year (US$ bn, 0 where not aimed) of one lever, by the schema's rules."""
    from .build import lever_action

    half = LEVERS[name].half_budget_bn
    if cfg.budget is not None:
        targets = cfg.targets if cfg.targets is not None else list(LEVERS[name].default_targets)
        return np.where(world.mask(list(targets)), float(cfg.budget), 0.0)
    effort = np.asarray(lever_action(scenario, name, cfg, world).effort)
    return budget_for_effort(effort, half)


def strategy_costs(scenario: Scenario, world: World) -> tuple[LeverCost, ...]:
    """The cost of each Western lever of ``scenario`` (with its strategy applied), in registry order."""
    out = []
    for name, cfg in scenario.lever_configs():
        if name not in WEST_LEVERS:
            continue
        first, last = scenario.lever_window(cfg)
        out.append(lever_cost(name, lever_budgets(scenario, name, cfg, world), first, last,
                              start_year=scenario.start_year, end_year=scenario.end_year))
    return tuple(out)


def cost_summary(scenario: Scenario, world: World) -> dict:
    """Plain data for tables: total, mean per year and each lever's total (US$ bn)."""
    costs = strategy_costs(scenario, world)
    total = total_bn(costs)
    return {"cost_bn_total": total, "cost_bn_per_year": total / scenario.horizon,
            "levers": {c.lever: c.total_bn for c in costs}}


def _scaled(cfg: LeverConfig, name: str, factor: float) -> LeverConfig:
    half = LEVERS[name].half_budget_bn

    def intensity(x: float) -> float:
        return float(saturate(float(budget_for_effort(x, half)) * factor, half))

    if cfg.budget is not None:
        return cfg.model_copy(update={"budget": cfg.budget * factor})
    if isinstance(cfg.targets, dict):
        return cfg.model_copy(update={"targets": {t: intensity(x) for t, x in cfg.targets.items()}})
    return cfg.model_copy(update={"intensity": intensity(cfg.intensity)})


def scale_strategy(strategy: Strategy, scenario: Scenario, world: World,
                   bn_per_year: float) -> Strategy:
    """``strategy`` with every lever's budget per target state scaled by one factor.

    The factor makes the strategy's mean cost per simulated year in ``scenario`` equal
    ``bn_per_year``; mixes, targets and windows are kept. A strategy that costs nothing is
    returned as it is (nothing to scale).

    Raises:
        ScenarioError: the strategy holds an intensity of 1 (a cost without limit), or the
            scaled budget of a lever leaves the schema's range.
    """
    combined = scenario.with_strategy(strategy)
    total = total_bn(strategy_costs(combined, world))
    if total == 0.0:
        return strategy
    if not np.isfinite(total):
        raise ScenarioError(f"strategy '{strategy.name}' cannot be scaled to a budget: an "
                            f"intensity of 1 costs without limit (docs/model.md, 4.1)")
    factor = bn_per_year * scenario.horizon / total
    west = strategy.west.model_copy()
    for name, cfg in strategy.west:
        if cfg is None:
            continue
        scaled = _scaled(cfg, name, factor)
        if scaled.budget is not None and scaled.budget > 1000:
            raise ScenarioError(f"strategy '{strategy.name}' scaled to {bn_per_year:g} bn a year "
                                f"needs {scaled.budget:.4g} bn per target state and year for "
                                f"{name}, above the limit of 1000")
        setattr(west, name, scaled)
    out = strategy.model_copy(update={"west": west})
    out._source, out._where = strategy._source, strategy._where
    return out
