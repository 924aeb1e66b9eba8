"""The run service (``run.service``): one loop for replications, on the ensemble engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import model.run.service as service
from model.base.errors import NonFiniteError, ScenarioError
from model.config.build import run_scenario
from model.config.checks import prepare_world
from model.config.scenario import load_scenario
from model.core.seeds import replication_seeds
from model.run import tables

FIELDS = ("alignment", "structure", "status", "contributions", "times")
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
HINDCAST = str(SCENARIOS / "hindcast_2014.yaml")
BASELINE = str(SCENARIOS / "baseline.yaml")
CLASSROOM = str(SCENARIOS / "classroom.yaml")


def short(path: str, horizon: int = 4):
    sc = load_scenario(path)
    return sc.model_copy(update={"horizon": horizon})


def same(a, b) -> None:
    for f in FIELDS:
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes(), f
    assert a.status_log == b.status_log


@pytest.mark.parametrize("group", [1, 2, 50])
def test_replicate_equals_blocmodel_seed_by_seed_in_any_grouping(group):
    sc = short(HINDCAST, 6)
    world = prepare_world(sc)
    seeds = replication_seeds(7, 5)
    done = []
    results = service.replicate(sc, seeds, world, group=group, progress=done.append)
    assert sum(done) == 5 and len(done) == -(-5 // group)
    for seed, r in zip(seeds, results, strict=True):
        same(r, run_scenario(sc, rng=seed, world=world))


def test_without_attribution_the_records_are_the_same_and_contributions_zero():
    sc = short(BASELINE)
    world = prepare_world(sc)
    seeds = replication_seeds(3, 3)
    lean = service.replicate(sc, seeds, world, attribution=False)
    full = service.replicate(sc, seeds, world)
    for a, b in zip(lean, full, strict=True):
        assert a.alignment.tobytes() == b.alignment.tobytes()
        assert a.structure.tobytes() == b.structure.tobytes()
        assert not a.contributions.any()


def test_a_failing_engine_falls_back_run_by_run_and_collects_errors(monkeypatch):
    sc = short(CLASSROOM)
    world = prepare_world(sc)
    seeds = replication_seeds(1, 3)
    ref = service.replicate(sc, seeds, world)

    def broken(self):
        raise RuntimeError("engine broke")
    monkeypatch.setattr("model.core.ensemble.Ensemble.run", broken)
    with pytest.raises(RuntimeError):
        service.replicate(sc, seeds, world)
    collected = service.replicate(sc, seeds, world, errors="collect")
    for a, b in zip(collected, ref, strict=True):
        same(a, b)


def test_a_non_finite_run_is_named_by_blocmodel(monkeypatch):
    sc = short(CLASSROOM)
    world = prepare_world(sc)
    seeds = replication_seeds(1, 3)
    monkeypatch.setattr(service, "_finite_runs", lambda ens: np.array([True, False, True]))

    def fails(*args, **kwargs):
        raise NonFiniteError("step 1: not finite")
    monkeypatch.setattr("model.config.build.run_scenario", fails)
    with pytest.raises(NonFiniteError):
        service.replicate(sc, seeds, world)
    got = service.replicate(sc, seeds, world, errors="collect")
    assert isinstance(got[1], NonFiniteError) and not isinstance(got[0], Exception)


def test_execute_run_in_memory_gives_the_tables_it_writes(tmp_path):
    mem = service.execute_run(CLASSROOM, runs=2, seed=5, out=None)
    assert mem.out_dir is None and mem.plots == [] and mem.seeds == replication_seeds(5, 2)
    disk = service.execute_run(CLASSROOM, runs=2, seed=5, out=tmp_path / "c")
    for name, df in (("trajectories", mem.trajectories), ("blocs", mem.blocs),
                     ("status_changes", mem.status_changes)):
        tables.write_csv(df, tmp_path / f"{name}.csv")
        assert (tmp_path / f"{name}.csv").read_bytes() == (disk.out_dir / f"{name}.csv").read_bytes()


def test_execute_run_copies_a_scenario_object_before_overriding_it():
    sc = load_scenario(CLASSROOM)
    seed = sc.seed
    out = service.execute_run(sc, seed=seed + 1, runs=1, out=None)
    assert sc.seed == seed and out.scenario.seed == seed + 1


def test_execute_run_checks_before_running(monkeypatch, tmp_path):
    def boom(*args, **kwargs):
        raise AssertionError("ran before the checks")
    monkeypatch.setattr(service, "replicate", boom)
    with pytest.raises(ScenarioError, match="--runs 0"):
        service.execute_run(CLASSROOM, runs=0, out=None)
    with pytest.raises(ScenarioError, match="at most"):
        service.execute_run(BASELINE, runs=100_000, out=None)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ScenarioError):
        service.execute_run(CLASSROOM, out=tmp_path / "file")


def test_progress_counts_up_to_the_total():
    seen = []
    service.execute_run(CLASSROOM, runs=3, out=None,
                        progress=lambda done, total, name: seen.append((done, total, name)))
    assert seen[0][0] == 0 and seen[-1][:2] == (3, 3)
