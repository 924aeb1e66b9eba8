"""Numbers that stay numbers: random *extreme* valid scenarios never leave the finite, bounded world.

Every lever at effort 0 or 1 with efficiency up to the schema's maximum, on any targets; overlapping
sanctions of intensity 1 by both blocs; governments changed to the poles of the regime scale;
the largest shocks the schema allows; joins and leaves of the SCO and the other organisations;
quarterly steps. At every step the state must stay finite and in bounds, and the drivers'
contributions must add up to the change exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from model.apps.cli import main
from model.config.build import model_from_scenario
from model.config.experiment import load_experiment
from model.config.scenario import Scenario
from model.core import dynamics as dyn
from model.core.dynamics import E_SCO, E_WEST
from model.core.levers import LEVERS
from model.data.world import load_world
from model.run.batch import run_batch
from model.run.design import expand

START, HORIZON = 2024, 4
YEARS = st.integers(START + 1, START + HORIZON)
# "world" weighs most, so that levers and events overlap on the same states.
TARGETS = st.sampled_from([["world"], ["world"], ["world"], ["KAZ"], ["central_asia"],
                           ["swing_states"], ["sco_members", "nato"], ["IND", "CHN", "USA", "KGZ"]])
ORGS = ["SCO", "NATO", "EU", "CSTO", "BRICS"]

_LEVER = st.fixed_dictionaries({
    "intensity": st.sampled_from([0.0, 1.0]),
    "efficiency": st.one_of(st.sampled_from([0.0, 1.0, 5.0]), st.floats(0, 5)),
    "targets": TARGETS,
})
_EVENT = st.one_of(
    st.builds(lambda y, by, n, t: {"year": y, "type": "sanctions", "by": by, "intensity": 1.0,
                                   "duration": n, "states": t},
              YEARS, st.sampled_from(["west", "sco"]), st.integers(1, HORIZON), TARGETS),
    st.builds(lambda y, g, t: {"year": y, "type": "government_change", "regime": g, "states": t},
              YEARS, st.sampled_from([0.0, 1.0]), TARGETS),
    st.builds(lambda y, d, t: {"year": y, "type": "alignment_shock", "delta": d, "states": t},
              YEARS, st.sampled_from([-2.0, 2.0]), TARGETS),
    st.builds(lambda y, b, d, t: {"year": y, "type": "economic_shock", "bloc": b, "delta": d,
                                  "states": t},
              YEARS, st.sampled_from(["sco", "west"]), st.sampled_from([-1.0, 1.0]), TARGETS),
    st.builds(lambda y, s, t: {"year": y, "type": "join", "org": "SCO", "status": s, "states": t},
              YEARS, st.sampled_from(["dialogue_partner", "observer", "member"]), TARGETS),
    st.builds(lambda y, kind, o, t: {"year": y, "type": kind, "org": o, "states": t},
              YEARS, st.sampled_from(["join", "leave"]), st.sampled_from(ORGS), TARGETS),
)
# The parameters at the ends of their ranges: the largest shocks, and weights, decays, peer
# influence and inertia each at 0 or at the schema's maximum.
_PARAMS = st.fixed_dictionaries({"shock_sd": st.just(1.0)}, optional={
    "econ_weight": st.sampled_from([0.0, 5.0]),
    "security_weight": st.sampled_from([0.0, 5.0]),
    "regime_weight": st.sampled_from([0.0, 5.0]),
    "peer_weight": st.sampled_from([0.0, 2.0]),
    "inertia": st.sampled_from([0.0, 2.0]),
    "econ_decay": st.sampled_from([0.0, 2.0]),
    "security_decay": st.sampled_from([0.0, 2.0]),
    "governance_decay": st.sampled_from([0.0, 2.0]),
    "civil_society_backlash": st.sampled_from([0.0, 1.0]),
    "admission_rate": st.sampled_from([0.0, 1.0]),
    "membership_years": st.sampled_from([0.0, 20.0]),
})

WORLD = load_world("builtin", START)


def build_model(scenario, *, rng, world):
    """The model for a scenario (``config.build.model_from_scenario``)."""
    return model_from_scenario(scenario, rng=rng, world=world)

#: The reproduction of issue 6: every lever at 1 on the world, Western sanctions of 1 on the
#: world and a government change to 0 later (NaN on main, from cap_increments).
ISSUE_6 = dict(
    levers={name: {"intensity": 1.0, "efficiency": 1.0, "targets": ["world"]} for name in LEVERS},
    events=[{"year": 2025, "type": "sanctions", "by": "west", "intensity": 1.0, "duration": 4,
             "states": ["world"]},
            {"year": 2027, "type": "government_change", "regime": 0.0, "states": ["world"]}],
    params={"shock_sd": 1.0}, step="quarter", seed=0)


@settings(max_examples=50, deadline=None)
@given(levers=st.dictionaries(st.sampled_from(sorted(LEVERS)), _LEVER, max_size=len(LEVERS)),
       events=st.lists(_EVENT, max_size=8), params=_PARAMS,
       step=st.sampled_from(["quarter", "quarter", "year"]), seed=st.integers(0, 2**32))
@example(**ISSUE_6)
def test_extreme_scenarios_stay_finite_bounded_and_attributed(levers, events, params, step, seed):
    blocks = {"sco": {}, "west": {}}
    for name, cfg in levers.items():
        blocks[LEVERS[name].bloc][name] = cfg
    scenario = Scenario.model_validate(dict(name="extreme", start_year=START, horizon=HORIZON,
                                            step=step, seed=seed, parameters=params,
                                            events=events, **blocks))
    model = build_model(scenario, rng=np.random.default_rng(seed), world=WORLD)
    a = model.a.copy()
    while model.k < model.steps_total:
        model.step()  # raises NonFiniteError as soon as anything is not a number
        k = model.k
        s, c = model.rec_structure[k], model.rec_contrib[k]
        assert np.isfinite(model.a).all() and np.isfinite(s).all() and np.isfinite(c).all(), k
        assert np.abs(model.a).max() <= 1.0, k
        assert s.min() >= -1e-12 and s.max() <= 1.0 + 1e-12, (k, s.min(), s.max())
        assert (s[E_SCO] + s[E_WEST]).max() <= 1.0 + 1e-12, k
        np.testing.assert_allclose(c.sum(axis=0), model.a - a, rtol=0, atol=1e-12, err_msg=str(k))
        a = model.a.copy()
    model.release()


# --- a run that stops being a number fails, loudly, and is never counted --------------------------

def _unfixed_cap(inc, values, room):
    """``cap_increments`` as it was before issue 6: NaN where rounding left a value below 0."""
    pos = np.maximum(inc, 0.0).sum(axis=0)
    neg = np.maximum(-inc, 0.0).sum(axis=0)
    pos[E_SCO] = pos[E_WEST] = pos[E_SCO] + pos[E_WEST]
    with np.errstate(invalid="ignore", divide="ignore"):
        up = np.where(pos > room, room / pos, 1.0)
        down = np.where(neg > values, values / neg, 1.0)
        return np.where(inc > 0, inc * up, inc * down)


def _issue_6_file(folder: Path) -> Path:
    doc = {"name": "issue_6", "horizon": 6, "parameters": ISSUE_6["params"],
           "sco": {n: c for n, c in ISSUE_6["levers"].items() if LEVERS[n].bloc == "sco"},
           "west": {n: c for n, c in ISSUE_6["levers"].items() if LEVERS[n].bloc == "west"},
           "events": ISSUE_6["events"]}
    path = folder / "issue_6.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_issue_6_scenario_runs_finite_from_the_command_line(tmp_path):
    assert main(["run", str(_issue_6_file(tmp_path)), "--out", str(tmp_path / "out"),
                 "--no-plots", "--quiet"]) == 0
    traj = pd.read_csv(tmp_path / "out" / "trajectories.csv")
    assert np.isfinite(traj.select_dtypes("number").to_numpy()).all()


def test_a_non_finite_run_is_one_error_line_exit_1_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dyn, "cap_increments", _unfixed_cap)
    out = tmp_path / "out"
    status = main(["run", str(_issue_6_file(tmp_path)), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert len(err.splitlines()) == 1 and err.startswith("blocsim: error: the run stopped being")
    assert "(year 2027)" in err and "non-finite channels:" in err and ".governance" in err
    assert not out.exists() or not any(out.iterdir())


def test_a_non_finite_run_in_a_batch_is_a_failed_run_with_its_seed(tmp_path, monkeypatch):
    monkeypatch.setattr(dyn, "cap_increments", _unfixed_cap)
    exp = tmp_path / "exp.yaml"
    exp.write_text(yaml.safe_dump({"name": "nan_batch", "scenarios": [str(_issue_6_file(tmp_path))],
                                   "replications": 2, "seed": 3, "horizon": 4}), encoding="utf-8")
    design = expand(load_experiment(exp))
    out = tmp_path / "out"
    summary = run_batch(design, out, workers=1, experiment_file=str(exp))
    assert summary.failed == 2
    o = pd.read_parquet(out / "outcomes").sort_values("run_id")
    assert o["status"].tolist() == ["failed", "failed"]
    assert o["error"].str.startswith("NonFiniteError: the run stopped being a number").all()
    assert sorted(int(s) for s in o["seed"]) == sorted(design.seeds)
    for table in ("states", "blocs", "trajectories"):  # nothing of theirs is counted
        assert not (out / table).exists() or not list((out / table).glob("*.parquet"))
