"""The statistical rivals a model must beat before any mechanism gets credit.

Each baseline is a small declarative object: a name, a docstring saying what it assumes, the
grid of its one tuning value (tried on validation origins only, by ``harness.tune``) and a
function from the past (a (years, states) array ending at the origin) to a forecast for each
horizon. None reads anything after the origin: they are handed only ``Past``. The pooled
regression given the driver information is in ``regression``. Imports numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Past", "Baseline", "BASELINES", "subregion_means", "spread_members", "SPREAD_MEMBERS"]

SPREAD_MEMBERS = 20  # members of the probabilistic persistence (quantiles of past changes)


@dataclass(frozen=True)
class Past:
    """The scored scale up to the origin: ``x`` (years, states), NaN where unknown; subregions."""

    x: np.ndarray
    subregion: np.ndarray  # (states,) integer codes

    @property
    def last(self) -> np.ndarray:
        """The origin year's values (the last known value where the origin's is missing)."""
        filled = self.x.copy()
        for t in range(1, len(filled)):
            filled[t] = np.where(np.isnan(filled[t]), filled[t - 1], filled[t])
        return filled[-1]


def subregion_means(x: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each state's subregion mean (itself included) of each row of ``x`` (years, states)."""
    onehot = (codes[:, None] == np.unique(codes)[None, :]).astype(float)  # (states, groups)
    ok = ~np.isnan(x)
    sums = np.where(ok, x, 0.0) @ onehot
    counts = ok.astype(float) @ onehot
    return (sums / np.maximum(counts, 1)) @ onehot.T


def _persistence(p: Past, h: np.ndarray, _value) -> np.ndarray:
    return np.broadcast_to(p.last, (len(h), len(p.last))).copy()


def _damped(p: Past, h: np.ndarray, phi: float) -> np.ndarray:
    x = p.last
    centre = np.nanmedian(x)
    return centre + phi ** h[:, None] * (x - centre)[None, :]


def _smoothing(p: Past, h: np.ndarray, alpha: float) -> np.ndarray:
    level = p.x[0].copy()
    for row in p.x[1:]:
        level = np.where(np.isnan(level), row, level)
        level = np.where(np.isnan(row), level, alpha * row + (1 - alpha) * level)
    level = np.where(np.isnan(level), p.last, level)
    return np.broadcast_to(level, (len(h), len(level))).copy()


def _recent_mean(p: Past, h: np.ndarray, k: int) -> np.ndarray:
    window = p.x[-int(k):]
    ok = ~np.isnan(window)
    mean = np.where(ok.any(axis=0), np.nansum(window, axis=0) / np.maximum(ok.sum(axis=0), 1),
                    p.last)
    return np.broadcast_to(mean, (len(h), len(mean))).copy()


def _ar_subregion(p: Past, h: np.ndarray, _value) -> np.ndarray:
    m = subregion_means(p.x, p.subregion)
    d = p.x - m
    prev, cur = d[:-1].ravel(), d[1:].ravel()
    ok = ~(np.isnan(prev) | np.isnan(cur))
    rho = float(np.dot(prev[ok], cur[ok]) / np.dot(prev[ok], prev[ok])) if ok.sum() > 1 else 1.0
    rho = min(max(rho, 0.0), 1.0)
    centre = subregion_means(p.last[None, :], p.subregion)[0]
    return centre + rho ** h[:, None] * (p.last - centre)[None, :]


@dataclass(frozen=True)
class Baseline:
    """A statistical forecast: ``forecast(past, horizons, value) -> (horizons, states)``."""

    name: str
    doc: str
    forecast: Callable[[Past, np.ndarray, object], np.ndarray]
    grid: tuple = ()  # values of the one tuning value, tried on validation origins only


BASELINES: tuple[Baseline, ...] = (
    Baseline("persistence", "nothing changes: the origin's value at every horizon", _persistence),
    Baseline("damped", "each state shrunk towards the origin year's median by phi per year "
             "(phi fitted on validation origins): merely pulling extremes to the middle",
             _damped, grid=tuple(np.round(np.arange(0.80, 1.0001, 0.01), 2))),
    Baseline("smoothing", "exponential smoothing of the past years (alpha fitted on validation "
             "origins), held flat", _smoothing, grid=(0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
    Baseline("recent_mean", "the mean of the last k years (k fitted on validation origins)",
             _recent_mean, grid=(2, 3, 4, 5)),
    Baseline("ar_subregion", "a pooled AR(1) towards the origin's subregion mean, its rate "
             "fitted on the years up to each origin", _ar_subregion),
)


def spread_members(p: Past, h: np.ndarray, m: int = SPREAD_MEMBERS) -> np.ndarray:
    """Probabilistic persistence: the origin's value plus quantiles of past h-year changes.

    (members, horizons, states). The changes are pooled over every state and pair of years up
    to the origin; a horizon longer than the past uses the longest one it holds. Without it the
    model's ensemble would be compared on CRPS with a point forecast, whose CRPS is its absolute
    error: any spread would then look like skill.
    """
    out = np.empty((m, len(h), p.x.shape[1]))
    levels = (np.arange(m) + 0.5) / m
    last = p.last
    for k, hh in enumerate(np.asarray(h, dtype=int)):
        lag = min(int(hh), len(p.x) - 1)
        d = (p.x[lag:] - p.x[:-lag]).ravel() if lag > 0 else np.zeros(1)
        d = d[np.isfinite(d)]
        q = np.quantile(d, levels) if len(d) else np.zeros(m)
        out[:, k, :] = last[None, :] + q[:, None]
    return out
