"""``blocsim compare``: tables on the terminal, or the HTML report.

Imports every layer below apps.
"""

from __future__ import annotations

import argparse

from ..report.html import (
    write_report,
)


def run_compare_command(args: argparse.Namespace) -> int:
    """``blocsim compare``: write the report, print the ranking (Markdown) and the report's path.

    Raises:
        ScenarioError: the folder is not a finished batch, or the reference or primary outcome is
            not in it (the message lists the known names).
    """
    path = write_report(args.batch_dir, args.out, reference=args.reference, primary=args.primary,
                        plots=not getattr(args, "no_plots", False))
    if not getattr(args, "quiet", False):
        for table in ("ranking.md", "sensitivity.md"):
            if (path.parent / table).exists():
                print((path.parent / table).read_text(encoding="utf-8"))
        print(f"Report: {path}")
    return 0
