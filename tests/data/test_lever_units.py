"""tools/lever_units.py: the shipped table rebuilds to the byte, reads no year after 2014, and
measures what it says (the 90th percentile of detrended 5-year rises, in the rate's unit)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
try:
    import lever_units
finally:
    sys.path.pop(0)

SHIPPED = ROOT / "model" / "data" / "lever_units.csv"


@pytest.fixture(scope="module")
def world():
    return lever_units.read_world()


def test_the_shipped_table_rebuilds_byte_for_byte(world, tmp_path):
    out = tmp_path / "lever_units.csv"
    assert lever_units.main(["--out", str(out)]) == 0
    assert out.read_bytes() == SHIPPED.read_bytes()


def test_only_years_up_to_2014_are_read(world, scramble_after):
    panel, drivers = world
    table = lever_units.lever_units(panel, drivers)
    p2, d2 = scramble_after(2014, 101, panel, drivers)
    assert table.equals(lever_units.lever_units(p2, d2))
    assert table["years"].str.slice(5).astype(int).max() <= 2014
    assert list(table.columns) == lever_units.COLUMNS


def synthetic(rises: np.ndarray, room: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """States whose trade share with China and Russia rises linearly at the given yearly rates."""
    years = np.arange(2000, 2015)
    n = len(rises)
    iso = np.repeat([f"S{i:02d}" for i in range(n)], len(years))
    year = np.tile(years, n)
    share = 0.1 + np.repeat(rises, len(years)) * (year - 2000)
    panel = pd.DataFrame({"iso3": iso, "year": year, "regime": 0.5, "regime_src": "vdem",
                          "trade_sco": share, "trade_west": 1.0 - room - 0.1, "trade_src": "cow"})
    drivers = pd.DataFrame({"iso3": iso, "year": year, "arms_share_rus": 0.0, "arms_share_chn": 0.0,
                            "arms_share_west": 0.0, "arms_tiv_total": 1.0, "arms_src": "sipri",
                            "cn_finance_musd": 100.0, "cn_finance_src": "aiddata",
                            "west_aid_musd": 100.0, "west_aid_src": "oecd_dac"})
    return panel, drivers


def test_the_trade_rate_is_the_detrended_90th_percentile_per_unit_of_room():
    rises = np.linspace(0.0, 0.01, 21)  # yearly rises of the share, median 0.005
    panel, drivers = synthetic(rises, room=0.5)
    t = lever_units.load_years(panel, drivers)
    obs = {o.key: o for o in lever_units.OBSERVABLES}["trade_sco"]
    row = lever_units.measure(t, obs)
    # the room at the start of a window is 1 - 0.1 - rise*(t - 2000) - west: it shrinks as the
    # share rises, so compute the expected rates window by window
    expected = []
    for start in range(2000, 2010):
        start_share = 0.1 + rises * (start - 2000)
        room = 1.0 - start_share - (1.0 - 0.5 - 0.1)
        rate = rises / room
        expected.append(rate - np.median(rate))
    assert row["q90"] == pytest.approx(np.quantile(np.concatenate(expected), 0.9))
    assert row["rate_q90"] == row["q90"] and row["n_obs"] == 21 * 10 and row["years"] == "2000-2014"


def test_a_cell_not_observed_that_year_is_not_used():
    panel, drivers = synthetic(np.linspace(0.0, 0.01, 5), room=0.5)
    t = lever_units.load_years(panel.assign(trade_src=np.where(panel.year == 2007, "nearest", "cow")),
                               drivers)
    obs = {o.key: o for o in lever_units.OBSERVABLES}["trade_sco"]
    assert lever_units.measure(t, obs)["n_obs"] == 5 * 8  # windows from 2002 and to 2007 dropped


def test_security_rates_convert_the_arms_share_by_the_index_weight(world):
    table = lever_units.lever_units(*world).set_index("key")
    for key in ("arms_sco", "arms_west"):
        assert table.loc[key, "rate_q90"] == pytest.approx(0.8 * table.loc[key, "q90"])
    assert (table.loc[["arms_sco", "trade_sco", "regime"], "q90"] > 0).all()
    q = table[["q75", "q90", "q95"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
