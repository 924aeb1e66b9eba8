"""Scenario discovery: where in the swept inputs a condition on the outcomes holds.

Given a batch and a condition (``analysis.condition``: "trade_agreements loses to none",
"gdp_share_sco above 30%"), every run (or every pair of runs, when the condition names
strategies) is a case of interest or not, and its inputs are the swept parameters (the
``param_`` columns), the scenario (when the batch has several) and the strategy (when the
condition names none and the batch has several). Two rule-induction methods then describe the
cases of interest as boxes over the inputs:

- PRIM, the Patient Rule Induction Method (Friedman and Fisher 1999), as scenario discovery uses
  it (Bryant and Lempert 2010, *Technological Forecasting & Social Change* 77: 34-49), from EMA
  Workbench (Kwakkel 2017, ``ema_workbench.analysis.prim``): it peels the input space a little
  at a time, keeping the share of cases of interest inside (density) rising while the share of
  all cases of interest it still holds (coverage) falls; the peeling trajectory is that
  trade-off. Boxes are found one after another on the cases not yet covered (the covering
  approach).
- CART (Breiman et al. 1984; scikit-learn's ``DecisionTreeClassifier``, seeded): a shallow
  tree whose leaves are boxes too, a check on PRIM's answer.

Coverage = cases of interest in the box / all cases of interest; density = cases of interest
in the box / cases in the box; mass = cases in the box / all cases. Quasi-p values (EMA
Workbench, after Bryant and Lempert) say how likely a restriction of that strength is by chance.

Tables in, tables out. Imports base, core and analysis only (ema_workbench and scikit-learn
inside the functions that use them).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..base.errors import ScenarioError
from .condition import Condition, evaluate, parse_condition
from .results import PAIR_KEYS, ok_runs, scenario_order

#: Defaults: the density a box should reach, how many boxes to look for, PRIM's peeling and
#: pasting step (EMA Workbench's default 5%), the smallest box (share of all cases), CART's depth.
MIN_DENSITY = 0.8
MAX_BOXES = 3
PEEL_ALPHA = 0.05
MASS_MIN = 0.05
CART_DEPTH = 4


@dataclass
class Discovery:
    """What scenario discovery found for one condition.

    ``boxes``: one row per PRIM box (box, step, coverage, density, mass, n, k, res_dim,
    meets_density). ``limits``: one row per restricted input of a box (box, input, kind 'range'
    or 'set', low, high, values, data_low, data_high, qp_low, qp_high). ``trajectory``: every
    step of every box's peeling and pasting (box, step, coverage, density, mass, n, k, res_dim,
    selected). ``cart``: the tree's leaves (leaf, rule, coverage, density, mass, n, k), densest
    first.
    """

    condition: str
    paired: bool
    strategies: list[str]
    n: int
    k: int
    inputs: list[str]
    dropped: int = 0
    boxes: pd.DataFrame = field(default_factory=pd.DataFrame)
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    cart: pd.DataFrame = field(default_factory=pd.DataFrame)
    note: str = ""
    phrase: str = ""  # the condition in words, strategies named (a duel: 'A loses to B on X')

    @property
    def base_rate(self) -> float:
        """Share of all cases in which the condition holds."""
        return self.k / self.n if self.n else float("nan")


def case_table(outcomes: pd.DataFrame, cond: Condition) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The cases the condition is read over: their inputs and the columns it names.

    Single runs when the condition names no strategy; otherwise pairs of runs with the same
    scenario, sweep point and replication under each strategy it names (only those completed
    under all of them).

    Returns:
        (inputs, values, dropped): inputs has one column per varying input (swept parameters by
        name, then 'scenario', then 'strategy'); values one column per ``Ref.column``; dropped,
        the cases left out for a missing value.
    """
    ok = ok_runs(outcomes)
    params = [c for c in outcomes.columns if c.startswith("param_")]
    if cond.paired:
        ok = ok[ok["strategy"].isin(cond.strategies)]
        outs = list(dict.fromkeys(r.outcome for r in cond.refs))
        wide = ok.pivot_table(index=PAIR_KEYS, columns="strategy", values=outs, aggfunc="first")
        values = pd.DataFrame({r.column: wide[(r.outcome, r.strategy)] if (r.outcome, r.strategy)
                               in wide.columns else np.nan for r in cond.refs}, index=wide.index)
        x = ok.groupby(PAIR_KEYS)[params].first().reindex(values.index).reset_index()
        x = x.drop(columns=["point", "replication"])
        values = values.reset_index(drop=True)
        cats = ["scenario"]
    else:
        values = ok[[r.column for r in cond.refs]].reset_index(drop=True)
        x = ok[params + ["scenario", "strategy"]].reset_index(drop=True)
        cats = ["scenario", "strategy"]
    keep = values.notna().all(axis=1).to_numpy()
    x, values = x[keep].reset_index(drop=True), values[keep].reset_index(drop=True)
    x = x.rename(columns={p: p.removeprefix("param_") for p in params})
    varying = [c for c in x.columns if x[c].nunique(dropna=False) > 1]
    numeric = [c for c in varying if c not in cats]
    x = x[numeric + [c for c in cats if c in varying]]
    for c in numeric:
        x[c] = x[c].astype(float)
    for c in cats:
        if c in x:
            x[c] = x[c].astype(str)
    return x, values, int((~keep).sum())


