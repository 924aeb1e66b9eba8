"""The harness end to end on a tiny set of origins, and ``blocsim history`` on the command line."""

from __future__ import annotations

import numpy as np
import pytest

from model.apps.cli import main
from model.base.errors import ScenarioError
from model.history.harness import LAST_VALIDATION_YEAR, HistoryConfig, run_hindcasts
from model.history.report import write_history
from model.history.tables import best_baselines, headline, score_table


@pytest.fixture(scope="module")
def run(history, tiny):
    forecasts, tuned = run_hindcasts(history, tiny)
    return forecasts, tuned, score_table(forecasts, n_boot=tiny.n_boot, seed=tiny.seed)


def test_validation_targets_stop_at_the_last_validation_year(run):
    forecasts, _, scores = run
    for f in forecasts:
        if f.split == "validation":
            assert f.origin + f.horizons.max() <= LAST_VALIDATION_YEAR
        else:
            assert f.origin >= LAST_VALIDATION_YEAR
    assert set(scores["split"]) == {"validation", "test"}


def test_scores_cover_every_forecaster_and_persistence_has_zero_skill(run):
    _, _, scores = run
    assert set(scores["forecaster"]) == {"model", "persistence", "damped", "smoothing",
                                         "recent_mean", "ar_subregion", "regression", "spread"}
    pers = scores[scores["forecaster"] == "persistence"]
    assert np.allclose(pers["skill"], 0) and (pers["missed_sco"] >= 0).all()
    model = scores[scores["forecaster"].isin(["model", "spread"])]
    assert model["cover90"].between(0, 1).all() and (model["cover90"] >= model["cover50"]).all()
    assert (scores["rmse_lo"] <= scores["rmse"] + 1e-12).all()
    assert (scores["rmse"] <= scores["rmse_hi"] + 1e-12).all()


def test_conditional_mode_is_fed_what_happened(run):
    forecasts, _, scores = run
    cond = [f for f in forecasts if f.mode == "conditional" and f.origin == 2016]
    assert cond[0].events > 0  # India and Pakistan's SCO membership in 2017, at least
    fed = scores[(scores["mode"] == "conditional") & (scores["forecaster"] == "model")
                 & (scores["split"] == "test")]
    proj = scores[(scores["mode"] == "projection") & (scores["forecaster"] == "persistence")
                  & (scores["split"] == "test")]
    assert (fed["missed_sco"].to_numpy() <= proj["missed_sco"].to_numpy()).all()


def test_the_same_seed_gives_the_same_scores(history, tiny, run):
    again = run_hindcasts(history, tiny)[0]
    assert score_table(again, n_boot=tiny.n_boot, seed=tiny.seed).equals(run[2])


def test_best_baseline_is_chosen_on_validation_and_the_headline_reports_the_test(run):
    _, _, scores = run
    best = best_baselines(scores)
    assert set(best) == {("alignment", "projection"), ("alignment", "conditional")}
    head = headline(scores, horizons=(1, 3))
    assert len(head) == 4 and (head["best_baseline"] == head["mode"].map(
        lambda m: best[("alignment", m)])).all()


@pytest.mark.slow
def test_the_report_is_self_contained_and_labels_both_sets(tmp_path, history, tiny, run):
    forecasts, tuned, scores = run
    out = write_history(tmp_path / "h", scores, forecasts, history, tiny, tuned)
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in text and "http://" not in text and "https://" not in text
    assert "Validation origins" in text and "Test origins" in text
    assert {p.name for p in out.iterdir()} == {"history.json", "scores.csv", "headline.csv",
                                               "tuned.csv", "forecasts.csv.gz", "targets.csv",
                                               "report.html"}
    assert "<h2>Targets (issue 10)</h2>" in text
    assert text.index("Targets (issue 10)") < text.index("<h2>Design</h2>")


def test_config_check_names_the_bad_option(history):
    with pytest.raises(ScenarioError, match="validation origins must be before"):
        HistoryConfig(validation=(2014,)).check(history)
    with pytest.raises(ScenarioError, match="at least one validation origin"):
        HistoryConfig(validation=()).check(history)
    with pytest.raises(ScenarioError, match="horizons"):
        HistoryConfig(horizons=(0,)).check(history)
    with pytest.raises(ScenarioError, match="outside"):
        HistoryConfig(test=(2030,)).check(history)


def test_cli_refuses_bad_origins_in_one_line(tmp_path, capsys):
    assert main(["history", "--origins", "2030", "--out", str(tmp_path / "h")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--origins" in err[0]
    assert not (tmp_path / "h").exists()


def test_cli_refuses_a_folder_of_someone_else(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("x")
    assert main(["history", "--quick", "--out", str(tmp_path)]) == 2
    assert (tmp_path / "mine.txt").exists()


@pytest.mark.slow
def test_cli_quick_writes_the_same_bytes_twice(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["history", "--quick", "--out", str(tmp_path / name)]) == 0
    assert "model_skill" in capsys.readouterr().out
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "report.html" in files and files == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_the_hazard_rule_reaches_the_model_forecast(history):
    """model_forecast's parameters reach the runs: the hazard rule raises states from 2014."""
    from model.history.simulate import model_forecast

    known = history.upto(2014)
    kw = dict(runs=8, seed=2014, conditional=False)
    hazard = model_forecast(known, "alignment", 2014, 5, parameters={"membership_rule": "hazard"},
                            **kw)
    default = model_forecast(known, "alignment", 2014, 5, **kw)
    start = known.world(2014).sco_status
    assert (hazard.status[:, -1] > start).sum() > (default.status[:, -1] > start).sum()


@pytest.mark.slow
def test_the_membership_rule_can_be_chosen_and_is_recorded(tmp_path, history, tiny, run):
    """--membership-rule hazard reaches the model's runs (its own rises change the statuses)
    and history.json says which rule ran."""
    import dataclasses
    import json

    cfg = dataclasses.replace(tiny, membership_rule="hazard", test=(2014,), horizons=(5,),
                              runs=8)
    forecasts, tuned = run_hindcasts(history, cfg)
    default, _ = run_hindcasts(history, dataclasses.replace(cfg, membership_rule=None))
    proj = [f for f in forecasts if f.mode == "projection" and f.split == "test"][0]
    base = [f for f in default if f.mode == "projection" and f.split == "test"][0]
    rises = lambda f: (f.status_model[:, -1] > f.status_start).sum()  # noqa: E731
    assert rises(proj) > rises(base)
    np.testing.assert_array_equal(proj.status_observed, base.status_observed)
    write_history(tmp_path / "h", score_table(forecasts, n_boot=5), forecasts, history, cfg, tuned)
    assert json.loads((tmp_path / "h" / "history.json").read_text())["membership_rule"] == "hazard"


def test_the_report_names_a_membership_rule_chosen_on_the_command_line(history, tiny):
    """A report of --membership-rule hazard says so (history.json alone did); the default's
    notes stay as they were."""
    import dataclasses

    from model.history.report import _notes

    hazard = _notes(dataclasses.replace(tiny, membership_rule="hazard"), history)
    assert "SCO membership rule: hazard" in hazard
    assert "membership rule" not in _notes(tiny, history)
