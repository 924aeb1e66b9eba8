"""Scenario discovery as people read it: tables, the peeling trajectory and box plots, HTML.

Reads an ``analysis.discovery.Discovery``; plots follow ``compare_plots`` (``plot_x(..., ax=None)
-> Figure``, no pyplot). Imports report and lower layers only (and matplotlib, only to draw: the
tables and the HTML section are also written without figures).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..analysis.discovery import Discovery, box_rule
from .tables import percent

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The report's file names of the discovery tables (CSV and Markdown) and plots.
DISCOVERY_TABLES = ("discovery_boxes", "discovery_limits", "discovery_trajectory", "discovery_cart")


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """The axes given, or one filling a new figure laid out so that nothing is cut off."""
    from matplotlib.figure import Figure

    from .run_plots import DPI

    return ax if ax is not None else Figure(figsize=size, dpi=DPI, layout="constrained").add_subplot()


def _qp(v: float) -> str:
    return "" if v is None or not np.isfinite(v) else f"{v:.1g}"


def display_boxes(d: Discovery) -> pd.DataFrame:
    """One row per PRIM box: its rule, coverage, density, mass, cases."""
    if d.boxes.empty:
        return pd.DataFrame(columns=["box", "where", "coverage", "density", "mass", "cases", "of interest"])
    return pd.DataFrame({
        "box": d.boxes["box"], "where": [box_rule(d.limits, int(b)) for b in d.boxes["box"]],
        "coverage": d.boxes["coverage"].map(percent), "density": d.boxes["density"].map(percent),
        "mass": d.boxes["mass"].map(percent), "cases": d.boxes["n"], "of interest": d.boxes["k"],
        "reaches density": d.boxes["meets_density"].map({True: "yes", False: "no"}),
    })


def display_limits(d: Discovery) -> pd.DataFrame:
    """Each restricted input of each box: the box's range (or values), the data's, quasi-p."""
    rows = []
    for r in d.limits.itertuples(index=False):
        inside = r.values if r.kind == "set" else f"{r.low:.4g} to {r.high:.4g}"
        whole = "" if r.kind == "set" else f"{r.data_low:.4g} to {r.data_high:.4g}"
        rows.append({"box": r.box, "input": r.input, "in the box": inside, "in the data": whole,
                     "quasi-p (low)": _qp(r.qp_low), "quasi-p (high)": _qp(r.qp_high)})
    return pd.DataFrame(rows, columns=["box", "input", "in the box", "in the data", "quasi-p (low)",
                                       "quasi-p (high)"])


def display_trajectory(d: Discovery) -> pd.DataFrame:
    """The peeling and pasting trajectory of every box, the kept step marked."""
    t = d.trajectory
    if t.empty:
        return pd.DataFrame(columns=["box", "step", "coverage", "density", "mass", "restricted", "kept"])
    return pd.DataFrame({"box": t["box"], "step": t["step"], "coverage": t["coverage"].map(percent),
                         "density": t["density"].map(percent), "mass": t["mass"].map(percent),
                         "restricted": t["res_dim"], "kept": t["selected"].map({True: "←", False: ""})})


def display_cart(d: Discovery) -> pd.DataFrame:
    """CART's leaves that hold cases of interest, densest first."""
    c = d.cart
    if c.empty:
        return pd.DataFrame(columns=["leaf", "where", "coverage", "density", "mass"])
    c = c[c["k"] > 0]
    return pd.DataFrame({"leaf": c["leaf"], "where": c["rule"], "coverage": c["coverage"].map(percent),
                         "density": c["density"].map(percent), "mass": c["mass"].map(percent)})


def display_tables(d: Discovery) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """(raw, display) tables keyed by ``DISCOVERY_TABLES`` names (empty without cases to tell apart)."""
    if d.note:
        return {}, {}
    raw = dict(zip(DISCOVERY_TABLES, (d.boxes, d.limits, d.trajectory, d.cart), strict=True))
    shown = dict(zip(DISCOVERY_TABLES, (display_boxes(d), display_limits(d), display_trajectory(d),
                                        display_cart(d)), strict=True))
    return raw, shown


