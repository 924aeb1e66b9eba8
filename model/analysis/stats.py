"""Comparing Western strategies from a batch: paired statistics, a ranking, and one HTML report.

A batch (``run.batch``) runs every strategy in every scenario with the same replication seeds
(common random numbers), so strategy B and the reference in scenario s, sweep point p and
replication k saw the same random draws: their difference is *paired* and far less noisy than a
difference of two independent means (Law 2015, *Simulation Modeling and Analysis*, ch. 11.2).
Everything here reads tables and returns tables (pandas in, pandas out); only
``report.html.write_report`` writes files.

- ``summary``: per scenario x strategy x outcome, the spread across replications.
- ``paired_differences``: mean paired difference to the reference with a percentile bootstrap
  95% interval (Efron and Tibshirani 1993, ch. 13), resampling the paired replications.
- ``prob_best``: how often each strategy is the best one in the same replication.
- ``robustness``: worst case and maximum regret across scenarios (Savage 1951; the
  robust-decision habit of Lempert, Popper and Bankes 2003, *Shaping the Next One Hundred Years*).
- ``ranking``: the table a policy team reads, with a verdict line per strategy.
- ``sensitivity``: Morris elementary effects (Morris 1991; Campolongo et al. 2007) or Sobol'
  indices (Saltelli 2002) through SALib, or standardized regression coefficients for factorial
  and Latin hypercube sweeps.

Which way is better comes from ``core.outcomes`` (EMA Workbench's habit): nothing here guesses.
Failed runs are left out of every statistic, and a comparison uses only the replications that
succeeded under every strategy it compares.

Imports core and analysis only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base.errors import ScenarioError
from ..core.blocs import CAMPS
from ..core.outcomes import OUTCOMES, better_sign
from .labels import (
    format_ci,
    format_diff,
    outcome_label,
)
from .results import (
    PAIR_KEYS,
    ok_runs,
    scenario_order,
    sort_rows,
    strategy_order,
)

N_BOOT = 2000


#: Values closer than this count as a tie when deciding which strategy is best.
TIE_TOLERANCE = 1e-12


def check_names(outcomes: pd.DataFrame, names) -> list[str]:
    """The outcome names as a list, each checked to be a column of ``outcomes``."""
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in outcomes.columns]
    if unknown:
        known = [n for n in OUTCOMES if n in outcomes.columns]
        raise ScenarioError(f"unknown outcome {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return names


def summary(outcomes: pd.DataFrame, names) -> pd.DataFrame:
    """Spread of each outcome across replications, per scenario and strategy.

    Args:
        outcomes: the batch's outcomes table (failed runs are left out).
        names: outcome columns to summarise.

    Returns:
        Columns scenario, strategy, outcome, n, mean, median, p5, p95 (a 90% interval of single
        runs, not of the mean) and sd; rows in batch, strategy and ``names`` order.
    """
    names = check_names(outcomes, names)
    ok = ok_runs(outcomes)
    long = ok.melt(id_vars=["scenario", "strategy"], value_vars=names, var_name="outcome").dropna(
        subset=["value"])
    g = long.groupby(["scenario", "strategy", "outcome"])["value"]
    out = pd.DataFrame({
        "n": g.size(), "mean": g.mean(), "median": g.median(),
        "p5": g.quantile(0.05), "p95": g.quantile(0.95), "sd": g.std(ddof=1),
    }).reset_index()
    return sort_rows(out, outcomes, names=names)


def _bootstrap_means(d: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement) of ``d``, from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    n = len(d)
    out = np.empty(n_boot)
    step = max(1, 4_000_000 // max(n, 1))
    for start in range(0, n_boot, step):
        b = min(step, n_boot - start)
        out[start:start + b] = d[rng.integers(0, n, size=(b, n))].mean(axis=1)
    return out


def _better(name: str, lo: float, hi: float) -> str:
    """Where an interval of differences lies: 'yes', 'worse', 'no' or 'n/a'.

    'yes' if it lies wholly on the better side of 0, 'worse' if wholly on the worse side, 'no'
    otherwise; 'n/a' for an outcome without direction or without an interval.
    """
    sign = better_sign(name) if name in OUTCOMES else 0.0
    if sign == 0 or not (np.isfinite(lo) and np.isfinite(hi)):
        return "n/a"
    a, b = sorted((sign * lo, sign * hi))
    if a > 0:
        return "yes"
    if b < 0:
        return "worse"
    return "no"


def _direction(name: str) -> str:
    return OUTCOMES[name].direction if name in OUTCOMES else "info"


def _pairs(ok: pd.DataFrame, strategy: str, reference: str, names: list[str],
           keys: list[str]) -> pd.DataFrame:
    """Runs of ``strategy`` joined to the reference's runs with the same ``keys``."""
    a = ok[ok["strategy"] == strategy].set_index(keys)[names]
    b = ok[ok["strategy"] == reference].set_index(keys)[names]
    for side, frame in ((strategy, a), (reference, b)):
        if frame.index.duplicated().any():
            raise ScenarioError(f"strategy '{side}' has several runs with the same "
                                f"{' / '.join(keys)}: cannot pair them")
    return a.join(b.add_suffix("__ref"), how="inner").sort_index()


