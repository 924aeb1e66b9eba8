"""Sensitivity of an outcome to swept parameters: Morris, Sobol' (SALib) or regression.

Imports core and analysis only (SALib and scipy lazily).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base.errors import ScenarioError
from .results import (
    DESIGNS,
    ok_runs,
    sort_rows,
)
from .stats import (
    check_names,
)

#: How many intervals of a swept parameter the response table uses when it has many values.
RESPONSE_BINS = 5


SENSITIVITY_COLUMNS = ["scenario", "strategy", "outcome", "parameter", "index", "value", "conf", "rank", "n"]


def swept_params(manifest: dict, outcomes: pd.DataFrame) -> list[str]:
    """The parameters the batch swept (from its manifest), each checked to have its column."""
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
    return sort_rows(out, outcomes, extra=("point",))


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
    params = swept_params(manifest, outcomes) if design != "none" else []
    if not params:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    check_names(outcomes, outcome)
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
    check_names(outcomes, name)
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
        rows.append(sort_rows(t, outcomes, extra=("x",)))
    cols = ["scenario", "strategy", "parameter", "bin", "x", "n", "mean", "p5", "p95"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
