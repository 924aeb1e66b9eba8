"""PNG bytes of opaque pixels, written with zlib: the one encoder of every figure blocsim saves.

Every row is left unfiltered (filter type 0) and deflated at ``PNG_LEVEL``. For these flat
charts that is smaller than Pillow's adaptive filters and three to four times as fast (measured
on the comparison report's eleven figures, 2026-11-30); zlib releases the GIL while it
compresses, so a caller may encode one figure in a thread while it draws the next. No time or
version stamps: the same pixels give the same bytes.

Imports numpy and the standard library only.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

#: zlib level of the PNG files.
PNG_LEVEL = 3


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, CRC-32 of type and data (PNG specification, section 5.3)."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: np.ndarray, dpi: float) -> bytes:
    """PNG bytes of ``pixels`` (rows, columns, RGB or RGBA; alpha dropped): 8-bit RGB, the DPI (pHYs)."""
    height, width = pixels.shape[:2]
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 (None) for every row
    rows[:, 1:].reshape(height, width, 3)[...] = pixels[..., :3]
    per_metre = int(dpi / 0.0254 + 0.5)
    return b"".join((b"\x89PNG\r\n\x1a\n",
                     _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
                     _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
                     _chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_LEVEL)),
                     _chunk(b"IEND", b"")))
