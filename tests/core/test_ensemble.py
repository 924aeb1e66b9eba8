"""The ensemble engine (``model.core.ensemble``) against ``BlocModel`` run by run, bit for bit.

Every run of the engine must equal the ``BlocModel`` run with the same seed: alignment,
structure, status, contributions and the status log, on every shipped scenario, with quarterly
steps, under every kind of event, and in every cell of the shipped experiment. Equality is
exact (``assert_array_equal``): the engine keeps the model's order of every sum.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.config.build import model_from_scenario, prepare_plan, run_ensemble
from model.config.checks import prepare_world
from model.config.experiment import load_experiment
from model.config.scenario import Scenario, load_scenario
from model.core.dynamics import SCO_STATUSES
from model.core.ensemble import Ensemble, columns
from model.core.ensemble.shared import Held, trim_shared
from model.core.levers import LEVERS
from model.core.seeds import replication_seeds
from model.run.design import expand

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SCO_RANK = {name: k for k, name in enumerate(SCO_STATUSES)}
FIELDS = ("alignment", "structure", "status", "contributions", "times")
#: Shipped scenarios whose first six runs change an SCO status: the two that script SCO
#: accessions and, with the local level and heavy-tailed shocks, the 2024 baseline and its
#: Western variants (a dialogue partnership in 2034 in some runs); the classroom's short run none.
MOVING_STATUSES = {"hindcast_2014", "sco_expansion", "baseline", "west_civil_society",
                   "west_combined", "west_cybersecurity", "west_diplomatic_alliances",
                   "west_trade_agreements"}


def make(**fields) -> Scenario:
    fields.setdefault("name", "test")
    return Scenario.model_validate(fields)


def run_seeds(sc: Scenario, seeds, world) -> list:
    """Every seed through one ``BlocModel``, reset between runs (``BlocModel.reset``)."""
    model = model_from_scenario(sc, rng=np.random.default_rng(seeds[0]), world=world)
    out = [model.run()]
    for s in seeds[1:]:
        model.reset(np.random.default_rng(s))
        out.append(model.run())
    model.release()
    return out


def assert_same_runs(sc: Scenario, seeds, *, world=None) -> list:
    """Run the engine and ``BlocModel`` (one model, reset per seed) and compare every run."""
    world = world or prepare_world(sc)
    ref = run_seeds(sc, seeds, world)
    ens = run_ensemble(sc, seeds, world=world)
    assert ens.alignment.shape == (len(seeds), *ref[0].alignment.shape)
    for r, exp in enumerate(ref):
        got = ens.run_result(r)
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(got, field), getattr(exp, field),
                                          err_msg=f"run {r}: {field}")
        assert got.status_log == exp.status_log, f"run {r}: status log"
    return ref


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_matches_the_model(path):
    sc = load_scenario(path)
    ref = assert_same_runs(sc, replication_seeds(sc.seed, 6))
    # Where statuses change (scripted events, or the model's own moves), both logs are compared
    # above; the CHURN tests below compare the membership rule under many moves.
    assert any(r.status_log for r in ref) == (sc.name in MOVING_STATUSES)


@pytest.mark.parametrize("name", ["hindcast_2014", "sco_expansion", "classroom"])
def test_quarterly_steps_match_the_model(name):
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml").model_copy(update={"step": "quarter"})
    assert_same_runs(sc, replication_seeds(sc.seed, 4))


def test_every_cell_of_the_shipped_experiment_matches_the_model():
    design = expand(load_experiment(ROOT / "scenarios" / "experiments" / "west_strategies.yaml"))
    seeds = design.seeds[:4]
    for cell in design.cells:
        assert_same_runs(Scenario.model_validate(cell.resolved), seeds)


# Many moves of status per run, so that statuses diverge between runs and events then meet
# different statuses in different runs (join never demotes; leave from whatever is held).
CHURN = {"shock_sd": 0.5, "partner_threshold": 0.0, "observer_threshold": 0.1,
         "member_threshold": 0.2, "membership_years": 0.0, "admission_rate": 0.9,
         "leave_drop": 0.1, "decision_smoothing": 0.0}

EVENTS = [
    {"year": 2025, "type": "sanctions", "by": "west", "intensity": 0.6, "duration": 3,
     "states": ["KAZ", "IRN", "TUR"]},
    {"year": 2026, "type": "sanctions", "by": "sco", "intensity": 0.5, "duration": 2,
     "states": ["MNG", "ARM"]},
    {"year": 2026, "type": "join", "org": "SCO", "status": "observer",
     "states": ["TUR", "ARM", "AZE", "KAZ", "MNG"]},
    {"year": 2027, "type": "leave", "org": "SCO", "states": ["ARM", "UZB", "IND"]},
    {"year": 2027, "type": "alignment_shock", "delta": 0.4, "states": ["GEO", "AZE"]},
    {"year": 2027, "type": "alignment_shock", "delta": -0.5, "state": "KGZ"},
    {"year": 2028, "type": "economic_shock", "bloc": "sco", "delta": 1.0, "states": ["KAZ", "TUR"]},
    {"year": 2028, "type": "economic_shock", "bloc": "west", "delta": -0.3, "state": "MNG"},
    {"year": 2028, "type": "government_change", "regime": 0.9, "states": ["KGZ", "AZE"]},
    {"year": 2027, "type": "ties", "e_sco": 0.6, "s_west": 0.1, "states": ["KAZ", "TUR", "AZE"]},
    {"year": 2029, "type": "ties", "e_west": 0.9, "s_sco": 0.0, "state": "MNG"},
    {"year": 2030, "type": "ties", "e_sco": 0.3, "e_west": 0.7, "s_sco": 1.0,
     "states": ["GEO", "ARM", "TUR"]},
    {"year": 2029, "type": "join", "org": "NATO", "states": ["GEO", "FIN"]},
    {"year": 2029, "type": "join", "org": "CSTO", "states": ["AZE", "MNG"]},
    {"year": 2029, "type": "join", "org": "BRICS", "state": "TUR"},
    {"year": 2030, "type": "leave", "org": "CSTO", "state": "ARM"},
    {"year": 2030, "type": "join", "org": "EU", "state": "GEO"},
    {"year": 2030, "type": "leave", "org": "NATO", "state": "TUR"},
    {"year": 2031, "type": "join", "org": "SCO", "status": "member", "states": ["TUR", "GEO"]},
]

LEVERS_HARD = {
    "sco": {"counter_terrorism": {"intensity": 1.0, "efficiency": 5.0, "end": 2027,
                                  "targets": ["central_asia", "TUR", "AZE"]},
            "trade_facilitation": {"intensity": 0.8, "efficiency": 3.0, "targets": ["sco_all"]}},
    "west": {"trade_agreements": {"intensity": 0.8, "efficiency": 4.0, "end": 2029,
                                  "targets": ["swing_states", "central_asia"]},
             "civil_society": {"intensity": 0.7, "efficiency": 3.0, "targets": ["central_asia", "TUR"]}},
}


@pytest.mark.parametrize("step", ["year", "quarter"])
def test_every_kind_of_event_with_diverging_statuses(step):
    sc = make(start_year=2024, horizon=9, step=step, seed=5, parameters=CHURN, events=EVENTS,
              **LEVERS_HARD)
    ref = assert_same_runs(sc, replication_seeds(5, 6))
    logs = [tuple(r.status_log) for r in ref]
    assert len(set(logs)) == len(logs)  # the runs did diverge
    assert any(src == "membership" for log in logs for *_, src in log)


#: The hazard rule with a high chance, so that many states rise and then meet the events.
HAZARD_CHURN = {"shock_sd": 0.5, "membership_rule": "hazard", "rise_hazard_intercept": -1.0,
                "rise_hazard_alignment": 2.0, "leave_drop": 0.1, "decision_smoothing": 0.0}


@pytest.mark.parametrize("step", ["year", "quarter"])
def test_the_hazard_rule_matches_the_model(step):
    sc = make(start_year=2024, horizon=9, step=step, seed=5, parameters=HAZARD_CHURN,
              events=EVENTS, **LEVERS_HARD)
    ref = assert_same_runs(sc, replication_seeds(5, 6))
    logs = [tuple(r.status_log) for r in ref]
    assert len(set(logs)) == len(logs)
    moves = [(old, new) for log in logs for _, _, old, new, src in log if src == "membership"]
    assert any(new > old for old, new in ((SCO_RANK[o], SCO_RANK[n]) for o, n in moves))


def test_trims_follow_each_run(monkeypatch):
    """Lasting changes into room a fading one opened force ``keep_in_bounds``, run by run."""
    calls = []
    real = columns.dyn.keep_in_bounds
    monkeypatch.setattr(columns.dyn, "keep_in_bounds", lambda *a: calls.append(1) or real(*a))
    sc = make(start_year=2024, horizon=8, seed=3, parameters=CHURN, events=[
        {"year": 2025, "type": "sanctions", "by": "west", "intensity": 0.9, "duration": 4,
         "states": ["KAZ", "TUR", "MNG", "AZE"]},
        {"year": 2026, "type": "join", "org": "SCO", "status": "member", "states": ["TUR", "AZE"]},
        {"year": 2027, "type": "economic_shock", "bloc": "sco", "delta": 1.0,
         "states": ["KAZ", "TUR", "MNG", "AZE"]},
        {"year": 2028, "type": "government_change", "regime": 1.0, "states": ["KAZ", "AZE"]},
    ], sco={"counter_terrorism": {"intensity": 1.0, "efficiency": 5.0, "end": 2027,
                                  "targets": ["central_asia", "TUR", "AZE", "MNG"]}})
    assert_same_runs(sc, replication_seeds(3, 8))
    assert calls


_EVENT = st.one_of(
    st.builds(lambda y, d, b, s: {"year": y, "type": "economic_shock", "bloc": b, "delta": d, "state": s},
              st.integers(2025, 2029), st.floats(-1, 1), st.sampled_from(["sco", "west"]),
              st.sampled_from(["KAZ", "TUR", "MNG"])),
    st.builds(lambda y, x, n, b, s: {"year": y, "type": "sanctions", "by": b, "intensity": x,
                                     "duration": n, "state": s},
              st.integers(2025, 2029), st.floats(0, 1), st.integers(1, 4),
              st.sampled_from(["sco", "west"]), st.sampled_from(["KAZ", "TUR", "MNG"])),
    st.builds(lambda y, g, s: {"year": y, "type": "government_change", "regime": g, "state": s},
              st.integers(2025, 2029), st.floats(0, 1), st.sampled_from(["KAZ", "TUR", "MNG"])),
    st.builds(lambda y, e, s_, s: {"year": y, "type": "ties", "e_sco": e, "s_sco": s_, "state": s},
              st.integers(2025, 2029), st.floats(0, 1), st.floats(0, 1),
              st.sampled_from(["KAZ", "TUR", "MNG"])),
    st.builds(lambda y, e, s_, s: {"year": y, "type": "ties", "e_west": e, "s_west": s_,
                                   "states": s},
              st.integers(2025, 2029), st.floats(0, 1), st.floats(0, 1),
              st.lists(st.sampled_from(["KAZ", "TUR", "MNG"]), min_size=1, max_size=3,
                       unique=True)),
    st.builds(lambda y, st_, s: {"year": y, "type": "join", "org": "SCO", "status": st_, "state": s},
              st.integers(2025, 2029), st.sampled_from(["dialogue_partner", "observer", "member"]),
              st.sampled_from(["KAZ", "TUR", "MNG"])),
    st.builds(lambda y, s: {"year": y, "type": "leave", "org": "SCO", "state": s},
              st.integers(2025, 2029), st.sampled_from(["KAZ", "TUR", "MNG"])),
)
_LEVER = st.tuples(st.sampled_from(sorted(LEVERS)), st.floats(0, 1), st.floats(0, 5),
                   st.integers(2025, 2029))


#: The parameters of today's model features (the SCO rule, per-state shocks, drift), drawn too.
_FEATURES = st.fixed_dictionaries({
    "membership_rule": st.sampled_from(["threshold", "hazard"]),
    "rise_hazard_intercept": st.floats(-5, 2), "rise_hazard_alignment": st.floats(-3, 5),
    "shock_heterogeneity": st.sampled_from([0.0, 0.5, 1.0]),
    "drift_sd": st.sampled_from([0.0, 0.01, 0.2])})


@settings(max_examples=15, deadline=None)
@given(events=st.lists(_EVENT, max_size=5), levers=st.lists(_LEVER, max_size=3, unique_by=lambda x: x[0]),
       step=st.sampled_from(["year", "quarter"]), features=_FEATURES)
def test_any_mix_of_events_and_levers_matches_the_model(events, levers, step, features):
    blocks = {"sco": {}, "west": {}}
    for name, x, efficiency, end in levers:
        blocks[LEVERS[name].bloc][name] = {"intensity": x, "efficiency": efficiency,
                                            "targets": ["KAZ", "TUR", "MNG"], "end": end}
    sc = make(horizon=6, step=step, parameters={**CHURN, **features}, events=events, **blocks)
    assert_same_runs(sc, replication_seeds(11, 3))


def test_without_attribution_the_alignment_is_the_same():
    sc = load_scenario(ROOT / "scenarios" / "sco_expansion.yaml")
    seeds = replication_seeds(1, 5)
    plan = prepare_plan(sc)
    on = Ensemble(plan, seeds).run()
    off = Ensemble(plan, seeds, attribution=False).run()
    np.testing.assert_array_equal(on.alignment, off.alignment)
    np.testing.assert_array_equal(on.status, off.status)
    assert on.status_logs == off.status_logs
    with pytest.raises(ValueError, match="attribution"):
        off.contributions_of(0)
    assert off.run_result(0).contributions.shape == on.run_result(0).contributions.shape


def test_contributions_add_up_and_seeds_are_per_run():
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    seeds = replication_seeds(sc.seed, 3)
    ens = run_ensemble(sc, seeds)
    alone = run_ensemble(sc, seeds[1:2])  # a run does not depend on the others in the ensemble
    np.testing.assert_array_equal(alone.alignment[0], ens.alignment[1])
    for r in range(3):
        c = ens.contributions_of(r)
        np.testing.assert_allclose(c.sum(axis=1)[1:], np.diff(ens.alignment[r], axis=0), atol=1e-12)


def test_a_trim_within_tolerance_follows_each_run():
    """A column out by less than the tolerance is trimmed only in runs that trim for another.

    ``BlocModel`` trims all of a run's columns once any is out by more than 1e-12, so a column
    barely out is trimmed in some runs and not in others: the engine must split it off.
    """
    from model.core import dynamics as dyn
    from model.core.dynamics import S_SCO
    from model.core.simulation import SRC

    sc = make(horizon=2, parameters={"shock_sd": 0.0, "drift_sd": 0.0})
    plan = prepare_plan(sc)
    eng = Ensemble(plan, replication_seeds(1, 3))
    i, j = 10, 20  # i barely out (in every run), j far out in the shared path
    src = SRC["events"]  # lasting: the trim takes from it
    dev = eng.dev.full()  # the shared columns before a trim, as a step left them
    dev[src, S_SCO, i] = 1.0 + 1e-13 - plan.base[S_SCO, i]
    dev[src, S_SCO, j] = 1.5 - plan.base[S_SCO, j]
    eng.dev = Held.of(dev)
    eng.diverge(np.array([j]), np.array([0]))  # run 0 has its own, in-bounds, column j
    eng.pair_dev[src, S_SCO, 0] = 0.0
    before = [eng.dev_of_run(r) for r in range(3)]
    trimmed, oob, dirty, _ = trim_shared(plan, dev)
    eng._keep_in_bounds(replace(eng.path.at(0), dev=Held.of(trimmed), untrimmed=eng.dev, oob=oob,
                                dirty=dirty))
    eng.dev = Held.of(trimmed)
    for r in range(3):
        dev = before[r]
        if dyn.out_of_bounds(dyn.structure(plan.base, dev)):
            dev = dyn.keep_in_bounds(dev, plan.base, plan.lasting)
        np.testing.assert_array_equal(eng.dev_of_run(r), dev)
    assert eng.dev_of_run(0)[src, S_SCO, i] != eng.dev_of_run(1)[src, S_SCO, i]


@pytest.mark.parametrize("seed", replication_seeds(8, 3))
def test_a_lone_run_matches_the_model(seed):
    """One run: blocks of a single diverged column, where numpy would sum pairwise."""
    sc = load_scenario(ROOT / "scenarios" / "sco_expansion.yaml")
    assert_same_runs(sc, [seed])


def test_sum_rows_keeps_the_models_order_whatever_the_layout():
    x = np.random.default_rng(0).standard_normal((16, 193)) * 10.0 ** np.arange(16)[:, None]
    expected = x.sum(axis=0)  # the model's sum: a leading axis, row by row
    for cols in ([5], [3, 5, 9], list(range(0, 193, 7))):
        np.testing.assert_array_equal(columns.sum_rows(x[:, cols]), expected[cols])
        np.testing.assert_array_equal(columns.sum_rows(np.asfortranarray(x[:, cols])), expected[cols])
        np.testing.assert_array_equal(columns.sum_rows(np.ascontiguousarray(x[:, cols])), expected[cols])


def test_sum_rows_adds_row_by_row_for_every_block_shape():
    """Deviations (sources, channels, m) and pushes (sources, m) of any number of pairs: numpy's
    one-call sum of a C-ordered block is the written-out row-by-row sum (a single column is not)."""
    rng = np.random.default_rng(1)
    for m in range(1, 70):
        for shape in ((16, 5, m), (16, m), (3, m)):
            x = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, size=shape)
            out = x[0].copy()
            for row in x[1:]:
                out += row
            np.testing.assert_array_equal(columns.sum_rows(x), out, err_msg=str(shape))
            np.testing.assert_array_equal(columns.sum_rows(np.asfortranarray(x)), out)
            np.testing.assert_array_equal(columns.sum_rows(np.moveaxis(x, 0, -1), axis=-1), out)


def test_heavy_tailed_shocks_match_the_model():
    """``shock_tail`` transforms the same draws in both engines: runs stay equal to the bit."""
    sc = make(start_year=2014, horizon=6, replications=3,
              parameters={"shock_tail": 0.25, "inertia": 0.0})
    assert_same_runs(sc, replication_seeds(5, 3))


def test_persistent_shocks_match_the_model():
    """``shock_persistence`` carries each run's last shocks in both engines: runs equal to the bit."""
    sc = make(start_year=2014, horizon=6, replications=3,
              parameters={"shock_persistence": 0.4, "shock_tail": 0.15, "inertia": 0.0})
    assert_same_runs(sc, replication_seeds(5, 3))


