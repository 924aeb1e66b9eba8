"""``run.batch_parquet``: Arrow columns from numpy buffers equal ``pyarrow.array``'s, to the byte."""

from __future__ import annotations

import io
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model.run.batch_parquet import (
    coded_text_array,
    list_array,
    numeric_array,
    parquet_bytes,
    write_options,
)


def _bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **write_options(table.schema))
    return buf.getvalue()


def _reference(columns: dict, table: str, labels: dict) -> bytes:
    """The way chunks were written before: ``pyarrow.array`` and ``take``."""
    data = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray) and name in labels:
            data[name] = pa.array(labels[name]).take(values)
        else:
            data[name] = values
    if table == "outcomes":
        data["seed"] = pa.array(data.get("seed", []), type=pa.uint64())
        data["error"] = pa.array(data.get("error", []), type=pa.string())
    return _bytes(pa.table(data))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, np.int16, np.int8,
                                   np.uint64])
def test_numeric_arrays_equal_pyarrow_array(dtype):
    rng = np.random.default_rng(1)
    values = (rng.normal(size=257) * 100).astype(dtype)
    if values.dtype.kind == "f":
        values[[3, 7]] = [np.nan, -0.0]
    got, expected = numeric_array(pa, values), pa.array(values)
    assert got.type == expected.type and got.null_count == expected.null_count == 0
    assert np.array_equal(got.to_numpy().view(np.uint8), values.view(np.uint8))  # NaN, -0.0 kept
    assert _bytes(pa.table({"x": numeric_array(pa, values)})) == _bytes(pa.table({"x": values}))


@pytest.mark.parametrize("values, type_", [
    (["ok", "failed", "ok"], None),
    ([None, "ValueError: x", None, "é ü 中"], pa.string()),
    ([None, None], pa.string()),
    ([1, 2, -3, 2**62], None),
    ([0.5, float("nan"), 2, -0.0, math.inf], None),
    ([1.0, None, 3.5], None),
    ([1, None], None),
    ([2**64 - 1, 0, 12345], pa.uint64()),
    ([True, False], None),  # left to pyarrow.array
    ([None, None], None),  # null type: left to pyarrow.array
    (["a", 1], None),  # mixed: pyarrow raises, as it did
])
def test_lists_equal_pyarrow_array(values, type_):
    try:
        expected = pa.array(values, type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
            list_array(pa, values, type_)
        return
    got = list_array(pa, values, type_)
    assert got.type == expected.type and got.null_count == expected.null_count
    assert _bytes(pa.table({"x": got})) == _bytes(pa.table({"x": expected}))


def test_coded_text_equals_take():
    labels = ["AFG", "ALB", "west", "", "中国", "sco"]
    codes = np.random.default_rng(2).integers(0, len(labels), size=1000).astype(np.int32)
    got, expected = coded_text_array(pa, codes, labels), pa.array(labels).take(codes)
    assert got.equals(expected)
    assert _bytes(pa.table({"x": got})) == _bytes(pa.table({"x": expected}))


def test_a_chunk_s_tables_have_the_bytes_pyarrow_array_gave():
    rng = np.random.default_rng(3)
    labels = {"iso3": ["AAA", "BBB", "CCC"], "end_camp": ["sco", "lean_sco", "neutral"]}
    states = {"run_id": np.repeat(np.arange(4, dtype=np.int64), 3),
              "iso3": np.tile(np.arange(3, dtype=np.int32), 4),
              "end_alignment": rng.normal(size=12),
              "end_camp": rng.integers(0, 3, size=12).astype(np.int32),
              "year_first_sco": np.where(rng.random(12) < 0.5, np.nan, 2030.0)}
    assert parquet_bytes(states, "states", labels) == _reference(states, "states", labels)
    outcomes = {"run_id": [0, 1, 2], "scenario": ["b", "b", "b"], "point": [0, 0, 0],
                "seed": [2**63 + 5, 1, 2], "status": ["ok", "failed", "ok"],
                "error": [None, "NonFiniteError: step 3", None], "param_x": [0.1, 0.1, 0.1],
                "sco_gdp_share": [0.25, float("nan"), 0.3]}
    assert parquet_bytes(outcomes, "outcomes", labels) == _reference(outcomes, "outcomes", labels)
    ok = dict(outcomes, error=[None, None, None], status=["ok"] * 3)
    assert parquet_bytes(ok, "outcomes", labels) == _reference(ok, "outcomes", labels)


def test_coded_text_of_labels_of_different_lengths():
    labels = ["sco", "nonaligned", "west", ""]
    codes = np.array([1, 0, 3, 2, 2, 1], dtype=np.int32)
    assert coded_text_array(pa, codes, labels).to_pylist() == [labels[c] for c in codes]


def test_floats_are_split_into_byte_streams_and_read_back_the_same():
    """Floats are written byte-stream-split without a dictionary, the rest with one; pyarrow and
    pandas read back exactly the values (NaN, -0.0 and nulls included), and the bytes repeat."""
    rng = np.random.default_rng(4)
    n = 600
    cols = {"run_id": np.repeat(np.arange(6, dtype=np.int64), 100),
            "iso3": np.tile(np.arange(3, dtype=np.int32), 200),
            "alignment": rng.normal(size=n).astype(np.float32),
            "share": np.where(rng.random(n) < 0.1, np.nan, rng.random(n))}
    cols["alignment"][5] = -0.0
    data = parquet_bytes(cols, "trajectories", {"iso3": ["AAA", "BBB", "CCC"]})
    assert data == parquet_bytes(cols, "trajectories", {"iso3": ["AAA", "BBB", "CCC"]})
    meta = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(4)}
    for name in ("alignment", "share"):
        assert "BYTE_STREAM_SPLIT" in encodings[name] and "RLE_DICTIONARY" not in encodings[name]
    for name in ("run_id", "iso3"):
        assert "RLE_DICTIONARY" in encodings[name]
    back = pq.read_table(io.BytesIO(data))
    for name in ("alignment", "share", "run_id"):
        assert np.array_equal(back[name].to_numpy().view(np.uint8), cols[name].view(np.uint8))
    frame = back.to_pandas()
    assert frame["iso3"].tolist() == ["AAA", "BBB", "CCC"] * 200
    assert np.array_equal(frame["share"].to_numpy(), cols["share"], equal_nan=True)
