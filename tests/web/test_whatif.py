"""The what-if logic without the web: uploads, lever moves, reproducible YAML, fans and drivers."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from model.base.errors import ScenarioError
from model.config.checks import prepare_world
from model.config.scenario import load_scenario
from model.run import tables
from model.run.service import execute_run
from model.web import whatif as wi


@pytest.fixture(scope="module")
def baseline():
    s = wi.load_shipped("baseline")
    return s, prepare_world(s)


def test_shipped_scenarios_are_looked_up_by_name_only():
    assert "baseline" in wi.shipped_scenarios()
    for bad in ("../baseline", "/etc/passwd", "baseline.yaml", "scenarios/baseline"):
        with pytest.raises(ScenarioError, match="no shipped scenario"):
            wi.load_shipped(bad)


def test_upload_reads_a_whole_scenario_like_a_file(tmp_path):
    data = (wi.SCENARIO_DIR / "baseline.yaml").read_bytes()
    s = wi.read_upload(data, "upload b.yaml")
    assert s.model_dump() == load_scenario(wi.SCENARIO_DIR / "baseline.yaml").model_dump()


@pytest.mark.parametrize(("text", "match"), [
    (b"name: x\nextends: baseline.yaml\n", "extends: an upload cannot extend"),
    (b"name: x\nworld: /etc/passwd\n", "world: an upload uses the built-in world"),
    (b"name: x\nsco:\n  cpec:\n    intensity: 3\n", r"upload:4: sco.cpec.intensity"),
    (b"name: x\nbogus: 1\n", "unknown field 'bogus'"),
    (b"a: &x [1]\nb: *x\n", "anchors and aliases"),
    (b"- 1\n- 2\n", "a mapping of fields"),
    (b"name: \xff\n", "not UTF-8"),
    (b"x" * (wi.MAX_UPLOAD + 1), "too large"),
    (b"name: x\nhorizon: 20\nstep: quarter\n", "upload:2: horizon: 80 steps"),
])
def test_bad_uploads_are_one_line_errors(text, match):
    with pytest.raises(ScenarioError, match=match) as info:
        wi.read_upload(text, "upload")
    assert "\n" not in str(info.value)


def test_upload_label_keeps_only_a_plain_base_name():
    assert wi.upload_label("../../etc/pass wd<script>.yaml") == "upload passwdscript.yaml"
    assert wi.upload_label(None) == "upload"


def test_moving_a_lever_changes_it_and_the_name(baseline):
    s, _ = baseline
    out = wi.whatif_name(wi.apply_levers(s, {"lever-cpec-intensity": ["0.9"],
                                             "lever-cpec-targets": ["PAK", "IRN"]}), s)
    assert out.sco.cpec.intensity == 0.9 and out.sco.cpec.targets == ["PAK", "IRN"]
    assert out.name == "baseline-whatif"
    same = wi.whatif_name(wi.apply_levers(s, {"lever-cpec-intensity": ["0.5"],
                                              "lever-cpec-targets": ["PAK"]}), s)
    assert same.name == "baseline" and same.model_dump() == s.model_dump()


def test_an_absent_lever_stays_absent_at_zero_and_appears_above(baseline):
    s, _ = baseline
    assert s.west.public_diplomacy is None
    assert wi.apply_levers(s, {"lever-public_diplomacy-intensity": ["0"]}).west.public_diplomacy is None
    on = wi.apply_levers(s, {"lever-public_diplomacy-intensity": ["0.4"]}).west.public_diplomacy
    assert on.intensity == 0.4 and on.targets is None  # the lever's default targets


@pytest.mark.parametrize(("value", "match"), [("1.5", "less than or equal to 1"),
                                              ("abc", "not a number"), ("nan", "not a finite")])
def test_bad_lever_values_name_the_field(baseline, value, match):
    with pytest.raises(ScenarioError, match=match) as info:
        wi.apply_levers(baseline[0], {"lever-cpec-intensity": [value]})
    assert info.value.path == "sco.cpec.intensity"


def test_check_states(baseline):
    _, w = baseline
    assert wi.check_states(["IND", "IND", "KAZ"], w) == ["IND", "KAZ"]
    with pytest.raises(ScenarioError, match="unknown state code"):
        wi.check_states(["XXX"], w)
    with pytest.raises(ScenarioError, match="at most"):
        wi.check_states(["IND", "KAZ", "TUR", "PAK", "IRN"], w)


def test_downloaded_yaml_reproduces_the_numbers_to_the_byte(baseline, tmp_path):
    s, w = baseline
    moved = wi.whatif_name(wi.apply_levers(s, {"lever-civil_society-intensity": ["0.6"],
                                               "lever-civil_society-targets": ["central_asia"]}), s)
    path = tmp_path / "w.yaml"
    path.write_text(wi.scenario_yaml(moved, runs=6), encoding="utf-8")
    run = execute_run(path, out=None)
    assert tables.csv_text(run.blocs) == wi.numbers_csv(moved, w, runs=6)


def test_fans_are_the_quantiles_of_the_runs_blocs(baseline):
    s, w = baseline
    out = wi.run_outcome(s, w, runs=8)
    blocs = pd.read_csv(io.StringIO(wi.numbers_csv(s, w, runs=8)))
    for fan in wi.bloc_fans(out, "gdp_share"):
        per_year = blocs.pivot(index="run", columns="year", values=f"gdp_share_{fan.key}")
        np.testing.assert_allclose(fan.q, np.quantile(per_year.to_numpy(), wi.FAN_QUANTILES, axis=0),
                                   atol=1e-6)
    assert out.alignment.shape == (8, s.horizon + 1, w.n)


def test_drivers_show_the_moved_lever_first(baseline):
    s, w = baseline
    moved = wi.apply_levers(s, {"lever-public_diplomacy-intensity": ["0.8"],
                                "lever-public_diplomacy-targets": ["world"]})
    rows = wi.driver_rows(wi.run_outcome(moved, w, runs=10), wi.run_outcome(s, w, runs=10))
    assert rows[0].driver == "public_diplomacy"
    assert rows[0].shipped == 0 and rows[0].change < 0  # a Western pull: towards the West
