"""Shared helpers of the data tests."""

from __future__ import annotations

import numpy as np
import pytest


def _scramble_after(year: int, seed: int, *tables):
    """Copies of the panel-like ``tables`` with every value after ``year`` shuffled within its column.

    A fit that reads only years up to ``year`` must give the same result on them (the held-out
    rule); keys (``iso3``, ``year``) are left alone.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    out = []
    for table in tables:
        t = table.copy()
        late = t["year"] > year
        for col in t.columns.drop(["iso3", "year"]):
            t.loc[late, col] = rng.permutation(t.loc[late, col].to_numpy())
        out.append(t)
    return out


@pytest.fixture
def scramble_after():
    """``scramble_after(year, seed, *tables)``: the tables with every later year shuffled."""
    return _scramble_after
