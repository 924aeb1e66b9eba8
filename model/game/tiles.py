"""Pictures of a game: the world as a tile grid coloured by alignment, key states and scores by turn.

The tile grid needs no downloaded geometry: every state is one square, placed from the world's
own ``region`` and ``subregion`` columns (regions from west to east, each subregion a column of
at most ``COLUMN_HEIGHT`` tiles, states in code order), coloured on the fixed scale of the run
figures (blue West -1 .. red SCO +1, ``report.run_plots``), the key states outlined and named
with their alignment. ``write_game_plots`` refreshes the PNGs in a game folder after each turn.
Figures are ``matplotlib.figure.Figure`` objects (no pyplot, no global state).

Imports numpy, base, data, report and the game's own modules (and matplotlib).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..base.files import write_file_atomic
from ..data.world import World
from ..report.run_plots import CAMP_COLOURS
from .turns import TurnResult

#: Regions from west to east, and their subregions in a rough west-to-east, north-to-south order.
REGION_ORDER = ("Americas", "Europe", "Africa", "Asia", "Oceania")
SUBREGION_ORDER = (
    "Northern America", "Central America", "Caribbean", "South America",
    "Northern Europe", "Western Europe", "Southern Europe", "Eastern Europe",
    "Northern Africa", "Western Africa", "Middle Africa", "Eastern Africa", "Southern Africa",
    "Western Asia", "Central Asia", "Southern Asia", "Eastern Asia", "South-eastern Asia",
    "Australia and New Zealand", "Melanesia", "Micronesia", "Polynesia")
COLUMN_HEIGHT = 10
PLOTS = ("world_tiles.png", "key_states.png", "scores.png")
DPI = 110


def _rank(values: np.ndarray, order: tuple[str, ...]) -> np.ndarray:
    """Position of each value in ``order``; values not listed come after, alphabetically."""
    extra = sorted(set(values.tolist()) - set(order))
    pos = {v: k for k, v in enumerate((*order, *extra))}
    return np.array([pos[v] for v in values.tolist()])


def tile_layout(world: World, height: int = COLUMN_HEIGHT) -> tuple[np.ndarray, np.ndarray,
                                                                       list[tuple[float, str]]]:
    """Column and row of every state's tile, and (x, name) of each subregion's label."""
    order = np.lexsort((world.iso3, _rank(world.subregion, SUBREGION_ORDER),
                        _rank(world.region, REGION_ORDER)))
    x, y = np.zeros(world.n, dtype=int), np.zeros(world.n, dtype=int)
    labels, col = [], 0
    subs = world.subregion[order]
    starts = np.flatnonzero(np.r_[True, subs[1:] != subs[:-1]])
    for lo, hi in zip(starts, [*starts[1:], len(order)], strict=True):
        k = np.arange(hi - lo)
        x[order[lo:hi]] = col + k // height
        y[order[lo:hi]] = k % height
        width = (hi - lo - 1) // height + 1
        labels.append((col + (width - 1) / 2, str(subs[lo])))
        col += width
    return x, y, labels


def plot_world_tiles(world: World, alignment: np.ndarray, key_states: list[str], *,
                     title: str, threshold: float = 0.25, ax: Axes | None = None) -> Figure:
    """Every state as a tile coloured by ``alignment``, the key states outlined and labelled."""
    if ax is None:
        ax = Figure(figsize=(15, 6.2)).add_subplot()
    x, y, labels = tile_layout(world)
    cmap = colormaps["RdBu_r"]
    keys = set(key_states)
    for i in range(world.n):
        key = world.iso3[i] in keys
        colour = cmap((alignment[i] + 1) / 2)
        ax.add_patch(Rectangle((x[i] + 0.04, -y[i] - 0.96), 0.92, 0.92, facecolor=colour,
                               edgecolor="black" if key else "white",
                               linewidth=2.2 if key else 0.5))
        dark = abs(alignment[i]) > 0.55
        text = f"{world.iso3[i]}\n{alignment[i]:+.2f}" if key else str(world.iso3[i])
        ax.text(x[i] + 0.5, -y[i] - 0.5, text, ha="center", va="center",
                fontsize=6.3 if key else 5.5, fontweight="bold" if key else "normal",
                color="white" if dark else "black")
    for lx, name in labels:
        ax.text(lx + 0.5, 0.25, name, rotation=50, ha="left", va="bottom", fontsize=7)
    ax.set_xlim(-0.2, x.max() + 1.2)
    ax.set_ylim(-COLUMN_HEIGHT - 0.3, 4.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=12)
    sm = ScalarMappable(cmap=cmap)
    sm.set_clim(-1, 1)
    cbar = ax.figure.colorbar(sm, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02,
                              aspect=50)
    cbar.set_ticks([-1, -threshold, 0, threshold, 1],
                   labels=["-1 West", f"-{threshold:g}", "0 non-aligned", f"+{threshold:g}",
                           "+1 SCO"])
    cbar.ax.tick_params(labelsize=8)
    cbar.set_label("alignment (outlined: key states, with their value)", fontsize=8)
    return ax.figure


def key_state_path(results: list[TurnResult], world: World,
                   key_states: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Turns 0..k and the key states' alignment after each (turns x states)."""
    idx = [world.index[s] for s in key_states]
    rows = [results[0].alignment_before[idx]] + [r.alignment_after[idx] for r in results]
    return np.arange(len(rows)), np.array(rows)