#: A restriction is kept only if its quasi-p value is below this (Bryant and Lempert 2010).
QP_MAX = 0.05


def _select(traj: pd.DataFrame, min_density: float) -> tuple[int, bool]:
    """The step to keep: the least peeled box reaching ``min_density``.

    If no step reaches it, the step with the best balance of the two, the highest harmonic mean
    of coverage and density (an F1 score: density is PRIM's precision, coverage its recall).
    """
    dense = traj.index[traj["density"] >= min_density - 1e-12]
    if len(dense):
        return int(traj.loc[dense, "coverage"].idxmax()), True
    c, d = traj["coverage"], traj["density"]
    f1 = (2 * c * d / (c + d)).fillna(0)
    return int(f1.idxmax()), False


def _insignificant(qp: dict) -> list[str]:
    """Restricted inputs whose every quasi-p value is at least ``QP_MAX``, least significant first.

    (-1 marks a side that is not restricted.)
    """
    out = []
    for col, values in qp.items():
        q = [v for v in values if v is not None and v != -1 and np.isfinite(v)]
        if q and min(q) >= QP_MAX:
            out.append((-min(q), col))
    return [col for _, col in sorted(out)]


def _limits(box_lim: pd.DataFrame, init: pd.DataFrame, qp: dict, names: dict, b: int) -> list[dict]:
    rows = []
    for col in box_lim.columns:
        lo, hi = box_lim[col].iloc[0], box_lim[col].iloc[1]
        qlo, qhi = (list(qp.get(col, [-1, -1])) + [-1, -1])[:2]
        q = {"qp_low": np.nan if qlo == -1 else float(qlo), "qp_high": np.nan if qhi == -1 else float(qhi)}
        if isinstance(lo, (set, frozenset)):
            if set(lo) == set(init[col].iloc[0]):
                continue
            rows.append({"box": b, "input": names[col], "kind": "set", "low": np.nan, "high": np.nan,
                         "values": ", ".join(sorted(map(str, lo))), "data_low": np.nan,
                         "data_high": np.nan, **q})
            continue
        dlo, dhi = float(init[col].iloc[0]), float(init[col].iloc[1])
        if float(lo) == dlo and float(hi) == dhi:
            continue
        rows.append({"box": b, "input": names[col], "kind": "range", "low": float(lo), "high": float(hi),
                     "values": "", "data_low": dlo, "data_high": dhi, **q})
    return rows


