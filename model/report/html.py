"""The comparison report: one self-contained HTML page with tables and figures, written atomically.

Imports report and lower layers only.
"""

from __future__ import annotations

import base64
import html
import re
import shlex
import sys
from functools import partial
from pathlib import Path

import pandas as pd

from model import __version__

from ..analysis.labels import (
    outcome_label,
    sentence_case,
)
from ..analysis.results import (
    RUN_COLUMNS,
    Batch,
    load_batch,
    scenario_order,
    sort_rows,
    state_names,
    strategy_order,
)
from ..analysis.stats import (
    N_BOOT,
)
from ..base.files import only_files, write_atomic_dir
from ..core.outcomes import OUTCOMES, better_sign
from .tables import (
    Tables,
    cell_text,
    compare_tables,
    display_differences,
    display_prob_best,
    display_ranking,
    display_robustness,
    display_sensitivity,
    display_summary,
    percent,
    resolve_names,
    to_csv,
    to_markdown,
)
from .workers import Plot


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _plot(function: str, *args, **kwargs) -> Plot:
    """A ``compare_plots`` figure to draw."""
    return Plot("model.report.compare_plots", function, args, kwargs)


def _batch_figures(batch: Batch, reference: str, primary: str) -> list[tuple[str, str, Plot]]:
    """(file name, caption, what draws the figure) for the plots that need only the batch's runs.

    Each figure comes as a ``workers.Plot`` naming a ``compare_plots`` function and its data (only
    the columns it reads), so it can be drawn here or in a helper process with the same bytes, and
    handed over before the tables are computed.
    """
    o, ref = batch.outcomes, reference
    runs = o[list(RUN_COLUMNS)]
    figs: list[tuple[str, str, Plot]] = []
    n_strat = o["strategy"].nunique()
    blocs_ok = not batch.blocs.empty
    measures = list(dict.fromkeys(m for m in (primary, "gdp_share_west", "gdp_share_sco")
                                  if blocs_ok and m in batch.blocs.columns))
    for m in measures:
        figs.append((f"fan_{m}.png",
                     f"{sentence_case(outcome_label(m, long=True))} over time under each strategy: the line "
                     f"is the median run, the bands hold the middle 50% and 90% of runs.",
                     _plot("plot_fan_grid", batch.blocs[["run_id", "year", m]], runs, m, reference=ref)))
    if blocs_ok and n_strat > 1 and primary in batch.blocs.columns:
        figs.append((f"fan_difference_{primary}.png",
                     f"Paired difference to '{ref}' over time ({outcome_label(primary)}): each run minus the "
                     f"'{ref}' run with the same seed; the line is the median, the bands the middle 50% "
                     f"and 90% of pairs. Above zero: more than under '{ref}'.",
                     _plot("plot_fan_grid", batch.blocs[["run_id", "year", primary]], runs, primary,
                             reference=ref, relative=True)))
    figs.append((f"distribution_{primary}.png",
                 f"{sentence_case(outcome_label(primary, long=True))} at the horizon: one dot per run, "
                 f"boxes span the middle half of the runs, the line in the box is the median.",
                 _plot("plot_outcome_distributions", o[[*RUN_COLUMNS, primary]], primary, reference=ref)))
    return figs


def _table_figures(batch: Batch, t: Tables, costs) -> list[tuple[str, str, Plot]]:
    """(file name, caption, what draws the figure) for the plots of the computed tables."""
    o, ref, primary = batch.outcomes, t.reference, t.primary
    figs: list[tuple[str, str, Plot]] = []
    n_strat = o["strategy"].nunique()
    if n_strat > 1:
        figs.append((f"paired_differences_{primary}.png",
                     f"Mean paired difference to '{ref}' with 95% bootstrap intervals. An interval clear "
                     f"of zero on the better side is a difference the replications support.",
                     _plot("plot_paired_differences", t.paired_differences, primary)))
        directed = [n for n in t.names if n != primary and n in OUTCOMES and better_sign(n) != 0]
        if directed:
            figs.append(("paired_differences_other.png",
                         "The other outcomes: mean paired differences to "
                         f"'{ref}' with 95% bootstrap intervals, one panel per outcome.",
                         _plot("plot_paired_differences_grid", t.paired_differences, directed)))
    if not t.end_camps.empty and n_strat > 1:
        names = state_names()
        for s in scenario_order(o):
            for camp, label in (("west", "West-leaning"), ("sco", "SCO-leaning")):
                figs.append((f"end_{camp}_{_safe(s)}.png",
                             f"Scenario '{s}': probability that a state ends in the {label} camp, for "
                             f"the states whose probability differs most between strategies.",
                             _plot("plot_camp_heatmap", t.end_camps, camp=camp, scenario=s, reference=ref,
                                     names=names)))
    if not t.sensitivity.empty:
        figs.append(("sensitivity.png",
                     "How much each swept parameter moves the primary outcome (see the sensitivity table).",
                     _plot("plot_sensitivity", t.sensitivity, reference=ref)))
        params = list(batch.manifest.get("swept_parameters") or [])
        figs.append((f"response_{primary}.png",
                     f"{sentence_case(outcome_label(primary, long=True))} against each swept parameter: "
                     "mean over the replications at each sweep point.",
                     _plot("plot_response_grid", o, params, primary, reference=ref)))
    if costs is not None:
        figs.append(("cost_effect.png", COST_CAPTION,
                     Plot("model.report.costs", "plot_cost_effect", (costs[0], primary, ref))))
    return figs


