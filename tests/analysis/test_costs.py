"""Costs in batches and comparisons: recorded per scenario x strategy, equal cost, effect per bn.

Experiments are written in ``tmp_path`` against the shipped files (horizon 3, 4 replications).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from model.analysis.costs import cost_effect, cost_table, frontier
from model.apps.cli import main
from model.config.experiment import load_experiment
from model.run.design import expand

SCEN = Path(__file__).resolve().parents[2] / "scenarios"
STRATS = [str(SCEN / "strategies" / f"{n}.yaml") for n in ("none", "diplomatic_alliances",
                                                            "cybersecurity", "combined")]


def experiment(folder: Path, **fields) -> Path:
    doc = {"name": "c", "scenarios": [str(SCEN / "baseline.yaml")], "strategies": STRATS,
           "reference": "none", "replications": 4, "horizon": 3, "primary": "gdp_share_sco",
           "keep_trajectories": False, **fields}
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_the_design_records_each_strategys_cost(tmp_path):
    design = expand(load_experiment(experiment(tmp_path)))
    costs = {c["strategy"]: c for c in design.costs}
    assert costs["none"]["cost_bn_total"] == 0.0
    da = costs["diplomatic_alliances"]  # 20 states, intensity 0.6, 3 years
    assert da["cost_bn_total"] == pytest.approx(20 * 3 * -np.log(0.4))
    assert da["cost_bn_per_year"] == pytest.approx(da["cost_bn_total"] / 3)
    assert sum(costs["combined"]["levers"].values()) == pytest.approx(costs["combined"]["cost_bn_total"])


def test_equal_cost_scales_every_strategy_but_the_free_one(tmp_path):
    design = expand(load_experiment(experiment(tmp_path, equal_cost=6.0)))
    per_year = {c["strategy"]: c["cost_bn_per_year"] for c in design.costs}
    assert per_year.pop("none") == 0.0
    assert all(v == pytest.approx(6.0, rel=1e-9) for v in per_year.values())
    plain = expand(load_experiment(experiment(tmp_path)))
    assert design.digest != plain.digest  # another design: its own output folder


def test_equal_cost_with_a_cost_without_limit_names_the_field(tmp_path, capsys):
    full = tmp_path / "full.yaml"
    full.write_text("name: full\nwest:\n  public_diplomacy: {intensity: 1.0}\n", encoding="utf-8")
    path = experiment(tmp_path, equal_cost=5.0, strategies=[str(full)], reference=None)
    assert main(["batch", str(path), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "equal_cost" in err and "without limit" in err


def test_frontier_keeps_what_no_cheaper_strategy_beats():
    cost = np.array([0.0, 5.0, 9.0, 18.0, 36.0])
    gain = np.array([0.0, 0.2, 1.5, 1.7, 1.4])
    assert frontier(cost, gain).tolist() == [True, True, True, True, False]


def test_cost_effect_divides_the_difference_by_the_extra_money():
    costs = pd.DataFrame({"scenario": ["s"] * 3, "strategy": ["none", "a", "b"],
                          "cost_bn_per_year": [0.0, 2.0, 4.0], "cost_bn_total": [0.0, 20.0, 40.0]})
    diffs = pd.DataFrame({"scenario": ["s", "s"], "strategy": ["a", "b"], "outcome": ["gdp_share_sco"] * 2,
                          "mean_diff": [-0.02, -0.01], "ci_low": [-0.03, -0.02], "ci_high": [-0.01, 0.0]})
    t = cost_effect(diffs, costs, "gdp_share_sco", "none").set_index("strategy")
    assert t.loc["a", "effect_per_bn"] == pytest.approx(-0.001)
    assert np.isnan(t.loc["none", "effect_per_bn"])
    assert t["frontier"].to_dict() == {"none": True, "a": True, "b": False}  # b: dearer and worse


@pytest.mark.slow
def test_costs_equal_but_for_the_rounding_of_written_budgets_count_as_equal():
    # two allocations of one 10 bn budget, the worse a few US$ thousand cheaper after rounding
    cost = np.array([10.0000004, 9.9999996, 9.9])
    gain = np.array([1.5, 1.4, 1.2])
    assert frontier(cost, gain).tolist() == [True, False, True]


def test_the_report_has_a_cost_table_and_a_frontier_plot(tmp_path):
    path = experiment(tmp_path)
    out = tmp_path / "b"
    assert main(["batch", str(path), "--out", str(out), "-q", "--workers", "1", "--report"]) == 0
    import json
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(cost_table(manifest)) == 4
    table = pd.read_csv(out / "report" / "cost_effect.csv")
    assert set(table["strategy"]) == {"none", "diplomatic_alliances", "cybersecurity", "combined"}
    assert (out / "report" / "plots" / "cost_effect.png").is_file()
    assert "Cost and effect" in (out / "report" / "report.html").read_text()
