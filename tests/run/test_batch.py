"""The batch runner (``run.batch`` and ``blocsim batch``): executors, files, resumption, failures.

Tiny experiments (horizon 3, a few replications, chunks of two so there are several chunks) written
in ``tmp_path`` and pointing at the shipped scenarios by absolute path. Real subprocesses only where
the process boundary matters (a SIGKILL, exit statuses); the rest calls ``model.apps.cli.main``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import model.core.simulation
import model.run.batch
import model.run.chunks
from model.apps.cli import main
from model.config.experiment import load_experiment
from model.core.ensemble import Ensemble
from model.core.outcomes import OUTCOMES
from model.core.seeds import replication_seeds
from model.run.batch import (
    COST_PER_STATE_STEP,
    INLINE_BELOW,
    TABLES,
    choose_executor,
    estimate_seconds,
    run_batch,
)
from model.run.design import expand
from model.run.store import count_failures, export_csv
from model.run.tables import CAMPS

ROOT = Path(__file__).resolve().parents[2]
RUN_PY = ROOT / "run.py"
SCEN = ROOT / "scenarios"
BASELINE = SCEN / "baseline.yaml"
CLASSROOM = SCEN / "classroom.yaml"
STRATS = SCEN / "strategies"
ENV = {**os.environ, "MPLBACKEND": "Agg"}
N_STATES = 193
RESULT_TABLES = ("outcomes", "states", "blocs", "trajectories")
assert set(TABLES) == set(RESULT_TABLES)
RUN_COLUMNS = ["run_id", "scenario", "strategy", "point", "replication", "seed", "status", "error"]
STATES_COLUMNS = ["run_id", "iso3", "start_alignment", "end_alignment", "end_camp", "end_sco_status",
                  "year_first_sco", "year_first_west"]
BLOCS_COLUMNS = ["run_id", "year", *[f"{k}_{c}" for c in CAMPS for k in ("states", "gdp_share", "pop_share")],
                 "sco_members", "sco_any_status", "mean_alignment", "gdp_weighted_alignment",
                 "swing_mean_alignment"]
TRAJECTORY_COLUMNS = ["run_id", "year", "iso3", "alignment"]

TINY = {"name": "tiny", "scenarios": [str(BASELINE), str(CLASSROOM)],
        "strategies": [str(STRATS / "none.yaml"), str(STRATS / "trade_agreements.yaml")],
        "reference": "none", "replications": 3, "seed": 7, "horizon": 3, "chunk_size": 2}
TINY_RUNS, TINY_CHUNKS, TINY_TIMES = 2 * 2 * 3, 2 * 2 * 2, 4


def write_exp(folder: Path, name: str = "exp.yaml", **fields) -> Path:
    """An experiment file: TINY with ``fields`` changed (None removes a field)."""
    doc = {k: v for k, v in {**TINY, **fields}.items() if v is not None}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def blocsim(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    """``python run.py ARGS`` as a user would type it."""
    return subprocess.run([sys.executable, str(RUN_PY), *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=120)


def batch(*args: object, capsys=None) -> tuple[int, str, str]:
    """``blocsim batch ARGS`` in-process: (status, stdout, stderr)."""
    status = main(["batch", *map(str, args)])
    out, err = capsys.readouterr() if capsys else ("", "")
    return status, out, err


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("blocsim: error: "), stderr
    return lines[0]


def result_files(out: Path) -> dict[str, bytes]:
    """Every part file of the result tables, and the resolved experiment, by relative path."""
    files = {str(p.relative_to(out)): p.read_bytes()
             for t in RESULT_TABLES for p in sorted((out / t).glob("part-*.parquet"))}
    files["experiment.resolved.yaml"] = (out / "experiment.resolved.yaml").read_bytes()
    return files


def all_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def inodes(out: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for t in RESULT_TABLES for p in (out / t).glob("part-*.parquet")}


def table(out: Path, name: str) -> pd.DataFrame:
    """A whole table, read as one Parquet dataset (as a user would)."""
    return pd.read_parquet(out / name).sort_values(["run_id"], kind="stable").reset_index(drop=True)


def assert_outcome_columns(o: pd.DataFrame, params: list[str]) -> None:
    """The run's identity, then the swept parameters, then every outcome (in any order)."""
    n = len(RUN_COLUMNS) + len(params)
    assert list(o.columns[:n]) == RUN_COLUMNS + params
    assert sorted(o.columns[n:]) == sorted(OUTCOMES)


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


# --- an unreachable scheduler takes the client's 10 s timeout: start it first, check it later -------

