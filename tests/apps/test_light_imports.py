"""Start-up: validate, list and compare import no Mesa; validate and list no pandas either."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("mesa", "pandas", "scipy", "matplotlib", "SALib", "pyarrow", "pyarrow.compute", "tqdm")

PROBE = f"""
import json, sys
from model.apps.cli import main
rc = main(sys.argv[1:])
print(json.dumps({{"rc": rc, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def loaded(*argv: str) -> tuple[int, set[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=120, check=True).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    return doc["rc"], set(doc["loaded"])


@pytest.mark.parametrize("argv", [["validate", "scenarios/baseline.yaml"],
                                  ["validate", "scenarios/hindcast_2014.yaml"], ["list"]])
def test_validate_and_list_import_no_model_and_no_table_library(argv):
    rc, mods = loaded(*argv)
    assert rc == 0
    assert not mods, f"{' '.join(argv)} imported {sorted(mods)}"


def test_compare_imports_no_mesa(tmp_path):
    batch = tmp_path / "b"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "model", "batch", "--scenario", "scenarios/classroom.yaml",
                    "--strategy", "scenarios/strategies/none.yaml", "--runs", "2", "--workers", "1",
                    "--out", str(batch), "--quiet"], cwd=ROOT, env=env, check=True, timeout=300,
                   capture_output=True)
    rc, mods = loaded("compare", str(batch), "--quiet", "--out", str(tmp_path / "report"))
    assert rc == 0
    assert "mesa" not in mods
    rc, mods = loaded("compare", str(batch), "--quiet", "--no-plots", "--out", str(tmp_path / "tables"))
    assert rc == 0
    assert not {"mesa", "matplotlib"} & mods  # tables only: nothing to draw with


@pytest.mark.parametrize("argv", [
    ["run", "scenarios/baseline.yaml", "--runs", "3", "--quiet", "--no-plots"],
    ["batch", "--scenario", "scenarios/classroom.yaml", "--strategy",
     "scenarios/strategies/none.yaml", "--runs", "3", "--workers", "1", "--quiet"]])
def test_replications_on_the_engine_import_no_mesa(argv, tmp_path):
    """The engine's plan is derived without a BlocModel: replicate and a batch chunk need no Mesa.

    (Mesa comes in only if a run falls back to BlocModel, which these finite runs do not.)
    """
    rc, mods = loaded(*argv, "--out", str(tmp_path / "out"))
    assert rc == 0
    assert "mesa" not in mods, f"{' '.join(argv)} imported mesa"


def test_run_without_plots_writes_its_tables_without_pandas(tmp_path):
    """``run --no-plots --quiet`` writes its CSVs from numpy columns: no pandas, pyarrow or matplotlib."""
    rc, mods = loaded("run", "scenarios/baseline.yaml", "--runs", "3", "--quiet", "--no-plots",
                      "--out", str(tmp_path / "out"))
    assert rc == 0
    assert not mods & {"pandas", "pyarrow", "matplotlib", "mesa"}, sorted(mods)
    assert (tmp_path / "out" / "trajectories.csv").stat().st_size > 0


def test_a_refused_run_loads_no_plotting_and_starts_no_helper(tmp_path):
    """A scenario with a mistake is refused before matplotlib loads or a plot helper starts, even
    when helpers are asked for (``BLOCSIM_PLOT_WORKERS``)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nreplications: -3\n", encoding="utf-8")
    code = PROBE + "import multiprocessing; print(len(multiprocessing.active_children()))\n"
    out = subprocess.run([sys.executable, "-c", code, "run", str(bad), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "BLOCSIM_PLOT_WORKERS": "1"})
    doc, children = out.stdout.strip().splitlines()[-2:]
    assert json.loads(doc)["rc"] == 2 and children == "0"
    assert not set(json.loads(doc)["loaded"]) & {"matplotlib", "pandas"}
    assert out.stderr.count("\n") == 1, out.stderr


def test_batch_writes_parquet_without_pandas(tmp_path):
    """A batch builds its Arrow columns from numpy buffers: pyarrow's pandas shim never loads pandas.

    (``pyarrow.array`` and ``pyarrow.compute`` scalars import pandas; ``read_table`` loads
    ``pyarrow.dataset``, which does too: 0.3 s and 40 MiB a process.)
    """
    rc, mods = loaded("batch", "--scenario", "scenarios/classroom.yaml", "--strategy",
                      "scenarios/strategies/none.yaml", "--runs", "3", "--workers", "1", "--quiet",
                      "--out", str(tmp_path / "out"))
    assert rc == 0
    assert not mods & {"pandas", "pyarrow.compute", "matplotlib", "mesa"}, sorted(mods)
    assert any((tmp_path / "out" / "trajectories").glob("part-*.parquet"))
