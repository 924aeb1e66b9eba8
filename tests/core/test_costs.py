"""Costs (``core.costs``, ``config.costs``): the rule of docs/model.md 4.1 adds up.

A budget costs itself, an intensity the budget that buys it on the lever's curve, in every
target state and active year; scaling a strategy to a budget keeps its mix.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.base.errors import ScenarioError
from model.config.build import plan_from_scenario
from model.config.checks import prepare_world
from model.config.costs import cost_summary, scale_strategy, strategy_costs
from model.config.scenario import Strategy, load_scenario, load_strategy
from model.core.costs import active_years, budget_for_effort, plan_costs, total_bn
from model.core.dynamics import saturate
from model.core.levers import LEVERS

SCEN = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def base():
    sc = load_scenario(SCEN / "baseline.yaml")
    return sc, prepare_world(sc)


@given(st.floats(0.0, 10.0), st.sampled_from(sorted(LEVERS)))
def test_budget_for_effort_inverts_the_curve(multiple, name):
    # up to 10 half-budgets (effort 0.99995); nearer 1 the round trip loses digits, which is
    # why config.costs reads a budget from the scenario itself
    half = LEVERS[name].half_budget_bn
    budget = multiple * half
    effort = float(saturate(budget, half))
    assert float(budget_for_effort(effort, half)) == pytest.approx(budget, rel=1e-9, abs=1e-12)


def test_full_intensity_costs_without_limit():
    assert np.isinf(budget_for_effort(1.0, 1.0))
    assert budget_for_effort(0.0, 1.0) == 0.0


@pytest.mark.parametrize("first,last,expected", [(2025, 2035, 11), (2030, 2040, 6), (2036, 2040, 0),
                                                 (2000, 2024, 0), (2025, 2025, 1)])
def test_active_years_are_the_simulated_years_in_the_window(first, last, expected):
    assert active_years(first, last, 2024, 2035) == expected


def with_west(sc, **west):
    return sc.with_strategy(Strategy.model_validate({"name": "s", "west": west}))


def test_intensity_costs_the_budget_it_buys_in_every_target_and_year(base):
    sc, world = base
    combined = with_west(sc, diplomatic_alliances={"intensity": 0.6,
                                                   "targets": ["swing_states", "central_asia"]})
    (cost,) = strategy_costs(combined, world)
    n = int(world.mask(["swing_states", "central_asia"]).sum())
    per_state = -LEVERS["diplomatic_alliances"].half_budget_bn * math.log(1 - 0.6)
    assert cost.states == n == 20
    assert cost.years == sc.horizon == 11
    assert cost.total_bn == pytest.approx(per_state * n * 11, rel=1e-12)


def test_budget_costs_itself_within_its_window_and_levers_add_up(base):
    sc, world = base
    combined = with_west(
        sc, trade_agreements={"budget": 0.5, "targets": ["KAZ", "UZB"], "start": 2030, "end": 2040},
        civil_society={"targets": {"central_asia": 0.2, "KAZ": 0.0}})
    costs = {c.lever: c for c in strategy_costs(combined, world)}
    assert costs["trade_agreements"].total_bn == pytest.approx(0.5 * 2 * 6)
    half = LEVERS["civil_society"].half_budget_bn
    assert costs["civil_society"].states == 4  # KAZ mapped to 0 after the group
    assert costs["civil_society"].total_bn == pytest.approx(4 * 11 * -half * math.log(0.8))
    summary = cost_summary(combined, world)
    assert summary["cost_bn_total"] == pytest.approx(sum(c.total_bn for c in costs.values()))
    assert summary["cost_bn_per_year"] == pytest.approx(summary["cost_bn_total"] / 11)


def test_plan_costs_agree_with_the_scenario_costs(base):
    sc, world = base
    combined = sc.with_strategy(load_strategy(SCEN / "strategies" / "combined.yaml"))
    from_plan = plan_costs(plan_from_scenario(combined, world), start_year=sc.start_year,
                           end_year=sc.end_year)
    assert total_bn(from_plan) == pytest.approx(total_bn(strategy_costs(combined, world)), rel=1e-12)
    assert total_bn(from_plan) > 0


@pytest.mark.parametrize("name", ["combined", "diplomatic_alliances", "civil_society"])
def test_a_scaled_strategy_costs_the_budget_and_keeps_its_mix(base, name):
    sc, world = base
    strategy = load_strategy(SCEN / "strategies" / f"{name}.yaml")
    before = {c.lever: c.total_bn for c in strategy_costs(sc.with_strategy(strategy), world)}
    scaled = scale_strategy(strategy, sc, world, 7.5)
    after = {c.lever: c.total_bn for c in strategy_costs(sc.with_strategy(scaled), world)}
    assert sum(after.values()) / sc.horizon == pytest.approx(7.5, rel=1e-9)
    ratio = sum(after.values()) / sum(before.values())
    for lever in before:
        assert after[lever] == pytest.approx(before[lever] * ratio, rel=1e-9)


def test_scaling_refuses_a_cost_without_limit_and_keeps_a_free_strategy(base):
    sc, world = base
    full = Strategy.model_validate({"name": "full", "west": {"public_diplomacy": {"intensity": 1.0}}})
    with pytest.raises(ScenarioError, match="without limit"):
        scale_strategy(full, sc, world, 5.0)
    none = load_strategy(SCEN / "strategies" / "none.yaml")
    assert scale_strategy(none, sc, world, 5.0) is none
