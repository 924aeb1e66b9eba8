"""A small real run (a few replications, a few years) for the report's tests."""

import pytest

from model.config.checks import prepare_world
from model.config.scenario import Scenario
from model.run.service import run_replications
from model.run.tables import RunTables


@pytest.fixture(scope="module")
def small_run():
    """``(scenario, world, RunTables)`` of five runs of four years with one lever on each side."""
    sc = Scenario(name="plots-test", replications=5, horizon=3,
                  sco={"trade_facilitation": {"intensity": 0.8}},
                  west={"diplomatic_alliances": {"intensity": 0.5}})
    world = prepare_world(sc)
    results, _ = run_replications(sc, world)
    names = dict(zip(world.iso3, world.name, strict=True))
    return sc, world, RunTables(results, names, sc.parameters.lean_threshold)
