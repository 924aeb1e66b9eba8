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
from .run_plots import axes_or_new, set_titles


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
    """Mean outcome (and worst scenario) against cost a year; front, best and hand-written marked."""
    ax = axes_or_new(ax, (7.5, 5))
    fig = ax.figure
    cand = tables.candidates
    scale = 100.0 if spec.outcome.startswith(("gdp_share", "pop_share")) else 1.0
    ax.scatter(cand["cost_bn_per_year"], cand["mean"] * scale, s=12, color=REFERENCE_COLOUR,
               alpha=0.5, label="candidates (mean over scenarios)")
    line = front_line(cand, spec.outcome)
    ax.plot(line["cost_bn_per_year"], line["mean"] * scale, "-o", color=STRATEGY_PALETTE[0],
            ms=4, label="cost-effect frontier")
    front = cand[cand["pareto"]]
    ax.scatter(front["cost_bn_per_year"], front["worst"] * scale, s=18, facecolors="none",
               edgecolors=STRATEGY_PALETTE[1], label="front: worst scenario")
    top = cand[cand["rank"] == 1]
    ax.scatter(top["cost_bn_per_year"], top["mean"] * scale, s=90, marker="*",
               color=STRATEGY_PALETTE[2], zorder=5, label="best by the criterion")
    comp = tables.comparison
    for i, (_, r) in enumerate(comp.iloc[1:].iterrows() if len(comp) else []):
        ax.scatter([r["cost_bn_per_year"]], [r["mean"] * scale], marker="D", s=30,
                   color=STRATEGY_PALETTE[(i + 3) % len(STRATEGY_PALETTE)], zorder=4,
                   label=f"{r['strategy']}")
    ax.grid(**GRID)
    ax.set_xlabel("cost, US$ bn a year (docs/model.md 4.1)")
    unit = " (%)" if scale == 100.0 else ""
    ax.set_ylabel(outcome_label(spec.outcome) + unit)
    ax.legend(fontsize=7, loc="best")
    set_titles(ax, f"Search {spec.name}: outcome against cost",
               f"{len(cand)} candidates, {spec.replications} replications x "
               f"{len(tables.candidates.filter(like='mean_').columns)} scenario(s), same seeds")
    return fig


def search_png(tables, spec) -> bytes:
    """``plot_search`` as PNG bytes (no time stamps)."""
    return png_bytes(plot_search(tables, spec))
