"""Figures comparing Western strategies in a batch.

Fans over time, distributions, paired differences, which states each strategy wins, and
sensitivity to swept parameters.
As in ``run_plots`` (the Axelrod library's habit): each ``plot_x`` takes ``ax=None`` and returns
the figure, drawn on ``matplotlib.figure.Figure`` objects without pyplot, and the data each plot
shows comes from a helper that tests call directly (``fan_table``, ``camp_heatmap_table``,
``forest_table``, ``sensitivity_bars``). The camp colours and title style are those of
``run_plots``; strategies get their own palette, fixed by name order, with the reference
strategy always grey, and no strategy takes the camps' red or blue. Shares are drawn in percent
of the world total and their differences in percentage points (pp).

Imports analysis, core and ``run_plots`` only (and matplotlib).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..analysis.labels import outcome_label, outcome_unit, sentence_case
from ..analysis.results import ok_runs, scenario_order, sort_rows, strategy_order
from ..analysis.sensitivity import point_means, response_table
from ..core.outcomes import OUTCOMES, better_sign
from .png import above, beside, panel_grid, png_bytes
from .run_plots import CAMP_COLOURS, CAMP_LABELS, DPI, axes_or_new, set_titles

#: Colours of the strategies other than the reference, in sorted name order (Dark2 and friends,
#: without red and blue, which mean the SCO and the West in every figure).
STRATEGY_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                    "#17becf", "#000000", "#b15928")
REFERENCE_COLOUR = "#8c8c8c"
#: How many states the end-camp heatmap shows.
HEATMAP_STATES = 30
GRID = {"color": "#e5e5e5", "linewidth": 0.8}


def strategy_colours(strategies: Sequence[str], reference: str | None = None) -> dict[str, str]:
    """A fixed colour per strategy, the reference grey.

    The others take ``STRATEGY_PALETTE`` in sorted name order; the dict lists the reference first.
    """
    others = [s for s in sorted(set(strategies)) if s != reference]
    out = {reference: REFERENCE_COLOUR} if reference in set(strategies) else {}
    out.update({s: STRATEGY_PALETTE[i % len(STRATEGY_PALETTE)] for i, s in enumerate(others)})
    return out


def _scale(name: str) -> float:
    """Shares are drawn in percent (and their differences in pp), everything else as is."""
    return outcome_unit(name)[0]


def _diff_unit(name: str) -> str:
    unit = outcome_unit(name)[1].strip()
    return f" ({unit})" if unit else ""


def _grid_figure(n: int, ncols: int, size: tuple[float, float], *, sharey: bool = True,
                 sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels in rows of ``ncols``, cells of ``size`` inches, constrained layout.

    Unused cells are removed.
    """
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=sharey, sharex=sharex, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.remove()
    return fig, list(axes[:n])


def _strategy_legend(ax_or_fig, colours: dict[str, str], reference: str | None, *,
                     extra: Sequence = (), loc: str = "upper left", anchor=(1.01, 1)) -> None:
    handles = [Line2D([], [], color=c, linewidth=2.5,
                      label=f"{s} (reference)" if s == reference else s) for s, c in colours.items()]
    ax_or_fig.legend(handles=[*handles, *extra], loc=loc, bbox_to_anchor=anchor, frameon=False,
                     title="strategy", fontsize=8.5, title_fontsize=9)


# --- fan charts -----------------------------------------------------------------------------------

def fan_table(blocs: pd.DataFrame, outcomes: pd.DataFrame, measure: str = "gdp_share_west", *,
              reference: str | None = None, relative: bool = False) -> pd.DataFrame:
    """Median and 5/25/75/95th percentiles of a blocs measure across successful runs.

    One row per scenario, strategy and year.

    With ``relative``, each run's series minus the reference strategy's run with the same
    scenario, sweep point and replication (a paired difference), for the other strategies.

    Returns:
        Columns scenario, strategy, year, n, mean, median, p5, p25, p75, p95.
    """
    runs = ok_runs(outcomes)[["run_id", "scenario", "strategy", "point", "replication"]]
    df = blocs[["run_id", "year", measure]].merge(runs, on="run_id", how="inner")
    if relative:
        if reference is None:
            raise ValueError("relative=True needs the reference strategy")
        keys = ["scenario", "point", "replication", "year"]
        ref = df.loc[df["strategy"] == reference, [*keys, measure]].rename(columns={measure: "_ref"})
        df = df[df["strategy"] != reference].merge(ref, on=keys, how="inner")
        df[measure] = df[measure] - df["_ref"]
    g = df.groupby(["scenario", "strategy", "year"])[measure]
    q = g.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    q.columns = ["p5", "p25", "median", "p75", "p95"]
    q.insert(0, "n", g.size())
    q.insert(1, "mean", g.mean())
    out = q.reset_index()[["scenario", "strategy", "year", "n", "mean", "median", "p5", "p25", "p75", "p95"]]
    return sort_rows(out, outcomes, reference, extra=("year",))


