"""Candidate specifications of the model compared on the hindcast's validation origins only.

Issue 10: the local level of item 1 (``inertia: 0``: no anchor to the start value; a state keeps
what the pushes of its changed channels and its peers gave it, plus its shocks), structural
weights at the size of the panel estimates (item 2, ``docs/estimates.md`` section 2) and shocks
with the observed heavy tails, persistent shocks and random leader changes (item 5). Every
candidate is written as a change to the previous defaults (``PREVIOUS``), so it means what it
meant when it was scored; the shipped default is round 5's candidate with leader changes.

Each candidate runs the model's replication ensemble (as ``model.history.simulate`` does, with
the candidate's parameters) from every validation origin (2005-2013; targets up to 2014 only),
in both modes and on the stable and ideal-point scales, and is scored with the harness's scores
(RMSE of the ensemble mean, CRPS, 50% and 90% coverage) beside persistence and probabilistic
persistence. The rule, fixed before any score was seen: the winner has the lowest CRPS averaged
over scales, modes and horizons 1, 3 and 5 of the validation origins (the candidates came in
five rounds, ``docs/estimates.md`` section 4). Only then, with ``--test``, are the winner and
the previous defaults scored on the test origins (2014-2023).

    python tools/compare_specs.py            # validation origins: every candidate (~2 min)
    python tools/compare_specs.py --test     # and then the test origins: the winner and the default
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from model.config.build import run_ensemble
from model.config.scenario import Scenario
from model.history.baselines import Past, spread_members
from model.history.data import load_history
from model.history.scores import cell_scores
from model.history.simulate import CONDITIONAL_PARAMETERS, observed_events, origin_seeds

#: the structural weights of round 4: half the largest weight whose 5-year responses all lie
#: inside the panel estimates' 95% intervals (docs/estimates.md section 2)
ESTIMATED = {"econ_weight": 0.001, "security_weight": 0.01, "regime_weight": 0.05}
#: the defaults before round 4's winner became the default (every candidate below is written
#: as changes to these, so the rounds mean what they meant when they were scored)
PREVIOUS = {"inertia": 0.29, "econ_weight": 0.5, "security_weight": 0.6, "regime_weight": 0.3,
            "shock_tail": 0.0, "shock_persistence": 0.0, "leader_change_rate": 0.0,
            "leader_change_effect": 0.0}
REFERENCE = "previous defaults (anchor to start)"
WINNER = "local level, estimated weights, tails h=0.15"
_CANDIDATES = {
    REFERENCE: {},
    "anchor, shocks x2": {"shock_sd": 0.20},
    "local level": {"inertia": 0.0},
    "local level, shocks x1.5": {"inertia": 0.0, "shock_sd": 0.15},
    "local level, shocks x2": {"inertia": 0.0, "shock_sd": 0.20},
    # added after the first round: the panel estimates (docs/estimates.md) put the drivers'
    # effects at a fifth or less of the model's responses, so the structural weights x0.2
    "anchor, structural weights x0.2": {"econ_weight": 0.1, "security_weight": 0.12,
                                        "regime_weight": 0.06},
    "local level, structural weights x0.2": {"inertia": 0.0, "econ_weight": 0.1,
                                             "security_weight": 0.12, "regime_weight": 0.06},
    # round 3, item 5: shocks with the observed tails (Tukey's h; the median shock kept).
    # h = 0.25 gives |yearly change| p99/median and p95/median near the data's 2000-2014
    # ratios (8.3 and 4.8, against 3.8 and 2.9 for normal shocks): docs/estimates.md section 4
    "local level, weights x0.2, tails h=0.25": {"inertia": 0.0, "econ_weight": 0.1,
                                                "security_weight": 0.12, "regime_weight": 0.06,
                                                "shock_tail": 0.25},
    "local level, weights x0.2, tails h=0.15": {"inertia": 0.0, "econ_weight": 0.1,
                                                "security_weight": 0.12, "regime_weight": 0.06,
                                                "shock_tail": 0.15},
    "anchor, tails h=0.25": {"shock_tail": 0.25},
    # round 4 (issue 10 items 2 and 5, written before its scores were seen): each structural
    # weight at half the largest value that keeps every 5-year response of its channels inside
    # the panel estimates' 95% intervals (docs/estimates.md section 2; security 0.01, regime
    # 0.05, trade 0.001), and shocks that persist from year to year (``shock_persistence``)
    # with the tails at h = 0.25 and rho = 0.3, the values at which the simulated yearly
    # changes match the 2000-2014 median, p95, p99, autocorrelation sign and decade spread
    # (section 3). Rule for round 4: the same (lowest mean CRPS); where the best of round 4 is
    # within the paired interval of the overall best, prefer the one whose responses and
    # dynamics meet issue 10's targets, which are fitted on years up to 2014 too.
    **{name: {"inertia": 0.0, **ESTIMATED, **extra} for name, extra in {
        "local level, estimated weights, tails h=0.15": {"shock_tail": 0.15},
        "local level, estimated weights, tails h=0.25, persistence 0.3":
            {"shock_tail": 0.25, "shock_persistence": 0.3},
        "local level, estimated weights, tails h=0.15, persistence 0.3":
            {"shock_tail": 0.15, "shock_persistence": 0.3},
    }.items()},
    "local level, weights x0.2, tails h=0.25, persistence 0.3": {
        "inertia": 0.0, "econ_weight": 0.1, "security_weight": 0.12, "regime_weight": 0.06,
        "shock_tail": 0.25, "shock_persistence": 0.3},
    # round 5 (issue 10 item 5): round 4's winner with leader changes as random events at the
    # rate and with the effect estimated on 2000-2014 (docs/estimates.md); in the conditional
    # mode the observed ones are scripted instead. Rule, before its scores: keep them unless
    # the paired interval of the CRPS difference from round 4's winner lies above zero.
    "winner with leader changes (rate 0.178, effect -0.021)": {
        "inertia": 0.0, **ESTIMATED, "shock_tail": 0.15, "leader_change_rate": 0.178,
        "leader_change_effect": -0.021},
}
CANDIDATES = {name: {**PREVIOUS, **change} for name, change in _CANDIDATES.items()}
VALIDATION = tuple(range(2005, 2014))
TEST = tuple(range(2014, 2024))
LAST_VALIDATION_YEAR = 2014
FIRST_YEAR = 2000
SCALES = ("alignment", "alignment_ideal")
MODES = ("projection", "conditional")
CHOICE_HORIZONS = (1, 3, 5)


def forecast(history, scale, origin, horizon, mode, params, runs, seed) -> np.ndarray:
    """The model's runs (R, horizon, n) from ``origin`` with ``params`` (the harness's recipe)."""
    known = history.upto(origin) if mode == "projection" else history.blind_after(origin)
    events = observed_events(known, origin, horizon) if mode == "conditional" else []
    scenario = Scenario.model_validate({
        "name": f"spec_{origin}", "start_year": origin, "horizon": horizon, "seed": seed,
        "replications": runs, "events": events,
        "parameters": {**params, **(CONDITIONAL_PARAMETERS if mode == "conditional" else {})}})
    result = run_ensemble(scenario, origin_seeds(seed, origin, runs),
                          world=known.world(origin, scale), attribution=False)
    return result.alignment[:, 1:, :]


def score(history, origins, last_target, candidates, runs=30, seed=2014, per_state=None) -> pd.DataFrame:
    """One row per (candidate, scale, mode, horizon): scores pooled over origins and states.

    ``per_state``, if a dict, receives for each forecaster the per-state sums and counts of CRPS
    over the cells of CHOICE_HORIZONS (for a paired bootstrap over states).
    """
    rows = []
    last = history.last_year()
    for scale in SCALES:
        x = history.matrix(scale, np.arange(FIRST_YEAR, last + 1))
        for origin in origins:
            hs = np.array([h for h in range(1, 11) if origin + h <= last_target])
            if not len(hs):
                continue
            y = x[origin + hs - FIRST_YEAR]
            start = x[origin - FIRST_YEAR]
            past = Past(x=history.upto(origin).matrix(scale, np.arange(FIRST_YEAR, origin + 1)),
                        subregion=np.zeros(len(history.iso3), dtype=int))
            spread = spread_members(past, hs)
            base = {"persistence": (np.repeat(past.last[None], len(hs), 0), None),
                    "spread (prob. persistence)": (spread.mean(axis=0), spread)}
            for mode in MODES:
                fc = dict(base)
                for name, params in candidates.items():
                    runs_ = forecast(history, scale, origin, int(hs.max()), mode, params, runs, seed)
                    members = runs_[:, hs - 1]
                    fc[name] = (members.mean(axis=0), members)
                for name, (point, members) in fc.items():
                    s = cell_scores(point, y, start, members)
                    if per_state is not None:
                        sel = np.isin(hs, CHOICE_HORIZONS)
                        c = s["crps"][sel]
                        tot, cnt = per_state.setdefault(name, [0.0, 0.0])
                        per_state[name] = [tot + np.nansum(c, axis=0),
                                           cnt + np.isfinite(c).sum(axis=0)]
                    for k, h in enumerate(hs):
                        ok = np.isfinite(y[k]) & np.isfinite(start)
                        rows.append({"candidate": name, "scale": scale, "mode": mode,
                                     "origin": origin, "horizon": int(h), "n": int(ok.sum()),
                                     **{m: float(np.nansum(v[k][ok])) for m, v in s.items()}})
    cells = pd.DataFrame(rows)
    g = cells.groupby(["candidate", "scale", "mode", "horizon"], sort=False)
    tot = g[["n", "se", "ae", "crps", "cover50", "cover90"]].sum()
    out = pd.DataFrame({"rmse": np.sqrt(tot.se / tot.n), "crps": tot.crps / tot.n,
                        "cover50": tot.cover50 / tot.n, "cover90": tot.cover90 / tot.n,
                        "n": tot.n})
    return out.reset_index()


def choose(table: pd.DataFrame, candidates) -> pd.DataFrame:
    """Mean CRPS and RMSE over scales, modes and CHOICE_HORIZONS, best first (the rule)."""
    sub = table[table.horizon.isin(CHOICE_HORIZONS) & table.candidate.isin(candidates)]
    return sub.groupby("candidate")[["crps", "rmse", "cover50", "cover90"]].mean().sort_values("crps")


def paired_bootstrap(per_state: dict, reference: str, n_boot: int = 1000,
                     seed: int = 2014) -> pd.DataFrame:
    """CRPS of each forecaster minus ``reference``'s, pooled over cells, with a 95% interval
    from resampling states (the same resamples for every forecaster)."""
    from model.history.scores import bootstrap_weights

    ref_sum, ref_cnt = per_state[reference]
    w = bootstrap_weights(len(ref_sum), n_boot, seed)
    ref = (w @ ref_sum) / (w @ ref_cnt)
    rows = []
    for name, (tot, cnt) in per_state.items():
        d = (w @ tot) / (w @ cnt) - ref
        rows.append({"forecaster": name, "crps_minus_reference": d[0],
                     "ci_low": np.quantile(d[1:], 0.025), "ci_high": np.quantile(d[1:], 0.975)})
    return pd.DataFrame(rows).set_index("forecaster").sort_values("crps_minus_reference")


def markdown(table: pd.DataFrame, horizons=(1, 3, 5)) -> str:
    """Per scale and mode: each forecaster's RMSE / CRPS / cover50 / cover90 at ``horizons``."""
    lines = []
    for (scale, mode), t in table[table.horizon.isin(horizons)].groupby(["scale", "mode"], sort=False):
        lines += [f"\n**{scale}, {mode}** (RMSE / CRPS / 50% cover / 90% cover)\n",
                  "| forecaster | " + " | ".join(f"h={h}" for h in horizons) + " |",
                  "| --- |" + " --- |" * len(horizons)]
        for name, r in t.groupby("candidate", sort=False):
            cells = []
            for h in horizons:
                q = r[r.horizon == h].iloc[0]
                cov = "" if np.isnan(q.cover50) or name == "persistence" else \
                    f" / {q.cover50:.2f} / {q.cover90:.2f}"
                cells.append(f"{q.rmse:.4f} / {q.crps:.4f}{cov}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--test", action="store_true", help="then score the winner on the test origins")
    args = ap.parse_args(argv)
    history = load_history()
    per_state: dict = {}
    val = score(history.upto(LAST_VALIDATION_YEAR), VALIDATION, LAST_VALIDATION_YEAR, CANDIDATES,
                runs=args.runs, per_state=per_state)
    ranking = choose(val, CANDIDATES)
    print("## Validation origins 2005-2013 (targets <= 2014)\n")
    print(choose(val, val.candidate.unique()).round(4).to_string())
    print("\nCRPS minus the previous defaults', every validation cell of horizons 1, 3, 5 pooled, "
          "95% interval over states:\n")
    print(paired_bootstrap(per_state, REFERENCE).round(4).to_string())
    print(f"\nCRPS minus round 4's winner ({WINNER}), the same cells:\n")
    print(paired_bootstrap(per_state, WINNER).round(4).to_string())
    print(markdown(val))
    winner = ranking.index[0]
    print(f"\nwinner on validation: {winner}")
    if args.test:
        chosen = {k: CANDIDATES[k] for k in dict.fromkeys([winner, REFERENCE])}
        test = score(history, TEST, history.last_year(), chosen, runs=args.runs)
        print("\n## Test origins 2014-2023 (scored after the choice)\n")
        print(markdown(test, horizons=(1, 3, 5, 10)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
