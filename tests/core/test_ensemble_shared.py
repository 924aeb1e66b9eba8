"""The ensemble's shared columns (``core.ensemble.shared``): stepped once per plan, kept or not.

Every ensemble of a plan reads the same shared path; these tests check that it is computed
once, that a path kept from an earlier ensemble, one computed afresh and one not kept give
every run the same bits, and that ``prepare_plan`` hands the chunks of one cell the same plan.
(``test_ensemble.py`` checks the runs against ``BlocModel``.)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from model.config.build import prepare_plan
from model.config.checks import prepare_world
from model.config.scenario import Scenario
from model.core.ensemble import Ensemble, shared
from model.core.seeds import replication_seeds

#: Statuses that move in many runs, sanctions that force trims, and events of every kind that
#: touch the shared columns and the diverged ones.
CHURN = dict(shock_sd=0.5, partner_threshold=0.0, observer_threshold=0.1, member_threshold=0.2,
             membership_years=0.0, admission_rate=0.9, leave_drop=0.1, decision_smoothing=0.0)
EVENTS = [
    {"year": 2025, "type": "sanctions", "by": "west", "intensity": 0.9, "duration": 3,
     "states": ["KAZ", "TUR", "MNG"]},
    {"year": 2026, "type": "join", "org": "SCO", "status": "observer", "states": ["TUR", "MNG"]},
    {"year": 2027, "type": "economic_shock", "bloc": "sco", "delta": 1.0, "states": ["KAZ", "TUR"]},
    {"year": 2027, "type": "alignment_shock", "delta": 0.3, "states": ["GEO", "AZE"]},
    {"year": 2028, "type": "join", "org": "NATO", "states": ["GEO"]},
    {"year": 2028, "type": "leave", "org": "SCO", "states": ["KAZ", "UZB"]},
]


def scenario(**extra) -> Scenario:
    return Scenario.model_validate({"name": "shared", "start_year": 2024, "horizon": 6, "seed": 4,
                                    "parameters": CHURN, "events": EVENTS, **extra})


def assert_same(a, b) -> None:
    for name in ("alignment", "status", "structure_shared", "pushes_shared"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.status_logs == b.status_logs
    for r in range(a.runs):
        np.testing.assert_array_equal(a.structure_of(r), b.structure_of(r))
        np.testing.assert_array_equal(a.contributions_of(r), b.contributions_of(r))


def test_a_kept_path_is_computed_once_and_gives_the_runs_of_a_new_one(monkeypatch):
    sc = scenario()
    world = prepare_world(sc)
    seeds = replication_seeds(4, 8)
    plan = prepare_plan(sc, world=world)
    first = Ensemble(plan, seeds[:4]).run()
    assert plan.cache["shared_path"] is Ensemble(plan, seeds).path
    steps = []
    real = shared.SharedPath._advance
    monkeypatch.setattr(shared.SharedPath, "_advance", lambda self, k: steps.append(k) or real(self, k))
    again = Ensemble(plan, seeds).run()  # reads the kept path
    assert steps == []
    fresh_plan = replace(plan)  # the same plan, its path to be computed anew
    fresh = Ensemble(fresh_plan, seeds).run()
    assert steps == list(range(plan.steps))
    assert_same(again, fresh)
    assert sum(len(log) for log in again.status_logs) > 0  # statuses did move
    # a run does not depend on the others, nor on which ensemble computed the path first
    np.testing.assert_array_equal(first.alignment, again.alignment[:4])


def test_a_path_too_large_to_keep_gives_the_same_runs(monkeypatch):
    sc = scenario()
    seeds = replication_seeds(9, 5)
    kept = Ensemble(replace(prepare_plan(sc)), seeds).run()
    monkeypatch.setattr(shared, "KEEP_BYTES", 0)
    plan = replace(prepare_plan(sc))
    ens = Ensemble(plan, seeds)
    assert not ens.path.keep and "shared_path" not in plan.cache
    assert_same(ens.run(), kept)


def test_prepare_plan_hands_an_equal_scenario_the_same_plan():
    sc = scenario()
    world = prepare_world(sc)
    plan = prepare_plan(sc, world=world)
    assert prepare_plan(Scenario.model_validate(sc.model_dump()), world=world) is plan
    changed = scenario(parameters={**CHURN, "shock_sd": 0.4})
    assert prepare_plan(changed, world=world) is not plan
    other_world = replace(world)
    assert prepare_plan(sc, world=other_world) is not plan


def test_held_deviations_give_back_every_bit():
    rng = np.random.default_rng(2)
    dev = np.zeros((16, 5, 30))
    dev[3, 1] = rng.standard_normal(30)
    dev[7, 4, [2, 9]] = -0.0  # a row of zeros but for two -0.0: held, so the signs come back
    dev[12, 0, 5] = 1e-310
    held = shared.Held.of(dev)
    assert held.rows.tolist() == [3 * 5 + 1, 7 * 5 + 4, 12 * 5 + 0]
    assert held.full().tobytes() == dev.tobytes()
    cols = np.array([9, 2, 5, 5, 0])
    assert held.columns(cols).tobytes() == np.ascontiguousarray(dev[:, :, cols]).tobytes()


def test_a_plan_changed_by_replace_does_not_read_the_old_plans_path():
    """``dataclasses.replace`` copies every field given to ``__init__``: a notebook's
    ``replace(plan, events={})`` shared the first plan's kept path, so its runs still had the
    events (the path follows the events, the levers and the start)."""
    sc = scenario()
    world = prepare_world(sc)
    seeds = replication_seeds(5, 3)
    plan = prepare_plan(sc, world=world)
    Ensemble(plan, seeds).run()  # the path is kept on the plan
    without = replace(plan, events={})
    expected = Ensemble(prepare_plan(scenario(events=[]), world=world), seeds).run()
    assert_same(Ensemble(without, seeds).run(), expected)