def _draw_fan(ax: Axes, data: pd.DataFrame, measure: str, colours: dict[str, str], relative: bool) -> None:
    k = _scale(measure)
    for strategy, colour in colours.items():
        d = data[data["strategy"] == strategy]
        if d.empty:
            continue
        if d["n"].max() > 1:
            ax.fill_between(d["year"], d["p5"] * k, d["p95"] * k, color=colour, alpha=0.08, linewidth=0)
            ax.fill_between(d["year"], d["p25"] * k, d["p75"] * k, color=colour, alpha=0.2, linewidth=0)
        ax.plot(d["year"], d["median"] * k, color=colour, linewidth=2)
        if relative:
            ax.plot(d["year"], d["mean"] * k, color=colour, linewidth=1.3, linestyle="--")
    if relative:
        ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("year")
    ax.grid(axis="y", **GRID)
    if len(data):
        ax.set_xlim(data["year"].min(), data["year"].max())


def _fan_labels(measure: str, reference: str | None, relative: bool) -> tuple[str, str]:
    if relative:
        label = sentence_case(outcome_label(measure))
        return (f"Difference to '{reference}': {outcome_label(measure)}",
                f"{label} minus '{reference}', same seed{_diff_unit(measure)}")
    return f"{sentence_case(outcome_label(measure))} under each strategy", outcome_label(measure, long=True)


def _band_handles(relative: bool = False) -> list:
    what = "pairs" if relative else "runs"
    handles = [Line2D([], [], color="#555555", linewidth=2, label=f"median of {what}")]
    if relative:
        handles.append(Line2D([], [], color="#555555", linewidth=1.3, linestyle="--", label="mean of pairs"))
    return [*handles, Patch(color="#555555", alpha=0.35, label=f"middle 50% of {what}"),
            Patch(color="#555555", alpha=0.12, label=f"middle 90% of {what}")]


def plot_fan(blocs: pd.DataFrame, outcomes: pd.DataFrame, measure: str = "gdp_share_west", *,
             scenario: str | None = None, reference: str | None = None, relative: bool = False,
             ax: Axes | None = None) -> Figure:
    """A measure of the blocs over the years under each strategy: median run and 50%/90% bands.

    Args:
        blocs: the batch's blocs table (one row per run and year).
        outcomes: its outcomes table (scenario, strategy and status of each run).
        measure: a blocs column, e.g. ``gdp_share_west``.
        scenario: which scenario (default: the first).
        reference: the reference strategy (drawn grey).
        relative: draw each strategy's paired difference to the reference instead of its level.
        ax: axes to draw on (a new figure when None).
    """
    scenario = scenario or scenario_order(outcomes)[0]
    data = fan_table(blocs, outcomes, measure, reference=reference, relative=relative)
    data = data[data["scenario"] == scenario]
    colours = strategy_colours(outcomes["strategy"], reference)
    if relative:
        colours.pop(reference, None)
    ax = axes_or_new(ax, (8, 5))
    _draw_fan(ax, data, measure, colours, relative)
    title, ylabel = _fan_labels(measure, reference, relative)
    n = int(data.groupby("strategy")["n"].max().min()) if len(data) else 0
    what = f"median (dashed: mean) of {n} pairs" if relative else f"median of {n} runs"
    set_titles(ax, title, f"scenario '{scenario}'; line: {what}; bands: middle 50% and 90%")
    ax.set_ylabel(ylabel)
    _strategy_legend(ax, colours, reference, extra=_band_handles(relative))
    return ax.figure


