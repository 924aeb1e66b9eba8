"""``report.pngcodec``: the one PNG encoder (zlib, rows unfiltered)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from model.report import pngcodec


@pytest.mark.parametrize("channels", [3, 4])
def test_the_png_is_what_pillow_reads_back_with_its_dpi(channels):
    """The file written by hand (zlib, no filter): a valid PNG of exactly the drawn pixels."""
    rgba = np.random.default_rng(0).integers(0, 256, size=(7, 5, channels), dtype=np.uint8)
    image = Image.open(io.BytesIO(pngcodec.encode_png(rgba, 120)))
    image.load()  # checks every chunk's CRC and the zlib stream
    assert image.mode == "RGB" and image.size == (5, 7)
    assert (np.asarray(image) == rgba[..., :3]).all()
    assert image.info["dpi"] == pytest.approx((120, 120), abs=0.02)  # whole pixels a metre
    assert set(image.info) == {"dpi"}  # no time or version stamps