def run_prim(x: pd.DataFrame, y: np.ndarray, *, min_density: float = MIN_DENSITY,
             max_boxes: int = MAX_BOXES, peel_alpha: float = PEEL_ALPHA,
             mass_min: float = MASS_MIN) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """PRIM boxes (EMA Workbench) for the cases ``y`` over the inputs ``x``.

    Each box keeps the least peeled step of its trajectory whose density reaches
    ``min_density`` (the most coverage at that density), or if none does the step with the
    highest harmonic mean of coverage and density. Restrictions of the kept step whose quasi-p
    values are all at least ``QP_MAX`` are then dropped one at a time, the least significant
    first (EMA's ``drop_restriction``: each adds a step to the trajectory), so a box restricts
    only inputs that chance would not explain. The next box is sought among the cases not yet
    in a box, until ``max_boxes``, a box with no restriction left (not reported), or fewer than
    5% of the cases of interest left.

    Returns:
        (boxes, limits, trajectory) as described in ``Discovery``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ema_workbench warns on import about optional parts
        from ema_workbench.analysis import prim

    names = {f"x{i}": c for i, c in enumerate(x.columns)}  # EMA drops a column named 'scenario'
    xx = x.set_axis(list(names), axis=1)
    yy = np.asarray(y, dtype=int)
    boxes, limits, steps = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a threshold just above 0: every box is kept (the selection is ours, below)
        alg = prim.Prim(xx, yy, threshold=1e-9, peel_alpha=peel_alpha, paste_alpha=peel_alpha,
                        mass_min=mass_min)
        covered = np.zeros(len(yy), dtype=bool)
        for b in range(1, max_boxes + 1):
            if not yy[~covered].any():  # every case of interest is in a box already
                break
            box = alg.find_box()
            if box is None:
                break
            i, _ = _select(box.peeling_trajectory.reset_index(drop=True), min_density)
            box.select(i)
            while drops := _insignificant(box.qp[i]):
                # the restriction chance explains best goes (each drop adds a step), then again
                box.drop_restriction(drops[0])
                i = len(box.peeling_trajectory) - 1
            traj = box.peeling_trajectory.reset_index(drop=True)
            r = traj.loc[i]
            if int(r["res_dim"]) == 0:
                break  # nothing left that chance would not explain: no box
            covered[box.yi] = True
            for j, step in traj.iterrows():
                steps.append({"box": b, "step": int(j), "coverage": float(step["coverage"]),
                              "density": float(step["density"]), "mass": float(step["mass"]),
                              "n": int(step["n"]), "k": int(step["k"]), "res_dim": int(step["res_dim"]),
                              "selected": j == i})
            boxes.append({"box": b, "step": i, "coverage": float(r["coverage"]),
                          "density": float(r["density"]), "mass": float(r["mass"]), "n": int(r["n"]),
                          "k": int(r["k"]), "res_dim": int(r["res_dim"]),
                          "meets_density": bool(r["density"] >= min_density - 1e-12)})
            limits += _limits(box.box_lims[i], alg.box_init, box.qp[i], names, b)
            if yy[~covered].sum() < max(2, 0.05 * yy.sum()):
                break  # too few cases of interest left for another box
    limit_cols = ["box", "input", "kind", "low", "high", "values", "data_low", "data_high",
                  "qp_low", "qp_high"]
    box_cols = ["box", "step", "coverage", "density", "mass", "n", "k", "res_dim", "meets_density"]
    step_cols = ["box", "step", "coverage", "density", "mass", "n", "k", "res_dim", "selected"]
    return (pd.DataFrame(boxes, columns=box_cols), pd.DataFrame(limits, columns=limit_cols),
            pd.DataFrame(steps, columns=step_cols))


def _leaf_rules(tree, features: list[tuple[str, str | None]]) -> dict[int, str]:
    """Each leaf's path as a rule: 'peer_weight > 0.21 and scenario = sco_expansion'."""
    t = tree.tree_
    rules: dict[int, str] = {}
    levels: dict[str, set] = {}
    for name, level in features:
        if level is not None:
            levels.setdefault(name, set()).add(level)

    def walk(node: int, ranges: dict, sets: dict) -> None:
        if t.children_left[node] == -1:
            parts = []
            for name, (lo, hi) in ranges.items():
                if lo > -np.inf and hi < np.inf:
                    parts.append(f"{lo:.3g} < {name} <= {hi:.3g}")
                elif lo > -np.inf:
                    parts.append(f"{name} > {lo:.3g}")
                else:
                    parts.append(f"{name} <= {hi:.3g}")
            for name, (inside, outside) in sets.items():
                rest = sorted(levels[name] - outside) if inside is None else [inside]
                parts.append(f"{name} = {rest[0]}" if len(rest) == 1 else
                             f"{name} in {{{', '.join(rest)}}}")
            rules[node] = " and ".join(parts) or "(all cases)"
            return
        name, level = features[t.feature[node]]
        thr = float(t.threshold[node])
        for child, below in ((t.children_left[node], True), (t.children_right[node], False)):
            r, s = dict(ranges), {k: (v[0], set(v[1])) for k, v in sets.items()}
            if level is None:
                lo, hi = r.get(name, (-np.inf, np.inf))
                r[name] = (lo, min(hi, thr)) if below else (max(lo, thr), hi)
            else:
                inside, outside = s.get(name, (None, set()))
                s[name] = (inside, outside | {level}) if below else (level, outside)
            walk(child, r, s)

    walk(0, {}, {})
    return rules


