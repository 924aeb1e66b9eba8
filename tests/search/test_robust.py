"""Robustness criteria and the Pareto front (``search.robust``) on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pytest

from model.search.robust import pareto_mask, regrets, scores

# 3 candidates x 2 scenarios x 2 replications, larger is better
U = np.array([[[1.0, 3.0], [0.0, 0.0]],     # means 2, 0
              [[1.0, 1.0], [1.0, 1.0]],     # means 1, 1
              [[0.0, 0.0], [2.0, 2.0]]])    # means 0, 2


def test_mean_worst_and_regret():
    assert scores(U, "mean").tolist() == [1.0, 1.0, 1.0]
    assert scores(U, "worst").tolist() == [0.0, 1.0, 0.0]
    assert regrets(U).tolist() == [2.0, 1.0, 2.0]  # best per scenario: 2 and 2
    assert scores(U, "regret").tolist() == [-2.0, -1.0, -2.0]


def test_percentile_pools_every_run_on_the_bad_side():
    assert scores(U, "percentile", 0.0).tolist() == [0.0, 1.0, 0.0]
    assert scores(U, "percentile", 100.0).tolist() == [3.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="criterion"):
        scores(U, "median")


def test_pareto_front():
    pts = np.array([[1.0, -5.0], [2.0, -5.0], [2.0, -5.0], [3.0, -9.0], [np.nan, 0.0], [0.0, -9.0]])
    assert pareto_mask(pts).tolist() == [False, True, True, True, False, False]
