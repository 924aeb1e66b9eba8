"""Scores: the closed-form CRPS, interval hits, and bootstrap means over states."""

from __future__ import annotations

import numpy as np
import pytest

from model.history.scores import (
    bootstrap_weights,
    cell_scores,
    crps_ensemble,
    interval_hits,
    weighted_mean,
)


def test_crps_matches_the_pairwise_definition():
    rng = np.random.default_rng(1)
    members, y = rng.normal(size=(7, 5, 3)), rng.normal(size=(5, 3))
    brute = (np.abs(members - y).mean(axis=0)
             - 0.5 * np.abs(members[:, None] - members[None, :]).mean(axis=(0, 1)))
    assert np.allclose(crps_ensemble(members, y), brute)


def test_crps_of_one_member_is_the_absolute_error_and_a_wider_miss_costs_more():
    y = np.array([0.2, -0.1])
    assert np.allclose(crps_ensemble(np.array([[0.5, 0.0]]), y), [0.3, 0.1])
    near = crps_ensemble(np.array([[0.1], [0.3]]), np.array([0.2]))
    far = crps_ensemble(np.array([[0.6], [0.8]]), np.array([0.2]))
    assert far > near


def test_interval_hits():
    members = np.linspace(0, 1, 101)[:, None]
    assert interval_hits(members, np.array([0.5]), 0.5)[0] == 1.0
    assert interval_hits(members, np.array([0.9]), 0.5)[0] == 0.0
    assert interval_hits(members, np.array([0.9]), 0.9)[0] == 1.0


def test_direction_is_scored_only_where_the_state_moved():
    start = np.zeros(3)
    y = np.array([0.3, -0.3, 0.05])
    s = cell_scores(np.array([0.1, 0.1, 0.1]), y, start)
    assert s["direction"][0] == 1.0 and s["direction"][1] == 0.0 and np.isnan(s["direction"][2])
    assert np.allclose(s["crps"], np.abs(np.array([0.1, 0.1, 0.1]) - y))
    assert np.isnan(s["cover90"]).all()
    dust = cell_scores(np.array([1e-15, -1e-15]), np.array([0.3, -0.3]), np.zeros(2))
    assert (dust["direction"] == 0).all()  # no change forecast, however it rounds


def test_bootstrap_row_zero_is_the_plain_mean_and_rows_resample_states():
    w = bootstrap_weights(4, 50, seed=3)
    assert w.shape == (51, 4) and (w[0] == 1).all() and (w[1:].sum(axis=1) == 4).all()
    assert np.array_equal(w, bootstrap_weights(4, 50, seed=3))
    values = np.array([[1.0, 2.0, np.nan, 4.0], [1.0, np.nan, 3.0, 4.0]])
    means = weighted_mean(values, w)
    assert means[0] == pytest.approx(np.nanmean(values))
    assert means[1:].min() >= 1.0 and means[1:].max() <= 4.0
