"""The hindcast's tables: scores per horizon, the headline, the long table of forecasts.

``score_table`` pools the ``OriginForecast`` cells of one (scale, mode, split, horizon) and
scores every forecaster on them, with bootstrap intervals over states (paired: the same
resamples for every forecaster, so the skill interval is the interval of a difference).
``best_baselines`` picks, per scale and mode, the baseline with the lowest mean validation RMSE
over horizons: the choice is made on validation origins, the test only reports it.
Imports history and lower layers (pandas).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .harness import OriginForecast, forecaster_names
from .scores import bootstrap_weights, cell_scores, weighted_mean

__all__ = ["score_table", "best_baselines", "headline", "forecast_rows", "HEADLINE_HORIZONS",
           "LEVELS", "cell_groups", "group_weights", "boot_scores", "status_counts"]

HEADLINE_HORIZONS = (1, 3, 5, 10)
LEVELS = (5, 95)  # bootstrap interval: 90%


def status_counts(f: OriginForecast, k: int) -> tuple[float, float]:
    """Spurious and missed SCO status changes of the model at horizon index k (mean over runs)."""
    obs, start, runs = f.status_observed[k], f.status_start, f.status_model[:, k]
    known = obs >= 0
    obs_moved = (obs != start) & known
    spurious = ((runs != start) & ~obs_moved & known).sum(axis=1).mean()
    missed = ((runs != obs) & obs_moved).sum(axis=1).mean()
    return float(spurious), float(missed)


def cell_groups(forecasts: list[OriginForecast]) -> dict[tuple, list[tuple[OriginForecast, int]]]:
    """(scale, mode, split, horizon) -> the (forecast, horizon index) cells scored together."""
    groups: dict[tuple, list[tuple[OriginForecast, int]]] = {}
    for f in forecasts:
        for k, h in enumerate(f.horizons):
            groups.setdefault((f.scale, f.mode, f.split, int(h)), []).append((f, k))
    return groups


def group_weights(cells: list, h: int, n_boot: int, seed: int) -> np.ndarray:
    """The bootstrap weights of one group: the same resamples for every forecaster."""
    return bootstrap_weights(cells[0][0].observed.shape[1], n_boot, seed + h)


def boot_scores(cells: list, name: str, w: np.ndarray) -> dict[str, np.ndarray]:
    """Forecaster ``name``'s mean scores over ``cells`` under each bootstrap row of ``w``."""
    y = np.stack([f.observed[k] for f, k in cells])
    start = np.stack([f.start for f, _ in cells])
    point = np.stack([f.points[name][k] for f, k in cells])
    members = (np.stack([f.ensembles[name][:, k] for f, k in cells], axis=1)
               if name in cells[0][0].ensembles else None)
    return {m: weighted_mean(v, w) for m, v in cell_scores(point, y, start, members).items()}


