"""``report.png.png_bytes``: each figure drawn once, nothing cut off, the picture savefig gives."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from model.report import png as cp


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _has_colour(pixels: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    return bool((pixels == rgb).all(axis=-1).any())


def test_a_legend_beside_the_axes_is_kept_whole_and_padded():
    """A figure without a layout engine: what overflows it (a legend, a long title) is in the file."""
    fig = Figure(figsize=(4, 3), dpi=cp.DPI)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#00ff00")
    ax.legend(handles=[Line2D([], [], color="#ff00ff", linewidth=4, label="a long strategy name")],
              loc="upper left", bbox_to_anchor=(1.01, 1))
    pixels = _pixels(cp.png_bytes(fig))
    assert _has_colour(pixels, (255, 0, 255)) and _has_colour(pixels, (0, 255, 0))
    assert pixels.shape[1] > 4 * cp.DPI  # wider than the figure: the legend is beside it
    pad = round(cp.PAD * cp.DPI)
    border = np.concatenate([pixels[:pad].reshape(-1, 3), pixels[-pad:].reshape(-1, 3),
                             pixels[:, :pad].reshape(-1, 3), pixels[:, -pad:].reshape(-1, 3)])
    assert (border == 255).all()  # a blank border, as bbox_inches="tight" pads
    assert not (pixels[pad] == 255).all() or not (pixels[:, pad] == 255).all()  # ink right inside it


def test_a_constrained_figure_keeps_its_size_and_is_the_picture_savefig_draws():
    def make() -> Figure:
        fig = Figure(figsize=(5, 2.5), dpi=cp.DPI, layout="constrained")
        for ax in fig.subplots(1, 2, sharey=True):
            ax.plot([2020, 2030], [0.1, 0.4])
            ax.set_title("a panel")
        fig.suptitle("a title")
        return fig

    buf = io.BytesIO()
    make().savefig(buf, format="png", dpi=cp.DPI)
    ours = _pixels(cp.png_bytes(make()))
    assert ours.shape == (round(2.5 * cp.DPI), 5 * cp.DPI, 3)
    assert (ours == _pixels(buf.getvalue())).all()


def test_the_same_figure_gives_the_same_bytes():
    def make() -> Figure:
        ax = Figure(figsize=(3, 2), dpi=cp.DPI).add_subplot()
        ax.set_title("a title far wider than the axes it sits over, on purpose")
        return ax.figure

    assert cp.png_bytes(make()) == cp.png_bytes(make())


def test_crop_keeps_a_blank_picture_whole():
    blank = np.full((30, 40, 4), 255, dtype=np.uint8)
    assert cp._crop(blank).shape == blank.shape


def test_panel_grid_keeps_what_surrounds_the_panels():
    """Panels at fixed sizes, their titles and legend outside the figure: all in the file."""
    fig, axes = cp.panel_grid(3, 2, (2.0, 1.5), (0.3, 0.8))
    assert len(axes) == 3 and len(fig.axes) == 3  # the unused cell is removed
    assert tuple(fig.get_size_inches()) == (4.3, 3.8)
    for ax in axes:
        ax.plot([0, 1], [0, 1], color="#00ff00")
        ax.set_title("a panel")
    fig.suptitle("a title above the figure", y=cp.above(fig, 0.3), va="bottom", color="#0000ff")
    fig.legend(handles=[Line2D([], [], color="#ff00ff", linewidth=4, label="beside")], loc="upper left",
               bbox_to_anchor=(cp.beside(fig, 0.1), 1))
    pixels = _pixels(cp.png_bytes(fig))
    assert pixels.shape[1] > 4.3 * cp.DPI and pixels.shape[0] > 3.8 * cp.DPI
    assert all(_has_colour(pixels, c) for c in ((255, 0, 255), (0, 0, 255), (0, 255, 0)))


def test_content_reaching_past_the_room_is_drawn_again_with_more():
    """A text starting inside the room around the figure and running past it is kept whole."""
    fig = Figure(figsize=(2, 2), dpi=cp.DPI)
    fig.add_subplot().plot([0, 1], [0, 1])
    start = 2 + cp.OVERFLOW - 0.5  # inches from the figure's left edge
    fig.text(start / 2, 0.5, "far right " * 3 + "end", color="#ff00ff", fontsize=20)
    pixels = _pixels(cp.png_bytes(fig))
    assert _has_colour(pixels, (255, 0, 255))
    assert pixels.shape[1] > (start + 3) * cp.DPI  # the text's ~4 inches, not cut at the room's edge
