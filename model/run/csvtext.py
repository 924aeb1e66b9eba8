"""CSV text built in numpy: the bytes of Python's ``"%.6g" % x`` and ``"%d" % i``, without a call per value.

A column becomes a matrix of bytes, one row per cell, padded with NUL bytes *anywhere* in the
row (the text never contains NUL, so dropping every NUL at the end leaves the exact text). Floats
are formatted by ``g6_bytes`` (vectorised; the few values it cannot decide are formatted by
Python); integers and text are formatted once per distinct value and gathered. Rows are then one
byte matrix, columns joined by commas, NULs dropped.
"""

from __future__ import annotations

import numpy as np

PRECISION = 6  # the 6 of "%.6g": significant digits
WIDTH = 16  # bytes of one formatted float, NUL padding included: "-1.23457e+308" fits
_MARGIN = 1e-6  # |fraction - 0.5| below this: too close to a rounding tie to trust, ask Python
_NUL, _DOT, _MINUS, _ZERO = 0, ord("."), ord("-"), ord("0")


def g6_bytes(x: np.ndarray) -> np.ndarray:
    """``"%.6g" % v`` for every float ``v`` of ``x``, as an ``(n, width)`` uint8 matrix, NUL-padded."""
    table, codes = g6_cells(x)
    return table[codes]


