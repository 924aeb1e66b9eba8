"""Execute the notebooks in notebooks/ top to bottom and save them with their outputs (`make notebooks`).

The committed notebooks carry their outputs, figures included, so they render where the code is
hosted; run this after changing a notebook or anything its outputs show. It uses this Python's
`python3` kernel (ipykernel, from the test extra), no network, and the inline backend's PNGs.
Cell timings are not recorded, so a rerun changes only what the model's outputs change.

    python tools/execute_notebooks.py [NOTEBOOK.ipynb ...]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
TIMEOUT_S = 600


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=TIMEOUT_S, allow_errors=False,
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in notebooks/")
    os.environ.setdefault("MPLBACKEND", "Agg")
    paths = parser.parse_args(argv).notebooks or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    for path in paths:
        print(f"executing {path} ...", flush=True)
        execute(path.resolve())
    print(f"{len(paths)} notebook(s) saved with their outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
