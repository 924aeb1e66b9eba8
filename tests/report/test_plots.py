"""Plots: the data helpers on hand-made tables whose answers are known, then every figure from a
real small run (titles, labels, ``ax=``, six PNGs, byte-identical on rewrite), and the terminal
summary quoting the numbers the plots draw."""

import subprocess
import sys
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from model.core.levers import SCO_LEVERS, WEST_LEVERS
from model.core.simulation import DRIVERS
from model.report import run_plots as plots
from model.report.summary import summary_table

matplotlib.use("Agg")

YEARS = (2020, 2021, 2022)
#: (run, iso3) -> start alignment and each driver's contributions in 2021 and 2022 (dyadic
#: numbers, so sums are exact). Alignment is built from them, so attribution must add up.
SPEC = {
    (0, "AAA"): (0.0, {"trade_facilitation": [0.125, 0.0625], "peer": [0.0, 0.0615], "shock": [0.0, 0.001]}),
    (1, "AAA"): (0.0, {"trade_facilitation": [0.25, 0.125], "peer": [0.0, 0.125]}),
    (0, "BBB"): (-0.5, {"diplomatic_alliances": [0.0, -0.25]}),
    (1, "BBB"): (-0.5, {"diplomatic_alliances": [-0.25, 0.0]}),
    (0, "CCC"): (0.25, {"peer": [0.125, 0.125]}),
    (1, "CCC"): (0.25, {"peer": [0.25, 0.0]}),
    (0, "DDD"): (-0.25, {}),
    (1, "DDD"): (-0.25, {}),
}
NAMES = {"AAA": "Aland", "BBB": "Bland", "CCC": "Cland", "DDD": "Dland"}
WORLD = SimpleNamespace(
    iso3=np.array(["AAA", "BBB", "CCC", "DDD"]), region=np.array(["Asia", "Africa", "Africa", "Africa"]),
    subregion=np.array(["Central Asia", "Western Africa", "Eastern Africa", "Eastern Africa"]))


@pytest.fixture
def hand_traj():
    rows = []
    for (run, iso), (start, contrib) in SPEC.items():
        a = start
        for t, year in enumerate(YEARS):
            row = {"run": run, "year": year, "iso3": iso, "name": NAMES[iso]}
            row.update({f"c_{d}": 0.0 for d in DRIVERS})
            if t:
                for d, values in contrib.items():
                    row[f"c_{d}"] = values[t - 1]
                a += sum(values[t - 1] for values in contrib.values())
            row["alignment"] = a
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def hand_blocs():
    rows = []
    for run, (sco, west) in enumerate([(0.2, 0.5), (0.4, 0.3)]):
        for year in YEARS:
            rows.append({"run": run, "year": year, "gdp_share_sco": sco, "gdp_share_west": west,
                         "gdp_share_nonaligned": 1 - sco - west, "states_sco": 2 + run,
                         "states_nonaligned": 1, "states_west": 1, "lean_threshold": 0.25})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def real(small_run):
    sc, world, tables = small_run
    return SimpleNamespace(scenario=sc, world=world, traj=tables.frame("trajectories"),
                           blocs=tables.frame("blocs"))


# --- data helpers -------------------------------------------------------------------------------

def test_bloc_share_series_median_and_percentiles(hand_blocs):
    s = plots.bloc_share_series(hand_blocs, "gdp_share")
    assert list(s.columns) == ["year", "camp", "median", "p5", "p25", "p75", "p95"]
    assert len(s) == 3 * len(YEARS)
    sco = s[(s["camp"] == "sco") & (s["year"] == 2021)].iloc[0]
    # Two runs, 0.2 and 0.4: linear interpolation between them.
    assert sco[["median", "p5", "p25", "p75", "p95"]].tolist() == pytest.approx([0.3, 0.21, 0.25, 0.35, 0.39])
    west = s[(s["camp"] == "west") & (s["year"] == 2020)].iloc[0]
    assert west["median"] == pytest.approx(0.4)


def test_bloc_share_series_states_become_shares(hand_blocs):
    s = plots.bloc_share_series(hand_blocs, "states")
    sco = s[(s["camp"] == "sco") & (s["year"] == 2020)].iloc[0]
    assert sco["median"] == pytest.approx((2 / 4 + 3 / 5) / 2)
    with pytest.raises(ValueError, match="measure must be one of"):
        plots.bloc_share_series(hand_blocs, "votes")


