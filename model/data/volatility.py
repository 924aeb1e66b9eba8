"""How volatile each state's alignment has been: a per-state shock scale from its own past.

States differ a lot in how much they move from year to year (a few swing states move every
year, most of Europe hardly at all), while the model's shocks share one sd. The scale here is
each state's mean absolute yearly change, divided by the room the model's shocks get
(``(1 - a**2) / 2``, docs/model.md 4.9) so that a state near a pole is not called calm only
because it has no room, shrunk towards the pooled mean by an empirical-Bayes weight
(``prior_years`` pseudo-observations of the pooled value) and expressed relative to the
pooled value. It reads only the years it is given: a world of year t gets the scale of the
changes up to t (no look-ahead). Part of the data: imports numpy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["state_shock_scale", "ROOM_FLOOR", "PRIOR_YEARS", "LIMIT", "MEASURED"]

#: for each alignment scale of the panel, the column and value that mark a measured year
MEASURED = {"alignment": ("alignment_src", "unga"),
            "alignment_stretched": ("alignment_src", "unga"),
            "alignment_ideal": ("alignment_ideal_src", "voeten")}

#: the smallest room a change is divided by (a state at a pole has none; a state near one,
#: with a handful of changes, would otherwise get a scale many times the pooled one)
ROOM_FLOOR = 0.2
#: the scales are kept within [1 / LIMIT, LIMIT] of the pooled one
LIMIT = 3.0
#: pseudo-years of the pooled value that each state's own mean is shrunk with
PRIOR_YEARS = 5.0


def state_shock_scale(x: np.ndarray, observed: np.ndarray | None = None, *,
                      prior_years: float = PRIOR_YEARS, floor: float = ROOM_FLOOR) -> np.ndarray:
    """Each state's volatility relative to the pooled one, shrunk towards 1.

    Args:
        x: (years, states) alignment, consecutive years; NaN where unknown.
        observed: (years, states) bool, True where the value was measured that year (a change
            counts only where both ends were); None: wherever ``x`` is finite.
        prior_years: weight of the pooled value, in years of changes.
        floor: the smallest room a change is divided by.

    Returns:
        (states,) scales in [1 / LIMIT, LIMIT]; 1 for a state with no usable change (and for
        all states when none has one). The pooled value is the mean over every usable change,
        so the scales' change-weighted mean is 1 before shrinking and clipping.
    """
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x) if observed is None else (np.asarray(observed, dtype=bool) & np.isfinite(x))
    if x.shape[0] < 2:
        return np.ones(x.shape[1])
    use = ok[1:] & ok[:-1]
    room = np.maximum((1.0 - np.where(ok[:-1], x[:-1], 0.0) ** 2) / 2.0, floor)
    r = np.where(use, np.abs(np.where(use, x[1:] - x[:-1], 0.0)) / room, 0.0)
    n = use.sum(axis=0).astype(float)
    total = n.sum()
    if total == 0:
        return np.ones(x.shape[1])
    pooled = r.sum() / total
    if pooled <= 0:
        return np.ones(x.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        own = (r.sum(axis=0) + prior_years * pooled) / (n + prior_years)
    return np.where(n > 0, np.clip(own / pooled, 1.0 / LIMIT, LIMIT), 1.0)