def plot_peeling_trajectory(d: Discovery, *, ax: Axes | None = None) -> Figure:
    """Coverage against density along each box's peeling trajectory, the kept box starred."""
    from .run_plots import set_titles

    ax = _axes(ax, (7.5, 5.0))
    t = d.trajectory
    markers = "os^D"
    for b, g in t.groupby("box", sort=True):
        pts = ax.scatter(g["coverage"] * 100, g["density"] * 100, c=g["res_dim"], cmap="viridis",
                         vmin=0, vmax=max(1, int(t["res_dim"].max())), s=22,
                         marker=markers[(int(b) - 1) % len(markers)], label=f"box {b}")
        kept = g[g["selected"]]
        ax.scatter(kept["coverage"] * 100, kept["density"] * 100, marker="*", s=260,
                   facecolor="none", edgecolor="#d62728", linewidth=1.6)
        for r in kept.itertuples(index=False):
            ax.annotate(f"box {b}", (r.coverage * 100, r.density * 100), xytext=(8, -12),
                        textcoords="offset points", fontsize=8.5, color="#d62728")
    ax.axhline(d.base_rate * 100, color="#888888", linestyle=":", linewidth=1)
    ax.annotate("share of all cases", (0, d.base_rate * 100), xycoords=("axes fraction", "data"),
                xytext=(4, 3), textcoords="offset points", ha="left", fontsize=8, color="#666666")
    if len(t):
        top = max(1, int(t["res_dim"].max()))
        ax.figure.colorbar(pts, ax=ax, label="inputs restricted", ticks=range(0, top + 1))
    ax.set_xlabel("coverage: cases of interest inside the box (%)")
    ax.set_ylabel("density: share of the box's cases that are of interest (%)")
    ax.set_xlim(0, 102)
    ax.set_ylim(0, 102)
    ax.grid(color="#e5e5e5", linewidth=0.8)
    set_titles(ax, "PRIM peeling trajectory", f"cases of interest: {d.condition}")
    return ax.figure


def plot_box_limits(d: Discovery, box: int = 1, *, ax: Axes | None = None) -> Figure:
    """Each restricted input of a box as a bar over its whole range (0 = lowest value, 1 = highest)."""
    from .run_plots import set_titles

    lim = d.limits[d.limits["box"] == box].reset_index(drop=True)
    ax = _axes(ax, (7.5, 1.6 + 0.6 * max(1, len(lim))))
    for i, r in enumerate(lim.itertuples(index=False)):
        y = len(lim) - 1 - i
        ax.plot([0, 1], [y, y], color="#cccccc", linewidth=8, solid_capstyle="butt")
        if r.kind == "set":
            ax.plot([0, 1], [y, y], color="#1b9e77", linewidth=8, solid_capstyle="butt", alpha=0.6)
            ax.annotate(f"= {r.values}", (0.5, y), xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=8.5)
            continue
        span = (r.data_high - r.data_low) or 1.0
        lo, hi = (r.low - r.data_low) / span, (r.high - r.data_low) / span
        ax.plot([lo, hi], [y, y], color="#1b9e77", linewidth=8, solid_capstyle="butt")
        ax.annotate(f"{r.low:.3g}", (lo, y), xytext=(0, 7), textcoords="offset points", ha="center",
                    fontsize=8.5)
        ax.annotate(f"{r.high:.3g}", (hi, y), xytext=(0, 7), textcoords="offset points", ha="center",
                    fontsize=8.5)
        for end, value in ((0, r.data_low), (1, r.data_high)):
            ax.annotate(f"{value:.3g}", (end, y), xytext=(0, -13), textcoords="offset points",
                        ha="center", fontsize=7.5, color="#777777")
    ax.set_yticks(range(len(lim)), list(lim["input"])[::-1])
    ax.set_ylim(-0.7, max(1, len(lim)) - 0.3)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xticks([0, 1], ["lowest value", "highest value"])
    row = d.boxes[d.boxes["box"] == box]
    stats = (f"coverage {percent(row['coverage'].iloc[0])}, density {percent(row['density'].iloc[0])}"
             if len(row) else "")
    set_titles(ax, f"PRIM box {box}: where the condition concentrates", stats)
    return ax.figure


