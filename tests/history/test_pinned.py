"""The shipped model's headline hindcast scores, pinned: any change of the model shows here.

The pinned table is ``headline.csv`` of the default run (test origins 2014-2023, horizons 1, 3,
5 and 10, both modes, every scale), the figures docs/model.md section 12 and the README quote.
When a change to the model or the data moves them on purpose, regenerate it and let the diff be
reviewed (and update the docs):

    python -m model history --out out/history -q
    cp out/history/headline.csv tests/history/pinned_headline.csv
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.history.data import load_history
from model.history.harness import HistoryConfig, run_hindcasts
from model.history.report import write_history
from model.history.tables import headline, score_table
from model.history.targets import NOT_MEASURED, TARGETS

PINNED = Path(__file__).with_name("pinned_headline.csv")
TOLERANCE = 2e-6  # the table is written with 6 decimals


@pytest.fixture(scope="module")
def default_run():
    """The default hindcast: (forecasts, scores, tuned), run once for the tests below."""
    cfg = HistoryConfig()
    forecasts, tuned = run_hindcasts(load_history(), cfg)
    return forecasts, score_table(forecasts, n_boot=cfg.n_boot, seed=cfg.seed), tuned


@pytest.mark.slow
def test_headline_scores_are_the_published_ones(default_run):
    now = headline(default_run[1]).round(6)
    pinned = pd.read_csv(PINNED)
    assert list(now.columns) == list(pinned.columns)
    keys = ["scale", "mode", "horizon"]
    now, pinned = now.sort_values(keys, ignore_index=True), pinned.sort_values(keys, ignore_index=True)
    numbers = [c for c in now.columns if pd.api.types.is_numeric_dtype(pinned[c])]
    text = [c for c in now.columns if c not in numbers]
    assert now[text].astype(str).values.tolist() == pinned[text].astype(str).values.tolist()
    assert np.allclose(now[numbers].to_numpy(float), pinned[numbers].to_numpy(float),
                       atol=TOLERANCE, rtol=0), (now[numbers] - pinned[numbers]).abs().max()


@pytest.mark.slow
def test_the_default_run_measures_every_target_of_issue_10(default_run, tmp_path):
    """Every target has its rows: skill at 1, 3, 5, 10 and coverage at 1-10 on both target
    scales and modes, dynamics at validation and test origins, the panel's effect sizes, the
    2014 hindcast's SCO statuses; only the effect sizes and the validation decade are left
    unmeasured (no validation origin reaches ten years)."""
    forecasts, scores, tuned = default_run
    history = load_history()
    out = write_history(tmp_path / "h", scores, forecasts, history, HistoryConfig(), tuned)
    table = pd.read_csv(out / "targets.csv")
    counts = table.groupby("target").size()
    expected = {"crps": 16, "rmse": 16, "cover50": 40, "cover90": 40, "dyn_median": 4,
                "dyn_p95": 4, "dyn_p99": 4, "dyn_ac1": 4, "dyn_sd10": 4, "effect": 28,
                "sco_spurious": 2}
    assert counts.to_dict() == expected and set(expected) == {t.name for t in TARGETS}
    unmeasured = table[table["status"] == NOT_MEASURED]
    assert set(unmeasured["target"]) == {"effect", "dyn_sd10"}
    assert (unmeasured[unmeasured["target"] == "dyn_sd10"]["split"] == "validation").all()
    # the stable scale's observed moments are docs/estimates.md section 3's "observed 2000-2014"
    obs = table[(table["scale"] == "alignment") & table["target"].str.startswith("dyn_")]
    assert obs.groupby("target")["reference_value"].first().round(3).to_dict() == {
        "dyn_ac1": 0.24, "dyn_median": 0.026, "dyn_p95": 0.124, "dyn_p99": 0.217,
        "dyn_sd10": 0.188}
