"""Where ``blocsim run`` writes, and what it does when it cannot: the default folder stays inside
``out/``, the parent is checked before the simulation, an OSError is one line with exit status 2
and leaves nothing half-written, temporaries of killed runs are removed, --runs fits in memory.

Tests run as root (chmod cannot make a folder unwritable), so failures of the disk are simulated
by making a write raise the OSError a full or read-only disk would.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import model.base.files
import model.config.checks
import model.config.scenario
import model.run.service
import model.run.tables
from model.apps.cli import main
from model.base.errors import ScenarioError
from model.base.files import TMP_MARKER, clean_stale_temporaries, default_out_dir

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
STRATS = ROOT / "scenarios" / "strategies"


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("blocsim: error: "), err
    return lines[0]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if a run starts: the checks must come before the simulation."""
    def boom(*args, **kwargs):
        raise AssertionError("the simulation started before the output folder was checked")
    monkeypatch.setattr(model.run.service, "replicate", boom)


@pytest.fixture
def named(monkeypatch):
    """Load scenarios under a given name, as if the name rule let it through."""
    original = model.config.scenario.load_scenario

    def set_name(name: str) -> None:
        def load(path):
            sc = original(path)
            sc.__dict__["name"] = name
            return sc
        monkeypatch.setattr(model.config.scenario, "load_scenario", load)
    return set_name


# --- the default folder ---------------------------------------------------------------------------

@pytest.mark.parametrize("parts", [("..",), (".",), ("a/../..",), ("batch", ".."), ("batch", "../x"),
                                   ("batch", "../../y")])
def test_default_folder_outside_its_own_place_is_refused(parts, tmp_path):
    with pytest.raises(ScenarioError, match="not in a folder of its own"):
        default_out_dir(*parts, root=tmp_path / "out")


def test_default_folder_inside_out(tmp_path):
    assert default_out_dir("baseline", root=tmp_path / "out") == tmp_path / "out" / "baseline"
    assert default_out_dir("batch", "w", root=tmp_path / "out") == tmp_path / "out" / "batch" / "w"


@pytest.mark.parametrize("name", ["..", "."])
def test_run_named_dotdot_twice_never_replaces_the_working_folder(name, named, tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.chdir(tmp_path)
    named(name)
    (tmp_path / "notes.txt").write_text("mine")
    for _ in range(2):
        assert main(["run", str(BASELINE), "--runs", "1", "--no-plots", "-q"]) == 2
        assert "not in a folder of its own" in error_line(capsys)
    assert tree(tmp_path) == {"notes.txt": b"mine"}  # nothing written, nothing removed


def test_batch_name_dotdot_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    status = main(["batch", "--scenario", str(BASELINE), "--strategy", str(STRATS / "none.yaml"),
                   "--name", "..", "--runs", "1", "--workers", "1", "-q"])
    assert status == 2
    error_line(capsys)  # refused by the name rule or by the output side, in one line
    assert tree(tmp_path) == {"out/keep.txt": b"mine"}


# --- a folder that cannot be written: before the simulation, one line, status 2 ---------------------

def test_out_under_a_file_is_enotdir_before_the_run(tmp_path, no_simulation, capsys):
    (tmp_path / "f").write_text("a file")
    assert main(["run", str(BASELINE), "--out", str(tmp_path / "f" / "sub"), "-q"]) == 2
    line = error_line(capsys)
    assert "ENOTDIR" in line and str(tmp_path / "f") in line
    assert tree(tmp_path) == {"f": b"a file"}


def test_unwritable_parent_is_eacces_before_the_run(tmp_path, no_simulation, monkeypatch, capsys):
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    assert main(["run", str(BASELINE), "--out", str(tmp_path / "o"), "-q"]) == 2
    line = error_line(capsys)
    assert "EACCES" in line and str(tmp_path / "o") in line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_a_failing_write_is_one_line_and_leaves_nothing(code, tmp_path, monkeypatch, capsys):
    def full(df, path):
        raise OSError(code, os.strerror(code), str(path))
    monkeypatch.setattr(model.run.tables, "write_bytes", full)
    (tmp_path / "mine.txt").write_text("mine")
    out = tmp_path / "o"
    assert main(["run", str(BASELINE), "--runs", "1", "--out", str(out), "--no-plots", "-q"]) == 2
    line = error_line(capsys)
    assert errno.errorcode[code] in line and str(out / "trajectories.csv") in line
    assert tree(tmp_path) == {"mine.txt": b"mine"}  # no output, no temporary folder


@pytest.mark.parametrize("failing", ["tables", "plots"])
def test_tables_written_while_the_plots_are_drawn_fail_as_one(failing, tmp_path, monkeypatch):
    """With a plotter, the tables are written in a thread while it draws: an error on either
    side is raised once both are done, and leaves nothing behind."""
    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "x")

    drawn = []

    def plotter(traj, blocs, world, scenario, folder):
        if failing == "plots":
            full()
        drawn.append(sorted(traj))
        return []

    if failing == "tables":
        monkeypatch.setattr(model.run.tables, "write_bytes", full)
    with pytest.raises(ScenarioError, match="ENOSPC"):
        model.run.service.execute_run(BASELINE, runs=1, out=tmp_path / "o", plotter=plotter)
    assert len(drawn) == (failing == "tables")  # the figures were drawn while the tables failed
    assert not list(tmp_path.iterdir())


