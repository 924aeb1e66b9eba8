"""tools/estimate_sco_rule.py: the Firth fit is right where it has a closed form, the trials are
the model's eligible state-years, and the shipped hazard parameters are the fitted ones."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.config.scenario import Parameters

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
try:
    import estimate_sco_rule as esr
finally:
    sys.path.pop(0)


@pytest.mark.parametrize(("k", "n"), [(4, 224), (0, 50), (3, 3)])
def test_firth_intercept_alone_is_the_half_added_rate(k, n):
    """With an intercept alone, Firth's estimate is logit((k + 1/2) / (n + 1)), finite at 0 and n."""
    y = np.r_[np.ones(k), np.zeros(n - k)]
    b, cov = esr.firth_logit(np.ones((n, 1)), y)
    p = (k + 0.5) / (n + 1)
    assert b[0] == pytest.approx(np.log(p / (1 - p)), abs=1e-8)
    assert np.isfinite(cov).all()


def test_firth_stays_finite_under_complete_separation():
    x = np.r_[np.linspace(1, 2, 5), np.linspace(-2, -1, 20)]
    y = (x > 0).astype(float)  # maximum likelihood would run off to infinity
    b, cov = esr.firth_logit(np.column_stack([np.ones_like(x), x]), y)
    assert np.isfinite(b).all() and b[1] > 0 and np.isfinite(cov).all()


def test_auc_counts_ties_half():
    assert esr.auc(np.array([0.1, 0.1, 0.1]), np.array([1, 0, 0])) == 0.5
    assert esr.auc(np.array([0.9, 0.1, 0.2]), np.array([1, 0, 0])) == 1.0


@pytest.fixture(scope="module")
def fit_trials():
    return esr.trials(esr.FIRST_FIT, esr.LAST_FIT)


def test_trials_are_eligible_state_years_up_to_2014(fit_trials):
    t = fit_trials
    assert t["year"].between(esr.FIRST_FIT, esr.LAST_FIT).all()
    assert (t["rung"] < 3).all()
    # India, Iran and Pakistan (2005) were the first in Southern Asia and Turkey is in NATO:
    # outside the model's eligibility, so not trials of its rule
    risers = {(r.iso3, r.year) for r in t[t["rise"] == 1].itertuples()}
    assert risers == {("MNG", 2004), ("BLR", 2009), ("LKA", 2009), ("AFG", 2012)}
    assert not t["iso3"].isin(["USA", "FRA", "TUR", "BRA"]).any()


def test_the_shipped_hazard_is_the_chosen_fit():
    """The schema's hazard parameters are the chosen model's estimates (model/data/sco_hazard.csv)."""
    table = pd.read_csv(ROOT / "model" / "data" / "sco_hazard.csv")
    chosen = table[table["chosen"] == 1].set_index("term")["estimate"]
    assert set(chosen.index) == {"intercept", "alignment"}  # the covariate the model reads
    fields = Parameters.model_fields
    assert fields["rise_hazard_intercept"].default == pytest.approx(chosen["intercept"], abs=0.005)
    assert fields["rise_hazard_alignment"].default == pytest.approx(chosen["alignment"], abs=0.005)
