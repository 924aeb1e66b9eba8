"""The built-in world and user world CSVs (``data.world``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.base.errors import ScenarioError
from model.data.world import REQUIRED_COLUMNS, _builtin_tables, builtin_years, load_world

YEARS = range(2000, 2025)
SCO_MEMBERS_2024 = {"CHN", "RUS", "KAZ", "KGZ", "TJK", "UZB", "IND", "PAK", "IRN", "BLR"}
CENTRAL_ASIA = {"KAZ", "KGZ", "TJK", "TKM", "UZB"}


@pytest.fixture(scope="module")
def w2024():
    return load_world("builtin", 2024)


def builtin_table(year: int) -> pd.DataFrame:
    """The built-in snapshot of ``year`` as a world CSV table (one row per state)."""
    states, panel, _ = _builtin_tables()
    return states.merge(panel[panel["year"] == year], on="iso3")


def test_builtin_years_cover_2000_to_2024():
    assert builtin_years() == (2000, 2024)


@pytest.mark.parametrize("year", YEARS)
def test_every_year_has_193_valid_states(year):
    w = load_world("builtin", year)
    assert w.n == 193 and w.year == year
    assert len(set(w.iso3)) == 193
    assert list(w.iso3) == sorted(w.iso3)
    assert np.all((w.alignment >= -1) & (w.alignment <= 1))
    for arr in (w.governance, w.e_sco, w.e_west, w.s_sco, w.s_west):
        assert np.all((arr >= 0) & (arr <= 1))
    assert np.all(w.e_sco + w.e_west <= 1 + 1e-12)
    assert np.all(w.gdp_usd > 0) and np.all(w.population > 0)
    assert all(w.index[c] == i for i, c in enumerate(w.iso3))


def test_year_outside_the_data_is_a_user_error():
    with pytest.raises(ScenarioError, match="no built-in data for 1999; the data covers 2000..2024"):
        load_world("builtin", 1999)


def test_camps_in_2024(w2024):
    a = dict(zip(w2024.iso3, w2024.alignment, strict=True))
    assert a["USA"] < 0 < a["CHN"]
    assert a["USA"] < 0 < a["RUS"]
    assert a["GBR"] < 0 and a["DEU"] < 0


def test_sco_members_in_2024(w2024):
    members = set(w2024.iso3[w2024.sco_status == 3])
    assert members == SCO_MEMBERS_2024
    assert set(w2024.iso3[w2024.mask(["sco_members"])]) == SCO_MEMBERS_2024


def test_world_arrays_are_read_only(w2024):
    with pytest.raises(ValueError):
        w2024.alignment[0] = 0.0


def test_relations_rows_sum_to_one_or_zero_without_self_loops(w2024):
    # A copy: indexing a CSR matrix sorts its indices in place, which would change the order of
    # the peer sums for every later test sharing the cached world (the batch tests compare bytes).
    rel = w2024.relations.copy()
    assert rel.shape == (193, 193)
    sums = np.asarray(rel.sum(axis=1)).ravel()
    assert np.all(np.isclose(sums, 1.0) | (sums == 0.0))
    assert np.all(rel.diagonal() == 0)
    assert rel.min() >= 0
    # Land borders tie neighbours: Kazakhstan listens to Russia and China.
    i = w2024.index["KAZ"]
    assert rel[i, w2024.index["RUS"]] > 0 and rel[i, w2024.index["CHN"]] > 0


def test_groups(w2024):
    g = w2024.groups()
    assert set(w2024.iso3[g["central_asia"]]) == CENTRAL_ASIA
    assert g["world"].all()
    assert set(w2024.iso3[g["g7"]]) == {"CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"}
    assert "USA" in set(w2024.iso3[g["nato"]])
    for name, mask in g.items():
        assert mask.dtype == bool and mask.shape == (193,), name


def test_mask_combines_codes_and_groups(w2024):
    m = w2024.mask(["central_asia", "PAK"])
    assert set(w2024.iso3[m]) == CENTRAL_ASIA | {"PAK"}
    assert not w2024.mask([]).any()


@pytest.mark.parametrize("bad", ["XXX", "centralasia", "usa"])
def test_mask_raises_keyerror_on_unknown_names(w2024, bad):
    with pytest.raises(KeyError, match=bad):
        w2024.mask(["KAZ", bad])


# --- user world CSVs --------------------------------------------------------------------------

def test_custom_world_csv_loads(tmp_path, w2024):
    path = tmp_path / "world.csv"
    builtin_table(2024)[list(REQUIRED_COLUMNS)].to_csv(path, index=False)
    w = load_world(str(path), 2024)
    assert w.source == str(path)
    np.testing.assert_array_equal(w.iso3, w2024.iso3)
    np.testing.assert_allclose(w.alignment, w2024.alignment)
    np.testing.assert_array_equal(w.sco_status, w2024.sco_status)
    assert (w.relations.tocsr() != w2024.relations.tocsr()).nnz == 0


def test_world_with_more_states_than_the_limit_is_refused(tmp_path, monkeypatch):
    import model.data.world as world_mod

    monkeypatch.setattr(world_mod, "MAX_STATES", 100)  # the built-in world's 193 states: too many
    path = tmp_path / "world.csv"
    builtin_table(2024)[list(REQUIRED_COLUMNS)].to_csv(path, index=False)
    world_mod._load.cache_clear()
    with pytest.raises(ScenarioError, match=r"has 193 states in 2024; a world may have at most 100"):
        load_world(str(path), 2024)


def test_custom_world_csv_relative_to_base_dir(tmp_path):
    table = builtin_table(2024)
    small = table[table["iso3"].isin(CENTRAL_ASIA | {"RUS", "CHN"})]
    small.to_csv(tmp_path / "small.csv", index=False)
    w = load_world("small.csv", 2024, base_dir=tmp_path)
    assert w.n == 7
    assert set(w.iso3[w.mask(["central_asia"])]) == CENTRAL_ASIA


def test_custom_world_csv_selects_its_year(tmp_path):
    table = pd.concat([builtin_table(2023), builtin_table(2024)])
    path = tmp_path / "two_years.csv"
    table.to_csv(path, index=False)
    w = load_world(str(path), 2023)
    np.testing.assert_allclose(w.alignment, load_world("builtin", 2023).alignment)
    with pytest.raises(ScenarioError, match="no rows for start year 2010"):
        load_world(str(path), 2010)


def test_missing_world_file(tmp_path):
    with pytest.raises(ScenarioError, match="world file not found"):
        load_world(str(tmp_path / "nope.csv"), 2024)


@pytest.mark.parametrize("column", ["trade_west", "alignment", "sco_status"])
def test_world_csv_lacking_a_column_names_it(tmp_path, column):
    path = tmp_path / "world.csv"
    builtin_table(2024)[list(REQUIRED_COLUMNS)].drop(columns=[column]).to_csv(path, index=False)
    with pytest.raises(ScenarioError, match=f"lacks columns: {column}$") as info:
        load_world(str(path), 2024)
    assert info.value.path == "world"


def test_world_csv_bad_value_names_row_and_column(tmp_path):
    table = builtin_table(2024)[list(REQUIRED_COLUMNS)].reset_index(drop=True)
    table.loc[4, "alignment"] = 3
    path = tmp_path / "world.csv"
    table.to_csv(path, index=False)
    # Row 4 of the data is line 6 of the file (after the header).
    with pytest.raises(ScenarioError, match=r"row 6, column alignment: .*3.* is not a number in \[-1, 1\]"):
        load_world(str(path), 2024)


def test_world_csv_bad_value_names_the_file_row_when_years_are_mixed(tmp_path):
    """With a ``year`` column, the row named must still be the row of the file."""
    table = pd.concat([builtin_table(2023), builtin_table(2024)]).reset_index(drop=True)
    bad = table.index[(table["year"] == 2024) & (table["iso3"] == "KAZ")][0]
    table.loc[bad, "alignment"] = 3
    path = tmp_path / "world.csv"
    table.to_csv(path, index=False)
    with pytest.raises(ScenarioError, match=rf"row {bad + 2}, column alignment"):
        load_world(str(path), 2024)


@pytest.mark.parametrize(("column", "value", "message"), [
    ("regime", "-0.1", r"column regime: .* is not a number in \[0, 1\]"),
    ("trade_sco", "lots", r"column trade_sco: 'lots' is not a number in \[0, 1\]"),
    ("sco_status", "friend", r"column sco_status: 'friend'; one of none, dialogue_partner"),
])
def test_world_csv_other_bad_values(tmp_path, column, value, message):
    table = builtin_table(2024)[list(REQUIRED_COLUMNS)].reset_index(drop=True).astype({column: object})
    table.loc[0, column] = value
    path = tmp_path / "world.csv"
    table.to_csv(path, index=False)
    with pytest.raises(ScenarioError, match=rf"row 2, {message}"):
        load_world(str(path), 2024)


def test_world_csv_duplicate_code(tmp_path):
    table = builtin_table(2024)[list(REQUIRED_COLUMNS)].reset_index(drop=True)
    table.loc[3, "iso3"] = table.loc[2, "iso3"]
    path = tmp_path / "world.csv"
    table.to_csv(path, index=False)
    with pytest.raises(ScenarioError, match=rf"row 5, column iso3: duplicate code '{table.loc[2, 'iso3']}'"):
        load_world(str(path), 2024)


def test_world_csv_must_be_a_regular_file_of_bounded_size(tmp_path):
    from model.base.errors import ScenarioError
    from model.data.world import MAX_WORLD_BYTES, load_world
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(MAX_WORLD_BYTES + 1)
    with pytest.raises(ScenarioError) as info:
        load_world(str(big), 2024)
    assert str(info.value) == f"world: world file {big}: world CSV is larger than the 32 MiB limit (32 MiB)"
    with pytest.raises(ScenarioError, match=r"not a regular file \(a folder\); give a world CSV"):
        load_world(str(tmp_path), 2024)


@pytest.mark.parametrize("year", YEARS)
def test_builtin_world_read_without_pandas_equals_the_pandas_reading(year):
    """The csv-module reader gives the bits pandas gave (values, order, dtypes)."""
    table = builtin_table(year).sort_values("iso3").reset_index(drop=True)
    w = load_world("builtin", year)
    for col in ("iso3", "name", "region", "subregion"):
        ref = table[col].to_numpy(dtype=str)
        assert getattr(w, col).dtype == ref.dtype and np.array_equal(getattr(w, col), ref)
    for col, attr in (("alignment", "alignment"), ("gdp_usd", "gdp_usd"),
                      ("population", "population"), ("regime", "governance"),
                      ("sec_sco", "s_sco"), ("sec_west", "s_west")):
        assert getattr(w, attr).tobytes() == table[col].to_numpy(dtype=float).tobytes(), col
    for org in ("nato", "eu", "csto", "brics"):
        assert np.array_equal(getattr(w, org), table[org].to_numpy(dtype=float) > 0)


@pytest.mark.parametrize("year, subregions", [
    (2000, {"Eastern Asia", "Eastern Europe"}),  # before the SCO: where China and Russia lie
    (2014, {"Central Asia", "Eastern Asia", "Eastern Europe", "Southern Asia", "Western Asia"}),
    (2024, {"Central Asia", "Eastern Asia", "Eastern Europe", "Northern Africa",
            "South-eastern Asia", "Southern Asia", "Western Asia"}),
])
def test_sco_region_comes_from_the_years_own_statuses(year, subregions):
    """No look-ahead: a 2014 world does not know of the SCO's later partners in Africa or ASEAN."""
    w = load_world(year=year)
    assert set(w.subregion[w.sco_region]) == subregions
    anchors = (w.sco_status > 0) | np.isin(w.iso3, ["CHN", "RUS"])
    assert set(w.subregion[anchors]) == subregions


def test_sco_region_of_a_custom_world_follows_its_statuses(tmp_path, w2024):
    table = builtin_table(2024).copy()
    table["sco_status"] = "none"
    table.loc[table.iso3 == "BRA", "sco_status"] = "dialogue_partner"
    path = tmp_path / "w.csv"
    table.to_csv(path, index=False)
    w = load_world(str(path), 2024)
    assert set(w.subregion[w.sco_region]) == {"South America", "Eastern Asia", "Eastern Europe"}


def test_every_year_s_snapshot_is_the_panel_as_pandas_reads_it():
    """The panel is kept as text lines per year and split on demand: the same values as read whole."""
    from model.data.world import TEXT_COLUMNS, _builtin_snapshot

    for year in range(builtin_years()[0], builtin_years()[1] + 1):
        table = builtin_table(year).sort_values("iso3")
        cols = _builtin_snapshot(year)
        assert cols["iso3"] == list(table["iso3"])
        for name in REQUIRED_COLUMNS[1:]:
            if name in TEXT_COLUMNS:
                assert cols[name] == list(table[name]), (year, name)
            else:
                np.testing.assert_array_equal(np.array(cols[name], dtype=float),
                                              table[name].to_numpy(dtype=float), err_msg=f"{year} {name}")