def test_scripted_leader_change_shifts_its_state_by_the_effect_in_both_engines():
    events = [{"year": 2016, "type": "leader_change", "state": "ECU"}]
    sc = make(start_year=2014, horizon=4, replications=2, events=events,
              parameters={"leader_change_effect": -0.05})
    ref = assert_same_runs(sc, replication_seeds(8, 2))
    base = assert_same_runs(make(start_year=2014, horizon=4, replications=2,
                                 parameters={"leader_change_effect": -0.05}), replication_seeds(8, 2))
    world = prepare_world(sc)
    i = int(np.flatnonzero(world.iso3 == "ECU")[0])
    shift = ref[0].alignment[2, i] - base[0].alignment[2, i]
    assert shift == pytest.approx(-0.05, abs=0.02)  # about the effect, scaled by the room
    assert ref[0].alignment[1, i] == base[0].alignment[1, i]  # nothing before the event


def test_per_state_shock_scales_match_the_model():
    """A world's per-state shock scale (``shock_heterogeneity``) acts alike in both engines."""
    from dataclasses import replace

    sc = make(start_year=2014, horizon=5, replications=3,
              parameters={"shock_heterogeneity": 1.0, "shock_tail": 0.15})
    world = prepare_world(sc)
    scale = np.linspace(0.4, 2.5, world.n)
    scaled = replace(world, shock_scale=scale)
    ref = assert_same_runs(sc, replication_seeds(6, 3), world=scaled)
    pooled = assert_same_runs(sc, replication_seeds(6, 3), world=world)
    moved = np.abs(ref[0].alignment[-1] - world.alignment)
    moved_pooled = np.abs(pooled[0].alignment[-1] - world.alignment)
    calm, wild = scale < 0.8, scale > 2.0
    # the same draws, larger where the scale is larger
    assert moved[wild].mean() > moved_pooled[wild].mean()
    assert moved[calm].mean() < moved_pooled[calm].mean()


