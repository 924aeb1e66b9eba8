"""The shipped driver histories (drivers.csv) and the scales and indices built beside them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.data.drivers import load_drivers

README = Path(__file__).resolve().parents[2] / "model" / "data" / "README.md"
PANEL = Path(__file__).resolve().parents[2] / "model" / "data" / "panel.csv"

COLUMNS = ["iso3", "year", "arms_share_rus", "arms_share_chn", "arms_share_west", "arms_tiv_total",
           "sanctions_west", "sanctions_sco", "bri_mou", "cn_finance_musd", "west_aid_musd",
           "us_troops", "coup", "leader_change", "leader_left", "brics"]


@pytest.fixture(scope="module")
def drivers() -> pd.DataFrame:
    return load_drivers()


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(PANEL, keep_default_na=False, na_values=[""])


def test_one_complete_row_per_state_and_year(drivers):
    assert all(c in drivers.columns for c in COLUMNS)
    assert len(drivers) == 193 * 25 and not drivers.duplicated(["iso3", "year"]).any()
    assert drivers.year.min() == 2000 and drivers.year.max() == 2024
    assert not drivers.isna().any().any()  # every gap is filled by a documented rule, and flagged


def test_values_lie_in_their_ranges(drivers):
    shares = drivers[["arms_share_rus", "arms_share_chn", "arms_share_west"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert (shares.sum(axis=1) <= 1 + 1e-4).all()
    for col in ("bri_mou", "coup", "leader_change", "leader_left", "brics"):
        assert set(drivers[col].unique()) <= {0, 1}, col
    assert (drivers.leader_change >= drivers.coup).all()  # a successful coup changes the leader
    assert (drivers[["sanctions_west", "sanctions_sco", "us_troops", "arms_tiv_total"]] >= 0).all().all()


def test_last_year_hides_everything_later(drivers):
    cut = load_drivers(last_year=2014)
    assert cut.year.max() == 2014
    assert cut.equals(drivers[drivers.year <= 2014].reset_index(drop=True))


def test_every_column_and_flag_value_is_documented(drivers):
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## `drivers.csv`"):text.index("## Custom worlds")]
    for col in drivers.columns:
        assert f"`{col}`" in section, col
    for col in [c for c in drivers.columns if c.endswith("_src")]:
        for value in drivers[col].unique():
            assert re.search(rf"`{value}`", section), (col, value)


@pytest.mark.parametrize("iso3, year, column, value", [
    ("ITA", 2018, "bri_mou", 0), ("ITA", 2019, "bri_mou", 1),
    ("RUS", 2014, "sanctions_west", 8), ("RUS", 2022, "sanctions_west", 23),
    ("MLI", 2020, "coup", 1), ("MLI", 2021, "coup", 1), ("MLI", 2019, "coup", 0),
    ("UZB", 2016, "leader_change", 1), ("BRA", 2010, "brics", 1), ("EGY", 2023, "brics", 0),
])
def test_the_sources_own_checks_survive_the_build(drivers, iso3, year, column, value):
    """Public facts the source README checks, as they reach the package."""
    row = drivers[(drivers.iso3 == iso3) & (drivers.year == year)]
    assert row[column].item() == value


def test_arms_shares_name_the_known_suppliers(drivers):
    at = drivers.set_index(["iso3", "year"])
    assert at.loc[("PAK", 2023), "arms_share_chn"] > 0.7       # JF-17s, frigates, tanks
    assert at.loc[("IND", 2010), "arms_share_rus"] > 0.6
    assert at.loc[("JPN", 2020), "arms_share_west"] > 0.9


def test_sources_after_their_last_year_are_flagged_not_invented(drivers):
    late = drivers[drivers.year > 2022]
    assert (late.sanctions_src == "carried").all()
    assert (drivers[drivers.year > 2021].leader_change_src == "coup_only").all()
    seen = drivers[(drivers.year == 2021) & (drivers.leader_change_src == "reign")]
    assert 0 < len(seen) < 20 and (seen.leader_change == 1).all()  # REIGN's first quarter of 2021
    assert (drivers[drivers.year > 2021].cn_finance_src == "mean_2019_2021").all()


def test_stable_alignment_has_one_scale_constant_fitted_on_training_years(panel):
    """alignment = (x - m_y) / K with one K over all years; K = mean(E - W)/2 over 2000-2014."""
    raw = panel.pivot(index="iso3", columns="year", values="unga_index")
    votes = panel.pivot(index="iso3", columns="year", values="unga_votes")
    raw = raw.where(votes >= 20)
    x = raw.T.rolling(3, min_periods=1).mean().T.where(raw.notna())
    m, w, e = x.median(), x.loc[["USA", "GBR", "FRA"]].mean(), x.loc[["CHN", "RUS"]].mean()
    k = ((e - w) / 2).loc[:2014].mean()
    al = panel.pivot(index="iso3", columns="year", values="alignment")
    inside = x.notna() & (al.abs() < 0.999) & ((x - m).abs() > 0.05)
    ratio = ((x - m) / al)[inside].stack()
    assert ratio.std() < 1e-3 * ratio.mean()                  # one constant, every year
    assert ratio.mean() == pytest.approx(k, rel=1e-3)
    stretched = panel.pivot(index="iso3", columns="year", values="alignment_stretched")
    up = (x - m) / (e - m)
    ok = x.notna() & (x > m) & (up < 0.999)
    # The former scale is kept beside it.
    assert np.allclose(stretched[ok], up[ok], atol=1e-4, equal_nan=True)


def test_ideal_point_scale_is_one_affine_map_fitted_on_training_years(panel):
    ip = panel.pivot(index="iso3", columns="year", values="ideal_point")
    train = ip.loc[:, :2014]
    c = np.nanmedian(train.to_numpy())
    k = (train.median() - train.loc[["USA", "GBR", "FRA"]].mean()).mean()
    mapped = panel.pivot(index="iso3", columns="year", values="alignment_ideal")
    ok = ip.notna()
    assert np.allclose(mapped[ok], ((ip[ok] - c) / k).clip(-1, 1), atol=1e-4, equal_nan=True)
    assert ip.loc["CHN"].mean() > ip.loc["USA"].mean()        # + is the China/Russia side


def test_security_indices_do_not_saturate_on_sco_members(panel):
    members = panel[(panel.sco_status == "member") & ~panel.iso3.isin(["CHN", "RUS"])]
    assert len(members) > 0 and (members.sec_sco < 0.99).all()
    rest = panel[~panel.iso3.isin(["CHN", "RUS", "USA"])]
    sec = rest[["sec_sco", "sec_west"]]
    assert ((sec >= 0) & (sec < 1)).all().all()
    at = panel.set_index(["iso3", "year"])
    # More observed ties, more exposure: CSTO + SCO member Kazakhstan above SCO observer India.
    assert at.loc[("KAZ", 2014), "sec_sco"] > at.loc[("IND", 2014), "sec_sco"]
    assert at.loc[("DEU", 2014), "sec_west"] > at.loc[("AUT", 2014), "sec_west"]


def test_trade_is_spliced_to_2020_and_carried_with_a_flag_after(panel):
    late = panel[panel.year > 2020]
    assert (late.trade_src == "carried").all() and (late.trade_year == 2020).all()
    mid = panel[(panel.year > 2014) & (panel.year <= 2020)]
    assert (mid.trade_src == "dots_adj").mean() > 0.9
    assert (panel[panel.trade_src == "cow"].year <= 2014).all()
    at = panel.set_index(["iso3", "year"])
    assert at.loc[("KAZ", 2020), "trade_sco"] != at.loc[("KAZ", 2014), "trade_sco"]
