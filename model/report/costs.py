"""Cost and effect in the comparison report: the table for readers and the frontier plot.

``display_cost_effect`` formats ``analysis.costs.cost_effect`` (shares in percentage points);
``plot_cost_effect(table, primary, ax=None)`` draws each strategy's paired difference to the
reference against its cost a year, one panel per scenario, with the cost-effect frontier joined.
Imports analysis, core and the report's own modules only (and matplotlib, only to draw).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..analysis.labels import outcome_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _scale(primary: str) -> tuple[float, str]:
    share = primary.startswith(("gdp_share", "pop_share"))
    return (100.0, "pp") if share else (1.0, "")


def display_cost_effect(table: pd.DataFrame, primary: str) -> pd.DataFrame:
    """The cost-effect table for readers: US$ bn, differences in pp for shares."""
    k, unit = _scale(primary)
    unit = f" ({unit})" if unit else ""
    return pd.DataFrame({
        "scenario": table["scenario"], "strategy": table["strategy"],
        "cost, US$ bn a year": table["cost_bn_per_year"].map(lambda v: f"{v:.3g}"),
        "cost, US$ bn in all": table["cost_bn_total"].map(lambda v: f"{v:.4g}"),
        f"difference to reference{unit}": [f"{m * k:+.3g} ({lo * k:+.3g} to {hi * k:+.3g})"
                                           for m, lo, hi in zip(table["mean_diff"], table["ci_low"],
                                                                table["ci_high"], strict=True)],
        f"per US$ 100 bn{unit}": table["effect_per_bn"].map(
            lambda v: f"{v * k * 100:+.3g}" if np.isfinite(v) else ""),
        "on the frontier": table["frontier"].map({True: "yes", False: ""}),
    })


def plot_cost_effect(table: pd.DataFrame, primary: str, reference: str, *, ax=None) -> Figure:
    """Paired difference to the reference against cost a year; the frontier joined per scenario."""
    from .compare_plots import GRID, strategy_colours
    from .png import panel_grid
    from .run_plots import set_titles

    k, unit = _scale(primary)
    scenarios = list(dict.fromkeys(table["scenario"]))
    if ax is None:
        fig, axes = panel_grid(len(scenarios), len(scenarios), (4.35, 3.55), (0.3, 0.0))
    else:
        fig, axes = ax.figure, [ax] * len(scenarios)
    colours = strategy_colours(table["strategy"], reference)
    for ax_, s in zip(axes, scenarios, strict=True):
        sub = table[table["scenario"] == s]
        for _, r in sub.iterrows():
            ax_.errorbar(r["cost_bn_per_year"], r["mean_diff"] * k,
                         yerr=[[(r["mean_diff"] - r["ci_low"]) * k], [(r["ci_high"] - r["mean_diff"]) * k]],
                         fmt="o", color=colours[r["strategy"]], capsize=3, label=r["strategy"])
        front = sub[sub["frontier"]].sort_values("cost_bn_per_year")
        ax_.plot(front["cost_bn_per_year"], front["mean_diff"] * k, "--", color="#555555", lw=1,
                 label="cost-effect frontier")
        ax_.axhline(0, color="#999999", lw=0.8)
        ax_.grid(**GRID)
        ax_.set_xlabel("cost, US$ bn a year (docs/model.md 4.1)")
        set_titles(ax_, f"Scenario '{s}'", "effect against cost; bars: 95% intervals")
    axes[0].set_ylabel(f"{outcome_label(primary)}: difference to '{reference}'"
                       + (f" ({unit})" if unit else ""))
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig
