"""Figures of a run: bloc shares, key states, the whole world, and why states moved.

Data preparation lives in small pandas helpers that tests call directly; each ``plot_x`` draws
one figure from them, takes ``ax=None`` and returns the figure (the habit of the Axelrod library).
Figures are built with ``matplotlib.figure.Figure`` and never touch pyplot, so nothing global
changes and batch runs need no display. Colours are fixed per camp and per driver, so a bloc or
a driver looks the same in every figure: red for the SCO side, blue for the West, greys and greens
for what neither bloc chooses. Alignment runs from -1 (West) to +1 (SCO); a state *leans* to a
camp when |alignment| exceeds the scenario's ``lean_threshold``.

The numbers come from ``run_data`` (numpy), so tables may be DataFrames or plain columns;
pandas is loaded only by the helpers that return DataFrames. Imports core and report only (and
matplotlib).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ..core.blocs import CAMPS
from . import run_data
from .footed import footed_image, save_footed, write_png
from .run_data import MEASURES, QUANTILES, STATS, Table, top_movers

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CAMP_COLOURS", "CAMP_LABELS", "DRIVER_COLOURS", "DRIVER_LABELS", "DPI", "QUANTILES",
           "MEASURES", "axes_or_new", "set_titles", "top_movers", "bloc_share_series", "key_state_series",
           "attribution_table", "alignment_matrix", "plot_bloc_shares", "plot_key_states",
           "plot_world_heatmap", "plot_attribution", "write_plots", "save_run_plots", "save_footed"]

#: One colour per camp, used wherever a camp is drawn.
CAMP_COLOURS = {"sco": "#c0392b", "nonaligned": "#8c8c8c", "west": "#2166ac"}
CAMP_LABELS = {"sco": "SCO-leaning", "nonaligned": "non-aligned", "west": "West-leaning"}

#: One colour per driver of alignment: SCO levers in reds and oranges (oranges for trade, reds
#: for security, magenta for influence), Western levers in blues, the rest greys and greens.
DRIVER_COLOURS = {
    "trade_facilitation": "#fdae6b", "development_bank": "#fd8d3c", "cpec": "#e6550d",
    "eurasian_railway": "#a63603", "joint_exercises": "#fb6a4a", "arms_transfers": "#cb181d",
    "counter_terrorism": "#67000d", "cultural_exchange": "#c51b7d",
    "diplomatic_alliances": "#08519c", "trade_agreements": "#41b6c4",
    "cybersecurity_cooperation": "#253494", "civil_society": "#9ecae1", "public_diplomacy": "#4292c6",
    "sanctions": "#8c6d31", "events": "#7fbc41", "membership": "#1b7837", "peer": "#969696",
    "inertia": "#d0d0d0", "shock": "#525252", "other": "#e8dcb5",
}
DRIVER_LABELS = {
    "trade_facilitation": "SCO: trade facilitation", "development_bank": "SCO: development bank",
    "cpec": "SCO: CPEC", "eurasian_railway": "SCO: Eurasian railway",
    "joint_exercises": "SCO: joint exercises", "arms_transfers": "SCO: arms transfers",
    "counter_terrorism": "SCO: counter-terrorism", "cultural_exchange": "SCO: cultural exchange",
    "diplomatic_alliances": "West: diplomatic alliances", "trade_agreements": "West: trade agreements",
    "cybersecurity_cooperation": "West: cybersecurity", "civil_society": "West: civil society",
    "public_diplomacy": "West: public diplomacy", "sanctions": "sanctions",
    "events": "scenario events (joins, shocks, governments)",
    "membership": "SCO status changes (model's decisions)", "peer": "peer influence (neighbours, partners)",
    "inertia": "inertia (pull back to start)", "shock": "random shocks", "other": "other (small)",
}

DPI = 120
#: How many of the states that moved most the world heatmap names.
MOVERS_LABELLED = 8


# --- data helpers (tables for notebooks and tests; the figures use ``run_data`` directly) -------

def bloc_share_series(blocs: Table, measure: str = "gdp_share") -> pd.DataFrame:
    """Share leaning to each camp per year: median and 5/25/75/95th percentiles across runs.

    Args:
        blocs: ``run.tables.blocs_frame`` table (one row per run and year), or its columns.
        measure: ``"gdp_share"``, ``"pop_share"`` or ``"states"`` (counts become shares of all states).

    Returns:
        Columns year, camp, median, p5, p25, p75, p95; shares as fractions of 1.
    """
    import pandas as pd

    years, data = run_data.bloc_shares(blocs, measure)
    return pd.DataFrame({"year": np.tile(years, len(CAMPS)), "camp": np.repeat(CAMPS, len(years)),
                         **{k: np.concatenate([data[c][k] for c in CAMPS]) for k in STATS}})


def key_state_series(traj: Table, iso3s: Sequence[str]) -> pd.DataFrame:
    """Alignment of the given states per year: median and percentiles across runs.

    Returns:
        Columns iso3, name, year, median, p5, p25, p75, p95, states in the order given.
    """
    import pandas as pd

    _, data = run_data.state_series(traj, iso3s)
    names = run_data.names(traj)
    frames = [pd.DataFrame({"iso3": iso, "name": names[iso], "year": d["year"], **{k: d[k] for k in STATS}})
              for iso, d in data.items()]
    return pd.concat(frames, ignore_index=True)


def attribution_table(traj: Table, iso3s: Sequence[str], min_share: float = 0.02) -> pd.DataFrame:
    """Each driver's total contribution to each state's change, summed over years, mean over runs.

    A row sums to the state's mean change of alignment between the first and last year. Drivers
    whose largest |total| is under ``min_share`` of the largest total among these states are
    summed into one ``other`` column, so the legend lists only what matters.

    Returns:
        Index iso3 (in the order given), one column per driver kept (in ``DRIVERS`` order).
    """
    import pandas as pd

    kept, total = run_data.attribution(traj, iso3s, min_share)
    return pd.DataFrame(total, index=pd.Index(list(dict.fromkeys(iso3s)), name="iso3"), columns=kept)


def alignment_matrix(traj: Table, world, years: Sequence | None = None) -> pd.DataFrame:
    """Mean alignment over runs, states by years, ordered for a heatmap of the whole world.

    Rows are grouped by region, then subregion, and within a subregion run from the most Western
    to the most SCO-leaning start, so neighbours with similar paths sit together.

    Args:
        traj: ``run.tables.trajectories_frame`` table, or its columns.
        world: the ``World`` the run used (for regions and subregions).
        years: columns to keep; all years when None.

    Returns:
        Index (region, subregion, iso3), one column per year.
    """
    import pandas as pd

    region, sub, iso, years, grid = run_data.world_grid(traj, world, years)
    return pd.DataFrame(grid, index=pd.MultiIndex.from_arrays([region, sub, iso],
                                                              names=["region", "subregion", "iso3"]),
                        columns=pd.Index(years, name="year"))


# --- plots --------------------------------------------------------------------------------------

def axes_or_new(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """The axes to draw on: the one given, or one filling a new figure of ``size`` inches."""
    return ax if ax is not None else Figure(figsize=size, dpi=DPI).add_subplot()


def set_titles(ax: Axes, title: str, subtitle: str) -> None:
    """A bold title with a smaller explanatory line under it.

    The title is pinned ``pad`` points above the axes (``y=1``): left free, matplotlib measures
    every tick label of the axes and its insets at each draw to see whether x ticks on top push
    it up, and no figure here has any.
    """
    ax.set_title(title, fontsize=12, fontweight="bold", pad=20, y=1)
    ax.annotate(subtitle, (0.5, 1), xycoords="axes fraction", xytext=(0, 5), textcoords="offset points",
                ha="center", va="bottom", fontsize=9, color="#444444")


def _spread_labels(values: np.ndarray, gap: float) -> np.ndarray:
    """Positions near ``values`` at least ``gap`` apart, so labels at line ends do not overlap."""
    order = np.argsort(values, kind="stable")
    pos = values[order].astype(float)
    for _ in range(500):
        push = np.maximum(gap - np.diff(pos), 0) / 2
        if not push.any():
            break
        pos[:-1] -= push
        pos[1:] += push
    out = np.empty_like(pos)
    out[order] = pos
    return out


def _signed(x: float) -> str:
    """A number with its sign and a true minus, as on the axes: '+0.125', '−0.050'."""
    return f"{x:+.3f}".replace("-", "−")


def _period(years) -> str:
    """First and last year as a range: '2024–2035' (quarters keep their fraction)."""
    return f"{years.min():g}–{years.max():g}"


def _runs_note(n_runs: int) -> str:
    """What the lines and bands show, for a subtitle."""
    if n_runs == 1:
        return "1 run"
    return f"median of {n_runs} runs; bands: middle 50% and 90% of runs"


def plot_bloc_shares(blocs: Table, *, measure: str = "gdp_share", ax: Axes | None = None) -> Figure:
    """Share of world GDP, population or states leaning to the SCO, to neither, or to the West.

    The headline of a run: how much of the world each camp holds over time, with the spread
    across replications as bands.
    """
    ax = axes_or_new(ax, (8, 5))
    years, data = run_data.bloc_shares(blocs, measure)
    n_runs = run_data.n_runs(blocs)
    threshold = float(run_data.column(blocs, "lean_threshold")[0])
    for camp in CAMPS:
        d = data[camp]
        colour = CAMP_COLOURS[camp]
        if n_runs > 1:
            ax.fill_between(years, d["p5"], d["p95"], color=colour, alpha=0.12, linewidth=0)
            ax.fill_between(years, d["p25"], d["p75"], color=colour, alpha=0.3, linewidth=0)
        ax.plot(years, d["median"], color=colour, linewidth=2, label=CAMP_LABELS[camp])
    ymax = min(1.0, max(d["p95"].max() for d in data.values()) * 1.1 + 0.02)
    for i, dx, ha in ((0, -4, "right"), (-1, 4, "left")):
        ends = np.array([data[camp]["median"][i] for camp in CAMPS])
        for camp, y, ly in zip(CAMPS, ends, _spread_labels(ends, 0.035 * ymax), strict=True):
            ax.annotate(f"{y:.1%}", (years[i], ly), xytext=(dx, 0), textcoords="offset points", ha=ha,
                        va="center", fontsize=8, color=CAMP_COLOURS[camp])
    what = MEASURES[measure]
    steps = "" if measure == "states" else "; steps are single large states crossing the line"
    set_titles(ax, f"Share of {what} leaning to each camp",
            f"leaning = |alignment| > {threshold:g} (SCO above, West below); {_runs_note(n_runs)}"
            f"{steps}")
    ax.set_xlabel("year")
    ax.set_ylabel(f"share of {what} (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, ymax)
    pad = (years.max() - years.min()) * 0.12 or 0.5
    ax.set_xlim(years.min() - pad, years.max() + pad)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, title="camp")
    return ax.figure


def plot_key_states(traj: Table, iso3s: Sequence[str], *, threshold: float = 0.25,
                    ax: Axes | None = None) -> Figure:
    """Alignment of chosen states over time, with the spread across runs as bands.

    Lines are labelled at their ends with the state's name; the grey band is the non-aligned
    zone (|alignment| <= ``threshold``).
    """
    ax = axes_or_new(ax, (9, 6))
    years, data = run_data.state_series(traj, iso3s)
    names = run_data.names(traj)
    n_runs = run_data.n_runs(traj)
    ax.axhspan(-threshold, threshold, color="#eeeeee", zorder=0)
    ax.text(0.005, -threshold + 0.015, f"non-aligned zone (|alignment| ≤ {threshold:g})",
            transform=ax.get_yaxis_transform(), va="bottom", fontsize=8, color="#666666")
    states = list(data)
    colours = _state_colours(len(states))
    ends = []
    for iso, colour in zip(states, colours, strict=True):
        d = data[iso]
        if n_runs > 1:
            ax.fill_between(d["year"], d["p5"], d["p95"], color=colour, alpha=0.08, linewidth=0)
            ax.fill_between(d["year"], d["p25"], d["p75"], color=colour, alpha=0.2, linewidth=0)
        ax.plot(d["year"], d["median"], color=colour, linewidth=1.8, label=names[iso])
        ends.append(d["median"][-1])
    last = years.max()
    for iso, colour, y, ly in zip(states, colours, ends, _spread_labels(np.array(ends), 0.065), strict=True):
        ax.annotate(names[iso], (last, y), xytext=(1.03, ly), textcoords=ax.get_yaxis_transform(),
                    va="center", fontsize=8.5, color=colour,
                    arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.6, "shrinkA": 0})
    set_titles(ax, "Alignment of key states", f"−1 = West, +1 = SCO; {_runs_note(n_runs)}")
    ax.set_xlabel("year")
    ax.set_ylabel("alignment (−1 West … +1 SCO)")
    ax.set_ylim(-1.05, 1.05)
    ax.set_yticks([-1, -0.5, 0, 0.5, 1], ["−1 West", "−0.5", "0", "+0.5", "+1 SCO"])
    ax.set_xlim(years.min(), last)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    return ax.figure


def _state_colours(n: int) -> list:
    """Distinct colours for up to 10 states, avoiding pure red and blue (they mean the blocs)."""
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
               "#17becf", "#8c8c00", "#000000"]
    return [palette[i % len(palette)] for i in range(n)]


def plot_world_heatmap(traj: Table, world, *, threshold: float = 0.25,
                       ax: Axes | None = None) -> Figure:
    """Every state's mean alignment by year, grouped by region, with each state's change beside it.

    The colour scale is fixed to [-1, 1] so figures of different runs compare; since a decade
    often moves a state only a little, a bar panel on the right shows the change itself and names
    the states that moved most.
    """
    regions, subregions, iso3, columns, grid = run_data.world_grid(traj, world)
    ax = axes_or_new(ax, (8, 17))
    years = columns.astype(float)
    step = float(np.diff(years).min()) if len(years) > 1 else 1.0
    n = len(grid)
    im = ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest",
                   extent=(years[0] - step / 2, years[-1] + step / 2, n, 0))
    sub_bounds, sub_mids, sub_names = _groups(subregions)
    reg_bounds, reg_mids, reg_names = _groups(regions)
    ax.hlines(sub_bounds, 0, 1, transform=ax.get_yaxis_transform(), color="white", linewidth=0.8)
    ax.hlines(reg_bounds, 0, 1, transform=ax.get_yaxis_transform(), color="black", linewidth=1.6)
    ax.set_yticks(sub_mids, sub_names, fontsize=7.5)
    ax.set_ylabel("subregion (states sorted West → SCO by start alignment)")
    ax.set_xlabel("year")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    n_runs = run_data.n_runs(traj)
    set_titles(ax, f"Alignment of every state ({n}), by region",
            f"colour: mean alignment over {n_runs} run{'s' * (n_runs > 1)} (blue West, red SCO); "
            f"bars: change {_period(columns)}")

    change = grid[:, -1] - grid[:, 0]
    bars = ax.inset_axes((1.04, 0, 0.3, 1))
    bars.add_collection(_hbars(np.arange(n) + 0.5, change, 0.85,
                               np.where(change > 0, CAMP_COLOURS["sco"], CAMP_COLOURS["west"])),
                        autolim=False)
    bars.set_ylim(n, 0)
    bars.hlines(reg_bounds, 0, 1, transform=bars.get_yaxis_transform(), color="black", linewidth=1.6)
    bars.yaxis.tick_right()
    counts = np.diff([0, *reg_bounds, n])
    bars.set_yticks(reg_mids, [f"{r} ({k})" for r, k in zip(reg_names, counts, strict=True)],
                    rotation=90, va="center", fontsize=11, fontweight="bold")
    bars.tick_params(axis="y", length=0)
    lim = max(float(np.abs(change).max()), 1e-3) * 1.1
    bars.set_xlim(-lim, lim)
    bars.axvline(0, color="black", linewidth=0.6)
    bars.set_xlabel(f"change {_period(columns)}\n← West | SCO →", fontsize=8)
    bars.tick_params(axis="x", labelsize=7)
    bars.xaxis.set_major_locator(MaxNLocator(3, symmetric=True))
    movers = np.argsort(-np.abs(change), kind="stable")[:MOVERS_LABELLED]
    names = run_data.names(traj)
    for i, ly in zip(movers, _spread_labels(movers + 0.5, 2.0), strict=True):
        name = names[iso3[i]]
        bars.annotate(name if len(name) <= 14 else iso3[i], (0, i + 0.5),
                      xytext=(-np.sign(change[i]) * lim * 0.3, ly), textcoords="data", va="center",
                      ha="left" if change[i] < 0 else "right", fontsize=7,
                      bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
                      arrowprops={"arrowstyle": "-", "color": "#666666", "linewidth": 0.6, "shrinkA": 1,
                                  "shrinkB": 0})

    cax = ax.inset_axes((1.47, 0.3, 0.04, 0.4))
    cbar = ax.figure.colorbar(im, cax=cax)
    cax.set_title("mean\nalignment", fontsize=9, loc="left", y=1)  # pinned, as in set_titles
    cbar.set_ticks([-1, -0.5, -threshold, 0, threshold, 0.5, 1],
                   labels=["−1 West", "−0.5", f"−{threshold:g}", "0 non-aligned", f"+{threshold:g}", "+0.5",
                           "+1 SCO"])
    cbar.ax.tick_params(labelsize=7.5)
    cbar.ax.axhline(-threshold, color="black", linewidth=0.8)
    cbar.ax.axhline(threshold, color="black", linewidth=0.8)
    return ax.figure


def _hbars(y: np.ndarray, width: np.ndarray, height: float, colours, left=0.0) -> PolyCollection:
    """Horizontal bars from ``left``, as ``barh`` draws them, in one collection (not one patch each).

    The world heatmap has a bar per state; 193 patches cost more to add to the axes than to draw.
    """
    x0 = np.broadcast_to(np.asarray(left, dtype=float), np.shape(width))
    x1 = x0 + width
    y0, y1 = y - height / 2, y + height / 2
    corners = np.stack([np.c_[x0, y0], np.c_[x0, y1], np.c_[x1, y1], np.c_[x1, y0]], axis=1)
    return PolyCollection(corners, facecolors=colours, edgecolors="none")


def _groups(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Inner boundaries, midpoints and names of runs of equal labels in a sorted column."""
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], len(labels)]
    return starts[1:], (starts + ends) / 2, [str(labels[s]) for s in starts]


def plot_attribution(traj: Table, iso3s: Sequence[str] | None = None, *, n: int = 3,
                     title: str | None = None, ax: Axes | None = None) -> Figure:
    """What moved each state: every driver's share of its change of alignment, as stacked bars.

    Pushes towards the SCO stack to the right of zero, pushes towards the West to the left; the
    black diamond marks the net change. With ``iso3s`` None, the ``n`` states that moved most.
    ``title`` replaces the default title ("Why the states that moved most moved", or "What moved
    these states" when ``iso3s`` is given).
    """
    chosen = list(dict.fromkeys(iso3s)) if iso3s is not None else top_movers(traj, n)
    drivers, table = run_data.attribution(traj, chosen)
    iso, start, end = run_data.start_end(traj)
    at = [{c: i for i, c in enumerate(iso.tolist())}[c] for c in chosen]
    start, end = start[at], end[at]
    names = run_data.names(traj)
    ax = axes_or_new(ax, (10, 1.4 + 0.9 * len(chosen)))
    y = np.arange(len(chosen))
    pos, neg = np.zeros(len(chosen)), np.zeros(len(chosen))
    # the net change first: the legend lists it first, above the drivers' bars (drawn under it)
    ax.scatter(end - start, y, marker="D", s=45, color="black", zorder=3, label="net change")
    for driver, v in zip(drivers, table.T, strict=True):
        left = np.where(v >= 0, pos, neg)
        bars = _hbars(y, v, 0.6, DRIVER_COLOURS[driver], left=left)
        bars.set(edgecolor="white", linewidth=0.5, label=DRIVER_LABELS[driver])
        ax.add_collection(bars)
        pos, neg = pos + np.maximum(v, 0), neg + np.minimum(v, 0)
    for yi, net in zip(y, end - start, strict=True):
        ax.annotate(f"net {_signed(net)}", (net, yi - 0.3), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{names[c]}\n{_signed(a)} → {_signed(b)}"
                      for c, a, b in zip(chosen, start, end, strict=True)], fontsize=9)
    ax.invert_yaxis()
    lim = max(float(np.abs(np.r_[pos, neg]).max()), 1e-3) * 1.1
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(f"contribution to the change of alignment {_period(run_data.column(traj, 'year'))}"
                  "   (← towards West | towards SCO →)")
    ax.set_ylabel("state (mean alignment start → end)")
    n_runs = run_data.n_runs(traj)
    if title is None:
        title = ("Why the states that moved most moved" if iso3s is None
                 else "What moved these states")
    set_titles(ax, title, f"each driver's push summed over the years, mean of {n_runs} run"
                       f"{'s' * (n_runs > 1)}; ◆ = net change")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8, title="driver")
    return ax.figure


