"""A yearly hazard of an SCO status rise, fitted on 2002-2014: the model's ``hazard`` rule.

Every *eligible* state-year is a trial: the state's status the year before is known and below
member, its subregion held an SCO status that year or is China's or Russia's (``World.sco_region``
of that year's world) and it was neither a NATO nor an EU member (the model's eligibility,
docs/model.md 4.11). The outcome is a rise of its rung in year t; the covariates are read at
t - 1 and are ones the model carries during a run (so the fitted rule can be evaluated inside
it): ``alignment`` (stable scale), ``e_sco`` (trade share with China + Russia, normalised as in
the world), ``s_sco`` (the security index), ``governance`` (the regime index), ``rung`` (0 none,
1 dialogue partner, 2 observer) and ``brics``. The Russian + Chinese arms-import share is fitted
too, for description only: the model has no arms share of its own.

Eight rises are too few for a regression: each candidate is a Firth-penalised logistic
regression (Jeffreys prior; finite estimates whatever the separation), with Wald standard
errors from the penalised information. **The rule, written before any fit was looked at**:
candidates are the intercept alone and the intercept with each one covariate; the winner has
the best leave-one-year-out log score on 2002-2014 (each year's trials predicted from a fit on
the other years); a covariate must beat the intercept alone to be kept. 2015-2024 are read only
after the choice, to report the chosen hazard's expected against observed rises and its AUC.

**The model's two rules on the hindcast** (``--harness``): the harness's recipe
(``model.history.simulate.model_forecast``: 30 replications, root seed 2014, the stable scale,
both modes) with ``membership_rule`` threshold and hazard, from the validation origins
(2005-2013, targets up to 2014) and then the test origins (2014-2023). **The rule, written
before any harness score was run**: per (origin, horizon, state) cell with known statuses, the
forecast probability that the status at the horizon differs from the origin's is
``(k + 1/2) / (R + 1)`` (k of the R runs changed it); the Bernoulli log score of that against
what happened, averaged over the validation cells of both modes, chooses the default (the
higher wins; the threshold rule, the incumbent, stays on a tie within 0.001), provided the
winner's spurious changes stay within the issue's bound (at most the observed changes plus one,
per origin and horizon on average). Spurious + missed counts are reported beside it, not used
to choose: they are the 0/1 loss of the runs' changes, which a rule that never moves wins
whenever no single state's chance of a change exceeds one half.

    python tools/estimate_sco_rule.py            # prints the fit, writes model/data/sco_hazard.csv
    python tools/estimate_sco_rule.py --harness  # and both rules on the hindcast's origins (~2 min)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_FIT, LAST_FIT = 2002, 2014  # 2001, the founding, is not a decision of the kind modelled
FIRST_TEST, LAST_TEST = 2015, 2024
COVARIATES = ("alignment", "e_sco", "s_sco", "governance", "rung", "brics")
DESCRIPTIVE = ("arms_sco",)  # fitted and shown, never a candidate: the model has no arms share
COLUMNS = ["model", "term", "estimate", "se", "ci_low", "ci_high", "loyo_log_score", "chosen",
           "events", "trials", "years"]


def trials(first: int, last: int) -> pd.DataFrame:
    """Eligible state-years of ``first..last`` with the rise and the covariates of the year before."""
    from model.history.data import load_history

    h = load_history()
    years = np.arange(first - 1, last + 1)
    st = h.status(years).astype(int)
    sub = h.panel.drop_duplicates("iso3").set_index("iso3")["subregion"].reindex(h.iso3)
    sub = sub.to_numpy(dtype=str)
    founders = np.isin(h.iso3, ("CHN", "RUS"))
    m = {c: h.matrix(c, years) for c in ("alignment", "trade_sco", "trade_west", "sec_sco",
                                        "regime", "brics", "nato", "eu")}
    arms = np.nan_to_num(h.driver("arms_share_rus", years)) + np.nan_to_num(
        h.driver("arms_share_chn", years))
    rows = []
    for k in range(1, len(years)):
        prev = st[k - 1]
        anchors = (prev > 0) | founders
        region = np.isin(sub, np.unique(sub[anchors]))
        ok = ((prev >= 0) & (prev < 3) & (st[k] >= 0) & region & (m["nato"][k - 1] == 0)
              & (m["eu"][k - 1] == 0))
        total = m["trade_sco"][k - 1] + m["trade_west"][k - 1]
        norm = np.where(total > 1, 1 / np.maximum(total, 1e-12), 1.0)
        for i in np.flatnonzero(ok):
            rows.append({"year": int(years[k]), "iso3": h.iso3[i], "rise": int(st[k, i] > prev[i]),
                         "alignment": m["alignment"][k - 1, i],
                         "e_sco": m["trade_sco"][k - 1, i] * norm[i],
                         "s_sco": m["sec_sco"][k - 1, i], "governance": m["regime"][k - 1, i],
                         "rung": float(prev[i]), "brics": m["brics"][k - 1, i],
                         "arms_sco": arms[k - 1, i]})
    return pd.DataFrame(rows)


def firth_logit(X: np.ndarray, y: np.ndarray, iters: int = 100, tol: float = 1e-10
                ) -> tuple[np.ndarray, np.ndarray]:
    """Firth-penalised logistic regression: (estimates, covariance from the penalised information).

    Newton steps on the modified score ``X'(y - p + h (1/2 - p))`` (Firth 1993), ``h`` the
    leverages of the weighted design; halved while the penalised likelihood does not rise.
    """
    def penalised(b):
        p = 1 / (1 + np.exp(-(X @ b)))
        info = X.T @ (X * (p * (1 - p))[:, None])
        ll = np.sum(y * np.log(p) + (1 - y) * np.log1p(-p))
        return ll + 0.5 * np.linalg.slogdet(info)[1], p, info

    b = np.zeros(X.shape[1])
    start = (y.sum() + 0.5) / (len(y) + 1)  # the intercept's Firth estimate when alone
    b[0] = np.log(start / (1 - start))
    val, p, info = penalised(b)
    for _ in range(iters):
        cov = np.linalg.inv(info)
        w = p * (1 - p)
        h = np.einsum("ij,jk,ik->i", X, cov, X) * w
        step = cov @ (X.T @ (y - p + h * (0.5 - p)))
        for _ in range(30):
            new_val, new_p, new_info = penalised(b + step)
            if new_val >= val - 1e-12:
                break
            step /= 2
        b = b + step
        val, p, info = new_val, new_p, new_info
        if np.max(np.abs(step)) < tol:
            break
    return b, np.linalg.inv(info)


def design(frame: pd.DataFrame, term: str | None) -> np.ndarray:
    """The intercept and, if given, one covariate."""
    cols = [np.ones(len(frame))] + ([frame[term].to_numpy(dtype=float)] if term else [])
    return np.column_stack(cols)


def predict(b: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Yearly probability of a rise."""
    return 1 / (1 + np.exp(-(X @ b)))


