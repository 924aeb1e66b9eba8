"""``write_atomic_dir`` killed (``os._exit``, as ``kill -9``) at each step of its swap: the next write
into the same parent recovers, and the user's last good output is never lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from model.base.files import TMP_MARKER, only_run_files, recover_interrupted, write_atomic_dir

ROOT = Path(__file__).resolve().parents[2]

KILLER = textwrap.dedent("""
    import os, pathlib, shutil, sys
    from model.base.files import TMP_MARKER, write_atomic_dir
    out, point = pathlib.Path(sys.argv[1]), sys.argv[2]
    real_replace, real_rmtree, real_unlink = os.replace, shutil.rmtree, pathlib.Path.unlink
    calls = []
    def replace(a, b):
        calls.append(1)
        if point == "before_first_rename" and len(calls) == 1:
            os._exit(9)
        real_replace(a, b)
        if point == "between_renames" and len(calls) == 1:
            os._exit(9)
    def unlink(self, *a, **k):
        if point == "before_marker_removed" and self.name == TMP_MARKER and self.parent == out:
            os._exit(9)
        return real_unlink(self, *a, **k)
    def rmtree(path, *a, **k):
        if point == "during_rmtree" and ".old-" in str(path):
            first = sorted(p for p in pathlib.Path(path).rglob("*") if p.is_file())[0]
            first.unlink()
            os._exit(9)
        return real_rmtree(path, *a, **k)
    os.replace, shutil.rmtree, pathlib.Path.unlink = replace, rmtree, unlink
    def fill(tmp):
        (tmp / "scenario.resolved.yaml").write_text("new", encoding="utf-8")
        (tmp / "blocs.csv").write_text("new", encoding="utf-8")
    write_atomic_dir(out, fill, marker="scenario.resolved.yaml")
    sys.exit(0)
""")


def _fill(text: str):
    def fill(tmp: Path) -> None:
        (tmp / "scenario.resolved.yaml").write_text(text, encoding="utf-8")
        (tmp / "blocs.csv").write_text(text, encoding="utf-8")
    return fill


def _kill_during_swap(out: Path, point: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLER, str(out), point], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 9, proc.stderr


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("point, after", [
    ("before_first_rename", "old"),  # the new folder is a temporary: removed
    ("between_renames", "old"),  # NAME missing: the old output is put back
    ("before_marker_removed", "new"),  # the new output is in place: only its marker goes
    ("during_rmtree", "new"),  # the half-deleted old output goes
])
def test_a_swap_killed_at_each_step_is_recovered(tmp_path, point, after):
    out = tmp_path / "r"
    write_atomic_dir(out, _fill("old"), marker="scenario.resolved.yaml")
    _kill_during_swap(out, point)
    assert _leftovers(tmp_path), "the kill left nothing to recover"
    recover_interrupted(tmp_path, "r")
    assert _leftovers(tmp_path) == []
    assert (out / "scenario.resolved.yaml").read_text(encoding="utf-8") == after
    assert sorted(p.name for p in out.iterdir()) == ["blocs.csv", "scenario.resolved.yaml"]
    # and the next write, which recovers by itself, replaces it as usual
    _kill_during_swap(out, point)
    write_atomic_dir(out, _fill("again"), marker="scenario.resolved.yaml",
                     replace_only=only_run_files)
    assert _leftovers(tmp_path) == []
    assert (out / "scenario.resolved.yaml").read_text(encoding="utf-8") == "again"
    assert not (out / TMP_MARKER).exists()


def test_a_live_writers_swap_is_left_alone(tmp_path):
    out = tmp_path / "r"
    write_atomic_dir(out, _fill("old"), marker="scenario.resolved.yaml")
    parked = tmp_path / ".r.old-1@elsewhere"  # another host: its pid means nothing here
    parked.mkdir()
    recover_interrupted(tmp_path, "r")
    assert parked.is_dir()
