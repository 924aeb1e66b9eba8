"""The hindcast's figures: skill by horizon, and forecast against observed paths.

Plot functions take ``ax=None`` and return a ``Figure`` (no global pyplot state); the data
preparation (``skill_series``, ``movers``) is separate so tests call it directly. Imports report
(its plot helpers) and history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..report.run_plots import DPI, axes_or_new, set_titles
from .harness import OriginForecast

__all__ = ["skill_series", "plot_skill", "movers", "plot_paths", "FORECASTER_COLOURS"]

#: One colour per forecaster, the same in every figure.
FORECASTER_COLOURS = {"model": "#c0392b", "persistence": "#222222", "damped": "#8c8c8c",
                      "smoothing": "#41b6c4", "recent_mean": "#9ecae1", "ar_subregion": "#7fbc41",
                      "regression": "#2166ac", "spread": "#fdae6b"}


def skill_series(scores: pd.DataFrame, scale: str, mode: str, split: str) -> pd.DataFrame:
    """Skill relative to persistence by horizon (rows) and forecaster (columns)."""
    part = scores[(scores["scale"] == scale) & (scores["mode"] == mode) & (scores["split"] == split)]
    return part.pivot(index="horizon", columns="forecaster", values="skill")


def plot_skill(scores: pd.DataFrame, scale: str, mode: str, split: str, *,
               ax: Axes | None = None) -> Figure:
    """RMSE skill against persistence by horizon, every forecaster; the model's 90% band."""
    ax = axes_or_new(ax, (8, 4.5))
    table = skill_series(scores, scale, mode, split)
    model = scores[(scores["scale"] == scale) & (scores["mode"] == mode)
                   & (scores["split"] == split) & (scores["forecaster"] == "model")]
    ax.fill_between(model["horizon"], model["skill_lo"], model["skill_hi"],
                    color=FORECASTER_COLOURS["model"], alpha=0.15, linewidth=0)
    for name in table.columns:
        ax.plot(table.index, table[name], marker="o", markersize=3,
                color=FORECASTER_COLOURS.get(name, "#777777"), label=name,
                linewidth=2.2 if name == "model" else 1.2)
    ax.axhline(0, color="#222222", linewidth=0.8)
    ax.set_xlabel("horizon (years after the origin)")
    ax.set_ylabel("skill: 1 - RMSE / RMSE of persistence")
    ax.legend(fontsize=8, ncol=4, loc="lower left")
    set_titles(ax, f"Skill against persistence: {split} origins, {mode}",
               f"scale '{scale}'; above 0 beats 'nothing changes'; shaded: the model's 90% "
               "bootstrap interval over states")
    return ax.figure


def movers(forecasts: list[OriginForecast], scale: str, origin: int, n: int = 6) -> list[int]:
    """Indices of the ``n`` states whose observed value moved most from ``origin`` to the last year."""
    f = next(f for f in forecasts if f.scale == scale and f.origin == origin)
    change = np.abs(f.observed[-1] - f.start)
    return [int(i) for i in np.argsort(-np.nan_to_num(change), kind="stable")[:n]]


def plot_paths(forecasts: list[OriginForecast], observed: pd.DataFrame, scale: str, origin: int,
               states: list[int], names: list[str], best: str) -> Figure:
    """Observed paths of ``states`` against the model (both modes), persistence and ``best``.

    ``observed`` holds the scale's observed values, years as rows, states as columns.
    """
    cols = 3
    rows = int(np.ceil(len(states) / cols))
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows + 0.8), dpi=DPI)
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True).ravel()
    by_mode = {f.mode: f for f in forecasts if f.scale == scale and f.origin == origin}
    for ax, i, name in zip(axes, states, names, strict=False):
        ax.plot(observed.index, observed.iloc[:, i], color="#222222", linewidth=1.6, label="observed")
        for mode, style in (("projection", "--"), ("conditional", "-")):
            f = by_mode.get(mode)
            if f is None:
                continue
            years = origin + f.horizons
            q05, q95 = np.quantile(f.members[:, :, i], [0.05, 0.95], axis=0)
            ax.fill_between(years, q05, q95, color=FORECASTER_COLOURS["model"],
                            alpha=0.12 if mode == "conditional" else 0.06, linewidth=0)
            ax.plot(years, f.points["model"][:, i], style, color=FORECASTER_COLOURS["model"],
                    label=f"model ({mode})")
        f = next(iter(by_mode.values()))
        years = origin + f.horizons
        ax.plot(years, f.points[best][:, i], ":", color=FORECASTER_COLOURS.get(best, "#777777"),
                label=f"{best} (best baseline)")
        ax.axvline(origin, color="#999999", linewidth=0.8)
        ax.set_title(name, fontsize=10)
        ax.tick_params(labelsize=8)
    for ax in axes[len(states):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"The states that moved most after {origin}: forecast against observed "
                 f"(scale '{scale}'; -1 West, +1 SCO; band: the model's 5-95% of runs)",
                 fontsize=10)
    fig.tight_layout()
    return fig
