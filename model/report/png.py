"""Figures as PNG bytes, each drawn once: the report's files and the pictures embedded in its HTML.

``panel_grid`` lays panels out at fixed sizes and gaps, leaving what surrounds them outside the
figure for ``png_bytes`` to keep.

``savefig`` with a layout engine first draws a figure without pixels to lay it out, and with
``bbox_inches="tight"`` lays it out and draws it twice; here a laid-out figure is laid out once
and drawn once, and any other is drawn once with room around it and cropped to its content. The
same figure gives the same bytes wherever it is drawn (no time or version stamps).

Imports matplotlib, ``pngcodec`` and ``run_plots`` (for the DPI) only.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .pngcodec import encode_png
from .run_plots import DPI

#: Room drawn around a figure without a layout engine, for what overflows it (a legend beside the
#: axes, a long subtitle), before the picture is cropped to its content (inches, a multiple of 1/8
#: so that the canvas is a whole number of pixels at any whole DPI). Content reaching the canvas's
#: edge is drawn again with twice the room, up to ``MAX_OVERFLOW``.
OVERFLOW = 2.0
MAX_OVERFLOW = 16.0
#: Blank border kept around the content, as savefig's ``bbox_inches="tight"`` (``savefig.pad_inches``).
PAD = 0.1


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes at ``DPI``, drawn once.

    A figure with constrained layout is laid out once and drawn at its size. Any other figure is
    drawn on a canvas with ``OVERFLOW`` around it and cropped to its content plus ``PAD``, as
    ``bbox_inches="tight"`` crops.
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.transforms import Bbox

    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.execute(fig)
        fig.set_layout_engine("none")
        return encode_png(_rgba(fig, Bbox.from_bounds(0, 0, *fig.get_size_inches())), DPI)
    room = OVERFLOW
    while True:
        width, height = np.ceil(fig.get_size_inches() * 8) / 8 + 2 * room
        rgba = _rgba(fig, Bbox.from_bounds(-room, -room, width, height))
        if room >= MAX_OVERFLOW or not _at_edge(rgba):
            return encode_png(_crop(rgba), DPI)
        room *= 2


def _rgba(fig: Figure, box) -> np.ndarray:
    """The pixels (rows, columns, RGBA) of the part ``box`` (inches) of the figure, at ``DPI``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=DPI, bbox_inches=box)
    raw = np.frombuffer(buf.getbuffer(), dtype=np.uint8)
    width = int(round(box.width * DPI))
    return raw.reshape(-1, width, 4)


def _at_edge(rgba: np.ndarray) -> bool:
    """True if anything but the background of the corner lies on the canvas's outer rows or columns."""
    flat = rgba.view(np.uint32)[..., 0]
    edges = np.concatenate([flat[0], flat[-1], flat[:, 0], flat[:, -1]])
    return bool((edges != edges[0]).any())


def _crop(rgba: np.ndarray) -> np.ndarray:
    """The pixels cropped to what is not the (opaque) background of the corner, plus ``PAD``."""
    flat = rgba.view(np.uint32)[..., 0]
    ink = flat != flat[0, 0]
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return rgba
    pad = int(round(PAD * DPI))
    return rgba[max(rows[0] - pad, 0):rows[-1] + pad + 1, max(cols[0] - pad, 0):cols[-1] + pad + 1]


def panel_grid(n: int, ncols: int, panel: tuple[float, float], gap: tuple[float, float], *,
               sharey: bool = True) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` panels of ``panel`` inches in rows of ``ncols``, ``gap`` inches apart.

    The figure is the panels alone: their labels, titles and legends lie outside it, where
    ``png.png_bytes`` keeps them (it crops a larger canvas to the content), so the figure needs
    no layout pass (constrained layout measured every panel twice before the drawing). ``gap``
    must hold what lies between two panels: tick labels reaching past an edge (a shared y axis
    labels the first column only), and between rows the x labels and the next row's titles.
    """
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(ncols * panel[0] + (ncols - 1) * gap[0], nrows * panel[1] + (nrows - 1) * gap[1]),
                 dpi=DPI)
    grid = fig.add_gridspec(nrows, ncols, left=0, right=1, bottom=0, top=1, wspace=gap[0] / panel[0],
                            hspace=gap[1] / panel[1])
    axes = grid.subplots(sharey=sharey, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.remove()
    return fig, list(axes[:n])


def above(fig: Figure, inches: float) -> float:
    """The figure coordinate ``inches`` above the figure's top edge."""
    return 1 + inches / fig.get_size_inches()[1]


def beside(fig: Figure, inches: float) -> float:
    """The figure coordinate ``inches`` right of the figure's right edge."""
    return 1 + inches / fig.get_size_inches()[0]
