"""Issue 10's targets table on synthetic forecasts whose verdicts are known by construction.

Two scales of one synthetic test origin: on ``alignment`` the model's runs follow the same
process as the truth (calibrated, the right dynamics, a point forecast half-way to the truth,
few spurious SCO statuses); on ``alignment_ideal`` they are biased, too narrow, with changes of
the wrong autocorrelation, point the wrong way and invent statuses. Every target must be met on
the first and missed on the second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.history.harness import OriginForecast, forecaster_names
from model.history.tables import score_table
from model.history.targets import MET, MISSED, NOT_MEASURED, STRETCH, TARGETS, target_summary, target_table

N, RUNS, H = 1000, 200, 10
THETA = 0.5  # yearly changes are an MA(1): d_t = e_t + THETA e_(t-1), lag-1 autocorrelation 0.4


def ma_walk(rng, shape, years, sd=0.03, theta=THETA):
    """Cumulative sums of MA(1) steps along axis -2: (..., years, n) changes from 0."""
    e = rng.normal(scale=sd, size=(*shape[:-1], years + 1, shape[-1]))
    return np.cumsum(e[..., 1:, :] + theta * e[..., :-1, :], axis=-2)


class FakeHistory:
    """What the dynamics rows read: the observed paths 2000-2014, every year measured."""

    def __init__(self, paths: dict):
        self.paths = paths

    def matrix(self, scale, years):
        return self.paths[scale][np.asarray(years) - 2000]

    def measured(self, scale, years):
        return np.ones((len(years), N), dtype=bool)


def synthetic(rng, scale: str, good: bool, horizons=tuple(range(1, H + 1))) -> OriginForecast:
    hs = np.array(horizons)
    start = rng.uniform(-0.5, 0.5, N)
    y = start + ma_walk(rng, (N,), H)[hs - 1]
    sd, theta, bias = (0.03, THETA, 0.0) if good else (0.009, -THETA, 0.2)
    runs = start + bias + ma_walk(rng, (RUNS, N), H, sd=sd, theta=theta)[:, hs - 1]
    points = {name: start + 0.2 for name in forecaster_names()}  # every rival is biased
    points["persistence"] = np.broadcast_to(start, y.shape).copy()
    points["model"] = start + (0.5 if good else -1.0) * (y - start)
    spread = start + rng.normal(scale=0.5, size=runs.shape)  # far too wide
    status_start = np.zeros(N, dtype=np.int8)
    observed = np.zeros((len(hs), N), dtype=np.int8)
    observed[:, :2] = 1  # two states change status
    model = np.zeros((RUNS, len(hs), N), dtype=np.int8)
    model[:, :, :2] = 1
    model[:, :, 2:(5 if good else 6)] = 1  # 3 spurious (<= 2 + 1) or 4 (> 2 + 1)
    return OriginForecast(scale=scale, mode="projection", split="test", origin=2014,
                          horizons=hs, observed=y, start=start, points=points,
                          ensembles={"model": runs, "spread": spread}, status_model=model,
                          status_observed=observed, status_start=status_start)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(np.random.SeedSequence(10))
    forecasts = [synthetic(rng, "alignment", True), synthetic(rng, "alignment_ideal", False)]
    observed = {s: rng.uniform(-0.5, 0.5, N) + np.vstack([np.zeros((1, N)),
                                                          ma_walk(rng, (N,), 14)])
                for s in ("alignment", "alignment_ideal")}
    est = tmp_path_factory.mktemp("est") / "estimates.csv"
    pd.DataFrame({"term": ["regime", "regime"], "horizon": [5, 1], "scale": ["stable"] * 2,
                  "estimate": [-0.1, 0.3], "ci_low": [-0.3, 0.1], "ci_high": [0.1, 0.5],
                  "spec": ["changes"] * 2, "driver_sd": [0.07, 0.03]}).to_csv(est, index=False)
    scores = score_table(forecasts, n_boot=50, seed=1)
    return target_table(forecasts, scores, FakeHistory(observed), n_boot=50, seed=1,
                        estimates=est)


@pytest.mark.parametrize("target", ["crps", "rmse", "cover50", "cover90", "dyn_median",
                                    "dyn_p95", "dyn_p99", "dyn_ac1", "dyn_sd10", "sco_spurious"])
def test_the_good_model_meets_every_target_and_the_bad_one_misses_it(table, target):
    part = table[(table["target"] == target) & (table["split"] == "test")]
    good = part[part["scale"] == "alignment"]["status"]
    bad = part[part["scale"] == "alignment_ideal"]["status"]
    assert len(good) and (good == MET).all(), part
    assert len(bad) and (bad == MISSED).all(), part


def test_skill_rows_cover_the_headline_horizons_with_paired_intervals(table):
    crps = table[table["target"] == "crps"]
    assert sorted(crps["horizon"].unique()) == [1, 3, 5, 10]
    good = crps[crps["scale"] == "alignment"]
    # the calibrated ensemble beats the best rival (persistence, unbiased) clearly: the stretch
    assert (good["reference"] == "persistence").all() and (good["stretch"] == STRETCH).all()
    assert (good["interval_lo"] <= good["value"] - good["reference_value"]).all()
    assert (crps[crps["scale"] == "alignment_ideal"]["stretch"] == "").all()


def test_effect_rows_are_the_panel_side_only(table):
    eff = table[table["target"] == "effect"]
    assert len(eff) == 1  # the 5-year row; the 1-year one is not a target
    r = eff.iloc[0]
    assert r["status"] == NOT_MEASURED and r["scale"] == "alignment"
    assert r["reference_value"] == pytest.approx(-0.007)
    assert (r["interval_lo"], r["interval_hi"]) == pytest.approx((-0.021, 0.007))
    assert "test_lever_sizes" in r["note"]


def test_the_summary_has_one_row_per_target_and_says_where_it_missed(table):
    summary = target_summary(table).set_index("target")
    assert list(summary.index) == [t.name for t in TARGETS]
    assert (summary.drop(index="effect")["status"] == MISSED).all()
    assert summary.at["effect", "status"] == NOT_MEASURED
    assert summary.at["crps", "met"] == 4 and summary.at["crps", "missed"] == 4
    assert summary.at["sco_spurious", "cells"].startswith("missed: alignment_ideal")


def _one_scale_targets(seed: int, horizons: tuple[int, ...]):
    """The target table of one synthetic test-origin forecast of 'alignment' at ``horizons``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    forecasts = [synthetic(rng, "alignment", True, horizons=horizons)]
    history = FakeHistory({"alignment": ma_walk(rng, (N,), 15)})
    scores = score_table(forecasts, n_boot=20, seed=1)
    return target_table(forecasts, scores, history, n_boot=20, seed=1,
                        estimates="/nonexistent/estimates.csv")


def test_a_target_without_a_cell_in_the_run_is_named_not_measured():
    t = _one_scale_targets(11, (1, 2, 3))
    assert set(t["target"]) == {x.name for x in TARGETS}
    by = t.groupby("target")["status"].agg(set)
    assert by["sco_spurious"] == by["effect"] == by["dyn_sd10"] == {NOT_MEASURED}
    assert by["dyn_ac1"] == {MET, NOT_MEASURED}  # measured on test; no validation origin
    assert sorted(t[t["target"] == "crps"]["horizon"]) == [1, 3]


def test_autocorrelation_not_measured_for_want_of_consecutive_horizons_says_so():
    """With horizons 1, 3, 5 (``--quick``) a run's path holds one yearly change: the lag-1
    autocorrelation is not measured, and its note says why rather than counting changes."""
    t = _one_scale_targets(12, (1, 3, 5))
    ac1 = t[(t["target"] == "dyn_ac1") & (t["split"] == "test")].iloc[0]
    assert ac1["status"] == NOT_MEASURED
    assert "consecutive" in ac1["note"]
    median = t[(t["target"] == "dyn_median") & (t["split"] == "test")].iloc[0]
    assert median["status"] == MET  # the yearly changes of horizon 1 are measured
