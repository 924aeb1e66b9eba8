"""A batch chunk's tables as Parquet bytes, built from numpy buffers without pandas.

``pyarrow.array`` asks pyarrow's pandas shim whether its input is a pandas object, and the shim
imports pandas to find out: about 0.3 s and 40 MiB in a process that otherwise never needs it.
Here columns become Arrow arrays through ``pyarrow.Array.from_buffers`` (numeric arrays
zero-copy, text as offsets and bytes), which never consults the shim. The arrays are the same
as ``pyarrow.array`` makes (types, nulls, values), so the Parquet bytes are too
(``tests/run/test_batch_parquet.py`` compares them). Values of a kind not handled here (a
swept parameter of another type, say) still go through ``pyarrow.array``.

Imports the run layer only (pyarrow lazily, in the worker).
"""

from __future__ import annotations

import io

import numpy as np

#: numpy dtypes written as they are, and their Arrow types' names (``pyarrow.<name>()``).
_NUMERIC = {np.dtype(np.float64): "float64", np.dtype(np.float32): "float32",
            np.dtype(np.int64): "int64", np.dtype(np.int32): "int32", np.dtype(np.int16): "int16",
            np.dtype(np.int8): "int8", np.dtype(np.uint64): "uint64"}


def numeric_array(pa, values: np.ndarray, valid: np.ndarray | None = None):
    """A numpy array of a dtype in ``_NUMERIC`` as an Arrow array (null where ``valid`` is False)."""
    values = np.ascontiguousarray(values)
    type_ = getattr(pa, _NUMERIC[values.dtype])()
    nulls = 0 if valid is None else int(len(valid) - np.count_nonzero(valid))
    bitmap = None if not nulls else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(type_, len(values), [bitmap, pa.py_buffer(values)], null_count=nulls)


def text_array(pa, texts: list):
    """A list of str (or None, a null) as an Arrow string array."""
    encoded = [b"" if t is None else t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    if offsets[-1] >= 2**31:
        return pa.array(texts, type=pa.string())
    valid = np.array([t is not None for t in texts], dtype=bool)
    nulls = int(len(texts) - np.count_nonzero(valid))
    bitmap = None if not nulls else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), len(texts),
                                 [bitmap, pa.py_buffer(offsets.astype(np.int32)),
                                  pa.py_buffer(b"".join(encoded))], null_count=nulls)


