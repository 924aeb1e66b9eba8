"""``blocsim compare`` on batches that are running, killed, or have a damaged manifest."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

import model.report.html
from model.apps.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"
EXP = {"name": "cmp", "scenarios": [str(SCEN / "baseline.yaml")],
       "strategies": [str(SCEN / "strategies" / "none.yaml"),
                      str(SCEN / "strategies" / "trade_agreements.yaml")],
       "reference": "none", "replications": 4, "seed": 5, "horizon": 3, "chunk_size": 2}


@pytest.fixture(scope="module")
def ref(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cmp")
    exp = folder / "exp.yaml"
    exp.write_text(yaml.safe_dump(EXP), encoding="utf-8")
    assert main(["batch", str(exp), "--out", str(folder / "out"), "--workers", "1", "--quiet"]) == 0
    return exp, folder / "out"


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("blocsim: error: "), err
    return err


def test_compare_on_a_running_batch_is_refused_before_computing(ref, tmp_path, capsys, monkeypatch):
    _, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))

    def boom(*a, **k):
        raise AssertionError("compare read the batch before taking its lock")
    monkeypatch.setattr(model.report.html, "load_batch", boom)
    fd = os.open(out / ".blocsim.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"4242\n")
        t0 = time.perf_counter()
        assert main(["compare", str(out), "--quiet"]) == 2
        assert time.perf_counter() - t0 < 1
        assert "in use by another blocsim process (pid 4242)" in one_line(capsys)
    finally:
        os.close(fd)


def test_compare_on_a_killed_batch_says_it_is_partial(ref, tmp_path, capsys):
    _, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))
    doc = json.loads((out / "manifest.json").read_text())
    doc["finished_at"] = None
    (out / "manifest.json").write_text(json.dumps(doc))
    (out / "outcomes" / "part-000003.parquet").unlink()
    assert main(["compare", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.strip()
    assert err == (f"blocsim: note: the batch in {out} has not finished (3 of 4 chunks done): the "
                   f"results are partial; run the same 'blocsim batch' command again to complete it")


def test_compare_on_a_finished_batch_prints_no_note(ref, capsys):
    _, good = ref
    assert main(["compare", str(good), "--out", str(good.parent / "rep"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("change, expected", [
    ({"chunks": "x"}, "field 'chunks' must be a whole number of at least 1, not \"x\""),
    ({"chunks_done": 10**6}, "field 'chunks_done' (1000000) is more than 'chunks' (4)"),
    ({"chunk_size": -1}, "field 'chunk_size' must be a whole number of at least 1, not -1"),
    ({"design_sha256": None}, "field 'design_sha256' must be 64 hexadecimal digits, not null"),
])
def test_a_damaged_manifest_names_the_wrong_field(change, expected, ref, tmp_path, capsys):
    exp, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))
    doc = {**json.loads((out / "manifest.json").read_text()), **change}
    (out / "manifest.json").write_text(json.dumps(doc))
    for args in (["batch", str(exp), "--out", str(out), "--workers", "1", "--quiet"],
                 ["compare", str(out), "--quiet"]):
        assert main(args) == 2
        line = one_line(capsys)
        assert f"{out / 'manifest.json'}: {expected}" in line and "different experiment" not in line


def test_a_manifest_of_one_wrong_field_is_not_called_another_experiment(ref, tmp_path, capsys):
    exp, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))
    (out / "manifest.json").write_text('{"chunks": 3}')
    assert main(["batch", str(exp), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    assert "manifest.json: no field 'design_sha256'" in one_line(capsys)