def test_a_failing_write_keeps_the_earlier_output(tmp_path, monkeypatch, capsys):
    out = tmp_path / "o"
    assert main(["run", str(BASELINE), "--runs", "1", "--out", str(out), "--no-plots", "-q"]) == 0
    before = tree(tmp_path)

    def full(df, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    monkeypatch.setattr(model.run.tables, "write_bytes", full)
    assert main(["run", str(BASELINE), "--runs", "1", "--out", str(out), "--no-plots", "-q"]) == 2
    assert "ENOSPC" in error_line(capsys)
    assert tree(tmp_path) == before


# --- temporaries of killed runs ----------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _temporary(parent: Path, name: str, owner: dict | None) -> Path:
    tmp = parent / name
    tmp.mkdir()
    (tmp / "trajectories.csv").write_text("half")
    if owner is not None:
        (tmp / TMP_MARKER).write_text(json.dumps(owner))
    return tmp


def test_stale_temporaries_of_killed_runs_are_removed(tmp_path):
    host = socket.gethostname()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = _temporary(tmp_path, ".o.abc123.tmp", {"pid": _dead_pid(), "host": host})
        running = _temporary(tmp_path, ".o.def456.tmp", {"pid": live.pid, "host": host})
        unmarked = _temporary(tmp_path, ".o.ghi789.tmp", None)
        elsewhere = _temporary(tmp_path, ".o.jkl012.tmp", {"pid": _dead_pid(), "host": host + "-x"})
        other = _temporary(tmp_path, ".p.mno345.tmp", {"pid": _dead_pid(), "host": host})
        assert main(["run", str(BASELINE), "--runs", "1", "--out", str(tmp_path / "o"), "--no-plots",
                     "-q"]) == 0
        assert not stale.exists()
        assert all(p.is_dir() for p in (running, unmarked, elsewhere, other))
        assert TMP_MARKER not in os.listdir(tmp_path / "o")  # the marker never reaches the output
        assert clean_stale_temporaries(tmp_path, "o") == []
    finally:
        live.kill()
        live.wait()


@pytest.mark.slow
def test_run_killed_with_sigkill_leaves_a_temporary_the_next_run_removes(tmp_path):
    code = ("import os, sys; import model.base.files as o\n"
            "def fill(tmp):\n    (tmp / 'x').write_text('half'); os.kill(os.getpid(), 9)\n"
            f"o.write_atomic_dir({str(tmp_path / 'o')!r}, fill, marker='scenario.resolved.yaml')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True)
    assert proc.returncode == -9
    assert len(list(tmp_path.glob(".o.*.tmp"))) == 1
    assert main(["run", str(BASELINE), "--runs", "1", "--out", str(tmp_path / "o"), "--no-plots",
                 "-q"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["o"]


# --- replications that would not fit in memory --------------------------------------------------------

def test_too_many_runs_is_refused_before_the_run(tmp_path, no_simulation, capsys):
    assert main(["run", str(BASELINE), "--runs", "100000", "--out", str(tmp_path / "o"), "-q"]) == 2
    line = error_line(capsys)
    assert "100000 replications would need about" in line and "GB" in line
    assert f"blocsim batch --scenario {BASELINE} --runs 100000" in line
    assert not list(tmp_path.iterdir())


def test_the_limit_leaves_ordinary_counts_alone():
    sc = model.config.scenario.load_scenario(BASELINE)
    world = model.config.checks.prepare_world(sc, BASELINE.parent)
    per_run = model.run.service.replication_bytes(sc, world)
    assert 0.5 * 2**20 < per_run < 4 * 2**20  # about 1.5 MB for 193 states x 12 years
    sc.replications = 1000
    model.run.service.check_memory(sc, world)
    sc.replications = 10_000
    with pytest.raises(ScenarioError, match="blocsim batch"):
        model.run.service.check_memory(sc, world)


def test_write_file_atomic_turns_an_oserror_into_one_line(tmp_path):
    (tmp_path / "f").write_text("a file")
    with pytest.raises(ScenarioError, match=r"cannot write .*f/sub/x.csv: .*\((ENOTDIR|EEXIST)\)"):
        model.base.files.write_file_atomic(tmp_path / "f" / "sub" / "x.csv", "data")
    assert sorted(os.listdir(tmp_path)) == ["f"]