#: Rough cost of drawing each kind of figure (CPU seconds for the shipped batch), to share the
#: figures between this process and a helper; only the wall time depends on it, not a byte.
FIGURE_COST = {"plot_fan_grid": 0.25, "plot_outcome_distributions": 0.15, "plot_paired_differences": 0.12,
               "plot_paired_differences_grid": 0.35, "plot_camp_heatmap": 0.22, "plot_sensitivity": 0.15,
               "plot_response_grid": 0.4, "plot_cost_effect": 0.15}
#: What this process spends loading matplotlib before it can draw its first figure (seconds).
IMPORT_COST = 0.35


_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.88em}
th,td{border:1px solid #ddd;padding:.25em .55em;vertical-align:top}th{background:#f3f3f3;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#fafafa}
.lead{font-size:1.1em;color:#333}.note{color:#555;font-size:.9em}
.warn{background:#fff4e5;border-left:4px solid #e08a00;padding:.5em .8em}figure{margin:1em 0 2em}
figcaption{color:#444;font-size:.9em;max-width:900px}img{max-width:100%;height:auto}
code{background:#f3f3f3;padding:0 .2em}details{margin:.5em 0}summary{cursor:pointer;color:#2166ac}
"""


def _primary_first(table: pd.DataFrame, label: str) -> list[str]:
    """HTML: the rows of the primary outcome, then the others folded away."""
    parts = [_html_table(table[table["outcome"] == label])]
    other = table[table["outcome"] != label]
    if not other.empty:
        parts.append(f"<details><summary>Other outcomes ({other['outcome'].nunique()})</summary>"
                     f"{_html_table(other)}</details>")
    return parts


def _html_table(df: pd.DataFrame) -> str:
    if df.empty:
        return '<p class="note">(no rows)</p>'
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for row in df.itertuples(index=False):
        cells = []
        for v, num in zip(row, numeric, strict=True):
            text = html.escape(cell_text(v))
            num = num or bool(re.fullmatch(r"[−+\-]?[\d.,]+ ?(%|pp|states)?", cell_text(v)))
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _design_lines(batch: Batch, t: Tables) -> list[tuple[str, str]]:
    m, o = batch.manifest, batch.outcomes
    scen = scenario_order(o)
    strat = strategy_order(o["strategy"], t.reference)
    n_rep = o["replication"].nunique()
    n_pts = o["point"].nunique()
    design = m.get("design") or "none"
    lines = [
        ("experiment", str(m.get("experiment", batch.path.name))),
        ("scenarios (what the world does)", ", ".join(scen)),
        ("strategies (what the West chooses)", ", ".join(strat) + f"; reference: {t.reference}"),
        ("replications", f"{n_rep} per cell, with the same seeds under every strategy and scenario "
                         "(common random numbers: differences are paired)"),
        ("runs", f"{len(o)} recorded" + (f" of {m['runs']} planned" if m.get("runs") else "")
         + (" (the batch has not finished: these results are partial)"
            if "finished_at" in m and not m["finished_at"] else "")),
        ("primary outcome", f"{outcome_label(t.primary, long=True)} at the horizon ("
                            f"{'higher' if better_sign(t.primary) > 0 else 'lower'} is better for the West)"),
    ]
    if design != "none":
        ranges = m.get("sweep_ranges") or {}
        swept = ", ".join(f"{p} [{ranges[p][0]:g}, {ranges[p][1]:g}]" if p in ranges else p
                          for p in m.get("swept_parameters") or [])
        extra = f", {m.get('morris_levels')} levels" if design == "morris" else ""
        lines.append(("sweep", f"{design} design{extra}, {n_pts} points: {swept}"))
    return lines


def _question(batch: Batch, t: Tables) -> str:
    text = str(batch.manifest.get("description") or "").strip()
    if text:
        return text
    verb = "keeps the most" if better_sign(t.primary) > 0 else "keeps the least"
    return (f"Which Western strategy {verb} of the {outcome_label(t.primary)} at the horizon, compared with "
            f"'{t.reference}', and does the answer hold in every scenario?")


def _failures(o: pd.DataFrame) -> tuple[int, pd.DataFrame]:
    failed = o[o["status"] != "ok"]
    if failed.empty:
        return 0, pd.DataFrame()
    err = failed["error"].fillna("(no message)").astype(str).str.split("\n").str[0].str.slice(0, 160)
    table = (failed.assign(error=err).groupby(["scenario", "strategy", "error"], sort=False).size()
             .rename("runs").reset_index())
    return len(failed), sort_rows(table, o)


def _tie_warning(pb: pd.DataFrame, primary: str) -> list[str]:
    """A warning paragraph when most replications tie on the primary outcome."""
    tied = pb.groupby("scenario", sort=False)["p_all_tied"].first().dropna()
    if tied.empty or tied.max() < 0.5:
        return []
    where = ", ".join(f"{percent(v)} of the replications in '{html.escape(str(s))}'"
                      for s, v in tied.items())
    return [f'<p class="warn">Every strategy gave the same {html.escape(outcome_label(primary))} '
            f"in {where}: this outcome moves in steps (whole states crossing "
            "a camp threshold) and barely responds to these strategies, so P(best) mostly splits "
            "ties and the ranking rests on small differences. Look at the other outcomes under "
            "Paired differences, or compare again with <code>--primary</code> set to one of them."
            "</p>"]


def _provenance(batch: Batch) -> list[tuple[str, str]]:
    m = batch.manifest
    rows = [("batch folder", batch.path.name), ("root seed", str(m.get("root_seed", "–"))),
            ("seed rule", str(m.get("seed_rule", "–"))),
            ("model version of the batch", f"{m.get('package', 'blocsim')} {m.get('version', '?')}"),
            ("report written by", f"blocsim {__version__} (model/compare.py)")]
    # Only what decides the results: a batch killed and resumed gives the same report, byte for
    # byte, as one run straight through (times and executor are in manifest.json).
    for key, label in (("design_sha256", "design sha256"), ("experiment_file", "experiment file"),
                       ("experiment_file_sha256", "experiment file sha256")):
        if m.get(key):
            rows.append((label, str(m[key])))
    return rows


def _command(batch: Batch, t: Tables) -> str:
    """The command that writes this report again (the folder's absolute path: it works pasted anywhere)."""
    cmd = f"blocsim compare {shlex.quote(str(Path(batch.path).resolve()))}"
    if t.reference != batch.manifest.get("reference"):
        cmd += f" --reference {shlex.quote(t.reference)}"
    if t.primary != batch.manifest.get("primary"):
        cmd += f" --primary {shlex.quote(t.primary)}"
    if getattr(t, "when", None):
        cmd += f" --when {shlex.quote(t.when)}"
        if getattr(t, "min_density", None) is not None:
            cmd += f" --min-density {t.min_density:g}"
    return cmd


def _dl(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                               for k, v in rows) + "</table>"


def _comparison_sections(t: Tables, tables: dict[str, pd.DataFrame], ref: str,
                         primary: str) -> list[str]:
    """HTML: ranking, paired differences, P(best) and robustness (two or more strategies)."""
    parts = ["<h2>Ranking</h2>",
             f'<p class="note">Ranked by maximum regret on {html.escape(outcome_label(primary))} across '
             "scenarios (how far a strategy's mean falls short of the best strategy's in its worst "
             "scenario), then by worst case. P(best): share of replications in which the strategy did "
             "best, averaged over scenarios (ties share). Intervals are 95% bootstrap intervals of the "
             f"mean paired difference to '{html.escape(ref)}'.</p>",
             _html_table(tables["ranking"])]
    parts += ["<h2>Paired differences</h2>",
              f'<p class="note">Each strategy minus \'{html.escape(ref)}\' in the same scenario, sweep '
              "point and replication. <b>better?</b> yes: the 95% interval lies wholly on the better side "
              "of zero; worse: wholly on the worse side; no: it includes zero. Shares are in "
              "percentage points (pp). Replication k draws the same shocks under every strategy, "
              "so most noise cancels in a paired difference and intervals can be very narrow: they "
              "say how sure the mean effect is in this model, not how large it is next to the "
              "spread of single runs (see the summaries).</p>"]
    parts += _primary_first(tables["paired_differences"], outcome_label(primary))
    parts += ["<h2>Probability of being best</h2>",
              f'<p class="note">Share of the replications (completed under every strategy) in which each '
              f"strategy had the best {html.escape(outcome_label(primary))}; a tie shares the credit "
              "(in brackets: the share in which it alone was best).</p>",
              _html_table(tables["prob_best"]),
              *_tie_warning(t.prob_best, primary),
              "<h2>Robustness across scenarios</h2>",
              '<p class="note">Mean per scenario, the worst of these (and where), and the maximum regret '
              "(shortfall from the best strategy in a scenario, and where).</p>",
              _html_table(tables["robustness"])]
    return parts


def _render_html(batch: Batch, t: Tables, plots: list[tuple[str, str, bytes]],
                 tables: dict[str, pd.DataFrame], lead: list[str] = (),
                 discovery: list[str] = ()) -> str:
    ref, primary = t.reference, t.primary
    n_failed, fail_table = _failures(batch.outcomes)
    title = f"Comparing Western strategies: {batch.manifest.get('experiment', batch.path.name)}"
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>", *lead,
             "<h2>Question</h2>", f'<p class="lead">{html.escape(_question(batch, t))}</p>',
             "<h2>Design</h2>", _dl(_design_lines(batch, t))]
    if "ranking" in tables:
        parts += _comparison_sections(t, tables, ref, primary)
    if "cost_effect" in tables:
        parts += ["<h2>Cost and effect</h2>",
                  '<p class="note">What each strategy costs (docs/model.md 4.1: a budget costs '
                  "itself, an intensity the budget that buys it, in every target state and year) "
                  f"and its effect on {html.escape(outcome_label(primary))} per US$ 100 bn of extra "
                  "spending over the horizon. For a comparison at equal cost, give the experiment "
                  "<code>equal_cost</code> (US$ bn a year).</p>",
                  _html_table(tables["cost_effect"])]
    else:
        parts.append('<p class="note">One strategy only: this batch is a sweep or a sensitivity '
                     "analysis, so there is nothing to rank; see the summaries and the sensitivity "
                     "section.</p>")
    parts += ["<h2>Summaries</h2>",
              '<p class="note">Spread across runs (failed runs left out): p5–p95 holds 90% of single runs; '
              "it is not an interval for the mean.</p>"]
    parts += _primary_first(tables["summary"], outcome_label(primary))
    parts.append("<h2>Plots</h2>")
    for name, caption, png in plots:
        if name.startswith(("sensitivity", "response", "discovery")):
            continue
        parts.append(_figure(name, caption, png))
    if "sensitivity" in tables:
        parts += ["<h2>Sensitivity to the swept parameters</h2>", _sensitivity_note(batch)]
        for name, caption, png in plots:
            if name.startswith(("sensitivity", "response")):
                parts.append(_figure(name, caption, png))
        parts.append(_html_table(tables["sensitivity"]))
    if discovery:
        parts += _discovery_section(discovery, plots, tables)
    parts += ["<h2>Failures</h2>",
              f"<p>{n_failed} of {len(batch.outcomes)} runs failed"
              + (" and are left out of every statistic; a comparison uses only replications that succeeded "
                 "under every strategy it compares.</p>" if n_failed else ".</p>")]
    if n_failed:
        parts.append(_html_table(fail_table))
    parts += ["<h2>Provenance</h2>", _dl(_provenance(batch)),
              f'<p class="note">Regenerate: <code>{html.escape(_command(batch, t))}</code>. '
              "The tables are also in this folder as CSV and Markdown, the plots under plots/.</p>",
              "</body></html>\n"]
    return "\n".join(parts)


def _discovery_section(disc, plots: list[tuple[str, str, bytes]],
                       tables: dict[str, pd.DataFrame]) -> list[str]:
    """HTML: the scenario discovery section (``disc``: a one-element list holding the Discovery)."""
    from .discovery_report import discovery_html

    figs = [_figure(n, c, png) for n, c, png in plots if n.startswith("discovery")]
    return discovery_html(disc[0], tables, figs, _html_table)


def _figure(name: str, caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)} <span class=\"note\">(plots/{html.escape(name)})</span>"
            "</figcaption></figure>")


def _sensitivity_note(batch: Batch) -> str:
    design = batch.manifest.get("design")
    text = {
        "morris": "Morris elementary effects: mu* is the mean absolute change of the outcome when a "
                  "parameter moves across its whole range (the larger, the more influential); sigma, their "
                  "spread (large: non-linear or interacting).",
        "sobol": "Sobol' indices: S1, the share of the outcome's variance due to a parameter alone; ST, "
                 "including its interactions.",
    }.get(design, "Standardized regression coefficients (src): the change of the outcome, in standard "
                  "deviations, per standard deviation of a parameter, from a linear fit over the sweep "
                  "points (r2: how much of the variation the fit explains); spearman: rank correlation.")
    return f'<p class="note">{html.escape(text)}</p>'


def write_report(batch_dir: str | Path, out_dir: str | Path | None = None, *, reference: str | None = None,
                 primary: str | None = None, n_boot: int = N_BOOT, seed: int = 0,
                 plots: bool = True, when: str | None = None, min_density: float | None = None,
                 helping=None) -> Path:
    """Write the comparison report of a batch: report.html, the tables and the plots.

    Into ``out_dir`` (default ``<batch>/report/``): ``report.html`` (one self-contained file, the
    plots embedded), each table as CSV (numbers in full) and Markdown (numbers for readers), and
    the plots as PNG under ``plots/``. The folder is built under a temporary name and renamed into
    place, replacing an earlier report whole.
    The same batch gives byte-identical files.

    Args:
        batch_dir: the batch folder.
        out_dir: where to write; ``<batch_dir>/report`` when None.
        reference: strategy to compare with (default: the manifest's).
        primary: outcome that ranks the strategies (default: the manifest's).
        n_boot: bootstrap resamples.
        seed: bootstrap seed.
        plots: draw the figures (``compare --no-plots``: tables only, no ``plots/``).
        when: a condition for scenario discovery (``analysis.condition``), which adds its section,
            tables and plots; the bottom line then says where the condition concentrates.
        min_density: the density a discovery box should reach (default
            ``analysis.discovery.MIN_DENSITY``).
        helping: helper processes for the figures (``workers.Helpers``), started by the caller
            (say, before its own imports); by default started here if a core is idle.

    Returns:
        The path of ``report.html``.
    """
    from .workers import COMPARE_WARM, helpers

    if helping is not None:
        return _write_report(batch_dir, out_dir, reference, primary, n_boot, seed, plots, when,
                             min_density, helping)
    with helpers(None if plots else 0, warm=COMPARE_WARM) as helping:
        # the helper (if a core is idle) imports matplotlib while the batch is read here
        return _write_report(batch_dir, out_dir, reference, primary, n_boot, seed, plots, when,
                             min_density, helping)


def _write_report(batch_dir, out_dir, reference, primary, n_boot, seed, plots, when, min_density,
                  helping) -> Path:
    """``write_report``: the figures are handed to the helpers as soon as their data is known.

    Those of the runs alone go before the tables are computed, those of the tables before the
    bottom line; this process then takes back what the helpers have not started, if it would
    finish it sooner, and draws the discovery figures.
    """
    from .workers import draw_png

    batch = load_batch(batch_dir)
    figures = _batch_figures(batch, *resolve_names(batch, reference, primary)[:2]) if plots else []
    futures = [helping.submit(draw_png, make) for _, _, make in figures]
    t = compare_tables(batch, reference, primary, n_boot=n_boot, seed=seed)
    from .bottom_line import bottom_line_html, bottom_line_markdown, opening
    from .discovery_report import discovery_figures, display_tables

    ranked = batch.outcomes["strategy"].nunique() >= 2
    costs = _cost_effect(batch, t) if ranked else None
    more = _table_figures(batch, t, costs) if plots else []
    futures += [helping.submit(draw_png, make) for _, _, make in more]
    figures += more
    year = int(batch.blocs["year"].max()) if not batch.blocs.empty else None
    sentences, notes, disc = opening(batch.outcomes, t, when=when, year=year, min_density=min_density,
                                     n_boot=n_boot, seed=seed,
                                     costs=costs[0] if costs is not None else None)
    t.when, t.min_density = when, min_density  # for the command that writes the report again
    out = Path(out_dir) if out_dir is not None else Path(batch_dir) / "report"
    display = {
        "ranking": display_ranking(t.ranking, t.primary),
        "paired_differences": display_differences(t.paired_differences),
        "summary": display_summary(t.summary),
        "prob_best": display_prob_best(t.prob_best, list(t.ranking["strategy"])),
        "robustness": display_robustness(t.robustness, t.primary),
    }
    raw = {"ranking": t.ranking, "paired_differences": t.paired_differences, "summary": t.summary,
           "prob_best": t.prob_best, "robustness": t.robustness}
    if not ranked:  # a sweep of one strategy: nothing to rank
        for key in ("ranking", "paired_differences", "prob_best", "robustness"):
            display.pop(key)
            raw.pop(key)
    if not t.sensitivity.empty:
        display["sensitivity"] = display_sensitivity(t.sensitivity)
        raw["sensitivity"] = t.sensitivity
        raw["response"] = t.response
        display["response"] = t.response
    if costs is not None:
        raw["cost_effect"], display["cost_effect"] = costs
    if disc is not None:
        disc_raw, disc_shown = display_tables(disc)
        raw.update(disc_raw)
        display.update(disc_shown)
    local = [(name, caption, partial(_own, fig)) for name, caption, fig in discovery_figures(disc)] \
        if plots and disc is not None else []
    figures += local
    futures += [None] * len(local)
    cost = [FIGURE_COST.get(getattr(make, "function", ""), 0.3) for _, _, make in figures]
    pngs = helping.gather([(draw_png, (make,)) for _, _, make in figures], futures, cost,
                          start_cost=0.0 if "matplotlib.figure" in sys.modules else IMPORT_COST)
    plots = [(name, caption, png) for (name, caption, _), png in zip(figures, pngs, strict=True)]

    def fill(tmp: Path) -> None:
        for name, df in raw.items():
            (tmp / f"{name}.csv").write_text(to_csv(df), encoding="utf-8", newline="")
            (tmp / f"{name}.md").write_text(to_markdown(display[name]), encoding="utf-8", newline="")
        if not t.end_camps.empty:
            (tmp / "end_camps.csv").write_text(to_csv(t.end_camps), encoding="utf-8", newline="")
        if plots:
            (tmp / "plots").mkdir()
        for name, _, png in plots:
            (tmp / "plots" / name).write_bytes(png)
        (tmp / "bottom_line.md").write_text(bottom_line_markdown(sentences, notes), encoding="utf-8",
                                            newline="")
        (tmp / "report.html").write_text(
            _render_html(batch, t, plots, display, bottom_line_html(sentences, notes),
                         [disc] if disc is not None else []), encoding="utf-8", newline="")

    # Built under a temporary name and renamed into place: a report killed half-way leaves no
    # half report/ behind (and the batch's lock holder removes the temporary). A folder of the
    # user's is never written into; the default report/ inside a batch is also replaced when it
    # holds only a report's files (one left half-written by an older blocsim).
    owned = _only_report_files if out_dir is None else None
    with _batch_locked(Path(batch_dir) if out_dir is None else None):
        write_atomic_dir(out, fill, marker="report.html", owned=owned,
                         replace_only=_only_report_files)
    return out / "report.html"


REPORT_TABLES = ("ranking", "paired_differences", "summary", "prob_best", "robustness", "sensitivity",
                 "response", "end_camps", "cost_effect", "bottom_line", "discovery_boxes",
                 "discovery_limits", "discovery_trajectory", "discovery_cart")
COST_CAPTION = ("Each strategy's mean paired difference to the reference (95% interval) against its "
                "cost a year; the dashed line joins the strategies no cheaper one beats.")


def _own(fig):
    """A figure already drawn in this process (``discovery_figures``), for ``workers.draw_png``."""
    return fig


def _cost_effect(batch: Batch, t: Tables):
    """(raw, display) cost-effect tables, or None for a batch without recorded costs."""
    from ..analysis.costs import cost_effect, cost_table
    from .costs import display_cost_effect

    table = cost_effect(t.paired_differences, cost_table(batch.manifest), t.primary, t.reference)
    return None if table.empty else (table, display_cost_effect(table, t.primary))


def _only_report_files(folder: Path) -> bool:
    """True if ``folder`` holds nothing but files a report writes (tables, plots/*.png)."""
    names = {f"{n}.{ext}" for n in REPORT_TABLES for ext in ("csv", "md")} | {"report.html"}
    return only_files(folder, names)


def _batch_locked(batch_dir: Path | None):
    """The batch folder's lock while its default report is written (none for another --out)."""
    import contextlib

    from ..run.store import batch_lock
    return batch_lock(batch_dir) if batch_dir is not None else contextlib.nullcontext()
