"""Comparing Western strategies from a batch: paired statistics, a ranking, and one HTML report.

A batch (``model.batch``) runs every strategy in every scenario with the same replication seeds
(common random numbers), so strategy B and the reference in scenario s, sweep point p and
replication k saw the same random draws: their difference is *paired* and far less noisy than a
difference of two independent means (Law 2015, *Simulation Modeling and Analysis*, ch. 11.2).
Everything here reads tables and returns tables (pandas in, pandas out); only ``write_report``
writes files.

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

Which way is better comes from ``model.outcomes`` (EMA Workbench's habit): nothing here guesses.
Failed runs are left out of every statistic, and a comparison uses only the replications that
succeeded under every strategy it compares.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .errors import ScenarioError
from .outcomes import OUTCOMES, better_sign
from .outputs import CAMPS, FLOAT_FORMAT, write_atomic_dir

#: Columns every outcomes table must have (besides one column per outcome).
RUN_COLUMNS = ("run_id", "scenario", "strategy", "point", "replication", "status")
#: A pair of runs is the same scenario, sweep point and replication under two strategies.
PAIR_KEYS = ["scenario", "point", "replication"]
DESIGNS = ("none", "factorial", "lhs", "morris", "sobol")
N_BOOT = 2000
#: Values closer than this count as a tie when deciding which strategy is best.
TIE_TOLERANCE = 1e-12
#: How many intervals of a swept parameter the response table uses when it has many values.
RESPONSE_BINS = 5

_CAMP_NAMES = {"west": "West", "sco": "SCO", "nonaligned": "non-aligned"}


# --- loading ----------------------------------------------------------------------------------

@dataclass
class Batch:
    """A batch folder read into memory: its tables (all parts, sorted by run) and its manifest.

    ``states`` and ``blocs`` are empty frames when the batch recorded none; the optional, large
    ``trajectories`` table is not read.
    """

    outcomes: pd.DataFrame
    states: pd.DataFrame
    blocs: pd.DataFrame
    manifest: dict
    path: Path = field(default_factory=Path)
    manifest_sha256: str = ""


def _read_parts(folder: Path) -> pd.DataFrame | None:
    """All ``part-*.parquet`` files of a table, concatenated in name order; None if there are none."""
    files = sorted(folder.glob("part-*.parquet"))
    if not files:
        return None
    from .batch import read_part

    frames = []
    for f in files:
        try:
            frames.append(pd.read_parquet(f))
        except Exception:  # pyarrow raises several types for a damaged file: one line naming it
            read_part(f)
            raise
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True)


def load_batch(path: str | Path) -> Batch:
    """Read a batch output folder: manifest, outcomes, states and blocs.

    Args:
        path: the batch folder (holding ``manifest.json`` and ``outcomes/part-*.parquet``).

    Returns:
        The tables sorted by ``run_id`` (states and blocs keep their order within a run).

    Raises:
        ScenarioError: the folder, its manifest or its outcome parts are missing or unreadable,
            or a run appears twice.
    """
    path = Path(path)
    if not path.is_dir():
        raise ScenarioError(f"batch folder not found: {path}")
    mpath = path / "manifest.json"
    if not mpath.is_file():
        raise ScenarioError(f"{path} holds no manifest.json: not a batch folder (run 'blocsim batch' first)")
    from .batch import read_manifest

    raw = mpath.read_bytes()
    manifest = read_manifest(mpath)
    outcomes = _read_parts(path / "outcomes")
    if outcomes is None or outcomes.empty:
        raise ScenarioError(f"no finished runs in {path / 'outcomes'} (no part-*.parquet files); "
                            f"has the batch run?")
    missing = [c for c in RUN_COLUMNS if c not in outcomes.columns]
    if missing:
        raise ScenarioError(f"{path / 'outcomes'}: missing columns {', '.join(missing)}")
    dup = outcomes["run_id"].duplicated()
    if dup.any():
        raise ScenarioError(f"{path / 'outcomes'}: run ids recorded twice: "
                            f"{', '.join(map(str, outcomes.loc[dup, 'run_id'].unique()[:5]))}")
    outcomes = outcomes.sort_values("run_id", kind="stable", ignore_index=True)
    for col in ("scenario", "strategy", "status"):
        outcomes[col] = outcomes[col].astype(str)
    states = _read_parts(path / "states")
    if states is None or "end_camp" not in states.columns:
        states = pd.DataFrame(columns=["run_id", "iso3", "end_alignment", "end_camp"])
    blocs = _read_parts(path / "blocs")
    if blocs is None or "year" not in blocs.columns:
        blocs = pd.DataFrame(columns=["run_id", "year"])
    states = states.sort_values("run_id", kind="stable", ignore_index=True)
    blocs = blocs.sort_values(["run_id", "year"], kind="stable", ignore_index=True)
    return Batch(outcomes, states, blocs, manifest, path, hashlib.sha256(raw).hexdigest())


# --- names, order and formatting ----------------------------------------------------------------

def ok_runs(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished (status 'ok'); failed runs have no outcomes."""
    return outcomes[outcomes["status"] == "ok"]