def paired_differences(outcomes: pd.DataFrame, names, reference: str, *, n_boot: int = N_BOOT,
                       seed: int = 0, pool_scenarios: bool = False) -> pd.DataFrame:
    """Mean paired difference (strategy − reference) with a 95% percentile bootstrap interval.

    Runs are paired on scenario, sweep point and replication (the same seed); only replications
    that succeeded under both strategies count. The bootstrap resamples the pairs with a fresh
    ``numpy.random.default_rng(seed)`` for every scenario, strategy and outcome, so each row is
    reproducible on its own, whatever else the batch holds.

    Args:
        outcomes: the batch's outcomes table.
        names: outcome columns to compare.
        reference: the strategy every other is compared with.
        n_boot: bootstrap resamples.
        seed: seed of the bootstrap generator.
        pool_scenarios: pool the pairs of all scenarios into one row per strategy and outcome
            (scenario '(all)'), an average over scenarios weighted by their pairs.

    Returns:
        Columns scenario, strategy, reference, outcome, direction, n_pairs, mean_reference,
        mean_strategy, mean_diff, ci_low, ci_high, better ('yes' if the interval excludes 0 on
        the better side, 'worse' on the worse side, 'no' if it includes 0, 'n/a' for an outcome
        without direction or fewer than 2 pairs).

    Raises:
        ScenarioError: the reference or an outcome is not in the table.
    """
    names = check_names(outcomes, names)
    strategies = strategy_order(outcomes["strategy"], reference)
    if reference not in strategies:
        raise ScenarioError(f"unknown reference strategy '{reference}'; known: {', '.join(strategies)}")
    ok = ok_runs(outcomes)
    if pool_scenarios:
        groups = [("(all)", ok)]
    else:
        groups = [(s, ok[ok["scenario"] == s]) for s in scenario_order(outcomes)]
    rows = []
    for scenario, sub in groups:
        ran = outcomes if pool_scenarios else outcomes[outcomes["scenario"] == scenario]
        present = set(ran["strategy"])
        for strategy in strategies[1:]:
            if strategy not in present:
                continue
            joined = _pairs(sub, strategy, reference, names, PAIR_KEYS)
            values = joined[names].to_numpy(dtype=float)
            refs = joined[[f"{name}__ref" for name in names]].to_numpy(dtype=float)
            for j, name in enumerate(names):
                keep = ~(np.isnan(values[:, j]) | np.isnan(refs[:, j]))  # pairs with both values
                mine, theirs = values[keep, j], refs[keep, j]
                d = mine - theirs
                n = len(d)
                lo = hi = np.nan
                if n >= 2:
                    lo, hi = np.percentile(_bootstrap_means(d, n_boot, seed), [2.5, 97.5])
                rows.append({
                    "scenario": scenario, "strategy": strategy, "reference": reference,
                    "outcome": name, "direction": _direction(name), "n_pairs": n,
                    "mean_reference": theirs.mean() if n else np.nan,
                    "mean_strategy": mine.mean() if n else np.nan,
                    "mean_diff": d.mean() if n else np.nan, "ci_low": lo, "ci_high": hi,
                    "better": _better(name, lo, hi),
                })
    cols = ["scenario", "strategy", "reference", "outcome", "direction", "n_pairs", "mean_reference",
            "mean_strategy", "mean_diff", "ci_low", "ci_high", "better"]
    out = pd.DataFrame(rows, columns=cols)
    return out if pool_scenarios else sort_rows(out, outcomes, reference, names)


def primary_sign(primary: str) -> float:
    """+1 or -1: which way the primary outcome is better; an error if it has no direction."""
    sign = better_sign(primary) if primary in OUTCOMES else 0.0
    if sign == 0:
        directed = [n for n in OUTCOMES if better_sign(n) != 0]
        raise ScenarioError(f"outcome '{primary}' has no better direction, so it cannot rank strategies; "
                            f"choose one of: {', '.join(directed)}")
    return sign


