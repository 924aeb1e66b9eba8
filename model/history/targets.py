"""Issue 10's targets, measured on this run: one row per target and cell, met or missed.

Issue 10 lists its targets under "Targets (measured by the harness on its test origins, chosen
and fitted without them)"; each ``Target`` below quotes its words. Only the thresholds are
written here. Every measured value comes from this run: the scores and bootstrap resamples of
``tables`` (CRPS, RMSE, coverage), the model's own ensembles (dynamics, SCO statuses), the
panel's measured years up to 2014 (observed dynamics) and ``model/data/estimates.csv`` (the
panel's effect sizes). A target with no cell in this run (a scale, mode, origin or horizon not
run) gets one row "not measured", so ``targets.csv`` always names every target.
Imports history and lower layers (pandas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.world import DATA
from .dynamics import MOMENTS, observed_dynamics, simulated_dynamics
from .harness import FIRST_YEAR, LAST_VALIDATION_YEAR, OriginForecast, forecaster_names
from .tables import HEADLINE_HORIZONS, LEVELS, boot_scores, cell_groups, group_weights, status_counts

__all__ = ["Target", "TARGETS", "target_table", "target_summary", "COLUMNS", "MET", "MISSED",
           "NOT_MEASURED", "STRETCH"]


@dataclass(frozen=True)
class Target:
    """One target of issue 10: its name, the issue's own words, and the rule checked here."""

    name: str
    issue: str
    rule: str


_SKILL = ("On the stable scale and on the ideal points, both modes, horizons 1, 3, 5 and 10: "
          "CRPS of the replication ensemble no worse than the best statistical baseline (damped "
          "persistence and the pooled regression with the same drivers included), and RMSE no "
          "worse than persistence; beating them, with bootstrap intervals that exclude zero, is "
          "the stretch goal.")
_COVER = ("Calibrated uncertainty: the 50% and 90% intervals cover 45-55% and 85-95% of "
          "observed values at every horizon.")
_DYN = ("Simulated yearly changes within 20% of observed at the median, p95 and p99; sd of "
        "10-year changes within 25% of observed; lag-1 autocorrelation of changes with the "
        "observed sign.")
TARGETS = (
    Target("crps", _SKILL, "model CRPS <= the lowest CRPS of every rival on the same test cells"),
    Target("rmse", _SKILL, "model RMSE <= persistence's RMSE on the same test cells"),
    Target("cover50", _COVER, "0.45 <= the share of test values inside the model's 50% interval "
                              "<= 0.55"),
    Target("cover90", _COVER, "0.85 <= the share inside the 90% interval <= 0.95"),
    Target("dyn_median", _DYN, "median |yearly change| within 20% of observed 2000-2014"),
    Target("dyn_p95", _DYN, "p95 of |yearly change| within 20% of observed 2000-2014"),
    Target("dyn_p99", _DYN, "p99 of |yearly change| within 20% of observed 2000-2014"),
    Target("dyn_ac1", _DYN, "lag-1 autocorrelation of yearly changes with the sign observed "
                            "2000-2014"),
    Target("dyn_sd10", _DYN, "sd of 10-year changes within 25% of observed 2000-2014"),
    Target("effect", "Effect sizes: for each driver the data can speak to (arms by supplier, "
                     "regime, leader ideology, Chinese finance, sanctions, BRICS/SCO membership, "
                     "trade), the model's 5-year response to a one-standard-deviation change lies "
                     "within the 95% interval of a panel regression on years up to 2014 (state "
                     "and year effects, clustered errors).",
           "model's 5-year response to one SD inside the panel's 95% interval"),
    Target("sco_spurious", "Spurious SCO status changes in the 2014 hindcast: at most the number "
                           "observed plus one.",
           "spurious status changes from 2014 at h = 10 (projection, mean over runs) <= "
           "observed changes + 1"),
)

#: scales the skill and calibration targets name: the stable scale and the ideal points
TARGET_SCALES = ("alignment", "alignment_ideal")
COVERAGE = {"cover50": (0.45, 0.55), "cover90": (0.85, 0.95)}
TOLERANCE = {"median": 0.20, "p95": 0.20, "p99": 0.20, "sd10": 0.25}
SCO_EXTRA = 1
HINDCAST_ORIGIN, HINDCAST_HORIZON = 2014, 10
MET, MISSED, NOT_MEASURED = "met", "missed", "not measured"
STRETCH = "beaten with interval excluding zero"
COLUMNS = ["target", "scale", "mode", "split", "horizon", "value", "reference",
           "reference_value", "interval_lo", "interval_hi", "status", "stretch", "note"]
_SCALE_OF_ESTIMATE = {"stable": "alignment", "ideal": "alignment_ideal"}


def _row(target: str, **kw) -> dict:
    return {"target": target, **kw}


def _met(ok: bool) -> str:
    return MET if ok else MISSED


