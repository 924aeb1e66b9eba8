"""The fair statistical rival: a pooled regression given the same information as the model.

For each horizon h a direct ridge regression of the change ``x[t+h] - x[t]`` on what is known
at ``t`` (the state's level, its distance from the year's median and from its subregion, its
last change, trade and security ties, regime, SCO status, NATO membership and, where the data
hold them, the observed drivers: arms shares by supplier, Western sanctions, US troops, Chinese
finance, Western aid, a Belt and Road MoU) and, in the conditional mode, of what happened in
``(t, t+h]`` (status and membership changes, sanctions, coups, leader changes, changes of
regime, trade, security and arms shares). It is fitted on every pair with ``t + h <= origin``
only, pooled over states and years; with fewer than ``MIN_ROWS`` pairs it falls back to
persistence. The penalty is fixed (``PENALTY``), not tuned. Imports numpy and history only.
"""

from __future__ import annotations

import warnings

import numpy as np

from .baselines import subregion_means
from .data import History

__all__ = ["regression_forecast", "PENALTY", "MIN_ROWS"]

PENALTY = 10.0   # ridge penalty on standardised features (fixed: nothing is tuned on the test)
MIN_ROWS = 100   # fewer training pairs than this: the forecast is persistence

#: Levels known at t (panel columns, then driver columns; missing ones are skipped).
LEVELS = ("trade_sco", "trade_west", "sec_sco", "sec_west", "regime", "nato")
DRIVER_LEVELS = ("arms_share_rus", "arms_share_chn", "arms_share_west", "bri_mou")
DRIVER_LOGS = ("us_troops", "cn_finance_musd", "west_aid_musd")
#: What may change in (t, t+h]: differences of these, counts of those events.
CHANGES = ("sco_code", "nato", "eu", "csto", "brics", "regime", "trade_sco", "trade_west",
           "sec_sco", "sec_west", "arms_share_rus", "arms_share_chn", "arms_share_west", "bri_mou")
COUNTS = ("coup", "leader_change", "sanctions_new")


def _known_arrays(known: History, scale: str, years: np.ndarray, sub: np.ndarray) -> dict:
    """Every (years, states) array the features are made of, read from ``known`` only."""
    x = known.matrix(scale, years)
    with warnings.catch_warnings():  # years after the origin are all NaN in the projection mode
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(x, axis=1, keepdims=True)
    a = {"x": x, "from_median": x - median, "from_subregion": x - subregion_means(x, sub)}
    a["last_change"] = np.vstack([np.full((1, x.shape[1]), np.nan), np.diff(x, axis=0)])
    for c in LEVELS:
        a[c] = known.matrix(c, years)
    for c in ("eu", "csto", "brics"):
        a[c] = known.matrix(c, years)
    a["sco_code"] = known.status(years).astype(float)
    a["sco_code"][a["sco_code"] < 0] = np.nan
    for c in DRIVER_LEVELS + ("coup", "leader_change"):
        a[c] = known.driver(c, years)
    for c in DRIVER_LOGS:
        a[c] = np.log1p(np.maximum(known.driver(c, years), 0))
    s = known.driver("sanctions_west", years)
    a["sanctions_west"] = (s > 0).astype(float) + np.where(np.isnan(s), np.nan, 0)
    rise = np.vstack([np.full((1, s.shape[1]), np.nan), np.diff(s, axis=0)])
    a["sanctions_new"] = np.where(np.isnan(rise), np.nan, (rise > 0).astype(float))
    return a


def _design(a: dict, t: int, h: int, conditional: bool) -> np.ndarray:
    """Features of every state at year index ``t`` for horizon ``h``: (states, features)."""
    cols = [a[c][t] for c in ("x", "from_median", "from_subregion", "last_change", *LEVELS,
                              "sco_code", "sanctions_west", *DRIVER_LEVELS, *DRIVER_LOGS)]
    if conditional:
        cols += [a[c][t + h] - a[c][t] for c in CHANGES]
        with np.errstate(all="ignore"):
            cols += [np.nansum(a[c][t + 1:t + h + 1], axis=0)
                     + np.where(np.isnan(a[c][t + 1:t + h + 1]).all(axis=0), np.nan, 0)
                     for c in COUNTS]
    return np.column_stack(cols)


def _ridge(z: np.ndarray, y: np.ndarray, z_new: np.ndarray) -> np.ndarray:
    """Fit on (z, y) with standardised features (NaN -> the training mean), predict ``z_new``."""
    with warnings.catch_warnings():  # a feature with no value in the training years is dropped
        warnings.simplefilter("ignore", RuntimeWarning)
        mu, sd = np.nanmean(z, axis=0), np.nanstd(z, axis=0)
    keep = np.isfinite(mu) & (sd > 1e-12)
    zs = np.nan_to_num((z[:, keep] - mu[keep]) / sd[keep])
    zn = np.nan_to_num((z_new[:, keep] - mu[keep]) / sd[keep])
    y0 = y.mean()
    beta = np.linalg.solve(zs.T @ zs + PENALTY * np.eye(zs.shape[1]), zs.T @ (y - y0))
    return y0 + zn @ beta


def regression_forecast(known: History, scale: str, origin: int, horizons: np.ndarray,
                        first_year: int, sub: np.ndarray, *, conditional: bool) -> np.ndarray:
    """The regression's forecast at ``origin`` for each horizon: (horizons, states).

    ``known`` is what the mode may know (``History.upto`` or ``History.blind_after``); the
    training pairs end at the origin whatever it holds.
    """
    years = np.arange(first_year, origin + int(max(horizons)) + 1)
    a = _known_arrays(known, scale, years, sub)
    o = origin - first_year
    x = a["x"]
    last = x[o]
    out = np.empty((len(horizons), x.shape[1]))
    for k, h in enumerate(np.asarray(horizons, dtype=int)):
        zs, ys = [], []
        for t in range(1, o - h + 1):
            y = x[t + h] - x[t]
            ok = ~np.isnan(y)
            zs.append(_design(a, t, h, conditional)[ok])
            ys.append(y[ok])
        rows = sum(len(y) for y in ys)
        if rows < MIN_ROWS:
            out[k] = last
            continue
        change = _ridge(np.vstack(zs), np.concatenate(ys), _design(a, o, h, conditional))
        out[k] = np.clip(last + change, -1.5, 1.5)
    return out
