"""A finished search read as tables: every candidate, the Pareto front, the best, the comparison.

Outcome columns are in the outcome's own units (a share, a count), not turned to the West's
point of view; ``score`` is the criterion turned so that larger is better. A candidate's cost is
its strategy's cost in the first scenario (``config.costs``: US$ bn a year on average over the
horizon, and in total): every scenario of a search simulates the same years (``evaluate``
refuses others), and a strategy replaces a scenario's Western levers, so they all cost the same.

The ranking's criterion is computed here over every candidate of the search: for ``regret``,
against each scenario's best mean among all candidates, not the "so far" of the search loop
(``robust``), so ``rank`` and the best files do not depend on the order candidates came in.

The comparison at equal cost scales each hand-written strategy (``config.costs.scale_strategy``)
to the best allocation's cost a year and runs it with the same seeds; the paired difference is
per replication, averaged over scenarios, in the West's favour (> 0: the best allocation does
better), with a normal 95% interval over replications.

Imports base, data, core, config, run and search only (pandas for the tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..base.files import file_problem
from ..config.costs import cost_summary, scale_strategy
from ..config.scenario import Scenario, Strategy, load_strategy
from ..config.search import SearchSpec
from ..core.outcomes import better_sign
from .evaluate import Evaluator
from .optimise import SearchRun
from .robust import pareto_mask, regrets, scenario_means, scores
from .space import allocation, to_strategy


@dataclass
class SearchTables:
    """The tables of a search and the best allocations as strategies."""

    candidates: pd.DataFrame
    pareto: pd.DataFrame
    best: list[Strategy]
    comparison: pd.DataFrame
    compared: list[Strategy]  # the hand-written strategies, scaled to the best one's cost


def criterion_label(spec: SearchSpec) -> str:
    """How the criterion reads in tables and the report."""
    return {"mean": "mean over scenarios", "worst": "worst scenario",
            "regret": "largest regret", "percentile": f"{spec.percentile:g}th percentile"}[
        spec.robustness]


def _measures(values: np.ndarray, spec: SearchSpec, names: list[str]) -> dict[str, np.ndarray]:
    """Per candidate (values (C, S, R)): per-scenario means, mean, worst, percentile, regret, score."""
    sign = better_sign(spec.outcome)
    u = sign * values
    m = scenario_means(u)
    cols = {f"mean_{n}": sign * m[:, s] for s, n in enumerate(names)}
    cols["mean"] = sign * m.mean(axis=1)
    cols["worst"] = sign * m.min(axis=1)
    cols[f"p{spec.percentile:g}"] = sign * scores(u, "percentile", spec.percentile)
    cols["max_regret"] = regrets(u)
    cols["score"] = scores(u, spec.robustness, spec.percentile)
    cols["criterion"] = cols[{"mean": "mean", "worst": "worst", "regret": "max_regret",
                              "percentile": f"p{spec.percentile:g}"}[spec.robustness]]
    return cols


def search_tables(run: SearchRun, scenario: Scenario, world, *, base_dir: Path,
                  evaluator: Evaluator | None = None) -> SearchTables:
    """The candidates table, the front, the ``spec.best`` best strategies and the comparison."""
    spec, space, names = run.spec, run.space, run.problem.names
    values = np.stack([t.values for t in run.trials])
    rows = []
    for t in run.trials:
        strategy = to_strategy(space, t.params, "candidate")
        cost = cost_summary(scenario.with_strategy(strategy), world)
        alloc = allocation(space, t.params)
        rows.append({"trial": t.number, "cost_bn_per_year": cost["cost_bn_per_year"],
                     "cost_bn_total": cost["cost_bn_total"],
                     **{f"bn_{k}": v for k, v in alloc.items()}})
    table = pd.DataFrame(rows)
    for col, vals in _measures(values, spec, names).items():
        table[col] = vals
    sign = better_sign(spec.outcome)
    # costs equal but for the rounding of written budgets (6 digits) count as equal
    cost = np.array([float(f"{c:.4g}") for c in table["cost_bn_per_year"]])
    front = pareto_mask(np.column_stack([sign * table["mean"], -cost, sign * table["worst"]]))
    table["pareto"] = front
    order = table.assign(_s=-table["score"]).sort_values(
        ["_s", "cost_bn_per_year", "trial"], kind="stable")
    order = order[np.isfinite(order["score"])]
    distinct = order.drop_duplicates(subset=[c for c in table if c.startswith("bn_")])
    table["rank"] = 0
    table.loc[order.index, "rank"] = np.arange(1, len(order) + 1)
    best = []
    for k, (_, row) in enumerate(distinct.head(spec.best).iterrows(), start=1):
        t = run.trials[int(row["trial"])]
        best.append(to_strategy(space, t.params, f"{spec.name}_best{k}", _description(spec, row, k)))
    comparison, compared = _compare(run, table, best, scenario, world, base_dir, evaluator)
    return SearchTables(table, table[front].sort_values("cost_bn_per_year", kind="stable"),
                        best, comparison, compared)


def _description(spec: SearchSpec, row, k: int) -> str:
    return (f"Found by 'blocsim search' ({spec.name}, trial {int(row['trial'])}, rank {k}): "
            f"{spec.outcome} {row['criterion']:.4g} ({criterion_label(spec)}), "
            f"cost {row['cost_bn_per_year']:.4g} US$ bn a year.")


def _compare(run: SearchRun, table: pd.DataFrame, best: list[Strategy], scenario: Scenario, world,
             base_dir: Path, evaluator: Evaluator | None) -> tuple[pd.DataFrame, list[Strategy]]:
    """The best allocation against each hand-written strategy scaled to its cost, same seeds."""
    spec = run.spec
    if not best or not spec.compare:
        return pd.DataFrame(), []
    top = table.loc[table["rank"] == 1].iloc[0]
    budget = float(top["cost_bn_per_year"])
    others: list[Strategy] = []
    for i, rel in enumerate(spec.compare):
        path = Path(base_dir) / rel
        if why := file_problem(path, "strategy file"):
            raise spec.error(f"{why}: {rel}", ("compare", i))
        st = load_strategy(path)
        scaled = scale_strategy(st, scenario, world, budget)
        others.append(scaled.model_copy(update={
            "name": f"{st.name}_at_{budget:.4g}bn".replace(".", "_"),
            "description": f"{st.name} ({rel}) scaled to {budget:.4g} US$ bn a year, the best "
                           f"allocation's cost: {st.description}"}))
    own = evaluator or Evaluator(run.problem)
    values = np.stack([run.trials[int(top["trial"])].values] + [own(s) for s in others])
    sign = better_sign(spec.outcome)
    cols = _measures(values, spec, run.problem.names)
    d = (sign * (values[:1] - values)).mean(axis=1)  # (C, R): per replication, over scenarios
    rows = []
    for c, st in enumerate([best[0]] + others):
        cost = cost_summary(scenario.with_strategy(st), world)
        half = 1.96 * d[c].std(ddof=1) / np.sqrt(d.shape[1]) if d.shape[1] > 1 else np.nan
        rows.append({"strategy": st.name, "scaled_to_bn_per_year": budget,
                     "cost_bn_per_year": cost["cost_bn_per_year"],
                     **{k: float(v[c]) for k, v in cols.items() if k != "max_regret"},
                     "best_minus_this_for_west": float(d[c].mean()),
                     "ci95_low": float(d[c].mean() - half), "ci95_high": float(d[c].mean() + half),
                     "best_beats_it": bool(c > 0 and cols["score"][0] > cols["score"][c])})
    return pd.DataFrame(rows), others
