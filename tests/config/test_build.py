"""``config.build.prepare_plan``: the last plans kept, safely across threads."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from model.config import build
from model.config.checks import prepare_world
from model.config.scenario import load_scenario


def test_kept_plans_are_safe_when_two_threads_ask_at_once(monkeypatch):
    """``blocsim serve`` runs two what-if runs at once in threads: one found its plan kept while
    the other's new plan pushed it out, and marking it recent raised a KeyError (a failed page).

    Plans are made instantly here and only one is kept, so that the threads meet often.
    """
    sc = load_scenario(Path(__file__).parents[2] / "scenarios" / "baseline.yaml")
    world = prepare_world(sc)
    variants = [sc.model_copy(update={"seed": s}) for s in range(2)]
    monkeypatch.setattr(build, "PLANS_KEPT", 1)
    monkeypatch.setattr(build, "shared_plan", lambda *args, **kwargs: object())
    monkeypatch.setattr(build, "check_scenario", lambda *args: None)
    monkeypatch.setattr(build, "plan_from_scenario", lambda *args: None)
    monkeypatch.setattr(build, "_PLANS", type(build._PLANS)())
    errors: list = []

    def ask(k: int) -> None:
        try:
            for i in range(3000):
                plan = build.prepare_plan(variants[(i + k) % 2] if i % 3 else variants[k], world=world)
                assert plan is not None
        except Exception as exc:  # noqa: BLE001 - any error is the test's failure
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=ask, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(build._PLANS) <= 1


def test_a_world_changed_in_place_gets_a_fresh_plan_a_read_only_one_its_kept_plan():
    """A notebook's own world (writable arrays) changed between two calls: the second plan sees
    the change. The loaded world (read-only arrays) keeps its plan: the same object again."""
    import dataclasses

    sc = load_scenario(Path(__file__).parents[2] / "scenarios" / "baseline.yaml")
    world = prepare_world(sc)
    assert build.prepare_plan(sc, world=world) is build.prepare_plan(sc, world=world)
    own = dataclasses.replace(world, alignment=world.alignment.copy())  # writable now
    before = build.prepare_plan(sc, world=own)
    own.alignment[0] = -own.alignment[0] if own.alignment[0] else 0.5
    after = build.prepare_plan(sc, world=own)
    assert after.a0[0] == own.alignment[0] != before.a0[0]
