"""The baselines: each reduces to persistence at its limit, and pulls the way it claims."""

from __future__ import annotations

import numpy as np

from model.history.baselines import BASELINES, Past, spread_members, subregion_means
from model.history.regression import regression_forecast

H = np.array([1, 2, 5])


def _past():
    rng = np.random.default_rng(0)
    return Past(x=rng.uniform(-1, 1, size=(8, 6)), subregion=np.array([0, 0, 1, 1, 2, 2]))


def _get(name):
    return next(b for b in BASELINES if b.name == name)


def test_limits_are_persistence():
    p = _past()
    last = np.broadcast_to(p.x[-1], (3, 6))
    assert np.allclose(_get("persistence").forecast(p, H, None), last)
    assert np.allclose(_get("damped").forecast(p, H, 1.0), last)
    assert np.allclose(_get("smoothing").forecast(p, H, 1.0), last)


def test_damped_shrinks_towards_the_median_more_at_longer_horizons():
    p = _past()
    f = _get("damped").forecast(p, H, 0.9)
    gap = np.abs(f - np.median(p.x[-1]))
    assert (gap[1:] <= gap[:-1] + 1e-12).all() and (gap[-1] < np.abs(p.x[-1] - np.median(p.x[-1]))).any()


def test_recent_mean_and_subregion_means():
    p = _past()
    assert np.allclose(_get("recent_mean").forecast(p, H, 3)[0], p.x[-3:].mean(axis=0))
    m = subregion_means(p.x[-1:], p.subregion)[0]
    assert np.allclose(m[:2], p.x[-1, :2].mean())


def test_ar_towards_subregion_moves_each_state_towards_its_subregion_mean():
    p = _past()
    f = _get("ar_subregion").forecast(p, H, None)
    m = subregion_means(p.x[-1:], p.subregion)[0]
    assert (np.abs(f[-1] - m) <= np.abs(p.x[-1] - m) + 1e-12).all()


def test_every_tuned_baseline_has_a_grid_and_a_doc():
    for b in BASELINES:
        assert b.doc and b.name
        if b.name in ("damped", "smoothing", "recent_mean"):
            assert len(b.grid) > 1


def test_regression_learns_a_plain_drift(history):
    """A panel whose alignment drifts by +0.02 a year: the regression forecasts the drift."""
    panel = history.panel.copy()
    panel["alignment"] = -0.5 + 0.02 * (panel["year"] - 2000)
    from dataclasses import replace
    drift = replace(history, panel=panel)
    sub = np.zeros(len(history.iso3), dtype=int)
    f = regression_forecast(drift.upto(2012), "alignment", 2012, np.array([1, 3]), 2000, sub,
                            conditional=False)
    last = -0.5 + 0.02 * 12
    assert np.allclose(f[0], last + 0.02, atol=0.005) and np.allclose(f[1], last + 0.06, atol=0.01)


def test_spread_is_persistence_plus_the_quantiles_of_past_changes():
    p = _past()
    m = spread_members(p, np.array([1, 20]), m=10)
    assert m.shape == (10, 2, 6)
    changes = (p.x[1:] - p.x[:-1]).ravel()
    offsets = m[:, 0, 0] - p.x[-1, 0]
    assert np.allclose(offsets, np.quantile(changes, (np.arange(10) + 0.5) / 10))
    longest = (p.x[7:] - p.x[:-7]).ravel()  # horizon 20 > the past: its longest lag (7)
    assert np.allclose(m[:, 1, 0] - p.x[-1, 0], np.quantile(longest, (np.arange(10) + 0.5) / 10))
    assert np.isfinite(m).all()
