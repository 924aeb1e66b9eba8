"""``footed.save_footed``: one draw gives the picture ``savefig`` gives for the box it returns,
footnote included, whether the figure stays within the canvas drawn or reaches beyond it."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from model.report import footed
from model.report import run_plots as plots

NOTE = "blocsim scenario: a test"


def _figure(legend_at: float) -> Figure:
    """A small figure with lines, a title, labels and a legend ``legend_at`` axes widths to the right."""
    fig = Figure(figsize=(4, 3), dpi=plots.DPI)
    ax = fig.add_subplot()
    x = np.linspace(2024, 2035, 12)
    ax.plot(x, np.sin(x), label="one")
    ax.fill_between(x, np.sin(x) - 0.2, np.sin(x) + 0.2, alpha=0.3)
    plots.set_titles(ax, "A title", "a subtitle under it")
    ax.set_xlabel("year")
    ax.set_ylabel("a long label on the left")
    ax.legend(loc="upper left", bbox_to_anchor=(legend_at, 1), frameon=False, title="legend")
    return fig


def _savefig_pixels(fig: Figure, box) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=plots.DPI, bbox_inches=box)
    return np.asarray(Image.open(buf))[..., :3].astype(int)


@pytest.mark.parametrize("legend_at", [1.01, 4.0], ids=["within reach", "beyond reach"])
def test_one_draw_gives_the_picture_savefig_gives_for_the_box(tmp_path, legend_at):
    fig = _figure(legend_at)
    box = footed.save_footed(fig, NOTE, tmp_path / "f.png")
    ours = Image.open(tmp_path / "f.png")
    assert ours.mode == "RGB" and ours.info["dpi"] == pytest.approx((plots.DPI, plots.DPI), abs=0.1)
    assert not ours.text  # no time or version stamps
    pixels = np.asarray(ours).astype(int)
    theirs = _savefig_pixels(fig, box)  # the note is in the figure now, where it was drawn
    assert pixels.shape == theirs.shape
    # glyphs may land a rounding error apart (a level or three of 255 on a few edge pixels)
    diff = np.abs(pixels - theirs).max(axis=-1)
    assert diff.max() <= 8 and (diff > 0).mean() < 0.002
    assert NOTE in [t.get_text() for t in fig.texts]
    assert (box.x1 > 4) == (legend_at > 1)  # the box holds what lies outside the figure


def test_the_note_sits_under_the_content_and_the_same_figure_gives_the_same_bytes(tmp_path):
    box = footed.save_footed(_figure(1.01), NOTE, tmp_path / "a.png")
    footed.save_footed(_figure(1.01), NOTE, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    without = footed.save_footed(_figure(1.01), "", tmp_path / "c.png")
    assert box.y0 < without.y0 - 0.1  # the note added a line below the content
    pixels = np.asarray(Image.open(tmp_path / "a.png"))
    rows = np.flatnonzero((pixels < 250).any(axis=(1, 2)))
    last = pixels[rows[-3:]]
    assert last[(last < 250).any(axis=-1)].min() >= 0x77 - 8  # the lowest ink is the grey note's, not black

