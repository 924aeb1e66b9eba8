"""The hindcast's outputs: CSV tables and one self-contained report.html, written atomically.

The folder holds ``scores.csv`` (every scale, mode, split, horizon and forecaster),
``headline.csv`` (test origins at horizons 1, 3, 5 and 10: the model, persistence and the
baseline best on validation), ``targets.csv`` (issue 10's targets measured on this run, met or
missed: ``targets.py``), ``tuned.csv`` (what was fitted on validation origins),
``forecasts.csv.gz`` (every forecast cell), ``history.json`` (the settings) and ``report.html``
(figures inline as PNG). Validation and test are labelled everywhere. Imports report and history.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from model import __version__

from ..base.files import check_output_dir, only_files, write_atomic_dir
from ..report.html import _CSS, _html_table
from .baselines import BASELINES
from .data import History
from .harness import FIRST_YEAR, HistoryConfig, OriginForecast
from .plots import movers, plot_paths, plot_skill
from .regression import PENALTY
from .simulate import REGIME_STEP, TIES_STEP
from .tables import HEADLINE_HORIZONS, best_baselines, forecast_rows, headline
from .targets import MET, MISSED, target_summary, target_table

__all__ = ["write_history", "check_out", "MARKER", "SCORE_COLUMNS"]

MARKER = "history.json"
#: Columns of the per-horizon tables in the report.
SCORE_COLUMNS = ["horizon", "forecaster", "rmse", "rmse_lo", "rmse_hi", "skill", "skill_lo",
                 "skill_hi", "mae", "crps", "cover50", "cover90", "direction", "spurious_sco",
                 "missed_sco"]
FILES = frozenset({MARKER, "scores.csv", "headline.csv", "tuned.csv", "forecasts.csv.gz",
                   "targets.csv", "report.html"})


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<figure><img alt="figure" src="data:image/png;base64,{data}"></figure>'


def _round(df: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    return df.round(digits)


def _tuned_table(tuned: dict) -> pd.DataFrame:
    return pd.DataFrame([{"scale": s, "baseline": b, "value": v, "fitted_on": "validation origins"}
                         for s, values in tuned.items() for b, v in values.items()])


def _stretch_table(scores: pd.DataFrame) -> pd.DataFrame:
    """The model's and persistence's test RMSE on each scale: how much hangs on the scale."""
    part = scores[(scores["split"] == "test") & scores["horizon"].isin(HEADLINE_HORIZONS)
                  & scores["forecaster"].isin(["model", "persistence"])]
    table = part.pivot_table(index=["mode", "horizon"], columns=["scale", "forecaster"],
                             values="rmse")
    table.columns = [f"{scale}: {name}" for scale, name in table.columns]
    return _round(table).reset_index()


def _notes(cfg: HistoryConfig, history: History) -> str:
    fed = ("SCO status rises and exits; joining and leaving NATO, the EU, the CSTO and BRICS "
           "(panel flags); a new Western sanctions case (one year, the default intensity); a coup, "
           f"a leader change or a regime index change of at least {REGIME_STEP} (a change of "
           "government to that year's regime index); the observed trade shares and security "
           f"ties, once they have moved more than {TIES_STEP} from the level last fed (trade is "
           "carried forward after 2020, so it gives no change then; arms shares and US troops "
           "enter through the security ties)")
    drivers = "present" if history.drivers is not None else "absent (only panel columns fed)"
    return (f"<p>Origins: validation {min(cfg.validation)}-{max(cfg.validation)} (targets up to "
            f"2014, the only scores used to choose anything), test {min(cfg.test)}-"
            f"{max(cfg.test)} (reported only). Horizons {min(cfg.horizons)}-{max(cfg.horizons)}; "
            f"{cfg.runs} replications per origin; root seed {cfg.seed}; {cfg.n_boot} bootstrap "
            f"resamples of the states (90% intervals). Driver histories: {drivers}."
            + (f" SCO membership rule: {cfg.membership_rule} (--membership-rule; docs/model.md "
               "4.11)." if cfg.membership_rule else "") + "</p>"
            f"<p><b>Projection</b>: the model runs from the origin's world with no events. "
            f"<b>Conditional</b>: it is fed what happened after the origin: {fed}. Not fed (no "
            "event in the schema): aid and Chinese finance, Belt and Road MoUs, SCO step-downs "
            "short of leaving. "
            "The baselines do not use the mode, except the regression, which in the conditional "
            f"mode also sees the observed changes after the origin (ridge penalty {PENALTY}).</p>"
            "<p>CRPS of a point forecast is its absolute error, so the model's ensemble is compared "
            "on CRPS and coverage with <b>spread</b>, probabilistic persistence (the origin's value "
            "plus the quantiles of past h-year changes, pooled over states, years up to the "
            "origin); interval coverage applies to those two only. Direction: share of states "
            "that moved more than 0.1 whose forecast moved the same way. Spurious / missed SCO "
            "status changes: states per "
            "origin (mean over runs) whose status the model changed although it did not change, "
            "or whose observed change the model did not reach.</p>")


def _targets_section(targets: pd.DataFrame) -> list[str]:
    """Issue 10's targets: one summary row per target, every cell in a folded table."""
    summary = target_summary(targets)
    met, missed = (int((summary["status"] == s).sum()) for s in (MET, MISSED))
    return ["<h2>Targets (issue 10)</h2>",
            f'<p class="note">Of {len(summary)} targets, {met} met in every cell measured, '
            f"{missed} missed in some cell, {len(summary) - met - missed} not measured here. "
            "Skill and coverage: test origins, the stable scale and "
            "the ideal points; CRPS against the rival with the lowest CRPS on the same cells, "
            "RMSE against persistence, intervals of the paired bootstrap over states (90%, "
            "model minus rival; the stretch goal is an interval below zero). Dynamics: the "
            "model's projected runs at this run's origins against the measured years "
            f"{FIRST_YEAR}-2014. Effect sizes: the panel's side only (the model's responses "
            "are in docs/estimates.md section 2). <code>targets.csv</code> has every cell."
            "</p>", _html_table(summary),
            f"<details><summary>Every cell</summary>{_html_table(_round(targets))}</details>"]


