"""The three camps and bloc totals: which camp a state's alignment puts it in, and each camp's shares.

Part of the core: imports numpy and the core's own modules only.
"""

from __future__ import annotations

import numpy as np

from ..data.world import SCO_STATUSES

CAMPS = ("sco", "nonaligned", "west")



def camp_of(alignment: np.ndarray, threshold: float) -> np.ndarray:
    """Camp codes: 0 SCO (a > t), 1 non-aligned, 2 West (a < -t)."""
    return np.where(alignment > threshold, 0, np.where(alignment < -threshold, 2, 1))



def bloc_series(alignment: np.ndarray, status: np.ndarray, gdp_usd: np.ndarray,
                population: np.ndarray, threshold: float,
                swing: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The bloc metrics over time, in one place for blocs.csv, batch tables and outcomes.

    Args:
        alignment, status: (T, n) records of a run.
        gdp_usd, population: (n,) sizes.
        threshold: |alignment| above which a state leans to a camp.
        swing: (n,) mask of the swing group, for ``swing_mean_alignment`` (left out if None).

    Returns:
        Per metric, a (T,) array: states, shares of world GDP and of population in each camp,
        SCO members and states with any status, mean and GDP-weighted mean alignment.
    """
    camps = camp_of(alignment, threshold)
    gdp = gdp_usd / gdp_usd.sum()
    pop = population / population.sum()
    out: dict[str, np.ndarray] = {}
    for c, camp in enumerate(CAMPS):
        m = camps == c
        out[f"states_{camp}"] = m.sum(axis=1)
        out[f"gdp_share_{camp}"] = m @ gdp
        out[f"pop_share_{camp}"] = m @ pop
    out["sco_members"] = (status == SCO_STATUSES.index("member")).sum(axis=1)
    out["sco_any_status"] = (status > 0).sum(axis=1)
    out["mean_alignment"] = alignment.mean(axis=1)
    out["gdp_weighted_alignment"] = alignment @ gdp
    if swing is not None:
        out["swing_mean_alignment"] = (alignment[:, swing].mean(axis=1) if swing.any()
                                       else np.full(len(alignment), np.nan))
    return out
