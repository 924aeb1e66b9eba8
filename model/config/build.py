"""From a scenario to a model: the one place that turns a ``Scenario`` into the core's inputs.

The model (``simulation.BlocModel``) takes a ``World``, typed ``Params``, a ``Plan`` and a
generator, and knows nothing of scenario files. This module reads the scenario's levers, events
and parameters into those, picks replication 0's seed when none is given, and builds the
ensemble engine's shared plan (``prepare_plan``, ``run_ensemble``, without building a
``BlocModel``: Mesa is imported only where a ``BlocModel`` is built). Snapshot files are
``run.snapshots``. ``run_scenario`` is one run on ``BlocModel``; a scenario's replications go
through ``run.service.replicate`` (the ensemble engine). Imports base, data, core and config only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import fields
from typing import TYPE_CHECKING

import numpy as np

from ..core.ensemble import Ensemble, EnsembleResult, SharedPlan, shared_plan
from ..core.levers import LEVERS
from ..core.plan import EventAction, LeverAction, Params, Plan
from ..core.record import RunResult
from ..core.seeds import replication_seeds
from ..data.world import World, load_world
from .checks import check_scenario
from .scenario import Scenario

if TYPE_CHECKING:  # imported where a model is built: the engine's path needs no Mesa
    from ..core.simulation import BlocModel

__all__ = ["params_from_scenario", "plan_from_scenario", "model_from_scenario", "run_scenario",
           "prepare_plan", "run_ensemble"]


def params_from_scenario(scenario: Scenario) -> Params:
    """The scenario's parameters of the dynamics (those the outputs alone use are left out)."""
    p = scenario.parameters
    return Params.from_dict({f.name: getattr(p, f.name) for f in fields(Params)})


def lever_action(scenario: Scenario, name: str, cfg, world: World) -> LeverAction:
    """One lever of the scenario: effort per state by the schema's rules, and its window."""
    lever = LEVERS[name]
    effort = np.zeros(world.n)
    targets = cfg.targets if cfg.targets is not None else list(lever.default_targets)
    if isinstance(targets, dict):  # each target its own intensity (the schema's rule)
        for t, x in targets.items():
            effort[world.mask([t])] = x
    else:
        effort[world.mask(targets)] = lever.effort(cfg.intensity, cfg.budget)
    first, last = scenario.lever_window(cfg)
    return LeverAction(name=name, effort=tuple(effort.tolist()), first_year=first,
                       last_year=last, efficiency=cfg.efficiency)


def event_action(ev, world: World, leader_change_effect: float = 0.0) -> EventAction:
    """One scenario event as the model's ``EventAction`` (targets as state indices).

    A ``leader_change`` is carried out as an ``alignment_shock`` of ``leader_change_effect``.
    """
    extra: dict = {}
    if ev.type == "leader_change":
        targets = tuple(np.flatnonzero(world.mask(ev.targets())).tolist())
        return EventAction(kind="alignment_shock", year=ev.year, targets=targets,
                           delta=leader_change_effect)
    if ev.type in ("join", "leave"):
        extra["org"] = ev.org
    if ev.type == "join":
        extra["status"] = ev.status
    if ev.type == "sanctions":
        extra.update(bloc=ev.by, intensity=ev.intensity, duration=ev.duration)
    if ev.type == "alignment_shock":
        extra["delta"] = ev.delta
    if ev.type == "economic_shock":
        extra.update(bloc=ev.bloc, delta=ev.delta)
    if ev.type == "government_change":
        extra["regime"] = ev.regime
    if ev.type == "ties":
        extra["levels"] = ev.levels()
    targets = tuple(np.flatnonzero(world.mask(ev.targets())).tolist())
    return EventAction(kind=ev.type, year=ev.year, targets=targets, **extra)


def plan_from_scenario(scenario: Scenario, world: World) -> Plan:
    """The scenario's levers (in registry order) and events (in file order) as a ``Plan``."""
    return Plan(levers=tuple(lever_action(scenario, name, cfg, world)
                             for name, cfg in scenario.lever_configs()),
                events=tuple(event_action(ev, world, scenario.parameters.leader_change_effect)
                             for ev in scenario.events))


