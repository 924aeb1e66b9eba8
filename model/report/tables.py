"""The comparison tables: computed from a batch, shown as text, Markdown or CSV.

Imports analysis and lower layers only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis.labels import (
    format_ci,
    format_diff,
    format_value,
    outcome_label,
)
from ..analysis.results import (
    Batch,
    sort_rows,
    strategy_order,
)
from ..analysis.sensitivity import (
    response_table,
    sensitivity,
    swept_params,
)
from ..analysis.stats import (
    N_BOOT,
    end_camp_probabilities,
    paired_differences,
    primary_sign,
    prob_best,
    ranking,
    robustness,
    summary,
)
from ..base.errors import ScenarioError
from ..core.outcomes import OUTCOMES
from ..run.tables import FLOAT_FORMAT


def cell_text(v) -> str:
    """A table cell as text: blank for missing values, 4 significant digits for floats."""
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and not np.isfinite(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, floats to 4 significant digits."""
    cols = [str(c) for c in df.columns]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    body = [[cell_text(v).replace("|", "\\|") for v in row] for row in df.itertuples(index=False)]
    head = "| " + " | ".join(c.replace("|", "\\|") for c in cols) + " |"
    rule = "| " + " | ".join("---:" if num else "---" for num in numeric) + " |"
    lines = [head, rule] + ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def to_csv(df: pd.DataFrame) -> str:
    """CSV text with the package's fixed float format, so the same table gives the same bytes."""
    return df.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def percent(x: float) -> str:
    """A probability as a whole percentage, a dash when missing."""
    return "–" if x is None or not np.isfinite(x) else f"{x:.0%}"


def display_ranking(rank: pd.DataFrame, primary: str) -> pd.DataFrame:
    """The ranking with numbers written for readers (percentages, units)."""
    out = pd.DataFrame({"rank": rank["rank"], "strategy": rank["strategy"]})
    for c in rank.columns:
        if c.startswith("mean_"):
            out[f"mean {c.removeprefix('mean_')}"] = rank[c].map(lambda v: format_value(primary, v))
    out["P(best)"] = rank["p_best"].map(percent)
    out["max regret"] = rank["max_regret"].map(lambda v: format_diff(primary, v, signed=False))
    out["verdict"] = rank["verdict"]
    return out


def display_differences(diffs: pd.DataFrame) -> pd.DataFrame:
    """Paired differences written for readers, each row in its outcome's units."""
    rows = []
    for r in diffs.itertuples(index=False):
        rows.append({
            "scenario": r.scenario, "outcome": outcome_label(r.outcome), "better is": _BETTER_IS[r.direction],
            "strategy": r.strategy, "pairs": r.n_pairs,
            f"mean {r.reference}": format_value(r.outcome, r.mean_reference),
            "mean strategy": format_value(r.outcome, r.mean_strategy),
            "difference": format_ci(r.outcome, r.mean_diff, r.ci_low, r.ci_high)[0],
            "95% CI": format_ci(r.outcome, r.mean_diff, r.ci_low, r.ci_high)[1],
            "better?": r.better,
        })
    return pd.DataFrame(rows)


_BETTER_IS = {"max": "higher", "min": "lower", "info": "(neither)"}


def display_summary(summ: pd.DataFrame) -> pd.DataFrame:
    """Summaries written for readers, each row in its outcome's units."""
    out = pd.DataFrame({"scenario": summ["scenario"], "strategy": summ["strategy"],
                        "outcome": summ["outcome"].map(outcome_label), "runs": summ["n"]})
    for c in ("mean", "median", "p5", "p95"):
        out[c] = [format_value(o, v) for o, v in zip(summ["outcome"], summ[c], strict=True)]
    out["sd"] = [format_diff(o, v, signed=False) for o, v in zip(summ["outcome"], summ["sd"], strict=True)]
    return out