def complete_blocks(outcomes: pd.DataFrame, primary: str) -> dict[str, pd.DataFrame]:
    """Per scenario, the primary outcome of every strategy side by side, in complete rows.

    One row per sweep point and replication, kept only where every strategy of that scenario
    has a value.

    Returns:
        Scenario -> frame indexed by (point, replication), one column per strategy (sorted).
    """
    check_names(outcomes, primary)
    ok = ok_runs(outcomes)
    out = {}
    for scenario in scenario_order(outcomes):
        strategies = sorted(outcomes.loc[outcomes["scenario"] == scenario, "strategy"].unique())
        sub = ok[ok["scenario"] == scenario]
        if sub.duplicated(["strategy", "point", "replication"]).any():
            raise ScenarioError(f"scenario '{scenario}': several runs with the same strategy, point and "
                                f"replication: cannot pair them")
        wide = sub.pivot(index=["point", "replication"], columns="strategy", values=primary)
        out[scenario] = wide.reindex(columns=strategies).dropna().sort_index()
    return out


def prob_best(outcomes: pd.DataFrame, primary: str) -> pd.DataFrame:
    """Share of paired replications in which each strategy has the best primary outcome.

    Only replications where every strategy of the scenario succeeded count; strategies that tie
    for best share that replication's credit equally, so the shares of a scenario sum to 1.

    Returns:
        Columns scenario, strategy, n (replications compared), p_best, p_sole_best (the share in
        which it alone was best) and p_all_tied (the share in which every strategy tied: high
        when the outcome moves in steps, as camp shares do, and barely responds).
    """
    sign = primary_sign(primary)
    rows = []
    for scenario, wide in complete_blocks(outcomes, primary).items():
        v = sign * wide.to_numpy(dtype=float)
        n = len(v)
        if n:
            best = v.max(axis=1, keepdims=True)
            top = v >= best - TIE_TOLERANCE * np.maximum(1.0, np.abs(best))
            credit = (top / top.sum(axis=1, keepdims=True)).mean(axis=0)
            sole = (top & (top.sum(axis=1, keepdims=True) == 1)).mean(axis=0)
            all_tied = float(top.all(axis=1).mean())
        else:
            credit = sole = np.full(v.shape[1], np.nan)
            all_tied = np.nan
        rows += [{"scenario": scenario, "strategy": s, "n": n, "p_best": p, "p_sole_best": q,
                  "p_all_tied": all_tied}
                 for s, p, q in zip(wide.columns, credit, sole, strict=True)]
    columns = ["scenario", "strategy", "n", "p_best", "p_sole_best", "p_all_tied"]
    return sort_rows(pd.DataFrame(rows, columns=columns), outcomes)


def _mean_column(scenario: str) -> str:
    return f"mean_{scenario}"


def robustness(outcomes: pd.DataFrame, primary: str) -> pd.DataFrame:
    """How each strategy fares across scenarios: mean per scenario, worst case and maximum regret.

    Means are over the replications every strategy of a scenario completed. The regret of a
    strategy in a scenario is how far its mean falls short of the best strategy's mean there (in
    the outcome's units, direction-aware, never negative); the worst case is its least good
    scenario mean. Strategies rank by maximum regret, then by worst case (Savage's minimax
    regret, with the maximin as tie-break).

    Returns:
        Columns strategy, mean_<scenario> for each scenario, worst_case, worst_scenario,
        max_regret, regret_scenario, rank; rows in rank order.
    """
    sign = primary_sign(primary)
    blocks = complete_blocks(outcomes, primary)
    means = pd.DataFrame({s: w.mean() for s, w in blocks.items()})  # strategies x scenarios
    means = means.reindex(sorted(means.index))
    signed = sign * means
    regret = signed.max(axis=0) - signed
    out = pd.DataFrame(index=means.index)
    for s in means.columns:
        out[_mean_column(s)] = means[s]
    worst = signed.min(axis=1, skipna=True)
    out["worst_case"] = sign * worst
    out["worst_scenario"] = signed.idxmin(axis=1, skipna=True) if len(means.columns) else None
    out["max_regret"] = regret.max(axis=1, skipna=True).clip(lower=0)
    out["regret_scenario"] = regret.idxmax(axis=1, skipna=True) if len(means.columns) else None
    order = pd.DataFrame({"r": out["max_regret"], "w": -worst, "s": out.index}).sort_values(
        ["r", "w", "s"], kind="stable")
    out["rank"] = pd.Series(np.arange(1, len(order) + 1), index=order.index)
    out = out.loc[order.index].rename_axis("strategy").reset_index()
    return out


def _scenario_phrase(k: int, n: int) -> str:
    if n == 1:
        return "best in the scenario" if k else "not best in the scenario"
    return f"best in {k} of {n} scenarios"