def g6_cells(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``g6_bytes`` as (the text of each distinct value, the index of each cell's value in it).

    Each distinct value (told apart by its bits, so -0.0 is not 0.0) is formatted once: its six
    significant digits come from scaling by a power of ten in float64 (relative error a few ulp,
    at most ~1e-9 of a unit in the sixth digit) and rounding, and its text from a template of
    the digits chosen by exponent, digits kept and sign. A value whose scaled fraction lies
    within ``_MARGIN`` of one half, zeros, infinities and magnitudes beyond 1e±300 are formatted
    by Python instead.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    bits, codes = np.unique(x.view(np.int64), return_inverse=True)
    u = bits.view(np.float64)
    a = np.abs(u)
    with np.errstate(all="ignore"):
        ok = np.isfinite(a) & (a >= 1e-300) & (a <= 1e300)
        r, exp, decided = _round6(np.where(ok, a, 1.0))
    mat = _layout(r, exp, np.signbit(u))
    rest = np.flatnonzero(~(decided & ok))
    if len(rest):
        mat[rest] = python_bytes(u[rest], "%.6g", WIDTH)
    width = int((mat != 0).sum(axis=1).max(initial=1))  # the text is left-aligned: cut the padding
    return mat[:, :width], codes.ravel()


def _round6(a: np.ndarray):
    """Positive finite ``a`` to six significant digits: (digits as an integer, exponent, decided)."""
    e = np.floor(np.log10(a)).astype(np.int64)
    m = _scaled(a, e)
    for _ in range(2):  # log10 can be one off next to a power of ten
        low, high = m < 10.0 ** (PRECISION - 1), m >= 10.0 ** PRECISION
        if not (low.any() or high.any()):
            break
        e = e - low + high
        m = _scaled(a, e)
    frac = m - np.floor(m)
    decided = (np.abs(frac - 0.5) >= _MARGIN) & (m >= 10.0 ** (PRECISION - 1)) & (m < 10.0 ** PRECISION)
    r = np.rint(np.where(decided, m, 10.0 ** (PRECISION - 1))).astype(np.int32)
    carry = r == 10 ** PRECISION  # 999999.7 rounds to 1000000: one more digit before the point
    r[carry] //= 10
    return r, e + carry, decided


def _scaled(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``a * 10**(5 - e)``, dividing by an exact power of ten where the power is negative."""
    k = (PRECISION - 1) - e
    up = np.power(10.0, np.maximum(k, 0).astype(np.float64))
    down = np.power(10.0, np.maximum(-k, 0).astype(np.float64))
    return a * up / down


# The bytes a template picks from, per value: fixed symbols, then the digits, then the exponent's.
_SYMBOLS = (_NUL, _MINUS, _ZERO, _DOT, ord("e"), ord("+"))
_D, _E = len(_SYMBOLS), len(_SYMBOLS) + PRECISION  # first digit, hundreds of the exponent
_CLASSES = 10 + 4  # fixed with exponent -4..5; scientific by exponent sign and 2 or 3 digits


def _template(cls: int, keep: int, negative: bool) -> list[int]:
    """Which byte of the alphabet each output byte is: the rules of %g with trailing zeros cut."""
    t = [1] if negative else []
    digits = [_D + i for i in range(keep)]
    if cls < 10:
        X = cls - 4
        if X >= 0:
            whole = [_D + i for i in range(X + 1)]
            t += whole + ([3] + digits[X + 1:] if keep > X + 1 else [])
        else:
            t += [2, 3] + [2] * (-X - 1) + digits
    else:
        minus, three = divmod(cls - 10, 2)
        t += digits[:1] + ([3] + digits[1:] if keep > 1 else []) + [4, 1 if minus else 5]
        t += [_E, _E + 1, _E + 2] if three else [_E + 1, _E + 2]
    return t + [0] * (WIDTH - len(t))


_TEMPLATES = np.array([_template(c, k, s) for c in range(_CLASSES) for k in range(1, PRECISION + 1)
                       for s in (False, True)], dtype=np.uint8)


def _digits(v: np.ndarray, out: np.ndarray) -> None:
    """The last ``out.shape[1]`` decimal digits of ``v`` (non-negative) as ASCII, most significant first.

    Divisions by the scalar 10 (numpy vectorises those), not by a broadcast array of powers.
    """
    for i in range(out.shape[1] - 1, -1, -1):
        q = v // 10
        out[:, i] = v - q * 10 + _ZERO
        v = q


def _layout(r: np.ndarray, X: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """The %g text of six-digit integers ``r`` (100000..999999) times 10**(X-5), signed."""
    n, size = len(r), _E + 3
    alphabet = np.empty((n, size), dtype=np.uint8)
    alphabet[:, :_D] = _SYMBOLS
    r = r.astype(np.int32)
    _digits(r, alphabet[:, _D:_E])
    E = np.abs(X)
    _digits(E.astype(np.int32), alphabet[:, _E:])
    keep = np.full(n, PRECISION, dtype=np.int32)  # digits kept: six less the trailing zeros
    zeros, q = np.ones(n, dtype=bool), r
    for _ in range(1, PRECISION):
        q10 = q // 10
        zeros &= q == q10 * 10
        keep -= zeros
        q = q10
    cls = np.where((X >= -4) & (X < PRECISION), X + 4, 10 + 2 * (X < 0) + (E >= 100))
    which = (cls * PRECISION + keep - 1) * 2 + negative  # the template of each value
    flat, start = alphabet.ravel(), np.arange(0, n * size, size)
    out = np.empty((n, WIDTH), dtype=np.uint8)
    for j in range(WIDTH):  # one output byte at a time: no (n, WIDTH) array of indices
        out[:, j] = flat[start + _TEMPLATES[which, j]]
    return out


def python_bytes(values: np.ndarray, spec: str, width: int | None = None) -> np.ndarray:
    """``spec % v`` for every number ``v`` of ``values``, formatted once per distinct value.

    Floats are told apart by their bits, so -0.0 and 0.0 stay different.
    """
    table, codes = python_cells(values, spec, width)
    return table[codes]


def python_cells(values: np.ndarray, spec: str, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``python_bytes`` as (the text of each distinct value, each cell's index in it)."""
    values = np.asarray(values)
    key = values.view(np.int64 if values.itemsize == 8 else np.int32) if values.dtype.kind == "f" else values
    keys, codes = np.unique(key, return_inverse=True)
    uniq = keys.view(values.dtype) if values.dtype.kind == "f" else keys
    return text_cells([spec % v for v in uniq.tolist()], codes.ravel(), width)


def text_bytes(texts: list[str], codes: np.ndarray, width: int | None = None) -> np.ndarray:
    """Cell ``i`` is ``texts[codes[i]]``, UTF-8, as a NUL-padded byte matrix (at least ``width`` wide)."""
    table, codes = text_cells(texts, codes, width)
    return table[codes]


def text_cells(texts: list[str], codes: np.ndarray,
               width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``text_bytes`` as (one NUL-padded row per text, ``codes``): the rows are gathered when joined."""
    table = np.array([t.encode("utf-8") for t in texts], dtype=bytes) if texts else np.zeros(0, "S1")
    size = table.dtype.itemsize
    mat = np.zeros((len(table), max(size, width or 0)), dtype=np.uint8)
    mat[:, :size] = table.view(np.uint8).reshape(len(table), size)
    return mat, codes


def join_rows(columns: list[np.ndarray | tuple[np.ndarray, np.ndarray]], block: int = 4096) -> bytes:
    """CSV rows from per-column byte matrices: cells joined by ",", a line feed after each, NULs dropped.

    A column is a matrix (one row per cell) or ``(table, codes)`` (cell ``i`` is ``table[codes[i]]``,
    as the ``*_cells`` functions give it), gathered a block at a time, so no full matrix of every
    cell is ever made. Rows go ``block`` at a time through one reused buffer small enough to stay
    in the CPU's cache.
    """
    widths = [(m[0] if isinstance(m, tuple) else m).shape[1] + 1 for m in columns]
    total = sum(widths)
    n = (len(columns[0][1]) if isinstance(columns[0], tuple) else len(columns[0])) if columns else 0
    parts = []
    whole = np.empty((min(n, block), total), dtype=np.uint8)
    whole[:, np.cumsum(widths, dtype=np.intp) - 1] = ord(",")  # separators stay put: cells go between
    whole[:, total - 1:] = ord("\n")
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        buf = whole[:hi - lo]
        off = 0
        for m, w in zip(columns, widths, strict=True):
            if isinstance(m, tuple):  # gathered into the buffer, no copy between (codes index the table)
                np.take(m[0], m[1][lo:hi], axis=0, out=buf[:, off:off + w - 1], mode="clip")
            else:
                buf[:, off:off + w - 1] = m[lo:hi]
            off += w
        parts.append(buf.tobytes().translate(None, b"\0"))  # the NUL padding dropped, in C
    return b"".join(parts)