def skill_rows(forecasts: list[OriginForecast], n_boot: int, seed: int) -> list[dict]:
    """CRPS against the best rival and RMSE against persistence, per test cell.

    The intervals are those of the harness's paired bootstrap over states (the same resamples
    as ``scores.csv``, 90%): model minus rival, per resample.
    """
    rows = []
    rivals = [n for n in forecaster_names() if n != "model"]
    for (scale, mode, split, h), cells in sorted(cell_groups(forecasts).items()):
        if split != "test" or scale not in TARGET_SCALES or h not in HEADLINE_HORIZONS:
            continue
        w = group_weights(cells, h, n_boot, seed)
        boot = {n: boot_scores(cells, n, w) for n in ["model", *rivals]}
        best = min(rivals, key=lambda n: boot[n]["crps"][0])
        for target, ref, key, f in (("crps", best, "crps", lambda v: v),
                                    ("rmse", "persistence", "se", np.sqrt)):
            model, other = f(boot["model"][key]), f(boot[ref][key])
            lo, hi = np.percentile(model[1:] - other[1:], LEVELS)
            rows.append(_row(target, scale=scale, mode=mode, split=split, horizon=h,
                             value=model[0], reference=ref, reference_value=other[0],
                             interval_lo=lo, interval_hi=hi, status=_met(model[0] <= other[0]),
                             stretch=STRETCH if hi < 0 else "",
                             note=f"{len(cells)} origins; interval: model minus {ref}, 90%"))
    return rows


def coverage_rows(scores: pd.DataFrame) -> list[dict]:
    """The model's 50% and 90% coverage on test origins at every horizon run."""
    sel = scores[(scores["forecaster"] == "model") & (scores["split"] == "test")
                 & scores["scale"].isin(TARGET_SCALES)]
    rows = []
    for r in sel.itertuples():
        for target, (lo, hi) in COVERAGE.items():
            v = getattr(r, target)
            rows.append(_row(target, scale=r.scale, mode=r.mode, split=r.split,
                             horizon=int(r.horizon), value=v, reference="nominal band",
                             interval_lo=lo, interval_hi=hi, status=_met(lo <= v <= hi),
                             note=f"{r.origins} origins, {r.cells} cells"))
    return rows


def _moment_status(moment: str, value: float, observed: float) -> tuple[str, str]:
    if not (np.isfinite(value) and np.isfinite(observed)):
        return NOT_MEASURED, ""
    if moment == "ac1":
        return _met(np.sign(value) == np.sign(observed)), ""
    rel = value / observed - 1
    return _met(abs(rel) <= TOLERANCE[moment]), f"{rel:+.0%} of observed"


def dynamics_rows(forecasts: list[OriginForecast], history) -> list[dict]:
    """Simulated moments (projection runs, validation and test origins) against 2000-2014.

    Observed: the measured years 2000-2014 (``LAST_VALIDATION_YEAR``), so nothing is compared
    with the test years. Simulated: the model's runs at the harness's own origins, each run's
    path through consecutive horizons (``dynamics.simulated_dynamics``). Validation origins end
    their targets in 2014, so none reaches horizon 10: the sd of 10-year changes is measured on
    the test origins only (projected from the 2014 world, which reads nothing after 2014).

    Against docs/estimates.md section 3 (stable scale), whose simulated rows are 20 runs for ten
    years from the 2004 world (0.026, 0.117, 0.195, -0.05, 0.143) and from 2014 (0.021, 0.106,
    0.184, -0.04, 0.130): here the validation origins 2005-2013 pool one to nine years of 30
    runs each (0.025, 0.115, 0.197, -0.05) and the decade is the 2014 origin's (0.132). Other
    origins, horizons and seeds; the observed row is the same (0.026, 0.124, 0.217, +0.24, 0.188).
    """
    rows = []
    for scale in TARGET_SCALES:
        if not any(f.scale == scale for f in forecasts):
            continue
        obs = observed_dynamics(history, scale, FIRST_YEAR, LAST_VALIDATION_YEAR)
        for split in ("validation", "test"):
            sim = simulated_dynamics(forecasts, scale, split)
            for m in MOMENTS:
                status, rel = _moment_status(m, sim[m], obs[m])
                n = sim["n_decades"] if m == "sd10" else sim["n_changes"]
                note = "; ".join(x for x in (rel, f"{n} simulated, "
                                             f"{obs['n_decades' if m == 'sd10' else 'n_changes']}"
                                             " observed") if x)
                if status == NOT_MEASURED and m == "sd10" and split == "validation":
                    note = "no validation origin reaches horizon 10 (targets end in 2014)"
                elif status == NOT_MEASURED and m == "ac1" and sim["n_changes"]:
                    note = (f"no two consecutive yearly changes in the runs (horizons 1, 2, 3 "
                            f"not all run); {note}")
                rows.append(_row(f"dyn_{m}", scale=scale, mode="projection", split=split,
                                 value=sim[m], reference=f"observed {FIRST_YEAR}-"
                                 f"{LAST_VALIDATION_YEAR}", reference_value=obs[m],
                                 status=status, note=note))
    return rows