def plot_fan_grid(blocs: pd.DataFrame, outcomes: pd.DataFrame, measure: str = "gdp_share_west", *,
                  reference: str | None = None, relative: bool = False) -> Figure:
    """``plot_fan`` with one panel per scenario, on shared axes (one panel if only one scenario)."""
    scenarios = scenario_order(outcomes)
    data = fan_table(blocs, outcomes, measure, reference=reference, relative=relative)
    colours = strategy_colours(outcomes["strategy"], reference)
    if relative:
        colours.pop(reference, None)
    fig, axes = panel_grid(len(scenarios), 2, (4.9, 3.2), (0.35, 0.8))
    for ax, s in zip(axes, scenarios, strict=True):
        d = data[data["scenario"] == s]
        _draw_fan(ax, d, measure, colours, relative)
        n = int(d.groupby("strategy")["n"].max().min()) if len(d) else 0
        ax.set_title(f"scenario: {s}  ({n} {'pairs' if relative else 'runs'} per strategy)", fontsize=10)
    title, ylabel = _fan_labels(measure, reference, relative)
    axes[0].set_ylabel(ylabel)
    what = "line: median (dashed: mean) of pairs" if relative else "line: median run"
    fig.suptitle(f"{title}\n{what}; bands: middle 50% and 90%", fontsize=12, y=above(fig, 0.3),
                 va="bottom")
    _strategy_legend(fig, colours, reference, extra=_band_handles(relative), anchor=(beside(fig, 0.1), 1))
    return fig