def coded_text_array(pa, codes: np.ndarray, labels: list[str]):
    """Integer codes into ``labels`` as a string array of the labels' text, built in numpy.

    What ``pyarrow.array(labels).take(codes)`` gives, without loading ``pyarrow.compute``
    (8 MiB and 0.1 s): each label's bytes are cut from a fixed-width byte matrix.
    """
    encoded = [t.encode("utf-8") for t in labels]
    lengths = np.array([len(b) for b in encoded], dtype=np.int64)
    codes = np.asarray(codes).ravel()
    if not len(codes) or not len(encoded):
        return text_array(pa, [labels[int(c)] for c in codes])
    width = max(int(lengths.max()), 1)
    if len(codes) * width >= 2**31:
        return text_array(pa, [labels[int(c)] for c in codes])
    picked = np.take(np.array(encoded, dtype=f"S{width}"), codes)  # a fixed-width row a value
    if (lengths == width).all():  # every label as long (ISO3 codes): the rows are the bytes
        offsets = np.arange(0, (len(codes) + 1) * width, width, dtype=np.int32)
        data = picked.tobytes()
    else:
        size = lengths[codes]
        offsets = np.zeros(len(codes) + 1, dtype=np.int32)
        np.cumsum(size, out=offsets[1:])
        rows = picked.view(np.uint8).reshape(len(codes), width)
        data = rows[np.arange(width) < size[:, None]].tobytes()
    return pa.Array.from_buffers(pa.string(), len(codes), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def list_array(pa, values: list, type_=None):
    """A Python list as ``pyarrow.array(values, type=type_)`` would make it, without pandas.

    Handled: text (str or None), whole numbers (int64, or ``type_`` uint64), floats (float64;
    ints among them become floats, NaN stays a value, None is a null). Anything else (bools,
    dates, nested values) is left to ``pyarrow.array``.
    """
    kinds = {type(v) for v in values}
    if type_ is None or type_ == pa.string():
        if kinds <= {str, type(None)} and (type_ is not None or str in kinds):
            return text_array(pa, values)
    if type_ is None and kinds and kinds <= {int, float, type(None)} and (float in kinds or int in kinds):
        valid = np.array([v is not None for v in values], dtype=bool)
        filled = [0 if v is None else v for v in values]
        if float in kinds:
            return numeric_array(pa, np.array(filled, dtype=np.float64), valid)
        if all(-2**63 <= v < 2**63 for v in filled):
            return numeric_array(pa, np.array(filled, dtype=np.int64), valid)
    if type_ == pa.uint64() and kinds <= {int} and all(0 <= v < 2**64 for v in values):
        return numeric_array(pa, np.array(values, dtype=np.uint64))
    return pa.array(values, type=type_)


def column(pa, values, labels: list[str] | None = None):
    """One column as an Arrow array: numpy codes into ``labels`` become their text."""
    if isinstance(values, np.ndarray):
        if labels is not None:
            return coded_text_array(pa, values, labels)
        if values.dtype in _NUMERIC:
            return numeric_array(pa, values)
        return pa.array(values)
    if isinstance(values, list):
        return list_array(pa, values)
    return values


def write_options(schema) -> dict:
    """How a chunk's table is written: zstd; floats byte-stream-split, every other column dictionary-encoded.

    A float column (alignments, shares) has nearly as many distinct values as rows: pyarrow's
    default dictionary encoding hashed every value, then gave up at the dictionary page limit and
    wrote them plain anyway. Split into byte streams instead (sign and exponent bytes apart from
    the mantissa's), they compress better. Text, run ids and years keep their dictionaries.
    Measured on a 50-run baseline chunk (trajectories kept): 9.4 ms and 484 KiB a chunk
    against 15.5 ms and 716 KiB with pyarrow's defaults; the same values, read back by pyarrow
    or pandas. Deterministic: the options depend only on the column types.
    """
    import pyarrow as pa

    floats = [f.name for f in schema if pa.types.is_floating(f.type)]
    return {"compression": "zstd", "use_byte_stream_split": floats,
            "use_dictionary": [f.name for f in schema if f.name not in floats]}


def arrow_table(columns: dict, table: str, labels: dict[str, list[str]]):
    """One table's columns as an Arrow table (``parquet_bytes``' first half; holds the GIL).

    Array columns named in ``labels`` hold integer codes and become the labels' text.
    """
    import pyarrow as pa

    typed = {"seed": pa.uint64(), "error": pa.string()} if table == "outcomes" else {}
    data = {name: list_array(pa, list(values), typed[name]) if name in typed else
            column(pa, values, labels.get(name) if isinstance(values, np.ndarray) else None)
            for name, values in columns.items()}
    for name, type_ in typed.items():  # typed even when absent or all null
        if name not in data:
            data[name] = list_array(pa, [], type_)
    return pa.table(data)


def write_parquet(arrow, *, release: bool = False) -> bytes:
    """An Arrow table as Parquet bytes (``write_options``; pyarrow releases the GIL meanwhile).

    With ``release``, pyarrow's allocator returns the pages it freed to the system afterwards:
    the writer's buffers (dictionary pages, compression) would otherwise stay mapped, and
    over a batch's chunks they kept about 11 MiB more resident (measured on the 1,000-run
    baseline batch: peak 150 MiB without, 139 MiB with; about 0.6 ms a call).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(arrow, buf, **write_options(arrow.schema))
    if release:
        pa.default_memory_pool().release_unused()
    return buf.getvalue()


def parquet_bytes(columns: dict, table: str, labels: dict[str, list[str]], *,
                  release: bool = False) -> bytes:
    """One table as Parquet bytes from arrays or lists: ``arrow_table``, then ``write_parquet``."""
    return write_parquet(arrow_table(columns, table, labels), release=release)