def effect_rows(path=None) -> list[dict]:
    """The panel's 5-year 1-SD responses with their 95% intervals (``estimates.csv``).

    The model's responses are not in the package data (computing them is a simulation per
    driver, ``tools/estimate_model.py``), so these rows are "not measured" here and name where
    the comparison lives.
    """
    path = path or DATA / "estimates.csv"
    try:
        est = pd.read_csv(path)
    except FileNotFoundError:
        return []
    sel = est[(est["spec"] == "changes") & (est["horizon"] == 5)]
    return [_row("effect", scale=_SCALE_OF_ESTIMATE.get(r.scale, r.scale), horizon=5,
                 reference=f"panel: {r.term}", reference_value=r.estimate * r.driver_sd,
                 interval_lo=r.ci_low * r.driver_sd, interval_hi=r.ci_high * r.driver_sd,
                 status=NOT_MEASURED,
                 note="data: 1-SD response, 95% CI; the model's response beside it: "
                      "docs/estimates.md 2 and docs/model.md 6.1, held by "
                      "tests/config/test_lever_sizes.py")
            for r in sel.itertuples()]


def sco_rows(forecasts: list[OriginForecast]) -> list[dict]:
    """Spurious SCO status changes of the 2014 projection at horizon 10 against those observed."""
    rows = []
    for f in forecasts:
        if (f.origin, f.mode) != (HINDCAST_ORIGIN, "projection") or f.scale not in TARGET_SCALES \
                or HINDCAST_HORIZON not in f.horizons or f.status_model is None:
            continue
        k = int(np.flatnonzero(f.horizons == HINDCAST_HORIZON)[0])
        spurious = status_counts(f, k)[0]
        obs, start = f.status_observed[k], f.status_start
        observed = int(((obs != start) & (obs >= 0)).sum())
        rows.append(_row("sco_spurious", scale=f.scale, mode=f.mode, split=f.split,
                         horizon=HINDCAST_HORIZON, value=spurious,
                         reference="observed status changes", reference_value=observed,
                         status=_met(spurious <= observed + SCO_EXTRA),
                         note=f"{HINDCAST_ORIGIN}-{HINDCAST_ORIGIN + HINDCAST_HORIZON}, mean over "
                              f"{f.status_model.shape[0]} runs"))
    return rows


def target_table(forecasts: list[OriginForecast], scores: pd.DataFrame, history, *,
                 n_boot: int, seed: int, estimates=None) -> pd.DataFrame:
    """Every target's rows (``COLUMNS``); a target with none gets one "not measured" row."""
    rows = [*skill_rows(forecasts, n_boot, seed), *coverage_rows(scores),
            *dynamics_rows(forecasts, history), *effect_rows(estimates), *sco_rows(forecasts)]
    seen = {r["target"] for r in rows}
    rows += [_row(t.name, status=NOT_MEASURED, note="no cell in this run (its scales, modes, "
                  "origins or horizons)") for t in TARGETS if t.name not in seen]
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    order = {t.name: i for i, t in enumerate(TARGETS)}
    table["stretch"] = table["stretch"].fillna("")
    table["horizon"] = table["horizon"].astype("Int64")
    table = table.sort_values("target", key=lambda s: s.map(order), kind="stable")
    return table.reset_index(drop=True)


def _cell(r) -> str:
    parts = [str(x) for x in (r.scale, r.mode, r.split) if isinstance(x, str)]
    if pd.notna(r.horizon):
        parts.append(f"h={int(r.horizon)}")
    return " ".join(parts)


def target_summary(table: pd.DataFrame, listed: int = 6) -> pd.DataFrame:
    """One row per target: its rule, how many cells met or missed it, what was measured.

    ``cells`` lists the missed cells when there are any, else the measured ones (value vs
    reference), at most ``listed`` of them.
    """
    rows = []
    for t in TARGETS:
        part = table[table["target"] == t.name]
        counts = part["status"].value_counts()
        met, missed = int(counts.get(MET, 0)), int(counts.get(MISSED, 0))
        values = part["value"].dropna()
        shown = part[part["status"] == MISSED] if missed else part[part["status"] != NOT_MEASURED]
        named = part["reference"].nunique() > 1  # name the rival where it varies
        cells = [f"{_cell(r)}: {r.value:.4g}" + (
                     f" vs {r.reference + ' ' if named else ''}{r.reference_value:.4g}"
                     if np.isfinite(r.reference_value) else "")
                 for r in shown.itertuples()]
        text = "; ".join(cells[:listed]) + (f"; +{len(cells) - listed} more"
                                            if len(cells) > listed else "")
        rows.append({"target": t.name, "rule": t.rule,
                     "status": MISSED if missed else MET if met else NOT_MEASURED,
                     "met": met, "missed": missed,
                     "not_measured": int(counts.get(NOT_MEASURED, 0)),
                     "stretch": int((part["stretch"] == STRETCH).sum()),
                     "range": (f"{values.min():.4g} to {values.max():.4g}" if values.size
                               else part["note"].iloc[0] if len(part) else ""),
                     "cells": ("missed: " if missed else "") + text})
    return pd.DataFrame(rows)