def score_table(forecasts: list[OriginForecast], *, n_boot: int = 500, seed: int = 2014
                ) -> pd.DataFrame:
    """One row per scale, mode, split, horizon and forecaster (columns in docs/model.md 12)."""
    rows = []
    for (scale, mode, split, h), cells in sorted(cell_groups(forecasts).items()):
        w = group_weights(cells, h, n_boot, seed)
        y = np.stack([f.observed[k] for f, k in cells])
        status = np.array([status_counts(f, k) for f, k in cells])
        obs_moves = np.mean([((f.status_observed[k] != f.status_start)
                              & (f.status_observed[k] >= 0)).sum() for f, k in cells])
        per = {name: boot_scores(cells, name, w) for name in forecaster_names()}
        ref_rmse = np.sqrt(per["persistence"]["se"])
        ref_crps = per["persistence"]["crps"]
        for name, m in per.items():
            rmse = np.sqrt(m["se"])
            skill = 1 - rmse / ref_rmse
            row = {"scale": scale, "mode": mode, "split": split, "horizon": h,
                   "forecaster": name, "origins": len(cells), "cells": int(np.isfinite(y).sum()),
                   "rmse": rmse[0], "rmse_lo": np.percentile(rmse[1:], LEVELS[0]),
                   "rmse_hi": np.percentile(rmse[1:], LEVELS[1]), "mae": m["ae"][0],
                   "crps": m["crps"][0], "crps_lo": np.percentile(m["crps"][1:], LEVELS[0]),
                   "crps_hi": np.percentile(m["crps"][1:], LEVELS[1]),
                   "cover50": m["cover50"][0], "cover90": m["cover90"][0],
                   "direction": m["direction"][0], "skill": skill[0],
                   "skill_lo": np.percentile(skill[1:], LEVELS[0]),
                   "skill_hi": np.percentile(skill[1:], LEVELS[1]),
                   "crps_skill": 1 - m["crps"][0] / ref_crps[0]}
            if name == "model":
                row["spurious_sco"], row["missed_sco"] = status.mean(axis=0)
            elif name == "persistence":
                row["spurious_sco"], row["missed_sco"] = 0.0, float(obs_moves)
            else:
                row["spurious_sco"] = row["missed_sco"] = np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def best_baselines(scores: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Per (scale, mode): the point baseline (persistence aside) lowest in mean validation RMSE."""
    val = scores[(scores["split"] == "validation")
                 & ~scores["forecaster"].isin(["model", "persistence", "spread"])]
    mean = val.groupby(["scale", "mode", "forecaster"])["rmse"].mean()
    return {key: str(part.idxmin()[2]) for key, part in mean.groupby(level=[0, 1])}


def headline(scores: pd.DataFrame, horizons=HEADLINE_HORIZONS) -> pd.DataFrame:
    """Test origins at the headline horizons: the model, persistence and the best baseline.

    The best baseline is chosen on validation origins; ``ex_post_best`` (the lowest test RMSE)
    is shown for information and must not be read as a rival chosen fairly.
    """
    best = best_baselines(scores)
    test = scores[(scores["split"] == "test") & scores["horizon"].isin(horizons)]
    rows = []
    for (scale, mode, h), part in test.groupby(["scale", "mode", "horizon"], sort=False):
        part = part.set_index("forecaster")
        b = best.get((scale, mode), "damped")
        rivals = part.drop(index=["model", "persistence", "spread"])["rmse"]
        rows.append({"scale": scale, "mode": mode, "horizon": int(h),
                     "model_rmse": part.at["model", "rmse"],
                     "persistence_rmse": part.at["persistence", "rmse"],
                     "best_baseline": b, "best_rmse": part.at[b, "rmse"],
                     "model_skill": part.at["model", "skill"],
                     "model_skill_lo": part.at["model", "skill_lo"],
                     "model_skill_hi": part.at["model", "skill_hi"],
                     "best_skill": part.at[b, "skill"],
                     # for information only: chosen on the test itself, so not a fair rival
                     "ex_post_best": str(rivals.idxmin()), "ex_post_rmse": rivals.min(),
                     "model_crps": part.at["model", "crps"],
                     "model_cover90": part.at["model", "cover90"],
                     "spread_crps": part.at["spread", "crps"],
                     "spread_cover90": part.at["spread", "cover90"],
                     "model_spurious_sco": part.at["model", "spurious_sco"]})
    return pd.DataFrame(rows)


def forecast_rows(forecasts: list[OriginForecast], iso3: np.ndarray) -> pd.DataFrame:
    """Every forecast cell: observed, the model's mean and 5-95% band, every baseline."""
    parts = []
    for f in forecasts:
        hs, n = f.horizons, len(iso3)
        q05, q95 = np.quantile(f.members, [0.05, 0.95], axis=0)
        cols = {"scale": f.scale, "mode": f.mode, "split": f.split, "origin": f.origin,
                "horizon": np.repeat(hs, n), "year": np.repeat(f.origin + hs, n),
                "iso3": np.tile(iso3, len(hs)), "start": np.tile(f.start, len(hs)),
                "observed": f.observed.ravel(), "model_q05": q05.ravel(), "model_q95": q95.ravel()}
        cols.update({name: f.points[name].ravel() for name in forecaster_names()})
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts, ignore_index=True)