def test_key_state_series(hand_traj):
    s = plots.key_state_series(hand_traj, ["BBB", "AAA"])
    assert list(s.columns) == ["iso3", "name", "year", "median", "p5", "p25", "p75", "p95"]
    assert s["iso3"].tolist() == ["BBB"] * 3 + ["AAA"] * 3  # in the order asked for
    aaa = s[(s["iso3"] == "AAA") & (s["year"] == 2022)].iloc[0]
    # AAA ends at 0.25 (run 0) and 0.5 (run 1).
    assert aaa["name"] == "Aland"
    assert aaa[["median", "p5", "p25", "p75", "p95"]].tolist() == pytest.approx(
        [0.375, 0.2625, 0.3125, 0.4375, 0.4875])


def test_top_movers_order_and_ties(hand_traj):
    # |change|: AAA 0.375, BBB 0.25, CCC 0.25 (tie broken by code), DDD 0.
    assert plots.top_movers(hand_traj, n=3) == ["AAA", "BBB", "CCC"]
    assert plots.top_movers(hand_traj.sample(frac=1, random_state=1), n=3) == ["AAA", "BBB", "CCC"]
    assert plots.top_movers(hand_traj, n=1) == ["AAA"]


def test_attribution_sums_to_net_change_and_groups_small_drivers(hand_traj):
    table = plots.attribution_table(hand_traj, ["AAA", "BBB"])
    assert table.index.tolist() == ["AAA", "BBB"]
    # The shock (0.0005 on average) is under 2% of the largest total: grouped as 'other'.
    assert list(table.columns) == ["trade_facilitation", "diplomatic_alliances", "peer", "other"]
    assert table.loc["AAA"].tolist() == pytest.approx([(0.1875 + 0.375) / 2, 0, (0.0615 + 0.125) / 2, 0.0005])
    assert table.loc["BBB", "diplomatic_alliances"] == pytest.approx(-0.25)
    a = hand_traj.groupby(["iso3", "year"])["alignment"].mean().unstack()
    net = a[2022] - a[2020]
    assert table.sum(axis=1).to_numpy() == pytest.approx(net[["AAA", "BBB"]].to_numpy())


def test_attribution_sums_to_net_change_in_a_real_run(real):
    movers = plots.top_movers(real.traj, n=3)
    table = plots.attribution_table(real.traj, movers)
    a = real.traj.groupby(["iso3", "year"])["alignment"].mean().unstack()
    net = a.iloc[:, -1] - a.iloc[:, 0]
    assert table.sum(axis=1).to_numpy() == pytest.approx(net[movers].to_numpy(), abs=1e-9)
    assert abs(net[movers[0]]) == pytest.approx(net.abs().max())


def test_alignment_matrix_orders_by_region_subregion_start(hand_traj):
    m = plots.alignment_matrix(hand_traj, WORLD, [2020, 2022])
    assert list(m.columns) == [2020, 2022]
    assert m.index.names == ["region", "subregion", "iso3"]
    # Africa before Asia; Eastern before Western Africa; DDD (-0.25) before CCC (+0.25).
    assert m.index.get_level_values("iso3").tolist() == ["DDD", "CCC", "BBB", "AAA"]
    assert m.loc[("Asia", "Central Asia", "AAA"), 2022] == pytest.approx(0.375)
    assert plots.alignment_matrix(hand_traj, WORLD).shape == (4, 3)


# --- colours ------------------------------------------------------------------------------------

def test_every_driver_has_a_colour_and_label_and_blocs_keep_their_hue():
    assert set(DRIVERS) | {"other"} == set(plots.DRIVER_COLOURS) == set(plots.DRIVER_LABELS)
    assert len(set(plots.DRIVER_COLOURS.values())) == len(plots.DRIVER_COLOURS)
    for name in SCO_LEVERS:
        r, _, b = to_rgb(plots.DRIVER_COLOURS[name])
        assert r > b, name
    for name in WEST_LEVERS:
        r, _, b = to_rgb(plots.DRIVER_COLOURS[name])
        assert b > r, name
    assert to_rgb(plots.CAMP_COLOURS["sco"])[0] > to_rgb(plots.CAMP_COLOURS["west"])[0]


