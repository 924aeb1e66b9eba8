"""Limits on a design's size: checked from the spec's counts, before anything is built."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

import model.run.design
from model.apps.cli import main
from model.config.experiment import MAX_RUNS, MAX_SWEEP_POINTS

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture
def nothing_built(monkeypatch):
    """Fail if a scenario is read or a point is made: the limits come first."""
    def boom(*args, **kwargs):
        raise AssertionError("the design was built before its size was checked")
    monkeypatch.setattr(model.run.design, "sweep_points", boom)
    monkeypatch.setattr(model.run.design, "load_listed_scenario", boom)


def one_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("blocsim: error: "), err
    return err


@pytest.mark.parametrize("args, expected", [
    (["--sweep", "inertia=0.1:0.2:1000000"], f"N (1000000) is above the limit of {MAX_SWEEP_POINTS}"),
    (["--sweep", "inertia=0.1:0.2:100", "--sweep", "peer_weight=0.1:0.2:100",
      "--sweep", "lean_threshold=0.1:0.2:100"], "the design has 1000000 points (100 values of inertia"),
    (["--sweep", "inertia=0.1:0.2", "--sample", "morris:1000000"], "the design has 2000000 points"),
    (["--sweep", "inertia=0.1:0.2:1000", "--runs", "20000"],
     f"the design has 20000000 runs (1 scenario(s) x 1 strategy(ies) x 1000 point(s) x 20000 "
     f"replications); at most {MAX_RUNS} in one batch"),
])
def test_huge_designs_are_refused_at_once(args, expected, tmp_path, capsys, nothing_built):
    t0 = time.perf_counter()
    status = main(["batch", "--scenario", str(BASELINE), "--runs", "1", *args,
                   "--out", str(tmp_path / "out"), "--quiet"])
    assert time.perf_counter() - t0 < 2
    assert status == 2
    assert expected in one_error(capsys)
    assert not (tmp_path / "out").exists()


def test_huge_grid_in_an_experiment_file(tmp_path, capsys, nothing_built):
    exp = tmp_path / "e.yaml"
    grid = {n: [0.1 + i / 1000 for i in range(100)] for n in ("inertia", "peer_weight", "lean_threshold")}
    exp.write_text(yaml.safe_dump({"name": "e", "scenarios": [str(BASELINE)], "replications": 1,
                                   "sweep": {"parameters": grid}}), encoding="utf-8")
    assert main(["batch", str(exp), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = one_error(capsys)
    assert f"{exp}:" in err and "sweep: the design has 1000000 points" in err


@pytest.mark.parametrize("runs", ["200000", "2000000"])
def test_runs_over_the_limit_names_runs(runs, tmp_path, capsys, nothing_built):
    assert main(["batch", "--scenario", str(BASELINE), "--runs", runs,
                 "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert one_error(capsys) == f"blocsim: error: --runs {runs}: replications must be between 1 and 100000"
