"""``run.csvtext``: numpy-built CSV cells are exactly Python's ``"%.6g" % x`` and ``"%d" % i``."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model.run.csvtext import g6_bytes, join_rows, python_bytes, text_bytes


def texts(mat: np.ndarray) -> list[str]:
    """Each row of a NUL-padded byte matrix as text."""
    return [bytes(row).replace(b"\0", b"").decode() for row in mat]


G6, D = "%.6g", "%d"  # the formats pandas is given (a name: the point is %-formatting)


def python_g6(x) -> list[str]:
    return [G6 % v for v in np.asarray(x, dtype=np.float64).tolist()]


EDGES = [0.0, -0.0, 1e-5, -1e-5, 1e-4, 9.99999e-5, 9.999995e-5, 1e16, -1e16, 0.9999995, 0.99999949999,
         0.99999950001, 999999.5, 999999.4999, 999999.5001, 123456.5, 1234565.0, 0.1, 0.5, 1.0, 10.0,
         100000.0, 999999.0, 1000000.0, 1e-300, 1.5e-300, 2.5e-308, 5e-324, 1e300, 1.7976931348623157e308,
         np.inf, -np.inf, 0.000123457, 1e100, 1e-100, 12345.65, 0.30000000000000004, 2.0 ** -20, 2.0 ** 60]


def test_edges_and_their_neighbours_match_python():
    x = np.array(EDGES)
    with np.errstate(over="ignore"):
        near = np.concatenate([x, np.nextafter(x, np.inf), np.nextafter(x, -np.inf), -x])
    assert texts(g6_bytes(near)) == python_g6(near)


def test_every_decade_and_rounding_boundary_matches_python():
    # six-digit values and the halfway points between them, at every exponent %g can print
    e = np.arange(-320, 309)
    m = np.array([1.0, 9.999995, 9.9999949999999, 1.000005, 5.555555, 4.4444449999, 1.2345650000001])
    with np.errstate(over="ignore"):
        x = (m[:, None] * 10.0 ** e[None, :]).ravel()
    x = x[np.isfinite(x)]
    assert texts(g6_bytes(x)) == python_g6(x)


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.integers(0, 60), elements=st.floats(allow_nan=False, width=64)))
def test_any_floats_match_python(x):
    assert texts(g6_bytes(x)) == python_g6(x)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(allow_nan=False, width=64)),
       st.integers(2, 5))
def test_repeated_values_are_formatted_once_and_gathered(x, times):
    # repeated values are formatted once and gathered: the same text as one by one
    x = np.tile(np.concatenate([x, -x]), times)
    assert texts(g6_bytes(x)) == python_g6(x)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float32, st.integers(0, 30), elements=st.floats(allow_nan=False, width=32)))
def test_float32_is_formatted_as_its_float64_value(x):
    assert texts(g6_bytes(x)) == [G6 % v for v in x.tolist()]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-2**63, 2**63 - 1), max_size=30))
def test_integers_match_python(values):
    x = np.array(values, dtype=np.int64)
    assert texts(python_bytes(x, D)) == [D % v for v in values]


@given(st.lists(st.lists(st.sampled_from(["a", "bb", "Côte d'Ivoire", "x,y"]), min_size=3, max_size=3),
                max_size=20), st.integers(1, 7))
def test_rows_are_joined_with_commas_and_newlines(rows, block):
    cols = [text_bytes(sorted({r[j] for r in rows}), np.array(
        [sorted({r[j] for r in rows}).index(r[j]) for r in rows], dtype=np.intp)) for j in range(3)]
    expected = "".join(",".join(r) + "\n" for r in rows)
    assert join_rows(cols, block).decode() == expected


def test_an_empty_status_table_is_the_header_pandas_writes():
    """A run with no status change writes the same header as pandas, without importing it."""
    import pandas as pd

    from model.run.tables import STATUS_COLUMNS, RunTables, csv_text

    tabs = RunTables.__new__(RunTables)
    tabs.status_rows, tabs._frames = [], {}
    assert tabs.csv("status_changes") == csv_text(pd.DataFrame([], columns=list(STATUS_COLUMNS)))
