"""Every notebook in ``notebooks/`` runs from top to bottom without an error, on this venv's Python.

Notebooks are stored *with* their outputs, figures included, so they render where the code is
hosted; ``make notebooks`` (``tools/execute_notebooks.py``) re-executes them in place. The tests
check that the stored copy was run top to bottom and carries its figures, then execute an
in-memory copy and never write the notebook back.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
BUDGET_S = 120
#: Figures each notebook must render (a notebook not listed may have none).
MIN_FIGURES = {"01_quickstart.ipynb": 3, "02_batches_and_comparison.ipynb": 2}
#: Largest size of a stored notebook, outputs included.
MAX_BYTES = 1_500_000


def test_there_is_a_quickstart():
    assert NOTEBOOK_DIR / "01_quickstart.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_with_its_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= len(code) / 2, "explain each step"
    hint = f"{path.name} is not stored as executed top to bottom: run `make notebooks`"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), hint
    outputs = [o for c in code for o in c.outputs]
    assert outputs, hint
    assert not [o for o in outputs if o.output_type == "error"], hint
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], "warnings saved"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= MIN_FIGURES.get(path.name, 0), hint
    assert all(len(o.data["image/png"]) < 400_000 for o in images), "keep saved figures small"
    assert path.stat().st_size < MAX_BYTES, "keep saved notebooks small"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_errors(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    # A last cell, added to the in-memory copy only: which Python did the kernel run on?
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.prefix)"))
    client = NotebookClient(nb, kernel_name="python3", timeout=BUDGET_S, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first cell that fails
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_S, f"{path.name} took {elapsed:.0f} s"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    prefix = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert Path(prefix).resolve() == Path(sys.prefix).resolve(), "the kernel is not this venv's Python"
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) >= MIN_FIGURES.get(path.name, 0), "the notebook's figures were not rendered"