def _render(scores: pd.DataFrame, forecasts: list[OriginForecast], history: History,
            cfg: HistoryConfig, tuned: dict, targets: pd.DataFrame) -> str:
    head = headline(scores)
    best = best_baselines(scores)
    parts = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>blocsim "
             f"history: rolling-origin hindcast</title><style>{_CSS}</style></head><body>",
             "<h1>History is the test: rolling-origin hindcast</h1>",
             '<p class="lead">How well do the model and simple statistical rivals forecast the '
             "alignment of every state 1 to 10 years ahead, from origins whose future is "
             "known? Skill is 1 - RMSE / RMSE of persistence ('nothing changes'): above 0 "
             "beats it.</p>", *_targets_section(targets), "<h2>Design</h2>",
             _notes(cfg, history),
             "<h2>Headline: test origins</h2>",
             '<p class="note">The best baseline is chosen per scale and mode on validation '
             "origins (lowest mean RMSE over horizons), then reported on the test.</p>",
             _html_table(_round(head))]
    for scale in scores["scale"].unique():
        for mode in cfg.modes:
            sel = (scores["scale"] == scale) & (scores["mode"] == mode)
            parts.append(f"<h2>Scale '{html.escape(scale)}', {mode}</h2>")
            for split in ("test", "validation"):
                table = _round(scores[sel & (scores["split"] == split)][SCORE_COLUMNS])
                if table.empty:
                    continue
                label = f"{split.capitalize()} origins: every horizon and forecaster"
                body = _html_table(table)
                if split == "test":
                    parts += [f"<h3>{label}</h3>", _png(plot_skill(scores, scale, mode, split)),
                              f"<details><summary>Table</summary>{body}</details>"]
                else:
                    parts.append(f"<details><summary>{label} (used for choosing)</summary>{body}"
                                 "</details>")
    scale = scores["scale"].iloc[0]
    origin = min(cfg.test)
    idx = movers(forecasts, scale, origin)
    years = np.arange(FIRST_YEAR, history.last_year() + 1)
    observed = pd.DataFrame(history.matrix(scale, years), index=years)
    names = history.panel.drop_duplicates("iso3").set_index("iso3")["name"]
    labels = [f"{names.get(c, c)} ({c})" for c in history.iso3[idx]]
    parts += ["<h2>Paths of the states that moved most</h2>",
              _png(plot_paths(forecasts, observed, scale, origin, idx, labels,
                              best.get((scale, "projection"), "damped"))),
              "<h2>How much hangs on the scale</h2>",
              '<p class="note">Test RMSE of the model and persistence on each scale. On the '
              "stretched scale every state is re-scaled each year to that year's poles, so part "
              "of each observed change is the stretch itself.</p>",
              _html_table(_stretch_table(scores)),
              "<h2>Fitted on validation origins</h2>", _html_table(_tuned_table(tuned)),
              "<h2>Baselines</h2><ul>"]
    parts += [f"<li><b>{b.name}</b>: {html.escape(b.doc)}</li>" for b in BASELINES]
    parts += ["<li><b>regression</b>: a pooled direct ridge regression of the h-year change on "
              "what is known at the origin (and, conditional, on what happened after it), fitted "
              "on pairs ending at the origin</li>",
              "<li><b>spread</b>: probabilistic persistence, the origin's value plus 20 quantiles "
              "of the h-year changes seen up to the origin (its point forecast is their mean)</li>"
              "</ul>",
              f'<p class="note">blocsim {__version__}; command: <code>blocsim history</code>; '
              "docs/model.md section 12.</p></body></html>\n"]
    return "\n".join(parts)