# --- the run's figures --------------------------------------------------------------------------

#: The run's figures, in the order they are written: file name -> drawn remotely. About half the
#: drawing (the 17-inch world heatmap, 0.4-0.5 s of CPU, and the key states' attribution, 0.25-0.35 s,
#: against 0.15-0.25 s for each of the four others) goes to a helper process when a core is idle
#: (``report.workers``); the bytes are the same wherever drawn.
RUN_FIGURES = {
    "bloc_shares.png": False, "bloc_shares_population.png": False, "key_states.png": False,
    "world_heatmap.png": True, "attribution.png": False, "attribution_key_states.png": True,
}


def write_plots(traj: Table, blocs: Table, world, scenario, out_dir: Path, *,
                helpers=None) -> list[Path]:
    """Write the standard figures of a run as PNGs into ``out_dir`` and return their paths.

    ``attribution.png`` explains the states that moved most; when the scenario names key states,
    ``attribution_key_states.png`` explains those too, whether or not they moved much (a lever
    that held a state still shows as pushes that cancel). The same tables give byte-identical
    files (no time or version stamps), so outputs diff cleanly, whether or not ``helpers``
    (``report.workers.Helpers``) draws some of them in another process.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    key = list(scenario.key_states)
    names = [f for f in RUN_FIGURES if key or f not in ("key_states.png", "attribution_key_states.png")]
    what = (traj, blocs, world, scenario.parameters.lean_threshold, key, f"blocsim scenario: {scenario.name}")
    parts = [[f for f in names if RUN_FIGURES[f] == far] for far in (True, False)]
    if helpers is None or not helpers.workers:
        parts = [names]
    jobs = [(save_run_plots, (part, *what, out_dir)) for part in parts if part]
    done = helpers.run(jobs, [i == 0 and len(jobs) > 1 for i in range(len(jobs))]) if helpers else \
        [fn(*args) for fn, args in jobs]
    paths = {p.name: p for part in done for p in part}
    return [paths[f] for f in names]


def save_run_plots(filenames: Sequence[str], traj: Table, blocs: Table, world,
                   threshold: float, key: list[str], footnote: str, out_dir: Path) -> list[Path]:
    """Draw and save the named figures of ``RUN_FIGURES`` (one process's share), each with the footnote."""
    draw = {
        "bloc_shares.png": lambda: plot_bloc_shares(blocs, measure="gdp_share"),
        "bloc_shares_population.png": lambda: plot_bloc_shares(blocs, measure="pop_share"),
        "key_states.png": lambda: plot_key_states(traj, key, threshold=threshold),
        "world_heatmap.png": lambda: plot_world_heatmap(traj, world, threshold=threshold),
        "attribution.png": lambda: plot_attribution(traj),
        "attribution_key_states.png": lambda: plot_attribution(traj, key, title="What moved the key states"),
    }
    paths, written = [Path(out_dir) / f for f in filenames], []
    ours = gc.get_freeze_count() == 0  # a caller's own frozen objects (a server's) stay frozen
    if ours:
        gc.freeze()  # the objects made so far (imports, tables) are not traversed by collections meanwhile
    try:
        with ThreadPoolExecutor(1) as encoder:  # PNGs are encoded (without the GIL) while the next is drawn
            for filename, path in zip(filenames, paths, strict=True):
                written.append(encoder.submit(write_png, footed_image(draw[filename](), footnote)[0], path))
            for done in written:
                done.result()  # an error writing is raised here; the block waits for every write
    finally:
        if ours:
            gc.unfreeze()
    return paths
