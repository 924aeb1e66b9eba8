"""The discovery's tables for readers and its plots, from a hand-made result (no PRIM run)."""

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model.analysis.discovery import Discovery
from model.report import discovery_report as dr
from model.report.tables import to_markdown

matplotlib.use("Agg")


def result() -> Discovery:
    d = Discovery("gdp_share_sco above 30%", False, [], 400, 100, ["peer_weight", "scenario"])
    d.trajectory = pd.DataFrame({"box": 1, "step": range(4), "coverage": [1.0, 0.95, 0.9, 0.6],
                                 "density": [0.25, 0.5, 0.8, 0.9], "mass": [1.0, 0.48, 0.28, 0.17],
                                 "n": [400, 190, 112, 67], "k": [100, 95, 90, 60], "res_dim": [0, 1, 2, 2],
                                 "selected": [False, False, True, False]})
    d.boxes = pd.DataFrame([{"box": 1, "step": 2, "coverage": 0.9, "density": 0.8, "mass": 0.28, "n": 112,
                             "k": 90, "res_dim": 2, "meets_density": True}])
    d.limits = pd.DataFrame([
        {"box": 1, "input": "peer_weight", "kind": "range", "low": 0.2, "high": 0.4, "values": "",
         "data_low": 0.05, "data_high": 0.4, "qp_low": 1e-12, "qp_high": np.nan},
        {"box": 1, "input": "scenario", "kind": "set", "low": np.nan, "high": np.nan,
         "values": "sco_expansion", "data_low": np.nan, "data_high": np.nan, "qp_low": 3e-5,
         "qp_high": np.nan}])
    d.cart = pd.DataFrame([{"leaf": 3, "rule": "peer_weight > 0.2", "coverage": 0.9, "density": 0.7,
                            "mass": 0.32, "n": 128, "k": 90},
                           {"leaf": 2, "rule": "peer_weight <= 0.2", "coverage": 0.1, "density": 0.04,
                            "mass": 0.68, "n": 272, "k": 10}])
    return d


def test_tables_for_readers_say_the_box_in_words_and_percent():
    raw, shown = dr.display_tables(result())
    assert set(raw) == set(shown) == set(dr.DISCOVERY_TABLES)
    box = shown["discovery_boxes"].iloc[0]
    assert box["where"] == "peer_weight ≥ 0.2 and scenario = sco_expansion"
    assert (box["coverage"], box["density"], box["reaches density"]) == ("90%", "80%", "yes")
    assert shown["discovery_limits"]["in the box"].tolist() == ["0.2 to 0.4", "sco_expansion"]
    assert shown["discovery_trajectory"]["kept"].tolist() == ["", "", "←", ""]
    md = dr.discovery_markdown(result(), to_markdown)
    assert md.startswith("Condition: gdp_share_sco above 30%\nCases: 400 runs; it holds in 100 (25%).")


def test_plots_are_figures_with_the_kept_box_marked():
    figs = dr.discovery_figures(result())
    assert [name for name, _, _ in figs] == ["discovery_trajectory.png", "discovery_box_1.png"]
    assert all(isinstance(fig, Figure) for _, _, fig in figs)
    ax = figs[0][2].axes[0]
    assert ax.get_xlabel().startswith("coverage") and ax.get_ylabel().startswith("density")
    assert [t.get_text() for t in figs[1][2].axes[0].get_yticklabels()] == ["scenario", "peer_weight"]


def test_a_condition_that_never_holds_has_no_tables_or_plots():
    d = Discovery("gdp_share_sco above 90%", False, [], 400, 0, ["peer_weight"],
                  note="the condition holds in none of the 400 cases: there is nothing to tell apart")
    assert dr.display_tables(d) == ({}, {}) and dr.discovery_figures(d) == []
    assert "The condition holds in none of the 400 cases" in dr.discovery_markdown(d, to_markdown)
