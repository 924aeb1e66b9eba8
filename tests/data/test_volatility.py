"""Per-state shock scales from each state's own past (``model.data.volatility``)."""

from __future__ import annotations

import numpy as np
import pytest

from model.data.volatility import LIMIT, state_shock_scale


def walks(sds, years=15, seed=0) -> np.ndarray:
    """(years, states) random walks near the centre, one sd per state."""
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((years - 1, len(sds))) * np.asarray(sds)
    return np.vstack([np.zeros(len(sds)), np.cumsum(steps, axis=0)]) * 0.1


def test_volatile_states_get_larger_scales_in_order():
    x = walks([0.2, 0.5, 1.0, 2.0] * 5, years=40)
    scale = state_shock_scale(x, prior_years=0).reshape(5, 4).mean(axis=0)
    assert np.all(np.diff(scale) > 0)
    assert scale[-1] / scale[0] == pytest.approx(10, rel=0.4)


def test_shrinking_pulls_towards_one_and_a_state_without_changes_gets_one():
    x = walks([0.3, 3.0], years=6)
    x = np.hstack([x, np.full((6, 1), np.nan)])
    raw = state_shock_scale(x, prior_years=0)
    shrunk = state_shock_scale(x, prior_years=20)
    assert np.all(np.abs(shrunk[:2] - 1) < np.abs(raw[:2] - 1))
    assert raw[2] == 1.0 and shrunk[2] == 1.0


def test_only_changes_measured_at_both_ends_count_and_the_scale_is_bounded():
    x = walks([1.0, 1.0, 1.0], years=10)
    observed = np.ones_like(x, dtype=bool)
    x[5, 0] += 0.9  # a jump in a year that was filled, not measured
    observed[5, 0] = False
    assert state_shock_scale(x, observed)[0] == pytest.approx(
        state_shock_scale(np.delete(x, 5, axis=0)[:5], None)[0], rel=1.0)  # finite, not inflated
    wild = np.hstack([x, walks([1.0] * 7, years=10, seed=1)])
    wild[:, 1] = np.arange(10) % 2 * 0.8  # swings far beyond the others
    assert state_shock_scale(wild, prior_years=0)[1] == LIMIT
    assert state_shock_scale(wild[:1]).tolist() == [1.0] * 10  # one year: no change