def model_from_scenario(scenario: Scenario, *, rng=None, world: World | None = None,
                        base_dir=None) -> BlocModel:
    """The model for a scenario; without ``rng`` it runs replication 0, as 'blocsim run' would."""
    from ..core.simulation import BlocModel

    if rng is None:
        rng = replication_seeds(scenario.seed, 1)[0]
    world = world or load_world(scenario.world, scenario.start_year, base_dir)
    check_scenario(scenario, world)
    return BlocModel(world, params_from_scenario(scenario), plan_from_scenario(scenario, world),
                     rng=rng, start_year=scenario.start_year, horizon=scenario.horizon,
                     dt=scenario.dt)


def run_scenario(scenario: Scenario, *, rng=None, world: World | None = None,
                 base_dir=None) -> RunResult:
    """Build the model for a scenario, run it to the horizon, release it, return the record."""
    model = model_from_scenario(scenario, rng=rng, world=world, base_dir=base_dir)
    result = model.run()
    model.release()
    return result


#: The last plans made, by (scenario, world): (world, plan), most recent last.
_PLANS: OrderedDict = OrderedDict()
PLANS_KEPT = 4
#: Held while ``_PLANS`` is read or changed (``blocsim serve`` makes plans in two threads at once).
_PLANS_LOCK = threading.Lock()


def _read_only(world: World) -> bool:
    """True if none of the world's arrays can be written (a kept plan of it cannot go stale)."""
    return all(not getattr(world, f.name).flags.writeable for f in fields(world)
               if isinstance(getattr(world, f.name), np.ndarray))


def prepare_plan(scenario: Scenario, *, world: World | None = None, base_dir=None) -> SharedPlan:
    """The shared plan of a scenario (``core.ensemble.shared_plan``): no ``BlocModel``, no Mesa.

    The last ``PLANS_KEPT`` plans are kept by scenario and world (a plan is read-only), so that
    the chunks of one batch cell, run one after another in a worker, share one plan and with it
    the shared columns' path (``core.ensemble.shared``), computed once rather than per chunk.
    Threads may ask at once (the cache is read and changed under a lock; a plan is made outside it).
    Only plans of a read-only world are kept (``load_world``'s are): a world whose arrays can be
    changed in place (one a notebook built) gets a fresh plan every time, never a stale one.
    """
    world = world or load_world(scenario.world, scenario.start_year, base_dir)
    key = (scenario.model_dump_json(), id(world))
    keep = _read_only(world)
    with _PLANS_LOCK:
        kept = _PLANS.get(key) if keep else None
        if kept is not None and kept[0] is world:
            _PLANS.move_to_end(key)
            return kept[1]
    check_scenario(scenario, world)
    plan = shared_plan(world, params_from_scenario(scenario), plan_from_scenario(scenario, world),
                       start_year=scenario.start_year, horizon=scenario.horizon, dt=scenario.dt)
    if not keep:
        return plan
    with _PLANS_LOCK:
        _PLANS[key] = (world, plan)
        while len(_PLANS) > PLANS_KEPT:
            _PLANS.popitem(last=False)
    return plan


def run_ensemble(scenario: Scenario, seeds, *, world: World | None = None, attribution: bool = True,
                 base_dir=None, plan: SharedPlan | None = None) -> EnsembleResult:
    """Run one replication per seed, all together; run r equals ``BlocModel`` with ``seeds[r]``.

    Args:
        scenario: the scenario (every run shares it).
        seeds: one seed per replication (ints as ``replication_seeds`` gives, or anything
            ``numpy.random.default_rng`` takes).
        world: the scenario's world, if already loaded.
        attribution: record what each driver contributed (skipped when False).
        plan: a plan from ``prepare_plan``, to skip building it again.
    """
    plan = plan or prepare_plan(scenario, world=world, base_dir=base_dir)
    return Ensemble(plan, seeds, attribution=attribution).run()