def loyo_log_score(frame: pd.DataFrame, term: str | None) -> float:
    """Mean log score of each year's trials predicted from a fit on the other years."""
    total = 0.0
    y = frame["rise"].to_numpy(dtype=float)
    X = design(frame, term)
    years = frame["year"].to_numpy()
    for t in np.unique(years):
        out = years == t
        b, _ = firth_logit(X[~out], y[~out])
        p = predict(b, X[out])
        total += np.sum(y[out] * np.log(p) + (1 - y[out]) * np.log1p(-p))
    return total / len(frame)


def auc(score: np.ndarray, y: np.ndarray) -> float:
    """Mann-Whitney AUC of ``score`` for ``y == 1`` against the rest (ties count half)."""
    pos, neg = score[y == 1], score[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def fit_all(fit: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Every candidate's estimates and leave-one-year-out log score; the name of the chosen one."""
    y = fit["rise"].to_numpy(dtype=float)
    rows, scores = [], {}
    for term in (None, *COVARIATES, *DESCRIPTIVE):
        name = term or "base_rate"
        b, cov = firth_logit(design(fit, term), y)
        score = loyo_log_score(fit, term)
        if term not in DESCRIPTIVE:
            scores[name] = score
        se = np.sqrt(np.diag(cov))
        for j, t in enumerate(["intercept"] + ([term] if term else [])):
            rows.append({"model": name, "term": t, "estimate": b[j], "se": se[j],
                         "ci_low": b[j] - 1.96 * se[j], "ci_high": b[j] + 1.96 * se[j],
                         "loyo_log_score": score, "events": int(y.sum()), "trials": len(y),
                         "years": f"{FIRST_FIT}-{LAST_FIT}"})
    best = max(scores, key=lambda k: (scores[k], k == "base_rate"))
    if scores[best] <= scores["base_rate"]:
        best = "base_rate"
    table = pd.DataFrame(rows)
    table["chosen"] = (table["model"] == best).astype(int)
    return table[COLUMNS], best


def test_report(table: pd.DataFrame, best: str, test: pd.DataFrame) -> list[str]:
    """Expected against observed rises in 2015-2024 and the AUC, one-step (observed covariates)."""
    lines = ["| model | expected rises 2015-2024 | observed | AUC 2015-2024 |", "| --- | --- | --- | --- |"]
    for name, part in table.groupby("model", sort=False):
        term = None if name == "base_rate" else name
        b = part["estimate"].to_numpy()
        p = predict(b, design(test, term))
        y = test["rise"].to_numpy()
        mark = " (chosen)" if name == best else ""
        lines.append(f"| {name}{mark} | {p.sum():.1f} | {int(y.sum())} | {auc(p, y):.2f} |")
    return lines


RULES = ("threshold", "hazard")


def rule_runs(history, origins, last_target: int, split: str, runs: int = 30,
              seed: int = 2014) -> list[dict]:
    """Both rules from every origin in both modes: the runs' statuses and what happened."""
    from model.history.simulate import model_forecast

    out = []
    years = np.arange(2000, history.last_year() + 1)
    status = history.status(years)
    for origin in origins:
        horizon = min(10, last_target - origin)
        for mode in ("projection", "conditional"):
            known = history.upto(origin) if mode == "projection" else history.blind_after(origin)
            for rule in RULES:
                f = model_forecast(known, "alignment", origin, horizon, runs=runs, seed=seed,
                                   conditional=mode == "conditional",
                                   parameters={"membership_rule": rule})
                out.append({"split": split, "origin": origin, "mode": mode, "rule": rule,
                            "runs": f.status, "start": status[origin - 2000],
                            "observed": status[origin - 2000 + 1:origin - 2000 + horizon + 1]})
    return out


def rule_scores(cases: list[dict]) -> pd.DataFrame:
    """Per split, mode and rule: log score, spurious and missed per origin-horizon, rises."""
    rows = []
    for c in cases:
        runs, start, obs = c["runs"], c["start"], c["observed"]  # (R, H, n), (n,), (H, n)
        R = runs.shape[0]
        known = (obs >= 0) & (start >= 0)[None]
        moved = (obs != start[None]) & known
        k = (runs != start[None, None]).sum(axis=0)
        prob = (k + 0.5) / (R + 1)
        ll = np.where(moved, np.log(prob), np.log1p(-prob))[known]
        spurious = ((runs != start[None, None]) & ~moved[None] & known[None]).sum(axis=2).mean(0)
        missed = ((runs != obs[None]) & moved[None]).sum(axis=2).mean(axis=0)
        rose = runs[:, -1] > start[None]
        rows.append({"split": c["split"], "mode": c["mode"], "rule": c["rule"],
                     "origin": c["origin"], "log_score_sum": ll.sum(), "cells": ll.size,
                     "spurious": spurious.mean(), "missed": missed.mean(),
                     "observed_changes": moved.sum(axis=1).mean(),
                     "spurious_last": spurious[-1], "missed_last": missed[-1],
                     "observed_last": moved[-1].sum(), "rises_per_run_last": rose.sum(axis=1).mean(),
                     "observed_rises_last": int(((obs[-1] > start) & known[-1]).sum())})
    per = pd.DataFrame(rows)
    g = per.groupby(["split", "mode", "rule"], sort=False)
    table = g[["spurious", "missed", "observed_changes"]].mean()
    table["log_score"] = g["log_score_sum"].sum() / g["cells"].sum()
    return table.reset_index(), per


def hindcast_2014(cases: list[dict], iso3: np.ndarray, eligible: np.ndarray) -> list[str]:
    """From 2014 to 2024: rises per run against observed, which states, hits, AUC over states.

    The AUC ranks states by the share of runs that raised them, over all states with known
    statuses and over those ``eligible`` in the 2014 world (the rule's own discrimination).
    """
    lines = ["| mode | rule | rises per run | observed rises | spurious per run | missed per run "
             "| observed risers reached (share of runs) | states most often raised | AUC (all; "
             "eligible) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in cases:
        if c["origin"] != 2014:
            continue
        runs, start, obs = c["runs"][:, -1], c["start"], c["observed"][-1]
        known = (obs >= 0) & (start >= 0)
        rose_obs = (obs > start) & known
        rose = runs > start[None]
        share = rose.mean(axis=0)
        reached = (runs[:, rose_obs] >= obs[rose_obs][None]).mean(axis=0)
        moved = (obs != start) & known
        spurious = ((runs != start[None]) & ~moved[None] & known[None]).sum(axis=1).mean()
        missed = ((runs != obs[None]) & moved[None]).sum(axis=1).mean()
        top = np.argsort(-share, kind="stable")[:6]
        shown = ", ".join(f"{iso3[i]} {share[i]:.2f}" for i in top if share[i] > 0) or "none"
        hit = ", ".join(f"{iso3[i]} {r:.2f}" for i, r in zip(np.flatnonzero(rose_obs), reached,
                                                             strict=True) if r > 0) or "none"
        lines.append(f"| {c['mode']} | {c['rule']} | {rose.sum(axis=1).mean():.2f} | "
                     f"{int(rose_obs.sum())} | {spurious:.2f} | {missed:.2f} | {hit} | {shown} | "
                     f"{auc(share[known], rose_obs[known].astype(int)):.2f}; "
                     f"{auc(share[known & eligible], rose_obs[known & eligible].astype(int)):.2f} |")
    return lines


def harness_report() -> list[str]:
    """Both rules on the validation origins (the choice) and then on the test origins."""
    from model.history.data import load_history

    h = load_history()
    val = rule_runs(h.upto(LAST_FIT), range(2005, 2014), LAST_FIT, "validation")
    table, _ = rule_scores(val)
    score = table.groupby("rule")["log_score"].mean()
    spur_ok = table.groupby("rule").apply(
        lambda t: bool((t["spurious"] <= t["observed_changes"] + 1).all()), include_groups=False)
    chosen = "hazard" if (score["hazard"] > score["threshold"] + 0.001 and spur_ok["hazard"]) \
        else "threshold"
    lines = ["validation origins 2005-2013 (targets <= 2014): the choice", "",
             "| mode | rule | log score (higher is better) | spurious per origin-horizon | "
             "missed | observed changes |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r.mode} | {r.rule} | {r.log_score:.4f} | {r.spurious:.2f} | {r.missed:.2f} "
              f"| {r.observed_changes:.2f} |" for r in table.itertuples()]
    lines += ["", f"mean log score: threshold {score['threshold']:.4f}, hazard "
              f"{score['hazard']:.4f}; chosen: {chosen}", ""]
    test = rule_runs(h, range(2014, 2024), h.last_year(), "test")
    table, _ = rule_scores(test)
    lines += ["test origins 2014-2023 (targets 2015-2024): reported, never used to choose", "",
              "| mode | rule | log score | spurious per origin-horizon | missed | observed "
              "changes |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r.mode} | {r.rule} | {r.log_score:.4f} | {r.spurious:.2f} | {r.missed:.2f} "
              f"| {r.observed_changes:.2f} |" for r in table.itertuples()]
    lines += ["", "the 2014 hindcast at ten years (30 runs):", ""]
    w = h.world(2014)
    lines += hindcast_2014(test, h.iso3, w.sco_region & ~w.nato & ~w.eu & (w.sco_status < 3))
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "model" / "data" / "sco_hazard.csv")
    ap.add_argument("--harness", action="store_true",
                    help="also run both rules on the hindcast's validation, then test, origins")
    args = ap.parse_args(argv)
    fit = trials(FIRST_FIT, LAST_FIT)
    table, best = fit_all(fit)
    risers = fit[fit["rise"] == 1]
    print(f"fit {FIRST_FIT}-{LAST_FIT}: {len(fit)} eligible state-years, {int(fit['rise'].sum())} "
          f"rises ({', '.join(f'{r.iso3} {r.year}' for r in risers.itertuples())})")
    print("\n| model | term | estimate | se | 95% CI | LOYO log score |\n"
          "| --- | --- | --- | --- | --- | --- |")
    for r in table.itertuples():
        mark = " (chosen)" if r.chosen else ""
        print(f"| {r.model}{mark} | {r.term} | {r.estimate:+.3f} | {r.se:.3f} | "
              f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}] | {r.loyo_log_score:.4f} |")
    b = table[table["chosen"] == 1]["estimate"].to_numpy()
    print(f"\nchosen: {best}; yearly probability at the mean covariates "
          f"{predict(b, design(fit, None if best == 'base_rate' else best).mean(axis=0)):.4f}")
    test = trials(FIRST_TEST, LAST_TEST)
    print(f"\ntest {FIRST_TEST}-{LAST_TEST} (read after the choice): {len(test)} eligible "
          f"state-years, {int(test['rise'].sum())} rises")
    print("\n".join(test_report(table, best, test)))
    tmp = args.out.with_suffix(".tmp")
    table.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
    tmp.replace(args.out)
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    if args.harness:
        print("\n" + "\n".join(harness_report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