def _count_range(n: pd.Series) -> str:
    """'20' or '18–20': how many runs (or pairs) each group has."""
    if not len(n):
        return "0"
    lo, hi = int(n.min()), int(n.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


# --- distributions ------------------------------------------------------------------------------

def plot_outcome_distributions(outcomes: pd.DataFrame, name: str, *, reference: str | None = None,
                               ax: Axes | None = None) -> Figure:
    """One outcome at the horizon by strategy, grouped by scenario.

    A box (middle half, median, whiskers 5th-95th percentile) and one dot per successful run.
    """
    ok = ok_runs(outcomes).dropna(subset=[name])
    scenarios = scenario_order(outcomes)
    colours = strategy_colours(outcomes["strategy"], reference)
    strategies = list(colours)
    k = _scale(name)
    width = 0.8 / max(1, len(strategies))
    ax = axes_or_new(ax, (max(6.0, 1.2 + 0.45 * len(strategies) * len(scenarios)), 5))
    rng = np.random.default_rng(0)  # jitter only, fixed so the figure is reproducible
    for i, s in enumerate(scenarios):
        for j, strat in enumerate(strategies):
            v = ok.loc[(ok["scenario"] == s) & (ok["strategy"] == strat), name].to_numpy(dtype=float) * k
            if not len(v):
                continue
            x = i + (j - (len(strategies) - 1) / 2) * width
            c = colours[strat]
            ax.boxplot(v, positions=[x], widths=width * 0.8, patch_artist=True, showfliers=False,
                       manage_ticks=False,  # the scenarios are the ticks, set once below
                       whis=(5, 95), boxprops={"facecolor": c, "alpha": 0.25, "edgecolor": c},
                       medianprops={"color": c, "linewidth": 2}, whiskerprops={"color": c},
                       capprops={"color": c})
            ax.scatter(x + rng.uniform(-0.3, 0.3, len(v)) * width, v, s=6, color=c, alpha=0.6,
                       linewidths=0, zorder=3)
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_xlabel("scenario")
    for i in range(1, len(scenarios)):
        ax.axvline(i - 0.5, color="#cccccc", linewidth=0.8)
    ax.set_xlim(-0.5, len(scenarios) - 0.5)
    ax.set_ylabel(outcome_label(name, long=True))
    ax.grid(axis="y", **GRID)
    n = ok.groupby(["scenario", "strategy"]).size()
    direction = {1.0: "higher is better for the West", -1.0: "lower is better for the West"}.get(
        better_sign(name) if name in OUTCOMES else 0.0, "neither higher nor lower is better")
    set_titles(ax, f"{sentence_case(outcome_label(name))} at the horizon, by strategy",
            f"{_count_range(n)} runs per box (dots); box: middle 50%, whiskers: 5th–95th percentile; "
            f"{direction}")
    _strategy_legend(ax, colours, reference)
    return ax.figure


# --- which states each strategy wins --------------------------------------------------------------

def camp_heatmap_table(probabilities: pd.DataFrame, *, camp: str = "west", scenario: str | None = None,
                       n: int = HEATMAP_STATES, reference: str | None = None) -> pd.DataFrame:
    """P(end in ``camp``) for the ``n`` states whose probability varies most across strategies.

    Args:
        probabilities: ``analysis.stats.end_camp_probabilities`` table.
        camp: 'west', 'sco' or 'nonaligned'.
        scenario: which scenario (default: the first in the table).
        n: how many states at most; states whose probability is the same under every strategy
            are left out.
        reference: listed first among the columns.

    Returns:
        Index iso3 (largest spread first, ties by code), one column per strategy, then 'spread'
        (max − min across strategies).
    """
    scenario = scenario or probabilities["scenario"].iloc[0]
    sub = probabilities[probabilities["scenario"] == scenario]
    wide = sub.pivot(index="iso3", columns="strategy", values=f"p_{camp}")
    wide = wide[strategy_order(wide.columns, reference)]
    spread = wide.max(axis=1) - wide.min(axis=1)
    wide = wide.assign(spread=spread)[spread > 1e-12]
    order = wide.reset_index().sort_values(["spread", "iso3"], ascending=[False, True], kind="stable")
    return order.set_index("iso3").head(n)


def plot_camp_heatmap(probabilities: pd.DataFrame, *, camp: str = "west", scenario: str | None = None,
                      n: int = HEATMAP_STATES, reference: str | None = None,
                      names: dict[str, str] | None = None, ax: Axes | None = None) -> Figure:
    """Heatmap of P(a state ends in ``camp``) under each strategy.

    Rows are the states where the strategies differ most (see ``camp_heatmap_table``); cells are
    labelled in percent.
    """
    scenario = scenario or probabilities["scenario"].iloc[0]
    table = camp_heatmap_table(probabilities, camp=camp, scenario=scenario, n=n, reference=reference)
    strategies = [c for c in table.columns if c != "spread"]
    if not strategies:
        strategies = strategy_order(probabilities["strategy"], reference)
    ax = axes_or_new(ax, (3.0 + 1.05 * len(strategies), 2.2 + 0.28 * max(len(table), 4)))
    label = CAMP_LABELS.get(camp, camp)
    runs = probabilities.loc[probabilities["scenario"] == scenario, "n"]
    set_titles(ax, f"Probability of ending {label}, by strategy",
            f"scenario '{scenario}'; the {len(table)} states whose probability differs most between "
            f"strategies, largest difference first; {_count_range(runs)} runs per strategy")
    if table.empty:
        ax.text(0.5, 0.5, "no state's probability differs between strategies", ha="center", va="center",
                transform=ax.transAxes, color="#555555")
        ax.set_axis_off()
        return ax.figure
    values = table[strategies].to_numpy(dtype=float)
    cmap = LinearSegmentedColormap.from_list(f"p_{camp}", ["#ffffff", CAMP_COLOURS.get(camp, "#555555")])
    im = ax.imshow(values, cmap=cmap, vmin=0, vmax=1, aspect="auto",
                   interpolation="nearest")
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, f"{v:.0%}", ha="center", va="center", fontsize=7.5,
                color="white" if v > 0.6 else "black")
    names = names or {}
    ax.set_yticks(range(len(table)), [f"{names.get(i, i)} ({i})" if i in names else i for i in table.index],
                  fontsize=8)
    ax.set_xticks(range(len(strategies)), [f"{s}\n(reference)" if s == reference else s for s in strategies],
                  rotation=30, ha="right", fontsize=8.5)
    ax.tick_params(length=0)
    ax.set_xlabel("strategy")
    ax.set_ylabel("state")
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    cbar.set_label(f"P(end {label})")
    cbar.ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    return ax.figure


# --- paired differences ---------------------------------------------------------------------------

