"""What the conditional mode feeds: observed trade shares and security ties as ``ties`` events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.config.scenario import Scenario
from model.history.data import History
from model.history.simulate import TIES_STEP, observed_events

CHANNELS = ("e_sco", "e_west", "s_sco", "s_west")


def _history(rows: list[tuple]) -> History:
    """A small panel: (iso3, year, trade_sco, trade_west, sec_sco, sec_west) and quiet the rest."""
    panel = pd.DataFrame(rows, columns=["iso3", "year", "trade_sco", "trade_west", "sec_sco",
                                        "sec_west"])
    panel = panel.assign(sco_status="none", nato=0, eu=0, csto=0, brics=0, regime=0.5,
                         alignment=0.0)
    return History(panel=panel, drivers=None, borders=(np.array([]), np.array([])))


def _ties(events):
    return {(e["year"], e["state"]): {c: e[c] for c in CHANNELS if c in e}
            for e in events if e["type"] == "ties"}


def test_ties_are_fed_once_they_move_past_the_step_and_drifts_add_up():
    small = TIES_STEP * 0.6  # below the step alone, past it after two years
    known = _history([
        ("AAA", 2010, 0.20, 0.50, 0.1, 0.4), ("BBB", 2010, 0.10, 0.60, 0.0, 0.5),
        ("AAA", 2011, 0.20 + small, 0.50, 0.1, 0.3), ("BBB", 2011, 0.10, 0.60, np.nan, 0.5),
        ("AAA", 2012, 0.20 + 2 * small, 0.50, 0.1, 0.3), ("BBB", 2012, 0.10, 0.60, 0.0, 0.5),
    ])
    ties = _ties(observed_events(known, 2010, 2))
    assert ties == {(2011, "AAA"): {"s_west": pytest.approx(0.3)},
                    (2012, "AAA"): {"e_sco": pytest.approx(0.20 + 2 * small)}}
    # Every ties event is a valid scenario event (the schema's ranges and rules).
    Scenario.model_validate({"name": "t", "start_year": 2010, "horizon": 2,
                             "events": observed_events(known, 2010, 2)})


def test_trade_shares_are_scaled_as_the_world_scales_them():
    known = _history([("AAA", 2010, 0.2, 0.5, 0.1, 0.4), ("AAA", 2011, 0.9, 0.6, 0.1, 0.4)])
    (levels,) = _ties(observed_events(known, 2010, 1)).values()
    assert levels == {"e_sco": pytest.approx(0.6), "e_west": pytest.approx(0.4)}


def test_the_real_data_feed_trade_to_2020_and_security_ties_to_the_end(history):
    events = observed_events(history.blind_after(2014), 2014, 10)
    ties = [e for e in events if e["type"] == "ties"]
    assert ties and events[-len(ties):] == ties  # last: they win over a status change's ties
    trade_years = {e["year"] for e in ties if "e_sco" in e or "e_west" in e}
    security_years = {e["year"] for e in ties if "s_sco" in e or "s_west" in e}
    assert max(trade_years) == 2020  # carried forward after 2020: no change to feed
    assert max(security_years) == 2024
    years = np.arange(2014, 2025)
    sec = history.matrix("sec_west", years)
    moved = np.abs(sec[-1] - sec[0]) > 0.1
    fed = {e["state"] for e in ties if "s_west" in e}
    assert set(history.iso3[moved]) <= fed