def scenario_order(outcomes: pd.DataFrame) -> list[str]:
    """Scenarios in the order of their first run (the experiment file's order)."""
    return list(dict.fromkeys(outcomes.sort_values("run_id", kind="stable")["scenario"]))


def strategy_order(strategies, reference: str | None = None) -> list[str]:
    """Strategy names sorted, with the reference (if any) first."""
    names = sorted(set(strategies))
    if reference in names:
        names.remove(reference)
        names.insert(0, reference)
    return names


def _sorted(df: pd.DataFrame, outcomes: pd.DataFrame, reference: str | None = None,
            names: list[str] | None = None, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows in scenario (batch) order, then strategy order, then outcome order, then ``extra``."""
    keys, cats = [], {}
    if "scenario" in df:
        cats["scenario"] = scenario_order(outcomes)
    if "strategy" in df:
        cats["strategy"] = strategy_order(outcomes["strategy"], reference)
    if "outcome" in df and names is not None:
        cats["outcome"] = list(names)
    tmp = df.copy()
    for col, order in cats.items():
        tmp[f"_{col}"] = pd.Categorical(tmp[col], order, ordered=True)
        keys.append(f"_{col}")
    keys += list(extra)
    if keys:
        tmp = tmp.sort_values(keys, kind="stable")
    return tmp.drop(columns=[f"_{c}" for c in cats]).reset_index(drop=True)


def outcome_label(name: str, *, long: bool = False) -> str:
    """A reader's name for an outcome.

    'West GDP share', or with ``long`` an axis label: 'share of world GDP in West-leaning
    states (%)'.
    """
    for prefix, what in (("gdp_share_", "GDP"), ("pop_share_", "population")):
        if name.startswith(prefix):
            camp = name.removeprefix(prefix)
            camp_name = _CAMP_NAMES.get(camp, camp)
            if long:
                lean = f"{camp_name}-leaning" if camp != "nonaligned" else "non-aligned"
                return f"share of world {what} in {lean} states (%)"
            return f"{camp_name} {what} share"
    if name.startswith("states_"):
        camp = name.removeprefix("states_")
        camp_name = _CAMP_NAMES.get(camp, camp)
        lean = f"{camp_name}-leaning" if camp != "nonaligned" else "non-aligned"
        return f"number of {lean} states" if long else f"{lean} states"
    labels = {
        "sco_members": ("SCO full members", "number of SCO full members"),
        "sco_any_status": ("states with SCO status",
                           "states with any SCO status (member, observer, partner)"),
        "mean_alignment": ("mean alignment", "mean alignment of all states (−1 West … +1 SCO)"),
        "gdp_weighted_alignment": ("GDP-weighted alignment",
                                   "GDP-weighted mean alignment (−1 West … +1 SCO)"),
        "swing_mean_alignment": ("swing states' alignment",
                                 "mean alignment of the swing states (−1 West … +1 SCO)"),
    }
    if name in labels:
        return labels[name][1 if long else 0]
    return name.replace("_", " ")


def _unit(name: str) -> tuple[float, str, int]:
    """How to print an outcome: scale, unit of a difference, decimals."""
    if name.startswith(("gdp_share_", "pop_share_")):
        return 100.0, " pp", 1
    if name.startswith("states_") or name.startswith("sco_"):
        return 1.0, " states", 1
    return 1.0, "", 3


def _minus(text: str) -> str:
    return text.replace("-", "−")


def format_value(name: str, x: float) -> str:
    """A level of an outcome as a reader wants it: '60.71%', '11.2', '−0.050'."""
    if x is None or not np.isfinite(x):
        return "–"
    scale, unit, dec = _unit(name)
    if unit == " pp":
        return f"{x * scale:.2f}%"
    if unit == " states":
        return f"{x:.{dec}f}"
    return _minus(f"{x:+.{dec}f}")


def diff_decimals(name: str, *values: float) -> int:
    """Decimals that show the largest of ``values`` (a difference) to two significant digits.

    Never fewer than the outcome's usual decimals.
    """
    scale, _, dec = _unit(name)
    v = np.abs(np.asarray(values, dtype=float) * scale)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return dec
    return int(min(6, max(dec, 1 - np.floor(np.log10(v.max())))))


def format_diff(name: str, x: float, *, signed: bool = True, unit: bool = True,
                decimals: int | None = None) -> str:
    """A difference of an outcome: '+1.8 pp', '−0.4 states', '+0.012'.

    Small differences get more decimals (see ``diff_decimals``) unless ``decimals`` is given.
    Exactly zero has no sign ('0.0 pp'); a tiny non-zero value keeps its sign ('+0.000').
    """
    if x is None or not np.isfinite(x):
        return "–"
    scale, u, _ = _unit(name)
    dec = diff_decimals(name, x) if decimals is None else decimals
    v = x * scale
    text = f"{v:+.{dec}f}" if signed and v != 0 else f"{abs(v):.{dec}f}"
    return _minus(text) + (u if unit else "")


def format_ci(name: str, mean: float, lo: float, hi: float) -> tuple[str, str]:
    """A mean difference and its interval with the same decimals: ('+0.12 pp', '+0.03 to +0.24')."""
    dec = diff_decimals(name, mean, lo, hi)
    ci = (f"{format_diff(name, lo, unit=False, decimals=dec)} to "
          f"{format_diff(name, hi, unit=False, decimals=dec)}") if np.isfinite(lo) else "–"
    return format_diff(name, mean, decimals=dec), ci


def sentence_case(text: str) -> str:
    """The first letter upper-case, the rest untouched ('West GDP share' stays as it is)."""
    return text[:1].upper() + text[1:]


# --- statistics ---------------------------------------------------------------------------------

def _check_names(outcomes: pd.DataFrame, names) -> list[str]:
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
    names = _check_names(outcomes, names)
    ok = ok_runs(outcomes)
    long = ok.melt(id_vars=["scenario", "strategy"], value_vars=names, var_name="outcome").dropna(
        subset=["value"])
    g = long.groupby(["scenario", "strategy", "outcome"])["value"]
    out = pd.DataFrame({
        "n": g.size(), "mean": g.mean(), "median": g.median(),
        "p5": g.quantile(0.05), "p95": g.quantile(0.95), "sd": g.std(ddof=1),
    }).reset_index()
    return _sorted(out, outcomes, names=names)


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
    names = _check_names(outcomes, names)
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
            for name in names:
                both = joined[[name, f"{name}__ref"]].dropna()
                d = (both[name] - both[f"{name}__ref"]).to_numpy(dtype=float)
                n = len(d)
                lo = hi = np.nan
                if n >= 2:
                    lo, hi = np.percentile(_bootstrap_means(d, n_boot, seed), [2.5, 97.5])
                rows.append({
                    "scenario": scenario, "strategy": strategy, "reference": reference,
                    "outcome": name, "direction": _direction(name), "n_pairs": n,
                    "mean_reference": both[f"{name}__ref"].mean() if n else np.nan,
                    "mean_strategy": both[name].mean() if n else np.nan,
                    "mean_diff": d.mean() if n else np.nan, "ci_low": lo, "ci_high": hi,
                    "better": _better(name, lo, hi),
                })
    cols = ["scenario", "strategy", "reference", "outcome", "direction", "n_pairs", "mean_reference",
            "mean_strategy", "mean_diff", "ci_low", "ci_high", "better"]
    out = pd.DataFrame(rows, columns=cols)
    return out if pool_scenarios else _sorted(out, outcomes, reference, names)


def _sign(primary: str) -> float:
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
    _check_names(outcomes, primary)
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
    sign = _sign(primary)
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
    return _sorted(pd.DataFrame(rows, columns=columns), outcomes)


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
    sign = _sign(primary)
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
            seed: int = 0, diffs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ranking a policy team reads: rank, mean per scenario, P(best), max regret, verdict.

    Args:
        outcomes: the batch's outcomes table.
        primary: the outcome that decides (it must have a direction).
        reference: the strategy the verdicts compare with.
        n_boot: bootstrap resamples for the intervals in the verdicts.
        seed: bootstrap seed.
        diffs: ``paired_differences`` of ``primary`` per scenario, if already computed.

    Returns:
        Columns strategy, rank, mean_<scenario> for each scenario, p_best (averaged over
        scenarios), max_regret, verdict; rows in rank order. A verdict reads e.g. "best in 2 of 2
        scenarios; +1.8 pp West GDP share vs none (95% CI +1.2 to +2.4), better in 2 of 2;
        max regret 0.0 pp".
    """
    sign = _sign(primary)
    rob = robustness(outcomes, primary)
    pb = prob_best(outcomes, primary).groupby("strategy")["p_best"].mean()
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
    return _sorted(out.reset_index(), outcomes, extra=("iso3",))[cols]


def state_names() -> dict[str, str]:
    """Names of the built-in world's states by ISO3 code (for labels)."""
    path = Path(__file__).resolve().parent / "data" / "states.csv"
    if not path.is_file():
        return {}
    table = pd.read_csv(path, usecols=["iso3", "name"])
    return dict(zip(table["iso3"], table["name"], strict=True))


# --- sensitivity --------------------------------------------------------------------------------

SENSITIVITY_COLUMNS = ["scenario", "strategy", "outcome", "parameter", "index", "value", "conf", "rank", "n"]


def _swept(manifest: dict, outcomes: pd.DataFrame) -> list[str]:
    params = list(manifest.get("swept_parameters") or [])
    missing = [p for p in params if f"param_{p}" not in outcomes.columns]
    if missing:
        raise ScenarioError(f"the manifest sweeps {', '.join(missing)} but the outcomes table has no "
                            f"param_ column for it")
    return params


def point_means(outcomes: pd.DataFrame, params: list[str], name: str) -> pd.DataFrame:
    """Per scenario, strategy and sweep point: parameter values and the outcome's mean.

    The mean is over the replications that succeeded (NaN if none did); rows in point order.

    Returns:
        Columns scenario, strategy, point, one per parameter (plain names), n, and ``name``.
    """
    pcols = [f"param_{p}" for p in params]
    keys = ["scenario", "strategy", "point"]
    x = outcomes.groupby(keys)[pcols].first()
    ok = ok_runs(outcomes)
    g = ok.groupby(keys)[name]
    out = x.join(pd.DataFrame({"n": g.count(), name: g.mean()}), how="left")
    out["n"] = out["n"].fillna(0).astype(int)
    out = out.rename(columns=dict(zip(pcols, params, strict=True))).reset_index()
    return _sorted(out, outcomes, extra=("point",))


def _morris(problem: dict, x: np.ndarray, y: np.ndarray, levels: int, seed: int) -> tuple[list, int]:
    from SALib.analyze import morris

    d = problem["num_vars"]
    size = d + 1
    if len(y) % size:
        raise ScenarioError(f"a Morris design needs whole trajectories of {size} points; "
                            f"found {len(y)} points")
    keep = ~np.isnan(y.reshape(-1, size)).any(axis=1)
    if not keep.any():
        return [], 0
    x = x.reshape(-1, size, d)[keep].reshape(-1, d)
    y = y.reshape(-1, size)[keep].ravel()
    r = morris.analyze(problem, x, y, num_levels=levels, seed=seed)
    rows = []
    for i, p in enumerate(problem["names"]):
        rows.append((p, "mu_star", float(r["mu_star"][i]), float(r["mu_star_conf"][i])))
        rows.append((p, "sigma", float(r["sigma"][i]), np.nan))
        rows.append((p, "mu", float(r["mu"][i]), np.nan))
    return rows, int(keep.sum())


def _sobol(problem: dict, y: np.ndarray, seed: int) -> tuple[list, int]:
    from SALib.analyze import sobol

    size = problem["num_vars"] + 2
    if len(y) % size:
        raise ScenarioError(f"a Sobol design (first order) needs blocks of {size} points; "
                            f"found {len(y)} points")
    keep = ~np.isnan(y.reshape(-1, size)).any(axis=1)
    if keep.sum() < 2:
        return [], int(keep.sum())
    y = y.reshape(-1, size)[keep].ravel()
    r = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
    rows = []
    for i, p in enumerate(problem["names"]):
        rows.append((p, "ST", float(r["ST"][i]), float(r["ST_conf"][i])))
        rows.append((p, "S1", float(r["S1"][i]), float(r["S1_conf"][i])))
    return rows, int(keep.sum())


def _regression(params: list[str], x: np.ndarray, y: np.ndarray) -> tuple[list, int]:
    """Standardized regression coefficients (95% half-widths), Spearman correlations, R²."""
    from scipy.stats import spearmanr

    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    n, d = x.shape
    rows = []
    if n < 3:
        return rows, n
    sx, sy = x.std(axis=0), y.std()
    varied = sx > 0
    z = np.zeros_like(x)
    z[:, varied] = (x[:, varied] - x[:, varied].mean(axis=0)) / sx[varied]
    if sy > 0:
        zy = (y - y.mean()) / sy
        zv = z[:, varied]
        coef_v, *_ = np.linalg.lstsq(zv, zy, rcond=None)
        resid = zy - zv @ coef_v
        dof = n - zv.shape[1] - 1
        r2 = 1 - float(resid @ resid) / float(zy @ zy)
        if dof > 0:
            cov = float(resid @ resid) / dof * np.linalg.pinv(zv.T @ zv)
            half_v = 1.96 * np.sqrt(np.clip(np.diag(cov), 0, None))
        else:
            half_v = np.full(zv.shape[1], np.nan)
        coef = np.full(d, np.nan)
        half = np.full(d, np.nan)
        coef[varied], half[varied] = coef_v, half_v
    else:
        coef, half, r2 = np.where(varied, 0.0, np.nan), np.zeros(d), np.nan
    for i, p in enumerate(params):
        rho = float(spearmanr(x[:, i], y).statistic) if varied[i] and sy > 0 else np.nan
        rows.append((p, "src", float(coef[i]), float(half[i])))
        rows.append((p, "spearman", rho, np.nan))
    rows.append(("(linear fit)", "r2", float(r2), np.nan))
    return rows, n


def sensitivity(outcomes: pd.DataFrame, manifest: dict, outcome: str, *, seed: int = 0) -> pd.DataFrame:
    """Which swept parameters move ``outcome``, per scenario and strategy.

    The outcome is first averaged over replications at each sweep point. A Morris design gives
    mu* (mean absolute elementary effect, in outcome units per full parameter range), sigma and
    mu (SALib ``morris.analyze``; the sample matrix is rebuilt from the ``param_`` columns in
    point order); a Sobol' design gives first-order S1 and total ST indices (SALib
    ``sobol.analyze``, no second order); a factorial or Latin hypercube design gives
    standardized regression coefficients ('src', with a 95% half-width), Spearman correlations
    and the R² of the linear fit (see ``response_table`` for the mean outcome by parameter
    value). Trajectories (Morris) or blocks (Sobol') with a point whose runs all failed are left
    out, as the method needs them whole.

    Args:
        outcomes: the batch's outcomes table.
        manifest: the batch manifest (design, swept_parameters, sweep_ranges, morris_levels).
        outcome: the outcome to explain.
        seed: seed of SALib's resampling for confidence intervals.

    Returns:
        Columns scenario, strategy, outcome, parameter, index, value, conf (95% half-width, NaN
        where the method gives none), rank (1 = most influential, by |value| of mu_star, ST or
        src), n (trajectories, blocks or points used); empty without a sweep.
    """
    design = manifest.get("design") or "none"
    if design not in DESIGNS:
        raise ScenarioError(f"unknown design '{design}' in the manifest; known: {', '.join(DESIGNS)}")
    params = _swept(manifest, outcomes) if design != "none" else []
    if not params:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    _check_names(outcomes, outcome)
    ranges = manifest.get("sweep_ranges") or {}
    pm = point_means(outcomes, params, outcome)
    rows = []
    for (scenario, strategy), g in pm.groupby(["scenario", "strategy"], sort=False):
        x = g[params].to_numpy(dtype=float)
        y = g[outcome].to_numpy(dtype=float)
        bounds = [list(map(float, ranges.get(p, [np.nanmin(x[:, i]), np.nanmax(x[:, i])])))
                  for i, p in enumerate(params)]
        problem = {"num_vars": len(params), "names": list(params), "bounds": bounds}
        if design == "morris":
            found, n = _morris(problem, x, y, int(manifest.get("morris_levels") or 4), seed)
            main = "mu_star"
        elif design == "sobol":
            found, n = _sobol(problem, y, seed)
            main = "ST"
        else:
            found, n = _regression(params, x, y)
            main = "src"
        for p, index, value, conf in found:
            rows.append({"scenario": scenario, "strategy": strategy, "outcome": outcome, "parameter": p,
                         "index": index, "value": value, "conf": conf, "n": n, "_main": index == main})
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    out["rank"] = np.nan
    main = out[out["_main"]]
    out.loc[main.index, "rank"] = main.assign(a=main["value"].abs()).groupby(
        ["scenario", "strategy"], sort=False)["a"].rank(ascending=False, method="min")
    return out[SENSITIVITY_COLUMNS]


def response_table(outcomes: pd.DataFrame, params: list[str], name: str, *,
                   bins: int = RESPONSE_BINS) -> pd.DataFrame:
    """Mean outcome by value of each swept parameter (or by interval, when it takes many values).

    A parameter with at most ``2 * bins`` distinct values is grouped by value; otherwise its
    sweep points are cut into ``bins`` intervals holding equal numbers of points.

    Returns:
        Columns scenario, strategy, parameter, bin (a label), x (mean parameter value in the
        group), n (runs), mean, p5, p95 of ``name`` over the successful runs.
    """
    _check_names(outcomes, name)
    ok = ok_runs(outcomes).dropna(subset=[name])
    rows = []
    for p in params:
        col = f"param_{p}"
        values = ok[col]
        if values.nunique() <= 2 * bins:
            group = values
            label = values.map(lambda v: f"{v:.4g}")
        else:
            group = pd.qcut(values, bins, duplicates="drop")
            label = group.map(lambda iv: f"{iv.left:.3g}–{iv.right:.3g}").astype(str)
        df = pd.DataFrame({"scenario": ok["scenario"], "strategy": ok["strategy"], "bin": label,
                           "x": values, "y": ok[name]})
        g = df.groupby(["scenario", "strategy", "bin"], sort=False)
        t = pd.DataFrame({"x": g["x"].mean(), "n": g["y"].size(), "mean": g["y"].mean(),
                          "p5": g["y"].quantile(0.05), "p95": g["y"].quantile(0.95)}).reset_index()
        t.insert(2, "parameter", p)
        rows.append(_sorted(t, outcomes, extra=("x",)))
    cols = ["scenario", "strategy", "parameter", "bin", "x", "n", "mean", "p5", "p95"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


# --- tables as text -----------------------------------------------------------------------------

def _cell(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and not np.isfinite(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, floats to 4 significant digits."""
    cols = [str(c) for c in df.columns]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    body = [[_cell(v).replace("|", "\\|") for v in row] for row in df.itertuples(index=False)]
    head = "| " + " | ".join(c.replace("|", "\\|") for c in cols) + " |"
    rule = "| " + " | ".join("---:" if num else "---" for num in numeric) + " |"
    lines = [head, rule] + ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def to_csv(df: pd.DataFrame) -> str:
    """CSV text with the package's fixed float format, so the same table gives the same bytes."""
    return df.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def _pct(x: float) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.0%}"


def display_ranking(rank: pd.DataFrame, primary: str) -> pd.DataFrame:
    """The ranking with numbers written for readers (percentages, units)."""
    out = pd.DataFrame({"rank": rank["rank"], "strategy": rank["strategy"]})
    for c in rank.columns:
        if c.startswith("mean_"):
            out[f"mean {c.removeprefix('mean_')}"] = rank[c].map(lambda v: format_value(primary, v))
    out["P(best)"] = rank["p_best"].map(_pct)
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
    cells = pb.assign(text=[f"{_pct(p)} (alone {_pct(q)})"
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


# --- the report ---------------------------------------------------------------------------------

def _resolve(batch: Batch, reference: str | None, primary: str | None) -> tuple[str, str, list[str]]:
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
    _sign(primary)
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
    reference, primary, names = _resolve(batch, reference, primary)
    o = batch.outcomes
    diffs = paired_differences(o, names, reference, n_boot=n_boot, seed=seed)
    params = _swept(batch.manifest, o) if (batch.manifest.get("design") or "none") != "none" else []
    return Tables(
        reference=reference, primary=primary, names=names,
        ranking=ranking(o, primary, reference, n_boot=n_boot, seed=seed, diffs=diffs),
        paired_differences=diffs, summary=_sorted(summary(o, names), o, reference, names),
        prob_best=prob_best(o, primary),
        robustness=robustness(o, primary), end_camps=end_camp_probabilities(batch.states, o),
        sensitivity=sensitivity(o, batch.manifest, primary, seed=seed),
        response=response_table(o, params, primary) if params else pd.DataFrame(),
    )


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _figures(batch: Batch, t: Tables) -> list[tuple[str, str, object]]:
    """(file name, caption, figure) for every plot of the report."""
    from . import compare_plots as cp

    o, ref, primary = batch.outcomes, t.reference, t.primary
    figs: list[tuple[str, str, object]] = []
    n_strat = o["strategy"].nunique()
    blocs_ok = not batch.blocs.empty
    measures = list(dict.fromkeys(m for m in (primary, "gdp_share_west", "gdp_share_sco")
                                  if blocs_ok and m in batch.blocs.columns))
    for m in measures:
        figs.append((f"fan_{m}.png",
                     f"{sentence_case(outcome_label(m, long=True))} over time under each strategy: the line "
                     f"is the median run, the bands hold the middle 50% and 90% of runs.",
                     cp.plot_fan_grid(batch.blocs, o, m, reference=ref)))
    if blocs_ok and n_strat > 1 and primary in batch.blocs.columns:
        figs.append((f"fan_difference_{primary}.png",
                     f"Paired difference to '{ref}' over time ({outcome_label(primary)}): each run minus the "
                     f"'{ref}' run with the same seed; the line is the median, the bands the middle 50% "
                     f"and 90% of pairs. Above zero: more than under '{ref}'.",
                     cp.plot_fan_grid(batch.blocs, o, primary, reference=ref, relative=True)))
    figs.append((f"distribution_{primary}.png",
                 f"{sentence_case(outcome_label(primary, long=True))} at the horizon: one dot per run, "
                 f"boxes span the middle half of the runs, the line in the box is the median.",
                 cp.plot_outcome_distributions(o, primary, reference=ref)))
    if n_strat > 1:
        figs.append((f"paired_differences_{primary}.png",
                     f"Mean paired difference to '{ref}' with 95% bootstrap intervals. An interval clear "
                     f"of zero on the better side is a difference the replications support.",
                     cp.plot_paired_differences(t.paired_differences, primary)))
        directed = [n for n in t.names if n != primary and n in OUTCOMES and better_sign(n) != 0]
        if directed:
            figs.append(("paired_differences_other.png",
                         "The other outcomes: mean paired differences to "
                         f"'{ref}' with 95% bootstrap intervals, one panel per outcome.",
                         cp.plot_paired_differences_grid(t.paired_differences, directed)))
    if not t.end_camps.empty and n_strat > 1:
        for s in scenario_order(o):
            for camp, label in (("west", "West-leaning"), ("sco", "SCO-leaning")):
                figs.append((f"end_{camp}_{_safe(s)}.png",
                             f"Scenario '{s}': probability that a state ends in the {label} camp, for "
                             f"the states whose probability differs most between strategies.",
                             cp.plot_camp_heatmap(t.end_camps, camp=camp, scenario=s, reference=ref,
                                                  names=state_names())))
    if not t.sensitivity.empty:
        figs.append(("sensitivity.png",
                     "How much each swept parameter moves the primary outcome (see the sensitivity table).",
                     cp.plot_sensitivity(t.sensitivity, reference=ref)))
        params = list(batch.manifest.get("swept_parameters") or [])
        figs.append((f"response_{primary}.png",
                     f"{sentence_case(outcome_label(primary, long=True))} against each swept parameter: "
                     "mean over the replications at each sweep point.",
                     cp.plot_response_grid(o, params, primary, reference=ref)))
    return figs


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
            text = html.escape(_cell(v))
            num = num or bool(re.fullmatch(r"[−+\-]?[\d.,]+ ?(%|pp|states)?", _cell(v)))
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
    return len(failed), _sorted(table, o)


def _tie_warning(pb: pd.DataFrame, primary: str) -> list[str]:
    """A warning paragraph when most replications tie on the primary outcome."""
    tied = pb.groupby("scenario", sort=False)["p_all_tied"].first().dropna()
    if tied.empty or tied.max() < 0.5:
        return []
    where = ", ".join(f"{_pct(v)} of the replications in '{html.escape(str(s))}'"
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
    """The command that writes this report again."""
    cmd = f"blocsim compare {shlex.quote(str(batch.path))}"
    if t.reference != batch.manifest.get("reference"):
        cmd += f" --reference {shlex.quote(t.reference)}"
    if t.primary != batch.manifest.get("primary"):
        cmd += f" --primary {shlex.quote(t.primary)}"
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
                 tables: dict[str, pd.DataFrame]) -> str:
    ref, primary = t.reference, t.primary
    n_failed, fail_table = _failures(batch.outcomes)
    title = f"Comparing Western strategies: {batch.manifest.get('experiment', batch.path.name)}"
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             "<h2>Question</h2>", f'<p class="lead">{html.escape(_question(batch, t))}</p>',
             "<h2>Design</h2>", _dl(_design_lines(batch, t))]
    if "ranking" in tables:
        parts += _comparison_sections(t, tables, ref, primary)
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
        if name.startswith(("sensitivity", "response")):
            continue
        parts.append(_figure(name, caption, png))
    if "sensitivity" in tables:
        parts += ["<h2>Sensitivity to the swept parameters</h2>", _sensitivity_note(batch)]
        for name, caption, png in plots:
            if name.startswith(("sensitivity", "response")):
                parts.append(_figure(name, caption, png))
        parts.append(_html_table(tables["sensitivity"]))
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
                 primary: str | None = None, n_boot: int = N_BOOT, seed: int = 0) -> Path:
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

    Returns:
        The path of ``report.html``.
    """
    from .compare_plots import png_bytes  # Figure objects only: no pyplot, no backend to choose

    batch = load_batch(batch_dir)
    t = compare_tables(batch, reference, primary, n_boot=n_boot, seed=seed)
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
    if batch.outcomes["strategy"].nunique() < 2:  # a sweep of one strategy: nothing to rank
        for key in ("ranking", "paired_differences", "prob_best", "robustness"):
            display.pop(key)
            raw.pop(key)
    if not t.sensitivity.empty:
        display["sensitivity"] = display_sensitivity(t.sensitivity)
        raw["sensitivity"] = t.sensitivity
        raw["response"] = t.response
        display["response"] = t.response
    plots = [(name, caption, png_bytes(fig)) for name, caption, fig in _figures(batch, t)]

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
        (tmp / "report.html").write_text(_render_html(batch, t, plots, display), encoding="utf-8",
                                         newline="")

    # Built under a temporary name and renamed into place: a report killed half-way leaves no
    # half report/ behind (and the batch's lock holder removes the temporary). A folder of the
    # user's is never written into; the default report/ inside a batch is also replaced when it
    # holds only a report's files (one left half-written by an older blocsim).
    owned = _only_report_files if out_dir is None else None
    with _batch_locked(Path(batch_dir) if out_dir is None else None):
        write_atomic_dir(out, fill, marker="report.html", owned=owned)
    return out / "report.html"


REPORT_TABLES = ("ranking", "paired_differences", "summary", "prob_best", "robustness", "sensitivity",
                 "response", "end_camps")


def _only_report_files(folder: Path) -> bool:
    """True if ``folder`` holds nothing but files a report writes (tables, plots/*.png)."""
    names = {f"{n}.{ext}" for n in REPORT_TABLES for ext in ("csv", "md")} | {"report.html"}
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if p.is_symlink():
            return False
        if p.is_dir():
            if rel != Path("plots"):
                return False
        elif not (str(rel) in names or (rel.parent == Path("plots") and p.suffix == ".png")):
            return False
    return True


def _batch_locked(batch_dir: Path | None):
    """The batch folder's lock while its default report is written (none for another --out)."""
    import contextlib

    from .batch import batch_lock
    return batch_lock(batch_dir) if batch_dir is not None else contextlib.nullcontext()


# --- command line -------------------------------------------------------------------------------

def run_compare_command(args: argparse.Namespace) -> int:
    """``blocsim compare``: write the report, print the ranking (Markdown) and the report's path.

    Raises:
        ScenarioError: the folder is not a finished batch, or the reference or primary outcome is
            not in it (the message lists the known names).
    """
    path = write_report(args.batch_dir, args.out, reference=args.reference, primary=args.primary)
    if not getattr(args, "quiet", False):
        for table in ("ranking.md", "sensitivity.md"):
            if (path.parent / table).exists():
                print((path.parent / table).read_text(encoding="utf-8"))
        print(f"Report: {path}")
    return 0