def discovery_figures(d: Discovery) -> list[tuple[str, str, Figure]]:
    """(file name, caption, figure) for the report: the trajectory and each box's limits."""
    if d.note or d.trajectory.empty:
        return []
    figs = [("discovery_trajectory.png",
             "PRIM's peeling trajectory: each dot a box, peeled a little more at each step (coverage "
             "falls, density rises); the colour counts the inputs restricted, the star is the box "
             "kept.", plot_peeling_trajectory(d))]
    for b in d.boxes["box"]:
        if (d.limits["box"] == b).any():
            figs.append((f"discovery_box_{int(b)}.png",
                         f"Box {int(b)}: the range of each restricted input inside the box (green) "
                         "within the range the batch covered (grey).", plot_box_limits(d, int(b))))
    return figs


def summary_lines(d: Discovery) -> list[str]:
    """Plain-text lines: the condition, how often it holds, over which inputs."""
    cases = "pairs of runs (same scenario, sweep point and replication)" if d.paired else "runs"
    lines = [f"Condition: {d.condition}",
             f"Cases: {d.n} {cases}" + (f" ({d.dropped} left out for a missing value)" if d.dropped else "")
             + f"; it holds in {d.k} ({percent(d.base_rate)}).",
             f"Inputs: {', '.join(d.inputs)}."]
    if d.strategies:
        lines.insert(1, f"Strategies it compares: {', '.join(d.strategies)}.")
    if d.note:
        lines.append(d.note[:1].upper() + d.note[1:] + ".")
    return lines


def discovery_markdown(d: Discovery, to_markdown) -> str:
    """The discovery as Markdown (printed by ``blocsim discover``)."""
    parts = ["\n".join(summary_lines(d)) + "\n"]
    _, shown = display_tables(d)
    titles = {"discovery_boxes": "PRIM boxes", "discovery_limits": "Box limits",
              "discovery_cart": "CART leaves holding cases of interest"}
    for name, title in titles.items():
        if name not in shown:
            continue
        if shown[name].empty:
            parts.append(f"{title}: none" + (" (no restriction of the inputs that chance would not "
                                            "explain)" if name == "discovery_boxes" else "") + "\n")
        elif not (name == "discovery_limits" and shown["discovery_boxes"].empty):
            parts.append(f"{title}:\n\n{to_markdown(shown[name])}")
    return "\n".join(parts)


def discovery_html(d: Discovery, shown: dict[str, pd.DataFrame], figures: list[str], html_table) -> list[str]:
    """The report's 'Scenario discovery' section (``figures``: rendered ``<figure>`` elements)."""
    parts = ["<h2>Scenario discovery</h2>",
             '<p class="note">Where in the inputs the condition holds: PRIM (Friedman and Fisher '
             "1999, as in Bryant and Lempert 2010, from EMA Workbench) peels the inputs' ranges a "
             "little at a time; a box's <b>coverage</b> is the share of all cases of interest inside "
             "it, its <b>density</b> the share of its cases that are of interest. The box kept is the "
             "least peeled one that reaches the density asked for (if none does, the best balance of "
             "the two: the highest harmonic mean); restrictions that chance would explain (quasi-p "
             "of 0.05 or more: how likely a restriction that strong is by chance) are then dropped. "
             "Further boxes cover the cases left. CART (a shallow decision tree) is a check. See "
             "docs/discovery.md.</p>",
             "<p>" + "<br>".join(html.escape(x) for x in summary_lines(d)) + "</p>"]
    if d.note:
        return parts
    parts += ["<h3>Boxes</h3>", html_table(shown["discovery_boxes"]), html_table(shown["discovery_limits"]),
              *figures, "<h3>CART</h3>", html_table(shown["discovery_cart"]),
              "<details><summary>The peeling trajectory (every step)</summary>"
              f"{html_table(shown['discovery_trajectory'])}</details>"]
    return parts
