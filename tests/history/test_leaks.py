"""No leaks: a forecast made at an origin reads nothing after it.

Each forecast is made twice, once from the full data and once from data that cannot tell the
future (projection: every row after the origin dropped; conditional: the alignment after the
origin replaced by noise, the drivers kept, as the mode feeds them), and must come out identical,
the model's replications included. Tuning reads no year after the last validation target.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from model.history.data import ALIGNMENT_COLUMNS
from model.history.harness import (
    LAST_VALIDATION_YEAR,
    HistoryConfig,
    forecast_origin,
    tune,
)
from model.history.simulate import observed_events


def _scrambled_after(history, origin, columns=ALIGNMENT_COLUMNS, low=-1.0):
    """The data with ``columns`` (every alignment scale and what reveals it) after ``origin``
    replaced by noise."""
    panel = history.panel.copy()
    later = panel["year"] > origin
    rng = np.random.default_rng(origin)
    for col in columns:
        if col in panel.columns:
            panel.loc[later, col] = rng.uniform(low, 1, later.sum())
    return replace(history, panel=panel)


def _same(a, b):
    points_a, model_a, spread_a = a
    points_b, model_b, spread_b = b
    assert np.array_equal(spread_a, spread_b)
    assert points_a.keys() == points_b.keys()
    for name in points_a:
        assert np.array_equal(points_a[name], points_b[name]), name
    assert np.array_equal(model_a.alignment, model_b.alignment)
    assert np.array_equal(model_a.status, model_b.status)
    assert model_a.events == model_b.events


@pytest.mark.parametrize("origin", [2008, 2014, 2019])
def test_projection_is_the_same_on_data_cut_at_the_origin(history, tiny, origin):
    hs = np.array([1, 3])
    tuned = tune(history, "alignment", tiny)
    full = forecast_origin(history, "alignment", origin, hs, "projection", tuned, tiny)
    cut = forecast_origin(history.upto(origin), "alignment", origin, hs, "projection", tuned, tiny)
    _same(full, cut)


@pytest.mark.parametrize("origin", [2008, 2014, 2019])
def test_conditional_never_reads_the_alignment_after_the_origin(history, tiny, origin):
    hs = np.array([1, 3])
    tuned = tune(history, "alignment", tiny)
    full = forecast_origin(history, "alignment", origin, hs, "conditional", tuned, tiny)
    noisy = forecast_origin(_scrambled_after(history, origin), "alignment", origin, hs,
                            "conditional", tuned, tiny)
    _same(full, noisy)


def test_the_leak_test_can_fail(history, tiny):
    """Noise before the origin does change the forecasts (the comparison is not vacuous)."""
    hs = np.array([1, 3])
    tuned = tune(history, "alignment", tiny)
    full = forecast_origin(history, "alignment", 2014, hs, "projection", tuned, tiny)
    noisy = forecast_origin(_scrambled_after(history, 2012), "alignment", 2014, hs,
                            "projection", tuned, tiny)
    assert not np.array_equal(full[0]["ar_subregion"], noisy[0]["ar_subregion"])
    assert not np.array_equal(full[1].alignment, noisy[1].alignment)


def test_conditional_reads_the_observed_ties_after_the_origin(history, tiny):
    """Noise in the trade shares and security ties after the origin changes what the conditional
    mode feeds and forecasts (the ties are read), and nothing in the projection mode."""
    hs = np.array([1, 3])
    tuned = tune(history, "alignment", tiny)
    ties = ("trade_sco", "trade_west", "sec_sco", "sec_west")
    noisy = _scrambled_after(history, 2014, ties, low=0.0)
    for mode, same in (("conditional", False), ("projection", True)):
        a = forecast_origin(history, "alignment", 2014, hs, mode, tuned, tiny)[1]
        b = forecast_origin(noisy, "alignment", 2014, hs, mode, tuned, tiny)[1]
        assert np.array_equal(a.alignment, b.alignment) is same, mode


def test_conditional_events_come_from_the_years_up_to_the_horizon_only(history):
    events = observed_events(history, 2014, 10)
    assert events == observed_events(history.upto(2024), 2014, 10)
    assert observed_events(history, 2014, 3) == observed_events(history.upto(2017), 2014, 3)
    assert all(2014 < e["year"] <= 2024 for e in events)
    joins = {(e["year"], e["state"], e.get("status")) for e in events
             if e["type"] == "join" and e["org"] == "SCO"}
    assert (2017, "IND", "member") in joins and (2023, "IRN", "member") in joins
    kinds = {(e["year"], e["state"], e["type"], e.get("org")) for e in events}
    assert (2022, "RUS", "sanctions", None) in kinds  # new Western cases after the invasion
    assert (2023, "FIN", "join", "NATO") in kinds and (2020, "GBR", "leave", "EU") in kinds
    assert any(e["type"] == "government_change" for e in events)


def test_tuning_reads_nothing_after_the_last_validation_year(history):
    cfg = HistoryConfig(validation=(2008, 2011), test=(2016,), horizons=(1, 3), runs=2)
    assert tune(history, "alignment", cfg) == tune(history.upto(LAST_VALIDATION_YEAR),
                                                   "alignment", cfg)
    assert tune(history, "alignment", cfg) == tune(
        _scrambled_after(history, LAST_VALIDATION_YEAR), "alignment", cfg)


def test_observed_leader_changes_are_fed_as_leader_change_events(history):
    events = observed_events(history, 2009, 5)
    leaders = [e for e in events if e["type"] == "leader_change"]
    years = np.arange(2010, 2015)
    count = np.nan_to_num(history.driver("leader_change", years))
    assert len(leaders) == int((count > 0).sum()) > 0