def run_cart(x: pd.DataFrame, y: np.ndarray, *, mass_min: float = MASS_MIN,
             max_depth: int = CART_DEPTH) -> pd.DataFrame:
    """A shallow classification tree (scikit-learn, ``random_state=0``); its leaves as boxes.

    Categorical inputs enter as one indicator per value. Leaves hold at least ``mass_min`` of
    the cases.
    """
    from sklearn.tree import DecisionTreeClassifier

    cols, features = [], []
    for c in x.columns:
        if x[c].dtype == object or isinstance(x[c].dtype, pd.StringDtype):
            for level in sorted(x[c].unique()):
                cols.append((x[c] == level).to_numpy(dtype=float))
                features.append((c, str(level)))
        else:
            cols.append(x[c].to_numpy(dtype=float))
            features.append((c, None))
    xm = np.column_stack(cols) if cols else np.zeros((len(y), 1))
    yy = np.asarray(y, dtype=int)
    clf = DecisionTreeClassifier(max_depth=max_depth, random_state=0,
                                 min_samples_leaf=max(1, math.ceil(mass_min * len(yy))))
    clf.fit(xm, yy)
    rules = _leaf_rules(clf, features or [("(none)", None)])
    leaf = clf.apply(xm)
    total = max(int(yy.sum()), 1)
    rows = []
    for node in sorted(rules):
        inside = leaf == node
        n, k = int(inside.sum()), int(yy[inside].sum())
        rows.append({"leaf": int(node), "rule": rules[node], "coverage": k / total,
                     "density": k / n if n else np.nan, "mass": n / len(yy), "n": n, "k": k})
    out = pd.DataFrame(rows)
    return out.sort_values(["density", "coverage", "leaf"], ascending=[False, False, True],
                           kind="stable", ignore_index=True)


def box_rule(limits: pd.DataFrame, box: int) -> str:
    """A box as words: 'peer_weight 0.21 to 0.4 and scenario in {sco_expansion}'."""
    parts = []
    for r in limits[limits["box"] == box].itertuples(index=False):
        if r.kind == "set":
            parts.append(f"{r.input} = {r.values}" if ", " not in r.values else
                         f"{r.input} in {{{r.values}}}")
        elif r.low > r.data_low and r.high < r.data_high:
            parts.append(f"{r.input} {r.low:.3g} to {r.high:.3g}")
        elif r.low > r.data_low:
            parts.append(f"{r.input} ≥ {r.low:.3g}")
        else:
            parts.append(f"{r.input} ≤ {r.high:.3g}")
    return " and ".join(parts) or "(no restriction)"


def _phrase(cond: Condition) -> str:
    """The condition in words: a lone duel with its strategies and outcome named, else its text."""
    from .condition import Duel
    from .labels import outcome_label

    t = cond.tree
    if isinstance(t, Duel):
        return f"{t.a} {'beats' if t.beats else 'loses to'} {t.b} on the {outcome_label(t.outcome)}"
    return f"'{cond.text}'"


def discover(outcomes: pd.DataFrame, text: str, *, aliases: dict[str, str] | None = None,
             default_outcome: str | None = None, min_density: float = MIN_DENSITY,
             max_boxes: int = MAX_BOXES) -> Discovery:
    """Parse ``text``, build the cases, and run PRIM and CART over the batch's varying inputs.

    Raises:
        ScenarioError: a bad condition, or a batch with no input that varies (no sweep, one
            scenario and, for a condition naming no strategy, one strategy).
    """
    from ..core.outcomes import OUTCOMES

    known = [n for n in OUTCOMES if n in outcomes.columns]
    strategies = sorted(outcomes["strategy"].unique())
    cond = parse_condition(text, outcomes=known, strategies=strategies, aliases=aliases,
                           default_outcome=default_outcome)
    x, values, dropped = case_table(outcomes, cond)
    if len(values) == 0:  # every run failed, or none has the outcomes the condition reads
        cases = "pairs of completed runs" if cond.paired else "completed runs"
        raise ScenarioError(f"no case to read the condition on: the batch has no {cases} with "
                            f"a value for {', '.join(values.columns)} ({dropped} left out for "
                            f"a missing value, of {len(outcomes)} runs)")
    if x.shape[1] == 0:
        raise ScenarioError(f"nothing to discover over: the batch sweeps no parameter and has one "
                            f"scenario ({', '.join(scenario_order(outcomes))}); add a sweep "
                            f"(blocsim batch --sweep) or a scenario")
    y = evaluate(cond, values)
    out = Discovery(cond.text, cond.paired, cond.strategies, len(y), int(y.sum()), list(x.columns), dropped,
                    phrase=_phrase(cond))
    if out.k == 0 or out.k == out.n:
        where = "none" if out.k == 0 else "all"
        out.note = f"the condition holds in {where} of the {out.n} cases: there is nothing to tell apart"
        return out
    out.boxes, out.limits, out.trajectory = run_prim(x, y, min_density=min_density, max_boxes=max_boxes)
    out.cart = run_cart(x, y)
    return out
