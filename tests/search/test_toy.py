"""The search finds a planted optimum: a toy outcome whose best allocation is known.

The toy evaluator reads each candidate strategy's money per lever back through the cost rule
(``config.costs``) and scores the squared distance of its shares from planted shares, so the
whole path - weights, strategy, costs, criterion, optuna - is exercised without the model.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.config.checks import prepare_world
from model.config.costs import strategy_costs
from model.config.scenario import Scenario
from model.search.service import execute_search, prepare

from .conftest import write_spec

LEVERS = ["diplomatic_alliances", "trade_agreements", "cybersecurity_cooperation", "public_diplomacy"]


def toy(spec_file, levers, planted):
    """Outcome (less is better) = squared distance of the money shares from ``planted``."""
    _, problem, _, _, _ = prepare(spec_file)
    scenario = Scenario.model_validate(problem.scenarios[0])
    world = prepare_world(scenario)

    def evaluate(strategies):
        out = []
        for s in strategies:
            costs = {c.lever: c.total_bn for c in strategy_costs(scenario.with_strategy(s), world)}
            money = np.array([costs.get(lv, 0.0) for lv in levers])
            share = money / money.sum() if money.sum() > 0 else money
            out.append(np.full((1, 3), float(((share - planted) ** 2).sum())))
        return out
    return evaluate


def best_shares(out, levers):
    top = out.tables.candidates.sort_values("rank").iloc[0]
    money = np.array([top[f"bn_{lv}@central_asia"] for lv in levers])
    return money / money.sum(), top


def test_search_finds_a_planted_split_of_two_levers(tmp_path):
    spec = write_spec(tmp_path, levers=LEVERS[:2], targets=["central_asia"], trials=24, batch=4,
                      step=0.1, best=1)
    out = execute_search(spec, out=tmp_path / "out", evaluator=toy(spec, LEVERS[:2], [0.7, 0.3]))
    shares, _ = best_shares(out, LEVERS[:2])
    assert np.abs(shares - [0.7, 0.3]).max() < 1e-5  # rounding of the written budgets only


@pytest.mark.slow
def test_search_finds_a_planted_split_of_four_levers_better_than_random(tmp_path):
    planted = np.array([0.6, 0.3, 0.1, 0.0])
    found = {}
    for sampler in ("tpe", "random"):
        spec = write_spec(tmp_path, f"{sampler}.yaml", levers=LEVERS, targets=["central_asia"],
                          trials=160, batch=8, sampler=sampler, step=0.05, best=1)
        found[sampler] = best_shares(execute_search(spec, out=tmp_path / sampler,
                                                    evaluator=toy(spec, LEVERS, planted)), LEVERS)
    shares, top = found["tpe"]
    assert np.abs(shares - planted).max() <= 0.05, shares
    assert top["mean"] < found["random"][1]["mean"]  # the optimiser, not luck, does the work
