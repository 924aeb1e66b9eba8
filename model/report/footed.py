"""A figure saved as ``bbox_inches="tight"`` saves it, with a footnote under its content, drawn once.

``savefig`` with a tight box lays the figure out (a whole draw without pixels) and then draws
it. ``footed_image`` draws it once, onto a canvas reaching ``REACH`` beyond the figure, measures
the tight box with that renderer (cheap then: every text is measured already), draws the note
under it and crops. ``write_png`` encodes the pixels (``pngcodec``, without holding the GIL), so
a caller may write one figure in a thread while it draws the next.

Imports ``pngcodec`` only of the project (and matplotlib and Pillow).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

#: How far beyond the figure a run's figure may reach, as fractions of its width and height:
#: legends, the heatmap's bars and colour bar sit right of the axes, labels left of them. The
#: figure is drawn once onto a canvas this much larger and cropped to its tight box.
REACH = (0.5, 0.2)


class _Discard:
    """A file that keeps nothing: savefig's raw pixels are read from the renderer instead."""

    def write(self, data) -> int:
        return len(data)

    def seek(self, *_) -> int:
        return 0


def save_footed(fig: Figure, footnote: str, path: Path):
    """``footed_image`` written to ``path`` as PNG; returns the box saved (inches)."""
    image, crop = footed_image(fig, footnote)
    write_png(image, path)
    return crop


def write_png(image, path: Path) -> None:
    """The image as PNG with its resolution and no time or version stamps: the same pixels, the same bytes."""
    import numpy as np

    from .pngcodec import encode_png

    Path(path).write_bytes(encode_png(np.asarray(image), image.info["dpi"]))


def footed_image(fig: Figure, footnote: str):
    """``fig`` as ``bbox_inches="tight"`` would save it, with ``footnote`` under its content, drawn once.

    The figure is drawn onto a canvas reaching ``REACH`` beyond it; the tight box is measured,
    the note drawn under it and the canvas cropped to the padded box, moved by under a pixel so
    that it starts on a pixel of the canvas: the pixels are those ``savefig(bbox_inches=box)``
    draws for the box returned (inches). A figure reaching further is drawn again on its box.

    Returns:
        ``(PIL RGB image, box)``: no alpha channel (the background is opaque); ``image.info["dpi"]``
        is the figure's.
    """
    from matplotlib import rcParams
    from matplotlib.transforms import Affine2D, Bbox, TransformedBbox
    from PIL import Image

    width, height = fig.get_size_inches()
    reach = Bbox.from_extents(-REACH[0] * width, -REACH[1] * height,
                              (1 + REACH[0]) * width, (1 + REACH[1]) * height)
    renderer = _draw_onto(fig, reach)
    box = fig.get_tightbbox(renderer)  # inches
    note = fig.text(box.x0 / width, (box.y0 - 0.1) / height, footnote, fontsize=7, color="#777777",
                    ha="left", va="top")
    boxes = [box, TransformedBbox(note.get_tightbbox(renderer), Affine2D().scale(1 / fig.dpi))]
    pad = rcParams["savefig.pad_inches"]
    crop = Bbox.union(boxes[:1 + bool(footnote)]).padded(pad, pad)  # an empty note has no box
    dpi = fig.dpi
    left, low = round((crop.x0 - reach.x0) * dpi), round((crop.y0 - reach.y0) * dpi)  # canvas pixels
    crop = Bbox.from_bounds(reach.x0 + left / dpi, reach.y0 + low / dpi, crop.width, crop.height)
    cols, rows = int(crop.width * dpi), int(crop.height * dpi)  # savefig's canvas for the box
    if reach.x0 > crop.x0 or reach.y0 > crop.y0 or reach.x1 < crop.x1 or reach.y1 < crop.y1:
        renderer, left, top = _draw_onto(fig, crop), 0, 0  # the note is in the figure now
    else:  # the note, drawn onto the canvas: figure pixels shifted to the canvas's origin
        note.set_transform(fig.transFigure + Affine2D().translate(-reach.x0 * dpi, -reach.y0 * dpi))
        note.draw(renderer)
        note.set_transform(fig.transFigure)  # the figure as savefig would leave it
        top = renderer.height - low - rows
    size = (int(renderer.width), int(renderer.height))
    image = Image.frombuffer("RGBA", size, renderer.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = image.crop((left, top, left + cols, top + rows)).convert("RGB")  # in C: no strided copy
    image.info["dpi"] = dpi
    return image, crop


def _draw_onto(fig: Figure, box):
    """Draw ``fig`` onto an Agg canvas covering ``box`` (inches, figure coordinates); its renderer.

    ``savefig`` does the drawing (the figure is moved to the box and back); the raw pixels it
    writes are dropped and read from the renderer, which the figure's Agg canvas keeps.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    fig.savefig(_Discard(), format="raw", dpi=fig.dpi, bbox_inches=box)
    return canvas.renderer