def display_prob_best(pb: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """P(best) as a strategies x scenarios table: 'shared credit (best alone)' percentages."""
    cells = pb.assign(text=[f"{percent(p)} (alone {percent(q)})"
                            for p, q in zip(pb["p_best"], pb["p_sole_best"], strict=True)])
    wide = cells.pivot(index="strategy", columns="scenario", values="text")
    wide = wide.reindex(index=order or list(dict.fromkeys(pb["strategy"])),
                        columns=list(dict.fromkeys(pb["scenario"])))
    out = wide.reset_index()
    out.columns.name = None
    n = pb.groupby("scenario", sort=False)["n"].first()
    return out.rename(columns={s: f"{s} (n={n[s]})" for s in n.index})


def display_sensitivity(sens: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table for readers: one row per scenario, strategy, outcome and parameter.

    Most influential parameter first; one column per index, with its 95% half-width where the
    method gives one.
    """
    keys = ["scenario", "strategy", "outcome", "parameter"]
    rows = []
    for key, g in sens.groupby(keys, sort=False):
        row = dict(zip(keys, key, strict=True))
        ranked = g["rank"].dropna()
        row["rank"] = int(ranked.iloc[0]) if len(ranked) else None
        for r in g.itertuples(index=False):
            row[r.index] = f"{r.value:.3g}" + (f" ± {r.conf:.2g}" if np.isfinite(r.conf) else "")
        rows.append(row)
    out = pd.DataFrame(rows)
    order = {c: {v: i for i, v in enumerate(dict.fromkeys(sens[c]))} for c in ("scenario", "strategy")}
    sort = pd.DataFrame({"s": out["scenario"].map(order["scenario"]),
                         "t": out["strategy"].map(order["strategy"]),
                         "r": out["rank"].astype(float).fillna(np.inf)})
    out = out.loc[sort.sort_values(["s", "t", "r"], kind="stable").index]
    return out.astype({"rank": "Int64"}).reset_index(drop=True)


def display_robustness(rob: pd.DataFrame, primary: str) -> pd.DataFrame:
    """Robustness written for readers."""
    out = pd.DataFrame({"rank": rob["rank"], "strategy": rob["strategy"]})
    for c in rob.columns:
        if c.startswith("mean_"):
            out[f"mean {c.removeprefix('mean_')}"] = rob[c].map(lambda v: format_value(primary, v))
    out["worst case"] = [f"{format_value(primary, v)} ({s})"
                         for v, s in zip(rob["worst_case"], rob["worst_scenario"], strict=True)]
    out["max regret"] = [f"{format_diff(primary, v, signed=False)}" + (f" ({s})" if v > 0 else "")
                         for v, s in zip(rob["max_regret"], rob["regret_scenario"], strict=True)]
    return out


def resolve_names(batch: Batch, reference: str | None, primary: str | None) -> tuple[str, str, list[str]]:
    """The reference strategy, the primary outcome and the outcomes to compare.

    Raises:
        ScenarioError: one is not in the batch (the message lists the known names).
    """
    o = batch.outcomes
    strategies = strategy_order(o["strategy"])
    reference = (reference or batch.manifest.get("reference")
                 or ("none" if "none" in strategies else strategies[0]))
    if reference not in strategies:
        raise ScenarioError(f"unknown reference strategy '{reference}'; known: {', '.join(strategies)}")
    known = [n for n in OUTCOMES if n in o.columns]
    primary = primary or batch.manifest.get("primary") or "gdp_share_west"
    if primary not in known:
        raise ScenarioError(f"unknown outcome '{primary}'; known: {', '.join(known)}")
    primary_sign(primary)
    names = [n for n in (batch.manifest.get("outcomes") or known) if n in known]
    names = list(dict.fromkeys([primary, *names]))
    return reference, primary, names


@dataclass
class Tables:
    """Every table of a comparison, as computed from a batch."""

    reference: str
    primary: str
    names: list[str]
    ranking: pd.DataFrame
    paired_differences: pd.DataFrame
    summary: pd.DataFrame
    prob_best: pd.DataFrame
    robustness: pd.DataFrame
    end_camps: pd.DataFrame
    sensitivity: pd.DataFrame
    response: pd.DataFrame


def compare_tables(batch: Batch, reference: str | None = None, primary: str | None = None, *,
                   n_boot: int = N_BOOT, seed: int = 0) -> Tables:
    """All the comparison's tables for a batch (reference and primary default to the manifest's)."""
    reference, primary, names = resolve_names(batch, reference, primary)
    o = batch.outcomes
    diffs = paired_differences(o, names, reference, n_boot=n_boot, seed=seed)
    params = swept_params(batch.manifest, o) if (batch.manifest.get("design") or "none") != "none" else []
    rob, best = robustness(o, primary), prob_best(o, primary)
    return Tables(
        reference=reference, primary=primary, names=names,
        ranking=ranking(o, primary, reference, n_boot=n_boot, seed=seed, diffs=diffs, rob=rob, best=best),
        paired_differences=diffs, summary=sort_rows(summary(o, names), o, reference, names),
        prob_best=best, robustness=rob, end_camps=end_camp_probabilities(batch.states, o),
        sensitivity=sensitivity(o, batch.manifest, primary, seed=seed),
        response=response_table(o, params, primary) if params else pd.DataFrame(),
    )