def forest_table(diffs: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows of a forest plot of ``name``.

    Returns:
        Columns scenario, strategy, mean_diff, ci_low, ci_high, better and the row position y
        (0 at the top). With several scenarios each group is preceded by a free row for its
        heading, at the group's first y minus 1.
    """
    d = diffs[diffs["outcome"] == name].reset_index(drop=True)
    headed = d["scenario"].nunique() > 1
    y, pos, last = [], -1, None
    for s in d["scenario"]:
        if headed and s != last:
            pos += 1  # the heading's row
        pos += 1
        y.append(pos)
        last = s
    return d.assign(y=y)[["scenario", "strategy", "mean_diff", "ci_low", "ci_high", "better", "y"]]


def _draw_forest(ax: Axes, diffs: pd.DataFrame, name: str, colours: dict[str, str]) -> None:
    t = forest_table(diffs, name)
    k = _scale(name)
    for r in t.itertuples(index=False):
        c = colours.get(r.strategy, "black")
        if np.isfinite(r.ci_low):
            ax.plot([r.ci_low * k, r.ci_high * k], [r.y, r.y], color=c, linewidth=2)
        filled = r.better in ("yes", "worse")
        ax.plot(r.mean_diff * k, r.y, "o", markersize=7, color=c, markerfacecolor=c if filled else "white",
                markeredgewidth=1.8, zorder=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ticks, labels, heads = list(t["y"]), list(t["strategy"]), []
    if t["scenario"].nunique() > 1:
        first = t.groupby("scenario", sort=False)["y"].min() - 1
        heads = list(first)
        ticks += heads
        labels += [f"scenario: {s}" for s in first.index]
    ax.set_yticks(ticks, labels, fontsize=8.5)
    for label in ax.get_yticklabels():
        if heads and label.get_text().startswith("scenario: "):
            label.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(max(ticks, default=0) + 0.7, min(ticks, default=0) - 0.7)
    ax.grid(axis="x", **GRID)
    sign = better_sign(name) if name in OUTCOMES else 0.0
    if sign:
        ax.annotate("better →" if sign > 0 else "← better", (1 if sign > 0 else 0, 1.01),
                    xycoords="axes fraction", ha="right" if sign > 0 else "left", va="bottom", fontsize=8.5,
                    color="#1b7837", fontweight="bold")
    lo = np.nanmin(np.r_[t["ci_low"], t["mean_diff"], 0.0]) * k
    hi = np.nanmax(np.r_[t["ci_high"], t["mean_diff"], 0.0]) * k
    pad = (hi - lo) * 0.08 or 0.01
    ax.set_xlim(lo - pad, hi + pad)


def _forest_legend() -> list:
    return [Line2D([], [], marker="o", color="#555555", markerfacecolor="#555555", linestyle="",
                   label="95% interval excludes 0"),
            Line2D([], [], marker="o", color="#555555", markerfacecolor="white", linestyle="",
                   label="95% interval includes 0")]


def plot_paired_differences(diffs: pd.DataFrame, name: str, *, ax: Axes | None = None) -> Figure:
    """Forest plot of each strategy's mean paired difference to the reference on ``name``.

    With its 95% bootstrap interval, grouped by scenario; filled dots are intervals clear of zero.
    """
    t = forest_table(diffs, name)
    reference = diffs["reference"].iloc[0] if len(diffs) else None
    colours = strategy_colours(diffs["strategy"])
    ax = axes_or_new(ax, (8, 1.8 + 0.34 * max(t["y"].max() + 1 if len(t) else 0, 2)))
    _draw_forest(ax, diffs, name, colours)
    n = diffs.loc[diffs["outcome"] == name, "n_pairs"]
    set_titles(ax, f"{sentence_case(outcome_label(name))}: difference to '{reference}'",
            f"mean of {int(n.min()) if len(n) else 0} paired replications (same seed) with 95% "
            f"bootstrap interval")
    ax.set_xlabel(f"{sentence_case(outcome_label(name))} minus '{reference}'{_diff_unit(name)}")
    ax.set_ylabel("strategy")
    ax.legend(handles=_forest_legend(), loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
              fontsize=8.5)
    return ax.figure


def plot_paired_differences_grid(diffs: pd.DataFrame, names: Sequence[str]) -> Figure:
    """``plot_paired_differences`` for several outcomes, one panel each."""
    names = list(names)
    reference = diffs["reference"].iloc[0] if len(diffs) else None
    colours = strategy_colours(diffs["strategy"])
    t = forest_table(diffs, names[0]) if names else pd.DataFrame({"y": []})
    rows = int(t["y"].max()) + 1 if len(t) else 1
    fig, axes = panel_grid(len(names), 3, (3.6, 0.3 + 0.32 * max(rows, 2)), (0.3, 0.9))
    for ax, name in zip(axes, names, strict=True):
        _draw_forest(ax, diffs, name, colours)
        ax.set_title(outcome_label(name), fontsize=10, pad=14)
        ax.set_xlabel(f"minus '{reference}'{_diff_unit(name)}", fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"Other outcomes: difference to '{reference}' (mean of paired replications, "
                 "95% bootstrap interval)", fontsize=12, y=above(fig, 0.4), va="bottom")
    fig.legend(handles=_forest_legend(), loc="upper center", bbox_to_anchor=(0.5, 1 - above(fig, 0.5)),
               ncols=2, frameon=False, fontsize=8.5)
    return fig


# --- sensitivity --------------------------------------------------------------------------------

_MAIN_INDEX = {"mu_star": "sigma", "ST": "S1", "src": None}


def sensitivity_bars(sens: pd.DataFrame, *, scenario: str | None = None) -> tuple[str, pd.DataFrame]:
    """The main index of a sensitivity table (mu_star, ST or src) ready for a bar chart.

    Returns:
        The index name, and a frame with columns strategy, parameter, value, conf, second (sigma
        for Morris, S1 for Sobol', NaN otherwise); parameters ordered by their largest |value|.
    """
    scenario = scenario or sens["scenario"].iloc[0]
    sub = sens[sens["scenario"] == scenario]
    main = next((i for i in _MAIN_INDEX if (sub["index"] == i).any()), None)
    if main is None:
        raise ValueError("no mu_star, ST or src rows in the sensitivity table")
    m = sub[sub["index"] == main][["strategy", "parameter", "value", "conf"]]
    second = _MAIN_INDEX[main]
    if second:
        s2 = sub[sub["index"] == second][["strategy", "parameter", "value"]]
        s2 = s2.rename(columns={"value": "second"})
        m = m.merge(s2, on=["strategy", "parameter"], how="left")
    else:
        m = m.assign(second=np.nan)
    size = m.assign(a=m["value"].abs()).groupby("parameter")["a"].max().sort_values(ascending=False,
                                                                                     kind="stable")
    m["parameter"] = pd.Categorical(m["parameter"], list(size.index), ordered=True)
    m = m.sort_values(["parameter", "strategy"], kind="stable")
    return main, m.astype({"parameter": str}).reset_index(drop=True)


_INDEX_LABELS = {
    "mu_star": ("Morris mu*: mean |change| of {label} when the parameter spans its range{unit}",
                "sigma (spread of the effects: non-linearity or interaction)"),
    "ST": ("Sobol' total index ST: share of the variance of {label} due to the parameter",
           "S1 (first order: the parameter alone)"),
    "src": ("standardized regression coefficient of {label}", None),
}


def plot_sensitivity(sens: pd.DataFrame, *, scenario: str | None = None, reference: str | None = None,
                     ax: Axes | None = None) -> Figure:
    """Bars of Morris mu*, Sobol' ST or standardized regression coefficients per parameter.

    One bar per strategy, with 95% intervals; Morris sigma or Sobol' S1 as diamonds.
    """
    scenario = scenario or sens["scenario"].iloc[0]
    main, data = sensitivity_bars(sens, scenario=scenario)
    name = sens["outcome"].iloc[0]
    k = _scale(name) if main == "mu_star" else 1.0
    params = list(dict.fromkeys(data["parameter"]))
    colours = strategy_colours(data["strategy"], reference)
    strategies = list(colours)
    h = 0.8 / len(strategies)
    ax = axes_or_new(ax, (8, 1.5 + 0.5 * len(params) * max(1, len(strategies) * 0.6)))
    for j, strat in enumerate(strategies):
        d = data[data["strategy"] == strat].set_index("parameter").reindex(params)
        y = np.arange(len(params)) + (j - (len(strategies) - 1) / 2) * h
        conf = d["conf"].to_numpy(dtype=float) * k
        ax.barh(y, d["value"] * k, height=h * 0.9, color=colours[strat], alpha=0.85,
                xerr=np.where(np.isfinite(conf), conf, 0), error_kw={"ecolor": "#333333", "linewidth": 0.8,
                                                                        "capsize": 2},
                label=f"{strat} (reference)" if strat == reference else strat)
        if d["second"].notna().any():
            ax.plot(d["second"] * k, y, "D", color="black", markersize=4, linestyle="")
    ax.set_yticks(range(len(params)), params)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.grid(axis="x", **GRID)
    text, second = _INDEX_LABELS[main]
    ax.set_xlabel(text.format(label=outcome_label(name), unit=_diff_unit(name)))
    ax.set_ylabel("swept parameter (most influential first)")
    n = int(sens.loc[sens["scenario"] == scenario, "n"].min())
    what = {"mu_star": f"{n} Morris trajectories", "ST": f"{n} Sobol' blocks",
            "src": f"{n} sweep points"}[main]
    r2 = sens[(sens["scenario"] == scenario) & (sens["index"] == "r2")]["value"]
    if main == "src" and len(r2):
        lo, hi = f"{r2.min():.2f}", f"{r2.max():.2f}"
        what += f" (linear fit R² {lo if lo == hi else lo + '–' + hi})"
    set_titles(ax, f"Which parameters move the {outcome_label(name)}", f"scenario '{scenario}'; {what}, "
                f"outcome averaged over replications; whiskers: 95% intervals")
    extra = ([Line2D([], [], marker="D", color="black", linestyle="", markersize=4, label=second)]
             if second else [])
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*handles, *extra], loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
              title="strategy", fontsize=8.5)
    return ax.figure


def _draw_response(ax: Axes, outcomes: pd.DataFrame, param: str, name: str, scenario: str,
                   colours: dict[str, str]) -> None:
    k = _scale(name)
    pm = point_means(outcomes, [param], name)
    pm = pm[pm["scenario"] == scenario]
    line = response_table(outcomes, [param], name)
    line = line[line["scenario"] == scenario]
    for strat, c in colours.items():
        p = pm[pm["strategy"] == strat]
        ax.scatter(p[param], p[name] * k, s=10, color=c, alpha=0.45, linewidths=0)
        r = line[line["strategy"] == strat]
        ax.plot(r["x"], r["mean"] * k, color=c, linewidth=2, marker="o", markersize=3.5)
    ax.set_xlabel(param)
    ax.grid(**GRID)


def plot_response(outcomes: pd.DataFrame, param: str, name: str, *, scenario: str | None = None,
                  reference: str | None = None, ax: Axes | None = None) -> Figure:
    """An outcome against a swept parameter, per strategy.

    One dot per sweep point (mean over replications); a line through the mean by value (or
    interval) of the parameter.
    """
    scenario = scenario or scenario_order(outcomes)[0]
    colours = strategy_colours(outcomes["strategy"], reference)
    ax = axes_or_new(ax, (7, 4.5))
    _draw_response(ax, outcomes, param, name, scenario, colours)
    ax.set_ylabel(outcome_label(name, long=True))
    set_titles(ax, f"{sentence_case(outcome_label(name))} against {param}",
            f"scenario '{scenario}'; dots: sweep points (mean over replications); line: mean by {param}")
    _strategy_legend(ax, colours, reference)
    return ax.figure


def plot_response_grid(outcomes: pd.DataFrame, params: Sequence[str], name: str, *,
                       reference: str | None = None) -> Figure:
    """``plot_response`` for every swept parameter (columns) and scenario (rows)."""
    params = list(params)
    scenarios = scenario_order(outcomes)
    colours = strategy_colours(outcomes["strategy"], reference)
    ncols = min(3, len(params)) if len(scenarios) == 1 else len(params)
    fig, axes = _grid_figure(len(params) * len(scenarios), ncols, (3.6, 3.0), sharey=True)
    for i, ax in enumerate(axes):
        s, p = scenarios[i // len(params)], params[i % len(params)]
        _draw_response(ax, outcomes, p, name, s, colours)
        if len(scenarios) > 1:
            ax.set_title(f"{s}", fontsize=9)
    fig.supylabel(outcome_label(name, long=True), fontsize=10)
    fig.suptitle(f"{sentence_case(outcome_label(name))} against each swept parameter\n"
                 "dots: sweep points (mean over replications); line: mean by parameter value", fontsize=12)
    _strategy_legend(fig, colours, reference, loc="outside right upper", anchor=None)
    return fig


__all__ = [
    "STRATEGY_PALETTE", "REFERENCE_COLOUR", "strategy_colours", "png_bytes", "fan_table",
    "plot_fan", "plot_fan_grid", "plot_outcome_distributions", "camp_heatmap_table", "plot_camp_heatmap",
    "forest_table", "plot_paired_differences", "plot_paired_differences_grid", "sensitivity_bars",
    "plot_sensitivity", "plot_response", "plot_response_grid",
]
