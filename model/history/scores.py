"""Scores of forecasts against what happened, with bootstrap intervals over states.

Every score is an average over (origin, state) cells of one horizon. The bootstrap resamples
states (with all their origins), the same resamples for every forecaster, so that an interval
for a skill score is paired. The CRPS of an ensemble is the closed form of Gneiting and
Raftery (2007), ``E|X - y| - E|X - X'| / 2``, over the empirical distribution of the runs; for
a point forecast it is the absolute error. Imports numpy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["crps_ensemble", "interval_hits", "bootstrap_weights", "weighted_mean", "MOVE",
           "cell_scores"]

MOVE = 0.1  # a state "moved" when its observed change exceeds this: direction is scored on those
STILL = 1e-9  # a forecast change smaller than this is no change (persistence gets no direction)


def crps_ensemble(members: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS of the empirical distribution of ``members`` (runs first) at ``y``: shape of ``y``."""
    x = np.sort(members, axis=0)
    r = x.shape[0]
    spread_w = (2 * np.arange(1, r + 1) - r - 1).reshape((r,) + (1,) * (x.ndim - 1))
    mean_abs = np.abs(x - y[None]).mean(axis=0)
    pair = 2.0 * (spread_w * x).sum(axis=0) / r**2  # E|X - X'| over all ordered pairs
    return mean_abs - 0.5 * pair


def interval_hits(members: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """1.0 where ``y`` lies in the central ``level`` interval of the runs, else 0.0."""
    lo, hi = np.quantile(members, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return ((y >= lo) & (y <= hi)).astype(float)


def cell_scores(point: np.ndarray, y: np.ndarray, start: np.ndarray,
                members: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-cell scores of one forecaster: squared and absolute error, CRPS, hits, direction.

    ``point``, ``y`` and ``start`` (the origin's observed value) have one shape; ``members``,
    when given, has the runs first. Cells the score does not apply to are NaN.
    """
    err = point - y
    obs_change, pred_change = y - start, point - start
    moved = np.abs(obs_change) > MOVE
    pred_sign = np.where(np.abs(pred_change) < STILL, 0.0, np.sign(pred_change))  # float dust
    out = {"se": err**2, "ae": np.abs(err),
           "direction": np.where(moved, (pred_sign == np.sign(obs_change)) * 1.0, np.nan)}
    if members is None:
        out["crps"] = np.abs(err)
        out["cover50"] = out["cover90"] = np.full(y.shape, np.nan)
    else:
        out["crps"] = crps_ensemble(members, y)
        out["cover50"] = interval_hits(members, y, 0.5)
        out["cover90"] = interval_hits(members, y, 0.9)
    return out


def bootstrap_weights(n_states: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, states) counts of each state in a resample of the states (row 0: each once)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), n_states, n_boot]))
    draws = rng.integers(0, n_states, size=(n_boot, n_states))
    w = np.zeros((n_boot + 1, n_states))
    w[0] = 1.0
    rows = np.repeat(np.arange(1, n_boot + 1), n_states)
    np.add.at(w, (rows, draws.ravel()), 1.0)
    return w


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean over (origins, states) cells of ``values`` under each row of state ``weights``.

    ``values`` is (origins, states), NaN cells left out; returns one mean per weight row.
    """
    ok = ~np.isnan(values)
    sums = np.where(ok, values, 0.0).sum(axis=0)
    counts = ok.sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ sums) / (weights @ counts)
