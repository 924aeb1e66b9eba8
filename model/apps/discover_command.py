"""``blocsim discover``: scenario discovery on a batch, printed (and written with --out).

Imports every layer below apps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DISCOVER_EXAMPLES = """Examples:
  blocsim discover out/batch/west_strategies --when "winner loses to reference"
  blocsim discover out/batch/west_strategies --when "diplomatic_alliances loses to cybersecurity"
  blocsim discover out/batch/sweep --when "gdp_share_sco above 30% and sco_members > 10"
  blocsim discover out/batch/sweep --when "gdp_share_sco[trade_agreements] - gdp_share_sco[none] > -0.5pp"

The condition language: docs/discovery.md. 'blocsim compare BATCH --when ...' puts the same
analysis into the batch's report."""


def _density(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1 (got {value:g})")
    return value


def add_when_arguments(compare: argparse.ArgumentParser) -> None:
    """``compare --when CONDITION [--min-density D]``: scenario discovery in the report."""
    compare.add_argument("--when", metavar="CONDITION",
                         help="add scenario discovery (PRIM, CART) for this condition, e.g. "
                              "\"winner loses to reference\" or \"gdp_share_sco above 30%%\"")
    compare.add_argument("--min-density", type=_density,
                         help="density a discovery box should reach (default 0.8)")


def add_discover_parser(sub) -> None:
    """The ``discover`` sub-command's arguments."""
    p = sub.add_parser(
        "discover", help="find where in the swept inputs a condition on the outcomes holds (PRIM, CART)",
        description="Scenario discovery: PRIM boxes (EMA Workbench) and a CART tree over a batch's "
                    "swept parameters and scenarios, for the runs where a condition holds.",
        epilog=DISCOVER_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("batch_dir", type=Path, help="folder written by 'blocsim batch'")
    p.add_argument("--when", required=True, metavar="CONDITION",
                   help="the runs of interest, e.g. \"trade_agreements loses to none\"")
    p.add_argument("--reference", help="what 'reference' means in the condition (default: the experiment's)")
    p.add_argument("--primary",
                   help="the outcome a duel compares when it names none (default: the experiment's)")
    p.add_argument("--min-density", type=_density, help="density a box should reach (default 0.8)")
    p.add_argument("--max-boxes", type=int, choices=range(1, 11), default=3, metavar="N",
                   help="boxes to look for, one after another (1-10, default 3)")
    p.add_argument("--out", type=Path, help="also write the tables (CSV, Markdown) and plots here")


def run_discover_command(args: argparse.Namespace) -> int:
    """Load the batch, run the discovery, print it (and write it with --out).

    Raises:
        ScenarioError: not a batch, a bad condition, or no input that varies.
    """
    from ..analysis.discovery import MIN_DENSITY, discover
    from ..analysis.results import load_batch
    from ..base.files import check_output_dir, check_writable
    from ..report.discovery_report import discovery_markdown
    from ..report.tables import to_markdown

    if args.out is not None:  # a folder of the user's is refused before any work
        check_output_dir(args.out, MARKER, replace_only=_only_discovery_files)
        check_writable(args.out)
    batch = load_batch(args.batch_dir)
    aliases, primary = _aliases(batch, args.reference, args.primary)
    disc = discover(batch.outcomes, args.when, aliases=aliases, default_outcome=primary,
                    min_density=args.min_density or MIN_DENSITY, max_boxes=args.max_boxes)
    text = discovery_markdown(disc, to_markdown)
    print(text)
    if args.out is not None:
        _write(disc, text, args.out)
        print(f"Tables and plots in {args.out}/")
    return 0


def _aliases(batch, reference: str | None, primary: str | None) -> tuple[dict[str, str], str | None]:
    """``winner`` and ``reference`` for the condition, and the primary outcome (or None)."""
    from ..analysis.stats import primary_sign, robustness
    from ..base.errors import ScenarioError
    from ..core.outcomes import OUTCOMES

    o = batch.outcomes
    strategies = sorted(o["strategy"].unique())
    reference = reference or batch.manifest.get("reference") or ("none" if "none" in strategies else None)
    if reference is not None and reference not in strategies:
        raise ScenarioError(f"unknown reference strategy '{reference}'; known: {', '.join(strategies)}")
    primary = primary or batch.manifest.get("primary")
    if primary is not None and (primary not in OUTCOMES or primary not in o.columns):
        known = [n for n in OUTCOMES if n in o.columns]
        raise ScenarioError(f"unknown outcome '{primary}'; known: {', '.join(known)}")
    aliases = {"reference": reference} if reference else {}
    if primary is not None and len(strategies) > 1:
        primary_sign(primary)
        aliases["winner"] = str(robustness(o, primary).iloc[0]["strategy"])
    return aliases, primary


#: The file that marks a folder as discover's output (the printed tables): ``condition.txt``
#: alone is too common a name to tell a user's folder from ours.
MARKER = "discovery.md"


def _only_discovery_files(folder: Path) -> bool:
    """True if ``folder`` holds nothing but what ``discover --out`` writes."""
    from ..base.files import only_files
    from ..report.discovery_report import DISCOVERY_TABLES

    names = {f"{n}.{e}" for n in DISCOVERY_TABLES for e in ("csv", "md")}
    return only_files(folder, names | {"condition.txt", MARKER})


def _write(disc, text: str, out: Path) -> None:
    """The discovery (``text`` as printed), its tables and plots into ``out``, built aside.

    An existing ``out`` is replaced only if it is an earlier discover output and nothing else.
    """
    from ..base.files import write_atomic_dir
    from ..report.compare_plots import png_bytes
    from ..report.discovery_report import discovery_figures, display_tables
    from ..report.tables import to_csv, to_markdown

    raw, shown = display_tables(disc)
    figures = [(name, png_bytes(fig)) for name, _, fig in discovery_figures(disc)]

    def fill(tmp: Path) -> None:
        (tmp / "condition.txt").write_text(disc.condition + "\n", encoding="utf-8")
        (tmp / MARKER).write_text(text + "\n", encoding="utf-8", newline="")
        for name, df in raw.items():
            (tmp / f"{name}.csv").write_text(to_csv(df), encoding="utf-8", newline="")
            (tmp / f"{name}.md").write_text(to_markdown(shown[name]), encoding="utf-8", newline="")
        if figures:
            (tmp / "plots").mkdir()
        for name, png in figures:
            (tmp / "plots" / name).write_bytes(png)

    write_atomic_dir(out, fill, marker=MARKER, replace_only=_only_discovery_files)
