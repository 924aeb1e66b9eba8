"""``blocsim compare``: tables on the terminal, or the HTML report.

Imports every layer below apps.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path


def run_compare_command(args: argparse.Namespace) -> int:
    """``blocsim compare``: write the report, print the ranking (Markdown) and the report's path.

    The helper process for the figures (if a core is idle) is started first, so that its imports
    overlap this process's own and the reading of the batch.
    When the report goes into the batch folder (no --out), the batch's lock is taken first, so a
    batch still running refuses the comparison at once rather than after its computation. A batch
    that has not finished gives partial results: a one-line note on stderr says so.

    Raises:
        ScenarioError: the folder is not a finished batch, or the reference or primary outcome is
            not in it (the message lists the known names).
    """
    from ..report.workers import COMPARE_WARM, helpers

    batch_dir = Path(args.batch_dir)
    plots = not getattr(args, "no_plots", False) and (batch_dir / "manifest.json").is_file()
    import numpy  # noqa: F401  (needed anyway; meanwhile the idle-core reading spans busy start-up)

    with helpers(None if plots else 0, warm=COMPARE_WARM) as helping:
        return _compare(args, batch_dir, helping)


def _compare(args: argparse.Namespace, batch_dir: Path, helping) -> int:
    from ..report.html import write_report
    from ..run.store import batch_lock, done_chunks, read_manifest

    into_batch = args.out is None and (batch_dir / "manifest.json").is_file()
    with batch_lock(batch_dir) if into_batch else contextlib.nullcontext():
        path = write_report(batch_dir, args.out, reference=args.reference, primary=args.primary,
                            plots=not getattr(args, "no_plots", False), when=getattr(args, "when", None),
                            min_density=getattr(args, "min_density", None), helping=helping)
        manifest = read_manifest(batch_dir / "manifest.json")
    if "finished_at" in manifest and not manifest["finished_at"]:
        done, chunks = len(done_chunks(batch_dir)), manifest.get("chunks")
        count = f" ({done} of {chunks} chunks done)" if chunks else ""
        print(f"blocsim: note: the batch in {batch_dir} has not finished{count}: the results are "
              f"partial; run the same 'blocsim batch' command again to complete it", file=sys.stderr)
    if not getattr(args, "quiet", False):
        for table in ("bottom_line.md", "ranking.md", "sensitivity.md", "discovery_boxes.md"):
            text = (path.parent / table).read_text(encoding="utf-8") if (path.parent / table).exists() else ""
            if text and not (text.startswith("|") and text.strip().count("\n") < 2):  # no empty table
                print(text)
        print(f"Report: {path}")
    return 0
