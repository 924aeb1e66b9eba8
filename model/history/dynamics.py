"""Moments of yearly alignment changes, observed and simulated: the dynamics targets of issue 10.

``change_stats`` pools the median, p95 and p99 of |yearly change|, the lag-1 autocorrelation of
a state's consecutive yearly changes and the sd of 10-year changes over any number of paths
(``tools/estimate_model.py`` uses it for docs/estimates.md section 3). ``observed_dynamics``
reads the panel's measured years up to 2014; ``simulated_dynamics`` reads the harness's own
model ensembles (each run's path from the origin through consecutive horizons). Imports numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["change_stats", "observed_dynamics", "simulated_dynamics", "MOMENTS"]

#: the moments, in report order
MOMENTS = ("median", "p95", "p99", "ac1", "sd10")
DECADE = 10


def _as_list(paths) -> list[np.ndarray]:
    if isinstance(paths, np.ndarray):
        return [np.asarray(paths, dtype=float)]
    return [np.asarray(p, dtype=float) for p in paths]


def change_stats(paths, decade=None) -> dict[str, float]:
    """Pooled statistics of yearly changes of ``paths`` (..., years, states); NaN = unobserved.

    ``paths`` is one array or a list of arrays (of different lengths, e.g. one per origin).
    Returns the median, p95 and p99 of |yearly change|, the lag-1 autocorrelation of yearly
    changes (pairs of consecutive changes of one state in one path, Pearson, pooled) and the
    sd of the 10-year changes ``decade`` (given, or every 10-year span of the paths), with the
    counts; a moment with nothing to measure is NaN.
    """
    absd, lag0, lag1, spans = [], [], [], []
    for p in _as_list(paths):
        d = np.diff(p, axis=-2)
        absd.append(np.abs(d[np.isfinite(d)]))
        lag0.append(d[..., 1:, :].ravel())
        lag1.append(d[..., :-1, :].ravel())
        if decade is None and p.shape[-2] > DECADE:
            spans.append((p[..., DECADE:, :] - p[..., :-DECADE, :]).ravel())
    absd = np.concatenate(absd)
    lag0, lag1 = np.concatenate(lag0), np.concatenate(lag1)
    ok = np.isfinite(lag0) & np.isfinite(lag1)
    if decade is not None:
        spans = [np.asarray(x, dtype=float).ravel() for x in _as_list(decade)]
    dec = np.concatenate(spans) if spans else np.array([])
    dec = dec[np.isfinite(dec)]
    nan = float("nan")
    return {"median": float(np.median(absd)) if absd.size else nan,
            "p95": float(np.quantile(absd, 0.95)) if absd.size else nan,
            "p99": float(np.quantile(absd, 0.99)) if absd.size else nan,
            "ac1": float(np.corrcoef(lag0[ok], lag1[ok])[0, 1]) if ok.sum() > 2 else nan,
            "sd10": float(np.std(dec, ddof=1)) if dec.size > 1 else nan,
            "n_changes": int(absd.size), "n_decades": int(dec.size)}


def observed_dynamics(history, scale: str, first: int, last: int) -> dict[str, float]:
    """``change_stats`` of ``scale`` in first..last, only the years measured (not filled).

    On the stable scale with 2000-2014 this is docs/estimates.md section 3's "observed" row.
    """
    years = np.arange(first, last + 1)
    x = history.matrix(scale, years)
    return change_stats(np.where(history.measured(scale, years), x, np.nan))


def simulated_dynamics(forecasts, scale: str, split: str, mode: str = "projection"
                       ) -> dict[str, float]:
    """``change_stats`` of the model's runs in the harness's own forecasts.

    Per origin, each run's path is the origin's value followed by the runs at horizons
    1, 2, ... as far as they are consecutive; 10-year changes are the runs at horizon 10 minus
    the origin's value, where horizon 10 exists. Pooled over origins, runs and states.
    """
    paths, decades = [], []
    for f in forecasts:
        if (f.scale, f.split, f.mode) != (scale, split, mode):
            continue
        hs = np.asarray(f.horizons)
        consecutive = hs == np.arange(1, len(hs) + 1)
        k = len(hs) if consecutive.all() else int(np.argmin(consecutive))
        runs = f.members
        start = np.broadcast_to(f.start, (runs.shape[0], 1, runs.shape[2]))
        if k:
            paths.append(np.concatenate([start, runs[:, :k]], axis=1))
        if DECADE in hs:
            decades.append(runs[:, int(np.flatnonzero(hs == DECADE)[0])] - start[:, 0])
    if not paths:
        return {m: float("nan") for m in MOMENTS} | {"n_changes": 0, "n_decades": 0}
    return change_stats(paths, decade=decades)
