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
from model.core.outcomes import better_sign
from model.search.robust import regrets
from model.search.service import execute_search, prepare

from .conftest import SCEN, write_spec

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


def test_the_final_ranking_takes_regret_against_every_candidate_not_the_best_so_far(tmp_path):
    """Two scenarios wanting opposite splits (share 0.8 or 0.2 of the money on the first lever):
    the corners tried first do not reach either scenario's best, so a candidate's regret told to
    the sampler ("so far") is smaller than its final one; the ranking uses the final one."""
    spec = write_spec(tmp_path, levers=LEVERS[:2], targets=["central_asia"], trials=32, batch=4,
                      step=0.1, best=1, robustness="regret",
                      scenarios=[str(SCEN / "classroom.yaml"), str(SCEN / "baseline.yaml")])
    _, problem, _, _, _ = prepare(spec)
    scenario = Scenario.model_validate(problem.scenarios[0])
    world = prepare_world(scenario)
    sign = better_sign("mean_alignment")

    def share(strategy) -> float:
        costs = {c.lever: c.total_bn for c in strategy_costs(scenario.with_strategy(strategy), world)}
        money = np.array([costs.get(lv, 0.0) for lv in LEVERS[:2]])
        return float(money[0] / money.sum())

    def evaluate(strategies):  # the West's view u = -(s - best share)^2, given in the outcome's units
        return [sign * np.array([[-(share(s) - 0.8) ** 2] * 2, [-(share(s) - 0.2) ** 2] * 2])
                for s in strategies]

    out = execute_search(spec, out=tmp_path / "out", evaluator=evaluate)
    u = sign * np.stack([t.values for t in out.run.trials])
    cand = out.tables.candidates.sort_values("trial")
    final = regrets(u)
    np.testing.assert_allclose(cand["max_regret"], final)
    top = cand.sort_values("rank").iloc[0]
    assert top["max_regret"] == pytest.approx(final.min())
    money = np.array([top[f"bn_{lv}@central_asia"] for lv in LEVERS[:2]])
    assert abs(money[0] / money.sum() - 0.5) < 0.1 + 1e-9  # the minimax-regret split
    so_far = np.array([regrets(u[: (k // 4 + 1) * 4])[k] for k in range(len(u))])
    assert (so_far <= final + 1e-12).all() and (so_far < final - 1e-6).any()