def plot_key_states(results: list[TurnResult], world: World, key_states: list[str], *,
                    threshold: float = 0.25, ax: Axes | None = None) -> Figure:
    """The key states' alignment at the start and after every turn."""
    if ax is None:
        ax = Figure(figsize=(8, 4.5)).add_subplot()
    turns, path = key_state_path(results, world, key_states)
    order = np.argsort(-path[-1], kind="stable")  # the legend lists states top to bottom
    for j in order:
        ax.plot(turns, path[:, j], marker="o", color=f"C{j % 10}",  # a state keeps its colour
                label=f"{key_states[j]} {path[-1, j]:+.3f}")
    for t, camp in ((threshold, "sco"), (-threshold, "west")):
        ax.axhline(t, color=CAMP_COLOURS[camp], linestyle="--", linewidth=0.8)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xticks(turns, ["start", *[f"turn {t}" for t in turns[1:]]])
    ax.set_ylabel("alignment (-1 West .. +1 SCO)")
    ax.set_title("Key states after each turn (dashed: camp thresholds)", loc="left", fontsize=11)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), title="now")
    return ax.figure


def plot_scores(results: list[TurnResult], start: dict[str, dict], names: dict[str, str], *,
                ax: Axes | None = None) -> Figure:
    """Each team's score at the start and after every turn."""
    if ax is None:
        ax = Figure(figsize=(8, 4.5)).add_subplot()
    turns = np.arange(len(results) + 1)
    for team, name in names.items():
        ax.plot(turns, [start[team]["total"], *[r.scores[team]["total"] for r in results]],
                marker="o", label=plain_label(name))
    ax.set_xticks(turns, ["start", *[f"turn {t}" for t in turns[1:]]])
    ax.set_ylabel("score (points)")
    ax.set_title("Scores after each turn", loc="left", fontsize=11)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax.figure


def plain_label(text: str) -> str:
    """A name from a game file, as matplotlib shows it literally.

    A '$' would start mathtext (a lone one fails to draw), a leading '_' hides a legend entry.
    """
    text = text.replace("$", r"\$")
    return f" {text}" if text.startswith("_") else text


def png_bytes(fig: Figure) -> bytes:
    """A figure as PNG bytes (no date in the metadata: the same figure, the same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight",
                metadata={"Software": None})
    return buf.getvalue()


def game_figures(game) -> dict[str, Figure]:
    """The game's figures now: world tiles, key states by turn, scores by turn."""
    from .narrate import start_scores, team_name

    results = game.history()
    keys = game.spec.key_states or list(game.scenario.key_states)
    alignment = game.moment()["alignment"]
    when = f"after turn {game.turn} ({game.year})" if game.turn else f"at the start ({game.year})"
    figs = {PLOTS[0]: plot_world_tiles(game.world, alignment, keys, threshold=game.threshold,
                                       title=f"{game.spec.name}: the world {when}")}
    if results:
        figs[PLOTS[1]] = plot_key_states(results, game.world, keys, threshold=game.threshold)
        figs[PLOTS[2]] = plot_scores(results, start_scores(game),
                                     {t: team_name(game.spec, t) for t in game.team_ids})
    return figs


def write_game_plots(game, folder: Path | str) -> list[Path]:
    """Refresh the game's PNGs in ``folder`` (each written atomically); the paths written."""
    folder = Path(folder)
    out = []
    for name, fig in game_figures(game).items():
        write_file_atomic(folder / name, png_bytes(fig))
        out.append(folder / name)
    return out
