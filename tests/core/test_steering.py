"""A core that can be steered: typed inputs, ``set_plan`` between steps, snapshots to the byte."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from model.config.build import model_from_scenario, params_from_scenario, plan_from_scenario, run_scenario
from model.config.scenario import Parameters, Scenario, load_scenario
from model.core.plan import EventAction, LeverAction, Params, Plan
from model.core.simulation import SRC, BlocModel
from model.core.snapshot import Snapshot, SnapshotError
from model.data.world import load_world
from model.run.snapshots import load_snapshot, save_snapshot

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ("times", "iso3", "alignment", "structure", "status", "contributions", "gdp_usd",
          "population")


def same_result(a, b) -> None:
    """Two RunResults equal to the byte: every array field and the status log."""
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and np.array_equal(x, y), f
    assert a.status_log == b.status_log


def make(**fields) -> Scenario:
    fields.setdefault("name", "test")
    return Scenario.model_validate(fields)


def rich(step: str) -> Scenario:
    """Levers, SCO joins, sanctions running across the snapshot, every kind of event, and a
    membership rule loose enough that states change status by themselves."""
    sc = load_scenario(ROOT / "scenarios" / "sco_expansion.yaml")
    events = [e.model_dump() for e in sc.events] + [
        {"year": 2025, "type": "sanctions", "by": "west", "intensity": 0.4, "duration": 4,
         "state": "KAZ"},
        {"year": 2026, "type": "sanctions", "by": "sco", "intensity": 0.2, "duration": 2,
         "states": ["GEO", "ARM"]},
        {"year": 2027, "type": "economic_shock", "bloc": "sco", "delta": 0.1, "state": "UZB"},
        {"year": 2027, "type": "government_change", "regime": 0.2, "state": "KGZ"},
        {"year": 2029, "type": "alignment_shock", "delta": 0.3, "state": "TUR"},
        {"year": 2029, "type": "join", "org": "BRICS", "state": "TUR"},
        {"year": 2028, "type": "ties", "e_sco": 0.4, "s_west": 0.2, "states": ["UZB", "TUR"]},
        {"year": 2030, "type": "leave", "org": "SCO", "state": "BLR"},
    ]
    params = {**sc.parameters.model_dump(), "admission_rate": 1.0, "membership_years": 0.5,
              "partner_threshold": 0.2, "drift_sd": 0.02}
    return sc.model_copy(update={"step": step, "events": make(events=events).events,
                                 "parameters": Parameters(**params)})


@pytest.fixture(scope="module")
def world():
    return load_world("builtin", 2024)


# --- typed inputs ---------------------------------------------------------------------------------

def test_params_name_every_parameter_of_the_dynamics():
    """Params are the schema's parameters but lean_threshold, which only the outputs read."""
    assert {f.name for f in dataclasses.fields(Params)} == set(Parameters.model_fields) - {
        "lean_threshold"}
    p = params_from_scenario(make(parameters={"inertia": 0.4}))
    assert p.inertia == 0.4 and isinstance(p.gdp_ref_usd, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.inertia = 1.0  # type: ignore[misc]


def test_plan_round_trips_through_json(world):
    plan = plan_from_scenario(rich("year"), world)
    assert plan.levers and plan.events
    back = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert back == plan
    kinds = {ev.kind for ev in plan.events}
    assert kinds == {"join", "leave", "sanctions", "economic_shock", "government_change",
                     "alignment_shock", "ties"}


def test_the_model_needs_no_scenario(world):
    """Built from plain values: a world, Params, a Plan, timing and a seed."""
    p = params_from_scenario(make())
    effort = np.zeros(world.n)
    effort[world.mask(["central_asia"])] = 0.8
    plan = Plan(levers=(LeverAction("trade_agreements", tuple(effort), 2025, 2030),),
                events=(EventAction("join", 2026, (world.index["KAZ"],), org="NATO"),))
    r = BlocModel(world, p, plan, rng=1, horizon=6).run()
    assert r.times[0] == 2024 and r.times[-1] == 2030
    assert np.abs(r.contributions[:, SRC["trade_agreements"]]).sum() > 0
    assert np.abs(r.contributions[:, SRC["events"], world.index["KAZ"]]).sum() > 0


def test_a_bad_plan_is_refused(world):
    p = params_from_scenario(make())
    with pytest.raises(ValueError, match="effort has 3 entries"):
        BlocModel(world, p, Plan(levers=(LeverAction("cpec", (1.0, 0, 0), 2025, 2026),)),
                  rng=0, horizon=2)
    with pytest.raises(ValueError, match="unknown lever"):
        BlocModel(world, p, Plan(levers=(LeverAction("nope", (0.0,) * world.n, 2025, 2026),)),
                  rng=0, horizon=2)
    with pytest.raises(ValueError, match="more than once"):
        Plan(levers=(LeverAction("cpec", (0.0,), 1, 2), LeverAction("cpec", (0.0,), 1, 2)))


# --- set_plan -------------------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["year", "quarter"])
def test_setting_the_same_plan_midway_changes_nothing(step):
    sc = rich(step).model_copy(update={"horizon": 10})
    whole = model_from_scenario(sc).run()
    model = model_from_scenario(sc)
    half = model.steps_total // 2
    for _ in range(half):
        model.step()
    model.set_plan(model.plan)
    model.set_plan(plan_from_scenario(sc, model.world))  # equal, newly built
    same_result(model.run(), whole)


@pytest.mark.parametrize(("step", "k"), [("year", 4), ("quarter", 8)])
def test_a_lever_switched_on_at_step_k_acts_from_step_k(step, k, world):
    """Switched on after k steps, a lever acts from step k on, exactly like a lever whose
    window starts in that step's year in a plan given at the start."""
    base = make(step=step, horizon=8, sco={"cpec": {"budget": 10}},
                events=[{"year": 2026, "type": "join", "org": "SCO", "status": "observer",
                         "state": "EGY"}])
    dt = base.dt
    year = int(np.ceil(base.start_year + k * dt + dt - 1e-9))  # the year of step k
    lever = {"intensity": 0.6, "targets": ["central_asia", "swing_states"], "start": year}
    later = base.model_copy(update={"west": make(west={"trade_agreements": lever}).west})
    model = model_from_scenario(base)
    for _ in range(k):
        model.step()
    model.set_plan(plan_from_scenario(later, world))
    steered = model.run()
    row = SRC["trade_agreements"]
    assert np.all(steered.contributions[:k + 1, row] == 0)  # record k+1 is step k
    assert np.abs(steered.contributions[k + 1, row]).max() > 0
    same_result(steered, run_scenario(later))


def test_set_plan_refuses_to_rewrite_past_events_and_takes_future_ones(world):
    sc = rich("year")
    model = model_from_scenario(sc)
    for _ in range(3):  # steps for 2025, 2026, 2027 taken
        model.step()
    plan = model.plan
    extra = EventAction("alignment_shock", 2026, (world.index["IND"],), delta=0.5)
    with pytest.raises(ValueError, match="past events"):
        model.set_plan(dataclasses.replace(plan, events=(*plan.events, extra)))
    with pytest.raises(ValueError, match="past events"):
        model.set_plan(dataclasses.replace(plan, events=plan.events[1:]))
    assert model.plan is plan  # a refused plan leaves the model as it was
    # Future events may be dropped: the run then equals a scenario without them.
    model.set_plan(dataclasses.replace(plan, events=tuple(e for e in plan.events if e.year <= 2027)))
    cut = sc.model_copy(update={"events": [e for e in sc.events if e.year <= 2027]})
    same_result(model.run(), run_scenario(cut))


# --- snapshots ------------------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["year", "quarter"])
@pytest.mark.parametrize("at", [3, 9])
def test_a_snapshot_restored_into_a_fresh_model_continues_to_the_byte(step, at):
    sc = rich(step)
    original = model_from_scenario(sc)
    for _ in range(at):
        original.step()
    snap = original.snapshot()
    generators = (original.rng.bit_generator.state, original.random.getstate())
    assert original.sanctions, "the test wants sanctions running across the snapshot"
    expected = original.run()
    assert any(src == "membership" for *_, src in expected.status_log)
    assert any(src == "events" for *_, src in expected.status_log)

    fresh = model_from_scenario(sc, rng=987654321)  # another seed: the snapshot's must win
    fresh.restore(snap)
    assert fresh.k == at
    assert (fresh.rng.bit_generator.state, fresh.random.getstate()) == generators
    same_result(fresh.run(), expected)
    # A model built from the snapshot alone (world given) does the same.
    same_result(BlocModel.from_snapshot(fresh.world, snap).run(), expected)


def test_undo_restores_the_same_model_and_the_snapshot_is_a_copy():
    sc = rich("year")
    model = model_from_scenario(sc)
    for _ in range(2):
        model.step()
    snap = model.snapshot()
    a_at_snap = snap.arrays["a"].copy()
    first = model.run()
    assert np.array_equal(snap.arrays["a"], a_at_snap)  # stepping on left the snapshot alone
    model.restore(snap)  # undo back to step 2
    same_result(model.run(), first)


def test_a_snapshot_round_trips_through_a_file(tmp_path):
    sc = rich("quarter")
    model = model_from_scenario(sc)
    for _ in range(7):
        model.step()
    path = save_snapshot(model.snapshot(), tmp_path / "game.npz")
    expected = model.run()
    snap = load_snapshot(path)
    assert isinstance(snap, Snapshot) and snap.k == 7
    again = model_from_scenario(sc)
    again.restore(snap)
    same_result(again.run(), expected)
    # The plan rides along: a snapshot taken after set_plan resumes under that plan.
    steered = model_from_scenario(sc)
    steered.step()
    plan = dataclasses.replace(steered.plan, levers=())
    steered.set_plan(plan)
    snap = load_snapshot(save_snapshot(steered.snapshot(), tmp_path / "steered.npz"))
    resumed = BlocModel.from_snapshot(steered.world, snap)
    assert resumed.plan == plan
    same_result(resumed.run(), steered.run())


def test_a_file_that_is_not_a_snapshot_is_refused(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not an archive")
    with pytest.raises(SnapshotError, match="not a blocsim snapshot"):
        load_snapshot(bad)
    np.savez(tmp_path / "y.npz", a=np.zeros(3))
    with pytest.raises(SnapshotError, match="no header"):
        load_snapshot(tmp_path / "y.npz")


def test_restore_refuses_a_snapshot_of_another_world_shape_params_or_timing():
    sc = make(horizon=4)
    model = model_from_scenario(sc)
    model.step()
    snap = model.snapshot()
    other_world = model_from_scenario(make(start_year=2014, horizon=4))
    with pytest.raises(SnapshotError, match="different world"):
        other_world.restore(snap)
    header = json.loads(json.dumps(snap.header))
    header["world"]["n"] = 150
    with pytest.raises(SnapshotError, match="different world"):
        model_from_scenario(sc).restore(Snapshot(header, snap.arrays))
    arrays = {**snap.arrays, "a": snap.arrays["a"][:150]}
    with pytest.raises(SnapshotError, match="'a' has shape"):
        model_from_scenario(sc).restore(Snapshot(snap.header, arrays))
    with pytest.raises(SnapshotError, match="parameters differ.*inertia"):
        model_from_scenario(make(horizon=4, parameters={"inertia": 0.5})).restore(snap)
    with pytest.raises(SnapshotError, match="timing"):
        model_from_scenario(make(horizon=5)).restore(snap)


def test_a_snapshot_under_the_hazard_rule_round_trips_through_a_file(tmp_path):
    """The rule's name is the one parameter that is text: it rides in the snapshot and back."""
    sc = rich("year")
    params = {**sc.parameters.model_dump(), "membership_rule": "hazard",
              "rise_hazard_intercept": -1.0}
    sc = sc.model_copy(update={"parameters": Parameters(**params)})
    model = model_from_scenario(sc)
    for _ in range(3):
        model.step()
    path = save_snapshot(model.snapshot(), tmp_path / "hazard.npz")
    expected = model.run()
    assert any(src == "membership" for *_, src in expected.status_log)
    again = model_from_scenario(sc)
    again.restore(load_snapshot(path))
    assert again.params.membership_rule == "hazard"
    same_result(again.run(), expected)
    other = model_from_scenario(rich("year"))  # the threshold rule: a different model
    with pytest.raises(SnapshotError, match="membership_rule"):
        other.restore(load_snapshot(path))


def test_a_snapshot_from_before_per_state_shock_scales_is_refused_saying_so():
    """A snapshot saved before worlds carried ``shock_scale`` holds the fingerprint of the
    world without it (and none of today's parameters): restoring it says it comes from an
    earlier version, not that the world (same states, same year) differs."""
    from model.core.snapshot import world_fingerprint

    sc = make(horizon=4)
    model = model_from_scenario(sc)
    model.step()
    snap = model.snapshot()
    header = json.loads(json.dumps(snap.header))
    header["world"]["fingerprint"] = world_fingerprint(
        dataclasses.replace(model.world, shock_scale=None))
    for name in ("membership_rule", "rise_hazard_intercept", "rise_hazard_alignment",
                 "shock_heterogeneity", "drift_sd"):
        del header["params"][name]
    arrays = {k: v for k, v in snap.arrays.items() if k != "drift"}
    with pytest.raises(SnapshotError, match="earlier version of blocsim"):
        model_from_scenario(sc).restore(Snapshot(header, arrays))


def test_a_snapshot_without_the_newer_parameters_names_only_those_that_differ():
    """Parameters missing from an older header take their defaults; the refusal names only the
    parameters whose values differ, not every key the header lacks."""
    sc = make(horizon=4)
    model = model_from_scenario(sc)
    model.step()
    snap = model.snapshot()
    header = json.loads(json.dumps(snap.header))
    del header["params"]["membership_rule"]  # its default, threshold: the same rule
    other = model_from_scenario(make(horizon=4, parameters={"inertia": 0.5}))
    with pytest.raises(SnapshotError, match=r"differ from this model's: \['inertia'\]$"):
        other.restore(Snapshot(header, snap.arrays))
