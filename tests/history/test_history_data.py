"""What an origin may know: truncation, blanking, and the origin's world."""

from __future__ import annotations

import numpy as np
import pytest

from model.base.errors import ScenarioError
from model.data.world import load_world


@pytest.mark.parametrize("year", [2005, 2014, 2024])
def test_the_world_of_a_year_is_what_a_scenario_starting_then_gets(history, year):
    mine, theirs = history.world(year), load_world("builtin", year)
    for name in ("iso3", "subregion", "alignment", "gdp_usd", "governance", "e_sco", "e_west",
                 "s_sco", "s_west", "sco_status", "nato", "eu", "csto", "brics"):
        assert np.array_equal(getattr(mine, name), getattr(theirs, name)), name
    assert np.array_equal(mine.shock_scale, theirs.shock_scale)
    assert (mine.relations.explicit != theirs.relations.explicit).nnz == 0


def test_the_shock_scale_of_a_year_reads_no_later_year(history):
    """Each state's volatility comes from its changes up to the world's year only."""
    whole = history.world(2010).shock_scale
    assert np.array_equal(history.upto(2010).world(2010).shock_scale, whole)
    assert np.array_equal(history.blind_after(2010).world(2010).shock_scale, whole)
    assert not np.array_equal(history.world(2014).shock_scale, whole)


def test_upto_drops_later_rows_and_blind_after_blanks_only_the_alignment(history):
    cut = history.upto(2010)
    assert cut.panel["year"].max() == 2010
    assert cut.drivers is None or cut.drivers["year"].max() <= 2010
    blind = history.blind_after(2010)
    later = blind.panel[blind.panel["year"] > 2010]
    assert later["alignment"].isna().all() and later["regime"].notna().all()
    assert len(blind.panel) == len(history.panel)


def test_a_world_of_a_year_without_data_is_one_line(history):
    with pytest.raises(ScenarioError, match="no data for 2030"):
        history.upto(2020).world(2030)


def test_matrix_and_status_are_nan_or_minus_one_where_unknown(history):
    years = np.array([2019, 2020, 2021])
    m = history.upto(2020).matrix("alignment", years)
    s = history.upto(2020).status(years)
    assert np.isfinite(m[:2]).all() and np.isnan(m[2]).all()
    assert (s[:2] >= 0).all() and (s[2] == -1).all()


def test_the_shock_scale_follows_the_states_of_the_worlds_year(history):
    """A state without a row in the origin's year is not in that world: the scale is the
    world's states' own (one per state, in its order), not one per state of the whole panel."""
    from dataclasses import replace

    gap = replace(history, panel=history.panel[~((history.panel["year"] == 2010)
                                                 & (history.panel["iso3"] == "SSD"))])
    world, whole = gap.world(2010), history.world(2010)
    assert "SSD" not in world.iso3 and world.shock_scale.shape == (world.n,)
    keep = whole.iso3 != "SSD"
    assert np.array_equal(world.shock_scale, gap.shock_scale(2010)[keep])