# --- figures ------------------------------------------------------------------------------------

PLOTTERS = {
    "bloc_shares": lambda d, ax: plots.plot_bloc_shares(d.blocs, ax=ax),
    "bloc_shares_states": lambda d, ax: plots.plot_bloc_shares(d.blocs, measure="states", ax=ax),
    "key_states": lambda d, ax: plots.plot_key_states(d.traj, d.scenario.key_states, ax=ax),
    "world_heatmap": lambda d, ax: plots.plot_world_heatmap(d.traj, d.world, ax=ax),
    "attribution": lambda d, ax: plots.plot_attribution(d.traj, ax=ax),
}


@pytest.mark.parametrize("name", PLOTTERS)
def test_plot_returns_a_labelled_figure(real, name):
    fig = PLOTTERS[name](real, None)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


@pytest.mark.parametrize("name", PLOTTERS)
def test_plot_draws_on_a_given_axes(real, name):
    fig = Figure()
    ax = fig.add_subplot()
    assert PLOTTERS[name](real, ax) is fig
    assert ax.get_title()


def test_attribution_titles(real):
    assert plots.plot_attribution(real.traj).axes[0].get_title() == "Why the states that moved most moved"
    assert plots.plot_attribution(real.traj, ["IND"]).axes[0].get_title() == "What moved these states"


def test_attribution_of_chosen_states_keeps_their_order_and_takes_a_title(real):
    fig = plots.plot_attribution(real.traj, ["TUR", "IND"], title="What moved the key states")
    ax = fig.axes[0]
    assert ax.get_title() == "What moved the key states"
    names = [real.traj.loc[real.traj.iso3 == i, "name"].iloc[0] for i in ("TUR", "IND")]
    assert [t.get_text().split("\n")[0] for t in ax.get_yticklabels()] == names


@pytest.mark.slow
def test_write_plots_writes_six_identical_pngs(real, tmp_path):
    args = (real.traj, real.blocs, real.world, real.scenario)
    paths = plots.write_plots(*args, tmp_path / "a" / "plots")
    assert [p.name for p in paths] == ["bloc_shares.png", "bloc_shares_population.png", "key_states.png",
                                       "world_heatmap.png", "attribution.png", "attribution_key_states.png"]
    for p in paths:
        assert p.parent == tmp_path / "a" / "plots"
        data = p.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
        assert b"Software" not in data  # no version stamp that would differ between installs
    again = plots.write_plots(*args, tmp_path / "b")
    for p, q in zip(paths, again, strict=True):
        assert p.read_bytes() == q.read_bytes(), p.name


def test_importing_plots_leaves_pyplot_alone():
    code = "import sys, model.report.run_plots; sys.exit('matplotlib.pyplot' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_write_plots_skips_the_key_state_attribution_without_key_states(real, tmp_path):
    scenario = real.scenario.model_copy(update={"key_states": []})
    paths = plots.write_plots(real.traj, real.blocs, real.world, scenario, tmp_path)
    assert "attribution_key_states.png" not in {p.name for p in paths}


def test_summary_quotes_the_medians_the_plots_draw(real):
    summary = summary_table(real.scenario, real.blocs, real.traj)
    assert "(median over runs, as in the plots)" in summary.splitlines()[0]
    series = plots.bloc_share_series(real.blocs, "gdp_share")
    last = series["year"].max()
    end = series[series["year"] == last].set_index("camp")["median"]
    row = next(line for line in summary.splitlines() if line.startswith(str(last)))
    assert f"{end['sco']:.1%}" in row and f"{end['west']:.1%}" in row
    means = real.blocs[real.blocs["year"] == last][["gdp_share_sco", "gdp_share_west"]].mean()
    medians = real.blocs[real.blocs["year"] == last][["gdp_share_sco", "gdp_share_west"]].median()
    if f"{means.iloc[0]:.1%}" != f"{medians.iloc[0]:.1%}":  # the runs tell the two apart
        assert f"{means.iloc[0]:.1%}" not in row
