"""From a scenario to a model: the one place that turns a ``Scenario`` into the core's inputs.

The model (``simulation.BlocModel``) takes a ``World``, typed ``Params``, a ``Plan`` and a
generator, and knows nothing of scenario files. This module reads the scenario's levers, events
and parameters into those, picks replication 0's seed when none is given, and saves and loads
snapshots as files. (In the coming package layout it belongs with the config/run layer.)
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np

from .levers import LEVERS
from .plan import EventAction, LeverAction, Params, Plan
from .scenario import Scenario
from .seeds import replication_seeds
from .simulation import BlocModel, RunResult
from .snapshot import Snapshot
from .world import World, check_scenario, load_world

__all__ = ["params_from_scenario", "plan_from_scenario", "model_from_scenario", "run_scenario",
           "save_snapshot", "load_snapshot"]


def params_from_scenario(scenario: Scenario) -> Params:
    """The scenario's parameters of the dynamics (those the outputs alone use are left out)."""
    p = scenario.parameters
    return Params(**{f.name: float(getattr(p, f.name)) for f in fields(Params)})


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


def event_action(ev, world: World) -> EventAction:
    """One scenario event as the model's ``EventAction`` (targets as state indices)."""
    extra: dict = {}
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
    targets = tuple(np.flatnonzero(world.mask(ev.targets())).tolist())
    return EventAction(kind=ev.type, year=ev.year, targets=targets, **extra)


def plan_from_scenario(scenario: Scenario, world: World) -> Plan:
    """The scenario's levers (in registry order) and events (in file order) as a ``Plan``."""
    return Plan(levers=tuple(lever_action(scenario, name, cfg, world)
                             for name, cfg in scenario.lever_configs()),
                events=tuple(event_action(ev, world) for ev in scenario.events))


def model_from_scenario(scenario: Scenario, *, rng=None, world: World | None = None,
                        base_dir=None) -> BlocModel:
    """The model for a scenario; without ``rng`` it runs replication 0, as 'blocsim run' would."""
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


def save_snapshot(snap: Snapshot, path: Path | str) -> Path:
    """Write a snapshot as one ``.npz`` file (``Snapshot.to_bytes``)."""
    path = Path(path)
    path.write_bytes(snap.to_bytes())
    return path


def load_snapshot(path: Path | str) -> Snapshot:
    """Read a snapshot file written by ``save_snapshot``."""
    return Snapshot.from_bytes(Path(path).read_bytes())
