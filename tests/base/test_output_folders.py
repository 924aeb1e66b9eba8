"""An earlier output folder is replaced whole only when everything in it is blocsim's."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.apps.cli import main
from model.base.errors import ScenarioError
from model.base.files import check_output_dir, only_run_files, write_atomic_dir
from model.report.html import _only_report_files

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def _fill(tmp: Path) -> None:
    (tmp / "scenario.resolved.yaml").write_text("name: x\n", encoding="utf-8")


def test_earlier_output_is_replaced(tmp_path):
    out = tmp_path / "r"
    write_atomic_dir(out, _fill, marker="scenario.resolved.yaml", replace_only=only_run_files)
    (out / "plots").mkdir()
    (out / "plots" / "a.png").write_bytes(b"png")
    write_atomic_dir(out, _fill, marker="scenario.resolved.yaml", replace_only=only_run_files)
    assert sorted(p.name for p in out.iterdir()) == ["scenario.resolved.yaml"]


@pytest.mark.parametrize("extra", ["thesis.tex", "src/main.py", "plots/notes.txt"])
def test_folder_with_marker_and_user_files_is_refused(tmp_path, extra):
    out = tmp_path / "project"
    (out / extra).parent.mkdir(parents=True, exist_ok=True)
    (out / extra).write_text("mine", encoding="utf-8")
    (out / "scenario.resolved.yaml").write_text("", encoding="utf-8")
    with pytest.raises(ScenarioError, match="did not write"):
        check_output_dir(out, "scenario.resolved.yaml", replace_only=only_run_files)
    with pytest.raises(ScenarioError, match="did not write"):
        write_atomic_dir(out, _fill, marker="scenario.resolved.yaml", replace_only=only_run_files)
    assert (out / extra).read_text(encoding="utf-8") == "mine"


def test_run_out_keeps_a_users_source_file(tmp_path, capsys):
    out = tmp_path / "p"
    (out / "src").mkdir(parents=True)
    (out / "src" / "main.py").write_text("print('mine')\n", encoding="utf-8")
    (out / "scenario.resolved.yaml").write_text("name: old\n", encoding="utf-8")
    status = main(["run", str(BASELINE), "--out", str(out), "--runs", "1", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "holds files blocsim did not write" in err and len(err.splitlines()) == 1
    assert (out / "src" / "main.py").read_text(encoding="utf-8") == "print('mine')\n"


def test_compare_out_keeps_a_users_notes(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.html").write_text("<html></html>", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")

    def fill(tmp: Path) -> None:
        (tmp / "report.html").write_text("new", encoding="utf-8")

    with pytest.raises(ScenarioError, match="did not write"):
        write_atomic_dir(out, fill, marker="report.html", replace_only=_only_report_files)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    (out / "notes.txt").unlink()
    write_atomic_dir(out, fill, marker="report.html", replace_only=_only_report_files)
    assert (out / "report.html").read_text(encoding="utf-8") == "new"