@pytest.fixture(scope="module", autouse=True)
def unreachable(tmp_path_factory):
    """``blocsim batch --scheduler tcp://127.0.0.1:1`` started in the background for the module.

    The connection attempt waits out distributed's 10 s timeout (the command line has no option to
    shorten it), so it runs while the other tests do.
    """
    folder = tmp_path_factory.mktemp("unreachable")
    exp = write_exp(folder)
    proc = subprocess.Popen([sys.executable, str(RUN_PY), "batch", str(exp), "--out", str(folder / "out"),
                             "--scheduler", "tcp://127.0.0.1:1", "--quiet"], cwd=folder, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield folder, proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


# --- the reference batch ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> tuple[Path, Path]:
    """TINY run serially: (experiment file, output folder). Tests that change it take a copy."""
    folder = tmp_path_factory.mktemp("serial")
    exp = write_exp(folder)
    status, _, _ = batch(exp, "--workers", 1, "--out", folder / "out", "--quiet")
    assert status == 0
    return exp, folder / "out"


def copy_of(out: Path, dest: Path) -> Path:
    shutil.copytree(out, dest, copy_function=shutil.copy2)
    return dest


@pytest.mark.slow
def test_serial_parallel_and_dask_give_identical_files(serial, tmp_path):
    from distributed import LocalCluster

    exp, ref = serial
    expected = result_files(ref)
    assert len([k for k in expected if k.startswith("outcomes/")]) == TINY_CHUNKS
    assert len(expected) == 4 * TINY_CHUNKS + 1

    # --no-inline: this tiny batch would otherwise run in-process (choose_executor)
    status, _, _ = batch(exp, "--workers", 2, "--no-inline", "--out", tmp_path / "parallel",
                         "--quiet")
    assert status == 0
    assert result_files(tmp_path / "parallel") == expected
    status, _, _ = batch(exp, "--workers", 2, "--out", tmp_path / "inline", "--quiet")
    assert status == 0
    assert result_files(tmp_path / "inline") == expected
    assert manifest(tmp_path / "inline")["executor"].startswith("serial in the calling process (2 ")
    for idle, says in ((1.0, "encoded in 1 other thread"), (0.0, "no core idle")):  # both paths
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(model.run.batch.cores, "free_cores", lambda idle=idle: idle)
            mp.setattr(model.run.chunks, "GROUP_RUNS", 1)  # a group a chunk: several groups
            status, _, _ = batch(exp, "--workers", 2, "--out", tmp_path / f"inline{idle}", "--quiet")
        assert status == 0
        assert result_files(tmp_path / f"inline{idle}") == expected
        assert says in manifest(tmp_path / f"inline{idle}")["executor"]

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        status, _, _ = batch(exp, "--out", tmp_path / "dask", "--scheduler", cluster.scheduler_address,
                             "--quiet")
    assert status == 0
    assert result_files(tmp_path / "dask") == expected

    # the manifests differ only in how and when the batch ran
    volatile = {"executor", "started_at", "finished_at", "elapsed_seconds_this_session",
                "runs_done_before_this_session"}
    docs = [manifest(p) for p in (ref, tmp_path / "parallel", tmp_path / "dask")]
    assert [d["executor"] for d in docs] == ["serial", "2 processes",
                                             f"dask {docs[2]['executor'].split()[-1]}"]
    assert docs[2]["executor"].startswith("dask tcp://")
    for d in docs[1:]:
        assert {k: v for k, v in d.items() if k not in volatile} == \
               {k: v for k, v in docs[0].items() if k not in volatile}


def test_choose_executor_runs_small_work_in_process():
    assert choose_executor(1, 10, 100.0) == "serial"
    assert choose_executor(4, 1, 100.0) == "serial"
    assert choose_executor(2, 10, INLINE_BELOW - 0.1) == "inline"
    assert choose_executor(2, 10, INLINE_BELOW) == "processes"
    assert choose_executor(2, 10, 0.1, inline=False) == "processes"
    assert choose_executor(2, 10, 5.0, below=10.0) == "inline"


def test_estimate_counts_runs_states_and_steps(tmp_path):
    exp = write_exp(tmp_path)
    design = expand(load_experiment(exp))
    per_run = {c.scenario: design.states[c.scenario] * c.resolved["horizon"]
               * (4 if c.resolved["step"] == "quarter" else 1) for c in design.cells}
    want = sum(len(ch.run_ids) * per_run[design.cells[ch.cell].scenario] for ch in design.chunks)
    assert estimate_seconds(design, design.chunks) == pytest.approx(want * COST_PER_STATE_STEP)
    assert estimate_seconds(design, []) == 0.0


# --- resumption after a real kill ------------------------------------------------------------------------

@pytest.mark.slow
def test_resume_after_sigkill(tmp_path):
    # one cell, 600 runs of 11 years in 120 chunks: a few seconds, serially
    exp = write_exp(tmp_path, name="big.yaml", scenarios=[str(BASELINE)], strategies=None,
                    reference=None, replications=600, horizon=11, chunk_size=5, seed=31)
    chunks = 120
    out = tmp_path / "out"
    cmd = [sys.executable, str(RUN_PY), "batch", str(exp), "--workers", "1", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while True:
            parts = list((out / "outcomes").glob("part-*.parquet")) if (out / "outcomes").is_dir() else []
            if len(parts) >= 4 or proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the batch ended before it could be killed: make it bigger"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    done = sorted(int(p.stem.split("-")[1]) for p in (out / "outcomes").glob("part-*.parquet"))
    assert 0 < len(done) < chunks, len(done)
    killed = manifest(out)
    assert killed["finished_at"] is None and killed["started_at"]

    # a chunk half-written when the power went: a stray part and temporaries, but no outcomes
    missing = min(set(range(chunks)) - set(done))
    (out / "states" / f"part-{missing:06d}.parquet").write_bytes(b"half a parquet file")
    (out / "blocs" / f".part-{missing:06d}.parquet.abc123.tmp").write_bytes(b"junk")
    (out / "outcomes" / f".part-{missing:06d}.parquet.def456.tmp").write_bytes(b"junk")
    before = inodes(out)
    kept = {k: v for k, v in before.items() if k.startswith("outcomes/")}

    # the same command again, to the end
    again = subprocess.run(cmd, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr

    # an uninterrupted run elsewhere
    status = main(["batch", str(exp), "--workers", "1", "--out", str(tmp_path / "ref"), "--quiet"])
    assert status == 0
    assert result_files(out) == result_files(tmp_path / "ref")
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*"))
    # the chunks done before the kill were not computed again (same files, not rewritten)
    after = inodes(out)
    assert {k: after[k] for k in kept} == kept
    outcomes = table(out, "outcomes")
    assert outcomes["run_id"].tolist() == list(range(600))  # each run exactly once
    assert (outcomes["status"] == "ok").all()
    assert len(table(out, "states")) == 600 * N_STATES
    m = manifest(out)
    assert m["started_at"] == killed["started_at"]  # the same batch, resumed
    assert m["finished_at"] is not None and m["chunks_done"] == chunks and m["runs"] == 600


def test_rerun_of_a_complete_batch_computes_nothing(serial, tmp_path, capsys):
    exp, ref = serial
    out = copy_of(ref, tmp_path / "out")
    before, ino = result_files(out), inodes(out)
    status, stdout, _ = batch(exp, "--workers", 1, "--out", out, capsys=capsys)
    assert status == 0
    assert f"{TINY_RUNS} runs in 4 cells ({TINY_RUNS} already done, 0 run now" in stdout
    assert result_files(out) == before
    assert inodes(out) == ino
    assert manifest(out)["finished_at"] is not None


def test_changing_only_the_description_still_resumes(serial, tmp_path, capsys):
    _, ref = serial
    out = copy_of(ref, tmp_path / "out")
    exp = write_exp(tmp_path, description="The same experiment, explained better.")
    before, ino = result_files(out), inodes(out)
    status, stdout, _ = batch(exp, "--workers", 1, "--out", out, capsys=capsys)
    assert status == 0, stdout
    assert "0 run now" in stdout
    after = result_files(out)
    assert {k: v for k, v in after.items() if "part-" in k} == \
           {k: v for k, v in before.items() if "part-" in k}
    assert inodes(out) == ino
    assert manifest(out)["description"] == "The same experiment, explained better."


# --- folders that must not be touched ----------------------------------------------------------------------

@pytest.mark.parametrize("how", ["file", "option"])
def test_folder_holding_a_different_experiment(serial, tmp_path, capsys, how):
    exp, ref = serial
    out = copy_of(ref, tmp_path / "out")
    before = all_files(out)
    if how == "file":
        args = [write_exp(tmp_path, seed=8), "--out", out]
    else:
        args = [exp, "--seed", 8, "--out", out]
    status, _, err = batch(*args, "--workers", 1, "--quiet", capsys=capsys)
    assert status == 2
    line = one_error_line(err)
    assert "different experiment" in line and str(out) in line
    assert all_files(out) == before  # nothing rewritten, not even the manifest


def test_non_empty_folder_without_manifest(tmp_path, capsys):
    exp = write_exp(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    status, _, err = batch(exp, "--workers", 1, "--out", out, "--quiet", capsys=capsys)
    assert status == 2
    assert "not empty" in one_error_line(err)
    assert all_files(out) == {"notes.txt": b"mine"}


def test_empty_existing_folder_is_fine(tmp_path):
    exp = write_exp(tmp_path, scenarios=[str(CLASSROOM)], strategies=None, reference=None, replications=1)
    (tmp_path / "out").mkdir()
    assert batch(exp, "--workers", 1, "--out", tmp_path / "out", "--quiet")[0] == 0
    assert manifest(tmp_path / "out")["runs"] == 1


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_bad_workers(tmp_path, capsys, workers):
    exp = write_exp(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["batch", str(exp), "--workers", workers, "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    assert "--workers" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("seed", ["-1", str(2**64), "x"])
def test_bad_seed_option(tmp_path, capsys, seed):
    exp = write_exp(tmp_path)
    with pytest.raises(SystemExit) as info:  # not a pydantic traceback
        main(["batch", str(exp), "--seed", seed, "--out", str(tmp_path / "out"), "--quiet"])
    assert info.value.code == 2
    assert "--seed" in capsys.readouterr().err.splitlines()[-1]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "words"), [
    (["--runs", "2000000"], "--runs 2000000: replications must be between 1 and 100000"),
    (["--name", "my batch"], "name: a name is a plain file name: letters, digits, _ . - only (not ' ')"),
    (["--sample", "lhs:2000000", "--sweep", "inertia=0.1:0.2"], "samples"),
])
def test_option_values_outside_the_schema(tmp_path, capsys, args, words):
    for source in (["--scenario", str(CLASSROOM)], [str(write_exp(tmp_path))]):
        if "--name" in args and source[0] != "--scenario":
            continue  # --name applies to --scenario batches
        status, _, err = batch(*source, *args, "--out", tmp_path / "out", "--quiet", capsys=capsys)
        assert status == 2, err
        assert words in one_error_line(err)
        assert not (tmp_path / "out").exists()


# --- a failing run is data --------------------------------------------------------------------------------

def fail_for(monkeypatch, seeds: set[int]) -> None:
    """Make the runs seeded with one of ``seeds`` fail, as a run whose state stops being a number.

    In the ensemble engine their alignment turns NaN from step 2 on (the engine does not stop);
    ``BlocModel.run`` raises for them, as it does at the end of the step where that happens. The
    chunk runs such runs again with ``BlocModel`` and records its error.
    """
    original = model.core.simulation.BlocModel.run
    original_ensemble = Ensemble.run

    def run(self):
        seed = self.rng.bit_generator.seed_seq.entropy
        if seed in seeds:
            raise RuntimeError(f"boom for seed {seed}")
        return original(self)

    def run_ensemble(self):
        res = original_ensemble(self)
        for r, seed in enumerate(self.seeds):
            if seed in seeds:
                res.alignment[r, 2:] = np.nan
        return res

    monkeypatch.setattr(model.core.simulation.BlocModel, "run", run)
    monkeypatch.setattr(Ensemble, "run", run_ensemble)


def test_a_chunk_whose_ensemble_raises_runs_again_with_blocmodel(tmp_path, monkeypatch):
    exp, design = one_cell(tmp_path, chunk_size=2)
    run_batch(design, tmp_path / "clean", experiment_file=str(exp))

    def broken(self):
        raise MemoryError("no room for the ensemble")

    monkeypatch.setattr(Ensemble, "run", broken)
    out = tmp_path / "out"
    assert run_batch(design, out, workers=1, experiment_file=str(exp)).failed == 0
    for name in TABLES:  # run by run with BlocModel: the same bytes as the engine's
        assert parts(out / name) == parts(tmp_path / "clean" / name), name


def parts(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.parquet"))}


def one_cell(tmp_path: Path, **fields):
    exp = write_exp(tmp_path, scenarios=[str(BASELINE)], strategies=None, reference=None, replications=5,
                    **fields)
    return exp, expand(load_experiment(exp))


def test_a_failing_run_is_recorded_and_the_batch_goes_on(tmp_path, monkeypatch):
    exp, design = one_cell(tmp_path, chunk_size=2)
    clean = run_batch(design, tmp_path / "clean", experiment_file=str(exp))
    assert clean.failed == 0
    bad = design.seeds[2]  # replication 2: chunk 1, after a chunk with no failure
    fail_for(monkeypatch, {bad})
    out = tmp_path / "out"
    summary = run_batch(design, out, workers=1, experiment_file=str(exp))
    assert summary.runs == 5 and summary.runs_now == 5 and summary.failed == 1
    assert count_failures(out) == 1
    assert manifest(out)["runs_failed"] == 1
    assert manifest(out)["finished_at"] is not None

    o = table(out, "outcomes")  # the whole table reads as one dataset
    assert o["run_id"].tolist() == list(range(5))
    assert o["status"].tolist() == ["ok", "ok", "failed", "ok", "ok"]
    failed = o.iloc[2]
    assert failed["error"] == f"RuntimeError: boom for seed {bad}"
    assert int(failed["seed"]) == bad and failed["replication"] == 2
    assert failed[list(OUTCOMES)].isna().all()
    assert o.loc[o.status == "ok", "error"].isna().all()
    # the other runs are exactly what they are without the failure (the model is rebuilt after it)
    ref = table(tmp_path / "clean", "outcomes")
    ok = o.status == "ok"
    pd.testing.assert_frame_equal(o.loc[ok, list(OUTCOMES)], ref.loc[ok, list(OUTCOMES)])
    for name in ("states", "blocs", "trajectories"):
        t, r = table(out, name), table(tmp_path / "clean", name)
        assert 2 not in set(t["run_id"])
        pd.testing.assert_frame_equal(t, r[r.run_id != 2].reset_index(drop=True))
    # and the CSV export reads every part
    export_csv(out)
    assert len(pd.read_csv(out / "outcomes.csv")) == 5


def test_a_chunk_whose_runs_all_fail(tmp_path, monkeypatch):
    # chunks of one: the first chunk has no states, blocs or trajectories at all
    exp, design = one_cell(tmp_path, chunk_size=1)
    fail_for(monkeypatch, {design.seeds[0]})
    out = tmp_path / "out"
    assert run_batch(design, out, experiment_file=str(exp)).failed == 1
    assert table(out, "outcomes")["status"].tolist() == ["failed", "ok", "ok", "ok", "ok"]
    states = table(out, "states")
    assert list(states.columns) == STATES_COLUMNS
    assert sorted(set(states["run_id"])) == [1, 2, 3, 4] and len(states) == 4 * N_STATES
    blocs = table(out, "blocs")
    assert list(blocs.columns) == BLOCS_COLUMNS and len(blocs) == 4 * TINY_TIMES
    assert list(table(out, "trajectories").columns) == TRAJECTORY_COLUMNS


def test_every_run_failing_exits_1(tmp_path, monkeypatch, capsys):
    exp, design = one_cell(tmp_path, chunk_size=2)
    fail_for(monkeypatch, set(design.seeds))
    status, stdout, _ = batch(exp, "--workers", 1, "--out", tmp_path / "out", capsys=capsys)
    assert status == 1
    assert "5 failed" in stdout
    assert manifest(tmp_path / "out")["runs_failed"] == 5


# --- the tables ------------------------------------------------------------------------------------------

def test_outcomes_table(serial):
    exp, out = serial
    design = expand(load_experiment(exp))
    o = table(out, "outcomes")
    assert_outcome_columns(o, [])  # no sweep, no param_ columns
    assert pq.read_schema(next((out / "outcomes").glob("part-*.parquet"))).field("seed").type == "uint64"
    assert o["run_id"].tolist() == list(range(TINY_RUNS))
    assert (o["status"] == "ok").all() and o["error"].isna().all()
    # the run table of the design: scenario x strategy blocks, replication k with seed k
    cells = [(c.scenario, c.strategy, c.point) for c in design.cells for _ in range(3)]
    assert list(zip(o.scenario, o.strategy, o.point, strict=True)) == cells
    assert o["replication"].tolist() == [0, 1, 2] * 4
    assert [int(s) for s in o["seed"]] == replication_seeds(7, 3) * 4
    assert not o[list(OUTCOMES)].isna().any().any()
    # shares are shares
    for k in ("gdp_share", "pop_share"):
        np.testing.assert_allclose(sum(o[f"{k}_{c}"] for c in CAMPS), 1.0)
    np.testing.assert_array_equal(sum(o[f"states_{c}"] for c in CAMPS), N_STATES)
    # the outcomes are the blocs table's last year
    blocs = table(out, "blocs")
    last = blocs[blocs.year == blocs.year.max()].set_index("run_id")
    for name in ("gdp_share_west", "pop_share_sco", "states_nonaligned", "sco_members", "mean_alignment"):
        np.testing.assert_allclose(o.set_index("run_id")[name], last[name], rtol=1e-12)
    # a strategy changes the results (paired on the same seeds)
    base = o[o.scenario == "baseline"]
    assert not np.allclose(base[base.strategy == "none"]["mean_alignment"].to_numpy(),
                           base[base.strategy == "trade_agreements"]["mean_alignment"].to_numpy())


def test_states_blocs_and_trajectories_tables(serial):
    _, out = serial
    states = table(out, "states")
    assert list(states.columns) == STATES_COLUMNS
    assert len(states) == TINY_RUNS * N_STATES
    assert states.groupby("run_id").size().eq(N_STATES).all()
    assert set(states["end_camp"]) <= set(CAMPS)
    camp = np.where(states.end_alignment > 0.25, "sco", np.where(states.end_alignment < -0.25, "west",
                                                                 "nonaligned"))
    assert (states["end_camp"] == camp).all()
    first = states["year_first_sco"].dropna()
    assert ((first >= 2025) & (first <= 2027)).all()
    blocs = table(out, "blocs")
    assert list(blocs.columns) == BLOCS_COLUMNS
    assert len(blocs) == TINY_RUNS * TINY_TIMES
    assert sorted(set(blocs["year"])) == [2024, 2025, 2026, 2027]
    traj = table(out, "trajectories")
    assert list(traj.columns) == TRAJECTORY_COLUMNS
    assert len(traj) == TINY_RUNS * TINY_TIMES * N_STATES
    # trajectories and states agree at the start and the end (float32 in trajectories)
    end = traj[traj.year == 2027].set_index(["run_id", "iso3"])["alignment"]
    np.testing.assert_allclose(end.loc[list(zip(states.run_id, states.iso3, strict=True))].to_numpy(),
                               states["end_alignment"], atol=1e-6)


def test_keep_trajectories_false(tmp_path):
    exp = write_exp(tmp_path, keep_trajectories=False, replications=1)
    assert batch(exp, "--workers", 1, "--out", tmp_path / "out", "--quiet")[0] == 0
    assert not list((tmp_path / "out" / "trajectories").glob("*.parquet"))
    assert len(table(tmp_path / "out", "outcomes")) == 4


def test_csv_export_and_manifest(tmp_path, capsys):
    exp = write_exp(tmp_path, scenarios=[str(CLASSROOM)], replications=2)
    out = tmp_path / "out"
    status, stdout, _ = batch(exp, "--workers", 1, "--out", out, "--csv", capsys=capsys)
    assert status == 0 and "4 runs in 2 cells" in stdout
    for name, rows in {"outcomes": 4, "states": 4 * N_STATES, "blocs": 4 * TINY_TIMES,
                       "trajectories": 4 * TINY_TIMES * N_STATES}.items():
        csv = pd.read_csv(out / f"{name}.csv")
        assert len(csv) == rows, name
        assert list(csv.columns) == list(table(out, name).columns)
    m = manifest(out)
    for key in ("experiment_file_sha256", "design_sha256", "version", "replication_seeds", "started_at",
                "finished_at", "runs", "runs_failed"):
        assert key in m, key
    import hashlib

    import model as package
    assert m["experiment_file_sha256"] == hashlib.sha256(exp.read_bytes()).hexdigest()
    assert m["design_sha256"] == expand(load_experiment(exp)).digest
    assert m["version"] == package.__version__
    assert m["replication_seeds"] == replication_seeds(7, 2)
    assert m["runs"] == 4 and m["runs_failed"] == 0 and m["chunks"] == 2
    assert m["started_at"] <= m["finished_at"]
    assert m["outcome_directions"] == {n: o.direction for n, o in OUTCOMES.items()}


# --- sweeps from the command line ---------------------------------------------------------------------------

def test_cli_factorial_sweep(tmp_path):
    exp = write_exp(tmp_path, scenarios=[str(BASELINE)], strategies=None, reference=None, replications=2)
    out = tmp_path / "out"
    assert batch(exp, "--sweep", "parameters.peer_weight=0.1:0.3:3", "--workers", 1, "--out", out,
                 "--quiet")[0] == 0
    o = table(out, "outcomes")
    assert_outcome_columns(o, ["param_peer_weight"])
    assert len(o) == 6 and o["point"].tolist() == [0, 0, 1, 1, 2, 2]
    assert o.groupby("point")["param_peer_weight"].first().tolist() == [0.1, 0.2, 0.3]
    # common random numbers across points; the parameter matters
    assert o.groupby("replication")["seed"].nunique().eq(1).all()
    assert o.groupby("point")["mean_alignment"].mean().nunique() == 3
    m = manifest(out)
    assert m["swept_parameters"] == ["peer_weight"] and m["points"] == 3 and m["design"] == "factorial"
    resolved = yaml.safe_load((out / "experiment.resolved.yaml").read_text())
    assert [c["parameters"] for c in resolved["cells"]] == [{"peer_weight": v} for v in (0.1, 0.2, 0.3)]


def test_cli_lhs_sample(tmp_path):
    exp = write_exp(tmp_path, scenarios=[str(BASELINE)], strategies=None, reference=None, replications=1)
    out = tmp_path / "out"
    assert batch(exp, "--sample", "lhs:5", "--sweep", "peer_weight=0.05:0.4", "--sweep", "inertia=0.1:0.6",
                 "--workers", 1, "--out", out, "--quiet")[0] == 0
    o = table(out, "outcomes")
    assert o["point"].tolist() == list(range(5))
    assert o["param_peer_weight"].between(0.05, 0.4).all() and o["param_inertia"].between(0.1, 0.6).all()
    assert o["param_peer_weight"].nunique() == 5 and o["param_inertia"].nunique() == 5
    m = manifest(out)
    assert m["design"] == "lhs" and m["sweep_ranges"] == {"peer_weight": [0.05, 0.4], "inertia": [0.1, 0.6]}


def test_cli_sweep_mistakes(tmp_path, capsys):
    exp = write_exp(tmp_path)
    for args, words in [(["--sweep", "peer_wieght=0.1:0.2"], "did you mean 'peer_weight'"),
                        (["--sweep", "peer_weight=0.1:zero"], "--sweep"),
                        (["--sample", "lhs:5"], "--sample needs parameter ranges"),
                        (["--sample", "grid:5", "--sweep", "inertia=0.1:0.2"], "lhs:N, morris:N or sobol:N"),
                        (["--sample", "lhs:5", "--sweep", "inertia=0.3:0.1"], "must be below HIGH (0.1)")]:
        status, _, err = batch(exp, *args, "--out", tmp_path / "out", "--quiet", capsys=capsys)
        assert status == 2, args
        assert words in one_error_line(err), (args, err)
    assert not (tmp_path / "out").exists()


def test_swept_lean_threshold_changes_the_camps(tmp_path):
    exp = write_exp(tmp_path, scenarios=[str(BASELINE)], strategies=None, reference=None, replications=1,
                    sweep={"parameters": {"lean_threshold": [0.1, 0.6]}})
    out = tmp_path / "out"
    assert batch(exp, "--workers", 1, "--out", out, "--quiet")[0] == 0
    o = table(out, "outcomes")
    # with |a| > 0.6 far fewer states lean to a camp than with |a| > 0.1
    assert o.loc[1, "states_nonaligned"] > o.loc[0, "states_nonaligned"]


# --- last, so that the background attempt above had its 10 s while the other tests ran --------------

def test_unreachable_scheduler(unreachable):
    folder, proc = unreachable
    t0 = time.perf_counter()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (out, err)
    line = one_error_line(err)
    assert "cannot reach" in line and "tcp://127.0.0.1:1" in line
    assert not (folder / "out").exists()  # checked before anything is written
    assert time.perf_counter() - t0 < 30


# --- damage, a second process, a killed report (issue 6) ---------------------------------------------

def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _short(path: Path) -> None:
    """A readable part with a row too few (a chunk written by something else)."""
    t = pq.read_table(path)
    pq.write_table(t.slice(0, t.num_rows - 1), path)


DAMAGES = {
    "outcomes truncated": ("outcomes", _truncate),
    "states truncated": ("states", _truncate),
    "blocs truncated": ("blocs", _truncate),
    "trajectories truncated": ("trajectories", _truncate),
    "states short": ("states", _short),
    "blocs missing": ("blocs", lambda p: p.unlink()),
    "outcomes garbage": ("outcomes", lambda p: p.write_bytes(b"PAR1 not really PAR1")),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_resume_recomputes_a_damaged_chunk(damage, serial, tmp_path, capsys):
    exp, ref = serial
    out = copy_of(ref, tmp_path / "out")
    table_name, hurt = DAMAGES[damage]
    part = out / table_name / "part-000003.parquet"
    hurt(part)
    status, _, err = batch(exp, "--workers", 1, "--out", out, "--csv", "--quiet", capsys=capsys)
    assert status == 0, err
    assert f"{part}" in err and "chunk 3 will be computed again" in err
    assert result_files(out) == result_files(ref)
    assert manifest(out)["chunks_done"] == TINY_CHUNKS
    assert not list(out.rglob(".*"))  # no temporaries, no lock file


@pytest.mark.parametrize("table_name", ["outcomes", "states"])
def test_damaged_part_is_one_line_for_compare_and_count(table_name, serial, tmp_path, capsys):
    _, ref = serial
    out = copy_of(ref, tmp_path / "out")
    part = out / table_name / "part-000002.parquet"
    _truncate(part)
    assert main(["compare", str(out), "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"damaged part {part}" in line
    assert not (out / "report").exists()
    if table_name == "outcomes":
        with pytest.raises(Exception, match=f"damaged part {part}"):
            count_failures(out)


def test_csv_export_names_a_damaged_trajectories_part(serial, tmp_path):
    from model.base.errors import ScenarioError

    _, ref = serial
    out = copy_of(ref, tmp_path / "out")
    part = out / "trajectories" / "part-000005.parquet"
    _truncate(part)
    with pytest.raises(ScenarioError, match=f"damaged part {part}"):
        export_csv(out)
    assert not list(out.glob("*.csv")) or not (out / "trajectories.csv").exists()


@pytest.mark.parametrize("text", ["[]", "3", '"manifest"', "null"])
def test_manifest_that_is_not_an_object(text, serial, tmp_path, capsys):
    exp, ref = serial
    out = copy_of(ref, tmp_path / "out")
    (out / "manifest.json").write_text(text)
    before = all_files(out)
    for args in (["batch", str(exp), "--out", str(out), "--workers", "1", "--quiet"],
                 ["compare", str(out), "--quiet"]):
        assert main(args) == 2
        line = one_error_line(capsys.readouterr().err)
        assert "manifest.json holds a JSON" in line and "not the batch's manifest" in line
    assert all_files(out) == before


@pytest.mark.slow
def test_a_second_batch_on_a_locked_folder_is_refused(serial, tmp_path, capsys):
    import fcntl

    exp, ref = serial
    out = copy_of(ref, tmp_path / "out")
    (out / "outcomes" / "part-000001.parquet").unlink()  # work left to do
    before = all_files(out)
    fd = os.open(out / ".blocsim.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as another blocsim process would
        os.write(fd, b"4242\n")
        stray = out / "blocs" / ".part-000001.parquet.abc.tmp"  # the holder's, being written
        stray.write_bytes(b"in progress")
        for args in (["batch", str(exp), "--out", str(out), "--workers", "1", "--quiet"],
                     ["compare", str(out), "--quiet"]):
            assert main(args) == 2
            line = one_error_line(capsys.readouterr().err)
            assert f"{out} is in use by another blocsim process (pid 4242)" in line
        assert stray.exists()  # only the lock holder cleans temporaries
        stray.unlink()
        assert {k: v for k, v in all_files(out).items() if k != ".blocsim.lock"} == before
    finally:
        os.close(fd)  # released, as the kernel does when a holder dies
    status, _, err = batch(exp, "--out", out, "--workers", 1, "--quiet", capsys=capsys)
    assert status == 0, err
    assert result_files(out) == result_files(ref)
    assert not (out / ".blocsim.lock").exists()


@pytest.mark.slow
def test_a_report_killed_half_way_does_not_block_the_resume(serial, tmp_path, capsys):
    exp, ref = serial
    clean = copy_of(ref, tmp_path / "a" / "out")
    assert main(["batch", str(exp), "--out", str(clean), "--workers", "1", "--report", "--quiet"]) == 0
    out = copy_of(ref, tmp_path / "b" / "out")
    # what an older blocsim left when killed while writing report/, and a newer one's temporary
    (out / "report").mkdir()
    (out / "report" / "ranking.csv").write_text("rank,str")
    (out / "report" / "ranking.md").write_text("| rank")
    (out / ".report.x1y2z3.tmp").mkdir()
    (out / ".report.x1y2z3.tmp" / "summary.csv").write_text("half")
    status, _, err = batch(exp, "--out", out, "--workers", 1, "--report", "--quiet", capsys=capsys)
    assert status == 0, err
    assert not list(out.rglob(".*"))
    one, two = all_files(clean / "report"), all_files(out / "report")
    assert list(one) == list(two) and "report.html" in two
    assert {k: v for k, v in one.items() if k != "report.html"} == \
           {k: v for k, v in two.items() if k != "report.html"}
    assert one["report.html"].replace(str(clean).encode(), b"X") == \
           two["report.html"].replace(str(out).encode(), b"X")  # but for the path to paste
    # a user's file in report/ is still never replaced
    (out / "report" / "notes.txt").write_text("mine")
    (out / "report" / "report.html").unlink()
    assert main(["compare", str(out), "--quiet"]) == 2
    assert "not empty" in one_error_line(capsys.readouterr().err)
    assert (out / "report" / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_report_rerun_line_works_when_pasted(serial, tmp_path, capsys):
    import html
    import re
    import shlex

    _, ref = serial
    out = copy_of(ref, tmp_path / "my batch's results")
    assert main(["compare", str(out), "--quiet", "--primary", "gdp_share_sco"]) == 0
    text = (out / "report" / "report.html").read_text(encoding="utf-8")
    command = html.unescape(re.search(r"Regenerate: <code>(.*?)</code>", text).group(1))
    argv = shlex.split(command)
    assert argv[:3] == ["blocsim", "compare", str(out)]
    capsys.readouterr()
    assert main(argv[1:] + ["--quiet"]) == 0  # pasted (without the program name), it runs
    assert (out / "report" / "report.html").read_text(encoding="utf-8") == text


def test_stale_lock_file_of_a_killed_batch_is_no_obstacle(serial, tmp_path, capsys):
    exp, ref = serial
    out = copy_of(ref, tmp_path / "out")
    (out / ".blocsim.lock").write_text("999999\n")  # left by kill -9: nobody holds it
    (out / "states" / "part-000004.parquet").unlink()
    status, _, err = batch(exp, "--out", out, "--workers", 1, "--quiet", capsys=capsys)
    assert status == 0, err
    assert result_files(out) == result_files(ref)
    assert not (out / ".blocsim.lock").exists()


def test_a_full_disk_mid_batch_is_one_line_and_the_batch_resumes(serial, tmp_path, monkeypatch, capsys):
    import errno

    import model.run.batch
    import model.run.store

    exp, ref = serial
    out = tmp_path / "out"
    original, calls = model.run.batch.write_file_atomic, []

    def filling_up(path, data):
        calls.append(path)
        if len(calls) > 6:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        original(path, data)
    monkeypatch.setattr(model.run.batch, "write_file_atomic", filling_up)  # the manifest
    monkeypatch.setattr(model.run.store, "write_file_atomic", filling_up)  # the parts
    status, _, err = batch(exp, "--out", out, "--workers", 1, "--quiet", capsys=capsys)
    assert status == 2
    line = one_error_line(err)
    assert "No space left on device (ENOSPC)" in line and str(calls[-1]) in line
    monkeypatch.undo()
    status, _, err = batch(exp, "--out", out, "--workers", 1, "--quiet", capsys=capsys)
    assert status == 0, err
    assert result_files(out) == result_files(ref)
    assert not list(out.rglob(".*"))


def test_compare_no_plots_writes_the_tables_without_figures(serial, tmp_path):
    _, ref = serial
    out = copy_of(ref, tmp_path / "b")
    assert main(["compare", str(out), "--quiet", "--no-plots", "--out", str(tmp_path / "lean")]) == 0
    assert main(["compare", str(out), "--quiet", "--out", str(tmp_path / "full")]) == 0
    lean, full = tmp_path / "lean", tmp_path / "full"
    assert not (lean / "plots").exists() and list((full / "plots").glob("*.png"))
    assert "<img" not in (lean / "report.html").read_text(encoding="utf-8")
    for csv in full.glob("*.csv"):  # the same tables
        assert (lean / csv.name).read_bytes() == csv.read_bytes()


def test_name_with_an_experiment_file_is_refused_not_ignored(tmp_path, capsys):
    status, _, err = batch(str(write_exp(tmp_path)), "--name", "..", "--out", tmp_path / "out",
                           "--quiet", capsys=capsys)
    assert status == 2, err
    assert "--name names a batch built from --scenario" in one_error_line(err)
    assert not (tmp_path / "out").exists()


def test_the_resolved_yaml_is_what_pyyaml_writes(tmp_path):
    """The seeds are written by hand (speed): the text must be PyYAML's own, byte for byte."""
    from model.run.batch import _resolved_yaml

    class Plain(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    designs = [expand(load_experiment(write_exp(tmp_path, f"r{n}.yaml", replications=n))) for n in (1, 1000)]
    designs += [expand(load_experiment(p)) for p in sorted((SCEN / "experiments").glob("*.yaml"))
                if "search" not in p.name]
    assert len(designs) >= 6
    for design in designs:
        doc = design.spec.model_dump(mode="json")
        doc["cells"] = [{"scenario": c.scenario, "strategy": c.strategy, "point": c.point,
                         "parameters": c.params} for c in design.cells]
        doc["replication_seeds"] = design.seeds
        assert _resolved_yaml(design) == yaml.dump(doc, Dumper=Plain, sort_keys=False)
        assert yaml.safe_load(_resolved_yaml(design))["replication_seeds"] == design.seeds


def test_an_interrupt_in_the_writing_loop_ends_the_stream_before_the_lock_is_released(tmp_path, monkeypatch):
    """Ctrl-C between two chunks (in the loop that writes them, not in the engine) ended the
    stream only when the traceback let it go: its encode threads could still write after the
    batch's lock was released. The stream is closed first now."""
    import contextlib

    events: list[str] = []

    def stream(tasks, *args, **kwargs):
        try:
            for t in tasks:
                yield t, {"tables": "of the chunk"}
        finally:
            events.append("stream ended")

    @contextlib.contextmanager
    def lock(folder):
        try:
            yield
        finally:
            events.append("lock released")

    def interrupt(*args):
        raise KeyboardInterrupt

    for name in ("serial", "encode_aside"):
        monkeypatch.setattr(model.run.batch, name, stream)
    monkeypatch.setattr(model.run.batch, "batch_lock", lock)
    monkeypatch.setattr(model.run.batch, "write_chunk", interrupt)
    design = expand(load_experiment(write_exp(tmp_path)), base_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run_batch(design, tmp_path / "out")
    assert events == ["stream ended", "lock released"]