def _ours(folder: Path) -> bool:
    return only_files(folder, FILES)


def check_out(out: Path) -> None:
    """Refuse, before any work, an output folder that holds anything but an earlier history."""
    check_output_dir(Path(out), MARKER, replace_only=_ours)


def write_history(out: Path, scores: pd.DataFrame, forecasts: list[OriginForecast],
                  history: History, cfg: HistoryConfig, tuned: dict) -> Path:
    """Write the tables and the report into ``out`` (built aside, then renamed into place).

    The same forecasts give the same bytes (no times or dates are written).
    """
    targets = target_table(forecasts, scores, history, n_boot=cfg.n_boot, seed=cfg.seed)
    html_text = _render(scores, forecasts, history, cfg, tuned, targets)
    rows = forecast_rows(forecasts, history.iso3)
    settings = {"validation": list(cfg.validation), "test": list(cfg.test),
                "horizons": list(cfg.horizons), "runs": cfg.runs, "seed": cfg.seed,
                "scales": sorted(scores["scale"].unique().tolist()), "modes": list(cfg.modes),
                "n_boot": cfg.n_boot, "drivers": history.drivers is not None,
                "membership_rule": cfg.membership_rule,
                "version": __version__}

    def fill(tmp: Path) -> None:
        _round(scores, 6).to_csv(tmp / "scores.csv", index=False)
        _round(headline(scores), 6).to_csv(tmp / "headline.csv", index=False)
        _tuned_table(tuned).to_csv(tmp / "tuned.csv", index=False)
        _round(targets, 6).to_csv(tmp / "targets.csv", index=False)
        _round(rows, 5).to_csv(tmp / "forecasts.csv.gz", index=False,
                               compression={"method": "gzip", "mtime": 0})
        (tmp / "report.html").write_text(html_text, encoding="utf-8")
        (tmp / MARKER).write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")

    return write_atomic_dir(Path(out), fill, MARKER, replace_only=_ours)
