"""The figure of a search: every candidate's outcome against its cost, the Pareto front marked.

As elsewhere in ``report``: ``plot_search(tables, spec, ax=None)`` returns a figure drawn without
pyplot; ``front_line`` prepares what it draws (the front by cost, best outcome so far), and
``search_png`` gives the PNG bytes ``search.outputs`` writes.

Imports analysis, core, config, search and the report's own modules only (and matplotlib).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.labels import outcome_label
from ..core.outcomes import better_sign
from .compare_plots import GRID, REFERENCE_COLOUR, STRATEGY_PALETTE, png_bytes
from .run_plots import DPI, set_titles


def front_line(candidates: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Front candidates by cost, keeping each one that improves the mean on every cheaper one."""
    sign = better_sign(outcome)
    front = candidates[candidates["pareto"]].sort_values(["cost_bn_per_year", "trial"],
                                                          kind="stable")
    best = -np.inf
    keep = []
    for _, row in front.iterrows():
        v = sign * row["mean"]
        keep.append(v > best)
        best = max(best, v)
    return front[np.array(keep, dtype=bool)] if len(front) else front


def plot_search(tables, spec, *, ax=None) -> Figure:
    """Mean outcome against the worst scenario (and, when spending varies, against cost).

    Every candidate grey, the Pareto front (mean, cost, worst) coloured, the best by the
    criterion a star, the hand-written strategies at the same cost diamonds. ``ax`` (one axes)
    draws the mean-against-worst panel only.
    """
    cand = tables.candidates
    with_cost = spec.spend == "up_to" and ax is None
    if ax is None:
        fig = Figure(figsize=(6.5 * (1 + with_cost), 5), dpi=DPI, layout="constrained")
        axes = list(fig.subplots(1, 1 + with_cost, squeeze=False)[0])
    else:
        fig, axes = ax.figure, [ax]
    scale, unit = (100.0, " (%)") if spec.outcome.startswith(("gdp_share", "pop_share")) else (1.0, "")
    label = outcome_label(spec.outcome) + unit
    panels = [("worst", f"{label}, worst scenario")]
    if with_cost:
        panels.append(("cost_bn_per_year", "cost, US$ bn a year (docs/model.md 4.1)"))
    front, top = cand[cand["pareto"]], cand[cand["rank"] == 1]
    comp = tables.comparison.iloc[1:] if len(tables.comparison) else tables.comparison
    for ax_, (x, xlabel) in zip(axes, panels, strict=True):
        k = 1.0 if x == "cost_bn_per_year" else scale
        ax_.scatter(cand[x] * k, cand["mean"] * scale, s=12, color=REFERENCE_COLOUR, alpha=0.5,
                    label="candidates")
        if x == "cost_bn_per_year":
            line = front_line(cand, spec.outcome)
            ax_.plot(line[x], line["mean"] * scale, "-", color=STRATEGY_PALETTE[0], lw=1,
                     label="cost-effect frontier")
        ax_.scatter(front[x] * k, front["mean"] * scale, s=22, color=STRATEGY_PALETTE[0],
                    label="Pareto front (mean, cost, worst)")
        ax_.scatter(top[x] * k, top["mean"] * scale, s=120, marker="*", color=STRATEGY_PALETTE[2],
                    zorder=5, label="best by the criterion")
        for i, (_, r) in enumerate(comp.iterrows()):
            ax_.scatter([r[x] * k], [r["mean"] * scale], marker="D", s=30, zorder=4,
                        color=STRATEGY_PALETTE[(i + 3) % len(STRATEGY_PALETTE)], label=r["strategy"])
        ax_.grid(**GRID)
        ax_.set_xlabel(xlabel)
        ax_.set_ylabel(f"{label}, mean over scenarios")
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    n_scen = len(tables.candidates.filter(like="mean_").columns)
    set_titles(axes[0], f"Search {spec.name}",
               f"{len(cand)} candidates, {spec.replications} replications x {n_scen} scenario(s), "
               f"same seeds; {'less' if better_sign(spec.outcome) < 0 else 'more'} is better")
    return fig


def search_png(tables, spec) -> bytes:
    """``plot_search`` as PNG bytes (no time stamps)."""
    return png_bytes(plot_search(tables, spec))