def test_drift_matches_the_model_and_widens_the_decade():
    """A run's drift (``drift_sd``), drawn once at its start, acts alike in both engines; it
    leaves the first year's draws alone and widens the spread of ten-year changes."""
    params = {"shock_heterogeneity": 1.0, "shock_tail": 0.15}
    seeds = replication_seeds(6, 4)
    drift = assert_same_runs(make(start_year=2014, horizon=10, replications=4,
                                  parameters={**params, "drift_sd": 0.03}), seeds)
    none = assert_same_runs(make(start_year=2014, horizon=10, replications=4,
                                 parameters=params), seeds)
    world = prepare_world(make(start_year=2014, horizon=1))
    change = np.stack([r.alignment[-1] - world.alignment for r in drift])
    change0 = np.stack([r.alignment[-1] - world.alignment for r in none])
    assert change.std() > 1.3 * change0.std()
    assert not np.array_equal(drift[0].alignment[1], none[0].alignment[1])


def test_a_run_without_drift_draws_nothing_for_it():
    """``drift_sd`` 0 draws nothing, so every run without drift keeps its stream to the byte."""
    from model.core.derive import run_drift

    g, h = np.random.default_rng(5), np.random.default_rng(5)
    assert run_drift(g, np.zeros(4)).size == 0 and run_drift(g, None).size == 0
    assert g.random() == h.random()
    d = run_drift(g, np.array([0.0, 0.1, 0.2]))
    assert d[0] == 0 and d.shape == (3,)