def ranking(outcomes: pd.DataFrame, primary: str, reference: str, *, n_boot: int = N_BOOT,
            seed: int = 0, diffs: pd.DataFrame | None = None, rob: pd.DataFrame | None = None,
            best: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ranking a policy team reads: rank, mean per scenario, P(best), max regret, verdict.

    Args:
        outcomes: the batch's outcomes table.
        primary: the outcome that decides (it must have a direction).
        reference: the strategy the verdicts compare with.
        n_boot: bootstrap resamples for the intervals in the verdicts.
        seed: bootstrap seed.
        diffs: ``paired_differences`` of ``primary`` per scenario, if already computed.
        rob: ``robustness(outcomes, primary)``, if already computed.
        best: ``prob_best(outcomes, primary)``, if already computed.

    Returns:
        Columns strategy, rank, mean_<scenario> for each scenario, p_best (averaged over
        scenarios), max_regret, verdict; rows in rank order. A verdict reads e.g. "best in 2 of 2
        scenarios; +1.8 pp West GDP share vs none (95% CI +1.2 to +2.4), better in 2 of 2;
        max regret 0.0 pp".
    """
    sign = primary_sign(primary)
    rob = robustness(outcomes, primary) if rob is None else rob
    pb = (prob_best(outcomes, primary) if best is None else best).groupby("strategy")["p_best"].mean()
    scenarios = [c.removeprefix("mean_") for c in rob.columns if c.startswith("mean_")]
    if diffs is None:
        diffs = paired_differences(outcomes, [primary], reference, n_boot=n_boot, seed=seed)
    diffs = diffs[diffs["outcome"] == primary]
    multi = len(scenarios) > 1
    pooled = (paired_differences(outcomes, [primary], reference, n_boot=n_boot, seed=seed,
                                 pool_scenarios=True) if multi else diffs)
    means = rob[[_mean_column(s) for s in scenarios]]
    best_mean = (sign * means).max(axis=0)
    rows = []
    for i, r in rob.iterrows():
        strategy = r["strategy"]
        signed = sign * means.loc[i]
        n_best = int((signed >= best_mean - TIE_TOLERANCE * np.maximum(1, best_mean.abs())).sum())
        parts = [_scenario_phrase(n_best, len(scenarios))]
        if strategy == reference:
            parts.insert(0, "reference")
        else:
            d = pooled[pooled["strategy"] == strategy]
            if len(d):
                d = d.iloc[0]
                diff, ci = format_ci(primary, d["mean_diff"], d["ci_low"], d["ci_high"])
                text = f"{diff} {outcome_label(primary)} vs {reference}"
                if multi:
                    text += " (mean over scenarios" + (f", 95% CI {ci})" if ci != "–" else ")")
                    per = diffs[diffs["strategy"] == strategy]
                    k_yes = int((per["better"] == "yes").sum())
                    k_worse = int((per["better"] == "worse").sum())
                    text += (f"; better in {k_yes} of {len(per)} scenarios (95% interval clear "
                             f"of zero)")
                    if k_worse:
                        text += f", worse in {k_worse}"
                elif ci != "–":
                    text += f" (95% CI {ci}: {_BETTER_WORDS[d['better']]})"
                parts.append(text)
        parts.append(f"max regret {format_diff(primary, r['max_regret'], signed=False)}"
                     if r["max_regret"] > 0 else "no regret")
        rows.append({"strategy": strategy, "rank": int(r["rank"]), **{c: r[c] for c in means.columns},
                     "p_best": pb.get(strategy, np.nan), "max_regret": r["max_regret"],
                     "verdict": "; ".join(parts)})
    return pd.DataFrame(rows)


_BETTER_WORDS = {"yes": "better", "no": "no clear difference", "worse": "worse", "n/a": "no direction"}


def end_camp_probabilities(states: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per scenario, strategy and state: the probability of ending in each camp.

    Args:
        states: the batch's states table (one row per run and state).
        outcomes: the outcomes table, for each run's scenario, strategy and status.

    Returns:
        Columns scenario, strategy, iso3, n, p_sco, p_nonaligned, p_west, mean_end_alignment.
    """
    cols = ["scenario", "strategy", "iso3", "n", *[f"p_{c}" for c in CAMPS], "mean_end_alignment"]
    if states.empty or "end_camp" not in states:
        return pd.DataFrame(columns=cols)
    runs = ok_runs(outcomes)[["run_id", "scenario", "strategy"]]
    df = states.merge(runs, on="run_id", how="inner")
    keys = ["scenario", "strategy", "iso3"]
    counts = pd.crosstab([df[k] for k in keys], df["end_camp"]).reindex(columns=list(CAMPS), fill_value=0)
    n = counts.sum(axis=1)
    out = counts.div(n, axis=0).add_prefix("p_")
    out.columns.name = None
    out.insert(0, "n", n)
    out["mean_end_alignment"] = df.groupby(keys)["end_alignment"].mean()
    return sort_rows(out.reset_index(), outcomes, extra=("iso3",))[cols]
