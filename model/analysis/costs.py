"""What each strategy of a batch cost, and its effect per US$ bn: tables in, tables out.

The batch records every scenario x strategy's cost in its manifest (``costs``, by the rule of
``core.costs``: docs/model.md 4.1). Here they become a table, and the primary outcome's paired
difference to the reference (``stats.paired_differences``) is set against the extra money:
``effect_per_bn`` is the mean paired difference per US$ bn of extra spending over the horizon,
and the cost-effect frontier marks, in each scenario, the strategies that no cheaper (or equally
costly) strategy beats for the West. Batches written before costs were recorded give empty
tables. Imports base, core, run and analysis only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.outcomes import better_sign

COST_COLUMNS = ["scenario", "strategy", "cost_bn_per_year", "cost_bn_total"]


def cost_table(manifest: dict) -> pd.DataFrame:
    """One row per scenario and strategy: cost a year (mean over the horizon) and in total."""
    rows = [{k: c[k] for k in COST_COLUMNS} for c in manifest.get("costs") or []
            if isinstance(c, dict) and all(k in c for k in COST_COLUMNS)]
    return pd.DataFrame(rows, columns=COST_COLUMNS)


def frontier(cost: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """True where no other point costs no more and gains at least as much, one strictly.

    Costs equal to four significant digits count as equal: strategy files round budgets to six
    (``search.space``), so two allocations of one budget differ by a few US$ thousand at most,
    and the cheaper by that dust must not be kept for it.
    """
    c = np.array([float(f"{x:.4g}") if np.isfinite(x) else x for x in np.asarray(cost, dtype=float)])
    g = np.asarray(gain, dtype=float)
    le = (c[:, None] <= c[None, :]) & (g[:, None] >= g[None, :])  # le[j, i]: j as good as i
    lt = (c[:, None] < c[None, :]) | (g[:, None] > g[None, :])
    return np.isfinite(c) & np.isfinite(g) & ~(le & lt).any(axis=0)


def cost_effect(diffs: pd.DataFrame, costs: pd.DataFrame, primary: str,
                reference: str) -> pd.DataFrame:
    """The primary outcome's effect against cost, per scenario and strategy (reference included).

    Columns: scenario, strategy, cost_bn_per_year, cost_bn_total, extra_cost_bn_total (over the
    reference), mean_diff, ci_low, ci_high (the paired difference to the reference and its 95%
    interval), effect_per_bn (mean_diff per extra US$ bn in total; empty where the strategy
    costs no more than the reference) and frontier.
    """
    cols = ["scenario", "strategy", "cost_bn_per_year", "cost_bn_total", "extra_cost_bn_total",
            "mean_diff", "ci_low", "ci_high", "effect_per_bn", "frontier"]
    if costs.empty or diffs.empty:
        return pd.DataFrame(columns=cols)
    d = diffs[diffs["outcome"] == primary][["scenario", "strategy", "mean_diff", "ci_low", "ci_high"]]
    refs = costs[costs["strategy"] == reference][["scenario", "cost_bn_total"]]
    ref_rows = refs.assign(strategy=reference, mean_diff=0.0, ci_low=0.0, ci_high=0.0)
    d = pd.concat([ref_rows[["scenario", "strategy", "mean_diff", "ci_low", "ci_high"]], d],
                  ignore_index=True)
    out = d.merge(costs, on=["scenario", "strategy"], how="inner")
    out = out.merge(refs.rename(columns={"cost_bn_total": "_ref"}), on="scenario", how="left")
    out["extra_cost_bn_total"] = out["cost_bn_total"] - out["_ref"]
    extra = out["extra_cost_bn_total"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["effect_per_bn"] = np.where(extra > 0, out["mean_diff"] / extra, np.nan)
    sign = better_sign(primary)
    out["frontier"] = False
    for _, idx in out.groupby("scenario", sort=False).groups.items():
        sub = out.loc[idx]
        out.loc[idx, "frontier"] = frontier(sub["cost_bn_per_year"], sign * sub["mean_diff"])
    order = {s: i for i, s in enumerate(dict.fromkeys(costs["scenario"]))}
    out = out.assign(_s=out["scenario"].map(order)).sort_values(
        ["_s", "cost_bn_per_year", "strategy"], kind="stable")
    return out[cols].reset_index(drop=True)
