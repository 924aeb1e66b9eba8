"""The bottom line: two or three sentences that open the comparison report, written from its tables.

What wins, by how much, how sure, at what cost and whether anything cheaper does as well (from
the batch's recorded costs: ``analysis.costs.cost_effect``), and where it fails (from the
scenarios, and from scenario discovery when it was run). Every number comes from the tables
passed in (``report.tables.Tables``, the lead of the winner over the runner-up, the cost-effect
table, a ``Discovery``), so the text changes when they do.

Notes beside it flag what the tables could mislead about: outcomes that never vary, and
intervals whose width vanishes in the digits shown (a deterministic outcome, or a difference that
common random numbers make the same in every replication).

Imports report and lower layers only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.discovery import Discovery, box_rule
from ..analysis.labels import diff_decimals, format_ci, format_diff, format_value, outcome_label
from ..core.outcomes import better_sign
from .tables import Tables


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _magnitude(name: str, mean: float, lo: float, hi: float) -> tuple[str, str]:
    """A difference as a size and its interval: -0.022 (-0.025, -0.019) -> '2.2 pp', '1.9 to 2.5 pp'."""
    s = -1.0 if mean < 0 else 1.0
    m, (a, b) = s * mean, sorted((s * lo, s * hi))
    dec = diff_decimals(name, m, a, b)

    def f(v: float, unit: bool) -> str:
        return format_diff(name, v, signed=v < 0, unit=unit, decimals=dec)

    return f(m, True), f"{f(a, False)} to {f(b, True)}"


def _scenarios(t: Tables) -> list[str]:
    return [c.removeprefix("mean_") for c in t.ranking.columns if c.startswith("mean_")]


def _effect_phrase(t: Tables, winner: str) -> str:
    """'lowers it by 2.2 pp against none (95% CI 1.9 to 2.5)', per scenario when several."""
    d = t.paired_differences
    d = d[(d["strategy"] == winner) & (d["outcome"] == t.primary)]
    if d.empty:
        return ""
    sign = better_sign(t.primary)
    verb = {1.0: "raises", -1.0: "lowers"}[float(np.sign(d["mean_diff"].mean()) or sign)]
    if len(d) == 1:
        r = d.iloc[0]
        mean, ci = _magnitude(t.primary, r.mean_diff, r.ci_low, r.ci_high)
        sure = "" if r.better == "yes" else (", not clear of zero" if r.better == "no" else "")
        return f"{verb} it by {mean} against {t.reference} (95% CI {ci}{sure})"
    lo, hi = d["mean_diff"].abs().min(), d["mean_diff"].abs().max()
    k = int((d["better"] == "yes").sum())
    clear = ("each 95% interval clear of zero" if k == len(d)
             else f"clear of zero in {k} of {len(d)} scenarios")
    low, high = format_diff(t.primary, lo, signed=False), format_diff(t.primary, hi, signed=False)
    if low == high:
        return f"{verb} it by {low} against {t.reference} in each of the {len(d)} scenarios ({clear})"
    return (f"{verb} it by {format_diff(t.primary, lo, signed=False, unit=False)} to {high} against "
            f"{t.reference}, depending on the scenario ({clear})")


def _bn(x: float) -> str:
    """US$ bn as read: 12.3, 0.45."""
    return f"{x:,.1f}" if abs(x) >= 1 else f"{x:.2g}"


def _winner_costs(costs: pd.DataFrame | None, winner: str) -> pd.DataFrame:
    if costs is None or costs.empty:
        return pd.DataFrame()
    return costs[costs["strategy"] == winner]


def _cost_phrase(costs: pd.DataFrame | None, winner: str, primary: str, reference: str) -> str:
    """', at a cost of US$ 6.0 bn a year (0.031 pp per US$ bn spent)', from the cost-effect table.

    The effect per US$ bn is ``effect_per_bn`` of ``analysis.costs.cost_effect``: the paired
    difference to the reference per extra US$ bn over the horizon, averaged over the scenarios.
    """
    w = _winner_costs(costs, winner)
    if w.empty:
        return ""
    lo, hi = float(w["cost_bn_per_year"].min()), float(w["cost_bn_per_year"].max())
    money = (f"US$ {_bn(lo)} bn a year" if _bn(lo) == _bn(hi)
             else f"US$ {_bn(lo)} to {_bn(hi)} bn a year, depending on the scenario")
    text = f", at a cost of {money}"
    per = w["effect_per_bn"].astype(float)
    per = per[np.isfinite(per)]
    if len(per):
        ref = costs[costs["strategy"] == reference]["cost_bn_total"]
        beyond = f" beyond {reference}'s" if len(ref) and float(ref.max()) > 0 else ""
        text += (f" ({format_diff(primary, abs(float(per.mean())), signed=False)} per US$ bn "
                 f"spent{beyond} over the horizon)")
    return text


def _frontier_sentence(costs: pd.DataFrame | None, winner: str, primary: str) -> str:
    """Whether the winner is on the cost-effect frontier; if not, the cheaper strategy that does as well."""
    w = _winner_costs(costs, winner)
    if w.empty or costs["strategy"].nunique() < 2:
        return ""
    sign = better_sign(primary)
    off = []
    for r in w.itertuples(index=False):
        if bool(r.frontier):
            continue
        sub = costs[(costs["scenario"] == r.scenario) & (costs["strategy"] != winner)]
        gain, mine = sign * sub["mean_diff"].astype(float), sign * float(r.mean_diff)
        beats = sub[(sub["cost_bn_per_year"] <= r.cost_bn_per_year) & (gain >= mine)]
        by = beats.sort_values("cost_bn_per_year", kind="stable")
        off.append((str(r.scenario), str(by.iloc[0]["strategy"]) if len(by) else "",
                    float(by.iloc[0]["cost_bn_per_year"]) if len(by) else np.nan))
    if not off:
        return ("It is also on the cost-effect frontier: no strategy that costs as little "
                "does as well" + (" in any scenario" if len(w) > 1 else "")
                + _per_bn_leader(costs, winner, primary) + ".")
    groups: dict[tuple[str, str], list[str]] = {}
    for sc, by, c in off:
        if by:
            groups.setdefault((by, _bn(c)), []).append(sc)
    parts = [f"in {_names(scs)}, {by} (US$ {c} bn a year) costs no more and does at least as well"
             for (by, c), scs in groups.items()]
    where = "" if len(off) == len(w) else f" in {len(off)} of the {len(w)} scenarios"
    return (f"It is not on the cost-effect frontier{where}" + (": " + "; ".join(parts) if parts
                                                              else "") + ".")


def _per_bn_leader(costs: pd.DataFrame, winner: str, primary: str) -> str:
    """'; per US$ bn, cybersecurity does more (0.016 pp against 0.0099 pp)', when one does."""
    per = (better_sign(primary) * costs["effect_per_bn"].astype(float)).groupby(
        costs["strategy"], sort=False).mean().dropna()
    if winner not in per.index or per.idxmax() == winner or per.max() <= per[winner]:
        return ""
    top = per.idxmax()
    return (f"; but for each US$ bn, {top} does more ({format_diff(primary, per[top], signed=False)}"
            f" against {format_diff(primary, per[winner], signed=False)})")


def _lead_sentence(t: Tables, winner: str, runner_up: str, lead: pd.DataFrame | None) -> str:
    """How sure: the lead over the runner-up (a paired interval when given) and P(best)."""
    pb = t.ranking.set_index("strategy")["p_best"]
    sure = f"{winner} did best in {_pct(pb[winner])} of the paired replications"
    row = None
    if lead is not None and len(lead):
        row = lead[(lead["strategy"] == winner) & (lead["outcome"] == t.primary)]
        row = row.iloc[0] if len(row) else None
    if row is None:
        return f"The runner-up is {runner_up}; {sure}."
    mean, ci = _magnitude(t.primary, row.mean_diff, row.ci_low, row.ci_high)
    if row.better == "yes":
        return f"Its lead over the runner-up, {runner_up}, is {mean} (95% CI {ci}); {sure}."
    return (f"Its lead over the runner-up, {runner_up}, is {mean} and not clear of the noise "
            f"(95% CI {ci}), so treat the two as tied; {sure}.")


def _discovery_sentence(disc: Discovery) -> str:
    """Where the condition concentrates: 'In 17% of the paired runs, A loses to B on X; 92% ...'."""
    quoted = not disc.phrase or disc.phrase.startswith("'")
    phrase = (disc.phrase or f"'{disc.condition}'") + (" holds" if quoted else "")
    if disc.note:
        where = "none" if disc.k == 0 else "all"
        return f"In {where} of the {disc.n} cases {phrase}, so there is nothing to tell apart."
    cases = "paired runs" if disc.paired else "runs"
    text = f"In {_pct(disc.base_rate)} of the {cases}, {phrase}"
    if disc.boxes.empty:
        if list(disc.inputs) == ["scenario"]:  # a batch with no sweep: the scenario is all
            return text + (": no scenario stands out (PRIM finds no box that chance would not "
                           "explain), and the batch varies nothing else; sweep parameters to "
                           "look further.")
        return text + (": no region of the inputs stands out (PRIM finds no box that chance would "
                       "not explain).")
    b = disc.boxes.iloc[0]
    return (text + f"; {_pct(b.coverage)} of those cases lie where {box_rule(disc.limits, int(b.box))}, "
            f"and there it happens in {_pct(b.density)} of the cases (PRIM, see Scenario discovery).")


def _scenario_sentence(t: Tables, winner: str) -> str:
    """Where the winner is not best, from the robustness table (no discovery run)."""
    scen = _scenarios(t)
    if len(scen) < 2:
        return ""
    sign = better_sign(t.primary)
    means = t.ranking.set_index("strategy")[[f"mean_{s}" for s in scen]] * sign
    lost = [s for s in scen if means.loc[winner, f"mean_{s}"] < means[f"mean_{s}"].max() - 1e-12]
    if not lost:
        return f"It is best in every scenario ({_names(scen)})."
    parts = []
    for s in lost:
        best = means[f"mean_{s}"].idxmax()
        gap = (means.loc[best, f"mean_{s}"] - means.loc[winner, f"mean_{s}"])
        parts.append(f"in {s}, {best} does better by {format_diff(t.primary, gap, signed=False)}")
    return "It is not best everywhere: " + "; ".join(parts) + "."


def bottom_line(t: Tables, *, lead: pd.DataFrame | None = None, discovery: Discovery | None = None,
                year: int | None = None, costs: pd.DataFrame | None = None) -> list[str]:
    """The report's opening sentences, from its tables.

    Args:
        t: the comparison's tables (the ranking decides the winner).
        lead: ``paired_differences`` of the primary outcome with the runner-up as reference,
            pooled over scenarios (the winner's row is read); None leaves out its interval.
        discovery: the scenario discovery run with the report, if any.
        year: the horizon, for the wording.
        costs: the cost-effect table (``analysis.costs.cost_effect``) of a batch that recorded
            costs; it adds the winner's cost, its effect per US$ bn and the frontier.

    Returns:
        Two to five sentences.
    """
    label = outcome_label(t.primary)
    when = f" by {year}" if year else " at the horizon"
    better = "higher" if better_sign(t.primary) > 0 else "lower"
    rank = t.ranking.sort_values("rank", kind="stable")
    if len(rank) < 2:
        s = t.summary[t.summary["outcome"] == t.primary]
        text = [f"One strategy only, so nothing is ranked: the {label}{when} averages "
                f"{format_value(t.primary, s['mean'].mean())} over the runs."]
        return text + ([_discovery_sentence(discovery)] if discovery is not None else [])
    winner, runner_up = str(rank.iloc[0]["strategy"]), str(rank.iloc[1]["strategy"])
    if winner == t.reference:
        first = (f"Of the {len(rank)} strategies, none beats {t.reference} on the {label}{when} "
                 f"({better} is better for the West); the closest is {runner_up}.")
    else:
        first = (f"Of the {len(rank)} strategies, {winner} does best on the {label}{when} ({better} "
                 f"is better for the West): it {_effect_phrase(t, winner)}"
                 f"{_cost_phrase(costs, winner, t.primary, t.reference)}.")
    frontier = "" if winner == t.reference else _frontier_sentence(costs, winner, t.primary)
    out = [first] + ([frontier] if frontier else []) + [_lead_sentence(t, winner, runner_up, lead)]
    where = [_scenario_sentence(t, winner)]  # where it fails: the scenarios, then the discovery
    where += [_discovery_sentence(discovery)] if discovery is not None else []
    return out + [w for w in where if w]


def constant_outcomes(t: Tables) -> list[str]:
    """Notes on outcomes that never vary (per outcome, from the summary table)."""
    notes = []
    s = t.summary
    for name, g in s.groupby("outcome", sort=False):
        if not (g["sd"].fillna(0) == 0).all() or not (g["p5"] == g["p95"]).all():
            continue
        label = outcome_label(name)
        values = g.groupby("scenario", sort=False)["mean"].agg(["min", "max"])
        if g["mean"].nunique() == 1:
            notes.append(f"{label} never varies: {format_value(name, g['mean'].iloc[0])} in every run, "
                         f"under every strategy and scenario, so it cannot tell the strategies apart.")
        elif (values["min"] == values["max"]).all():
            per = ", ".join(f"{format_value(name, v)} in {sc}" for sc, v in values["min"].items())
            notes.append(f"{label} never varies with the strategy or the replication ({per}): the "
                         f"scenario alone sets it, so its differences are exactly 0 and their "
                         f"intervals have zero width.")
        else:
            notes.append(f"{label} is the same in every replication of a scenario and strategy: it "
                         f"does not depend on the random draws, so its intervals have zero width.")
    return notes


def narrow_intervals(t: Tables, skip: set[str] = frozenset()) -> list[str]:
    """Notes on paired intervals that print as one number (e.g. −0.075 to −0.075)."""
    d = t.paired_differences.dropna(subset=["ci_low", "ci_high"])
    found = []
    for name, g in d.groupby("outcome", sort=False):
        if name in skip:
            continue
        texts = [format_ci(name, r.mean_diff, r.ci_low, r.ci_high) for r in g.itertuples(index=False)]
        flat = [(r, txt) for r, txt in zip(g.itertuples(index=False), texts, strict=True)
                if txt[1].split(" to ")[0] == txt[1].split(" to ")[-1]]
        if not flat:
            continue
        r, (_, ci) = flat[0]
        found.append(f"{outcome_label(name)} ({len(flat)} of {len(g)}, e.g. {r.strategy} vs "
                     f"{r.reference} in {r.scenario}: {ci})")
    if not found:
        return []
    return [f"Some 95% intervals print as one number: {_names(found)}. Under common random numbers "
            f"both strategies meet the same shocks, and these outcomes' response to the strategy "
            f"barely depends on them, so every replication gives almost the same difference: the "
            f"model's effect is nearly deterministic, which does not make the real-world effect "
            f"known this precisely."]


def table_notes(t: Tables, costs: pd.DataFrame | None = None) -> list[str]:
    """The flags under the bottom line: constant outcomes, intervals of no width, unequal costs."""
    constant = constant_outcomes(t)
    flagged = {n for n, g in t.summary.groupby("outcome", sort=False)
               if (g["sd"].fillna(0) == 0).all() and (g["p5"] == g["p95"]).all()}
    notes = constant + narrow_intervals(t, skip=flagged)
    if len(t.ranking) < 2:
        return notes
    if costs is None or costs.empty:
        notes.append("Costs are not compared: this batch recorded none (it predates costs).")
        return notes
    paid = costs[costs["strategy"] != t.reference]["cost_bn_per_year"].astype(float)
    if len(paid) and float(paid.max()) > 1.01 * float(paid.min()):
        notes.append(f"The strategies do not cost the same (US$ {_bn(float(paid.min()))} to "
                     f"{_bn(float(paid.max()))} bn a year, docs/model.md 4.1): the ranking compares "
                     f"them as written, not for the same money; see the effect per US$ bn and the "
                     f"cost-effect frontier (cost_effect.csv), or set equal_cost in the experiment.")
    return notes


def bottom_line_markdown(sentences: list[str], notes: list[str]) -> str:
    """The bottom line and its notes as Markdown (``bottom_line.md``, printed by compare)."""
    text = "**Bottom line.** " + " ".join(sentences) + "\n"
    if notes:
        text += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return text


def bottom_line_html(sentences: list[str], notes: list[str]) -> list[str]:
    """HTML: the bottom line as the report's lead paragraph, the notes as a list under it."""
    import html

    parts = ['<p class="lead"><b>Bottom line.</b> ' + html.escape(" ".join(sentences)) + "</p>"]
    if notes:
        parts.append('<ul class="note">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    return parts


def winner_aliases(t: Tables) -> dict[str, str]:
    """What ``winner`` and ``reference`` stand for in a ``--when`` condition."""
    rank = t.ranking.sort_values("rank", kind="stable")
    out = {"reference": t.reference}
    if len(rank):
        out["winner"] = str(rank.iloc[0]["strategy"])
    return out


def opening(outcomes: pd.DataFrame, t: Tables, *, when: str | None = None, year: int | None = None,
            min_density: float | None = None, n_boot: int = 2000, seed: int = 0,
            costs: pd.DataFrame | None = None) -> tuple[list[str], list[str], Discovery | None]:
    """The bottom line, its notes and the discovery (for ``when``), computed for a batch's tables.

    ``costs`` is the batch's cost-effect table (``analysis.costs.cost_effect``), if it has one.

    The lead over the runner-up is the paired difference (winner − runner-up) pooled over
    scenarios, with the same bootstrap as the other intervals.
    """
    from ..analysis.discovery import MIN_DENSITY, discover
    from ..analysis.stats import paired_differences

    disc = None
    if when is not None:
        disc = discover(outcomes, when, aliases=winner_aliases(t), default_outcome=t.primary,
                        min_density=MIN_DENSITY if min_density is None else min_density)
    lead = None
    rank = t.ranking.sort_values("rank", kind="stable")
    if len(rank) >= 2:
        runner_up = str(rank.iloc[1]["strategy"])
        lead = paired_differences(outcomes, [t.primary], runner_up, n_boot=n_boot, seed=seed,
                                  pool_scenarios=True)
    return (bottom_line(t, lead=lead, discovery=disc, year=year, costs=costs),
            table_notes(t, costs), disc)
