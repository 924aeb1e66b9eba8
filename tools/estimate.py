"""Panel estimates of what moved alignment in 2000-2014: the effects the model should reproduce.

Reads the shipped world (``model/data/panel.csv``, ``drivers.csv``), keeps only years <= 2014
(the validation years of the hindcast; 2015-2024 are never read here), and regresses each
state's change of alignment over h years (h = 1 and 5, overlapping windows) on the drivers
over the same window, with state and year effects and errors clustered by state (``fit_fe``:
the effects absorbed by demeaning, the clustered sandwich computed as statsmodels computes it
with dummies, which a test checks; numpy and scipy only). Two outcomes (the stable scale and the ideal-point
scale), two specifications:

* ``changes``: the change of each driver over the window (events: their count in it);
* ``levels``: each driver's level at the start of the window (events: their count in it).

Writes ``model/data/estimates.csv`` (deterministic: same input, same bytes) and prints the
tables quoted in ``docs/estimates.md``, with the model's response to the same one-standard-
deviation changes (``tools/estimate_model.py``) and the observed and simulated dynamics.

    python tools/estimate.py                 # writes model/data/estimates.csv, prints tables
    python tools/estimate.py --no-model      # the regressions only (seconds)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "model" / "data"
LAST_FIT_YEAR = 2014  # 2015-2024 are the hindcast's test years: never read here
HORIZONS = (1, 5)
#: scale name -> (panel column, its source column, the source flag of a value observed that year)
SCALES = {"stable": ("alignment", "alignment_src", "unga"),
          "ideal": ("alignment_ideal", "alignment_ideal_src", "voeten")}
COLUMNS = ["term", "outcome", "horizon", "scale", "estimate", "se", "ci_low", "ci_high", "n_obs",
           "n_states", "years", "spec", "driver_sd"]


@dataclass(frozen=True)
class Term:
    """One driver of the regressions: its name, the column it comes from and how it enters."""

    name: str
    column: str
    kind: str  # "share" (a level that changes), "count" (events summed over the window)
    doc: str


TERMS = (
    Term("arms_rus", "arms_share_rus", "share", "share of arms imports from Russia (SIPRI TIV, 5-yr)"),
    Term("arms_chn", "arms_share_chn", "share", "share of arms imports from China"),
    Term("arms_west", "arms_share_west", "share", "share of arms imports from the USA, EU and UK"),
    Term("regime", "regime", "share", "V-Dem electoral democracy index"),
    Term("leader_left", "leader_left", "share", "leftist leader (0/1; unknown ideology dropped)"),
    Term("leader_change", "leader_change", "count", "leader changes in the window (REIGN)"),
    Term("coup", "coup", "count", "successful coups in the window (Powell-Thyne)"),
    Term("sanctions_west", "sanctions_west", "share", "active Western sanctions cases (GSDB)"),
    Term("cn_finance", "log_cn_finance", "share", "log(1 + Chinese development finance, US$ m)"),
    Term("bri_mou", "bri_mou", "share", "Belt and Road MoU signed (0/1)"),
    Term("brics", "brics", "share", "BRICS member (0/1)"),
    Term("sco_rank", "sco_rank", "share", "SCO status rung (0 none .. 3 member)"),
    Term("trade_sco", "trade_sco", "share", "trade share with China + Russia (COW)"),
    Term("trade_west", "trade_west", "share", "trade share with the USA + EU (COW)"),
)
#: Western aid is observed (OECD DAC) from 2009 only: it is estimated in its own spec, on the
#: windows whose both ends are observed, with the other terms as controls.
AID = Term("west_aid", "log_west_aid", "share", "log(1 + Western aid, US$ m; DAC 2009-2014 only)")
SCO_RANK = {"none": 0, "dialogue_partner": 1, "observer": 2, "member": 3}


def load_years(panel: pd.DataFrame, drivers: pd.DataFrame) -> pd.DataFrame:
    """One table of years <= 2014: the panel's alignments and drivers merged; nothing later.

    The year filter is applied to both tables before any other column is read.
    """
    panel = panel[panel["year"] <= LAST_FIT_YEAR]
    drivers = drivers[drivers["year"] <= LAST_FIT_YEAR]
    keep = ["iso3", "year", "regime", "trade_sco", "trade_west", "sco_status"]
    for col, src, _ in SCALES.values():
        keep += [col, src]
    d = drivers.drop(columns=[c for c in ("brics",) if c in panel.columns and c in drivers.columns])
    t = panel[keep + ["brics"]].merge(d, on=["iso3", "year"], how="inner")
    t["sco_rank"] = t["sco_status"].map(SCO_RANK).astype(float)
    t["log_cn_finance"] = np.log1p(t["cn_finance_musd"].clip(lower=0))
    aid_seen = t["west_aid_src"].isin(["oecd_dac", "not_recipient"])
    t["log_west_aid"] = np.log1p(t["west_aid_musd"].clip(lower=0)).where(aid_seen)
    t["leader_left"] = t["leader_left"].astype(float).where(t["leader_left_src"] != "unknown")
    assert t["year"].max() <= LAST_FIT_YEAR
    return t.sort_values(["iso3", "year"], ignore_index=True)


def windows(t: pd.DataFrame, scale: str, horizon: int, spec: str, terms=TERMS) -> pd.DataFrame:
    """One row per (state, start year t) with t + h <= 2014: the outcome and the regressors.

    ``dy`` is the alignment change from t to t + h, kept only where both ends were observed
    that year (not interpolated). A share enters as its change over the window (``changes``)
    or its level at t (``levels``); a count as its sum over the years t+1 .. t+h. Rows with any
    missing value are dropped.
    """
    col, src, flag = SCALES[scale]
    g = t.set_index(["iso3", "year"])
    wide = {c: g[c].unstack("year") for c in dict.fromkeys([col, *(term.column for term in terms)])}
    years = wide[col].columns.to_numpy()
    assert (np.diff(years) == 1).all(), "the panel's years must be consecutive"
    seen = (g[src] == flag).unstack("year").reindex_like(wide[col]).fillna(False).to_numpy(bool)
    h = horizon
    a = wide[col].to_numpy(dtype=float)
    cols = {"dy": np.where(seen[:, h:] & seen[:, :-h], a[:, h:] - a[:, :-h], np.nan)}
    for term in terms:
        v = wide[term.column].reindex_like(wide[col]).to_numpy(dtype=float)
        if term.kind == "count":
            cols[term.name] = sliding_window_view(v[:, 1:], h, axis=1).sum(axis=-1)
        elif spec == "changes":
            cols[term.name] = v[:, h:] - v[:, :-h]
        else:
            cols[term.name] = v[:, :-h]
    n_states, n_starts = cols["dy"].shape
    out = pd.DataFrame({"iso3": np.repeat(wide[col].index.to_numpy(), n_starts),
                        "year": np.tile(years[:n_starts], n_states),
                        "end": np.tile(years[:n_starts] + h, n_states),
                        **{k: v.ravel() for k, v in cols.items()}})
    return out.dropna().reset_index(drop=True)


def fit_fe(frame: pd.DataFrame, y: str, xs: list[str]) -> pd.DataFrame:
    """OLS of ``y`` on ``xs`` with state and year effects; errors clustered by state.

    The effects are removed by alternating demeaning (Frisch-Waugh-Lovell: the same
    coefficients as OLS with state and year dummies); the clustered covariance is the sandwich
    with the small-sample factor G/(G-1) (N-1)/(N-K), K counting the absorbed effects as
    dummies would (as statsmodels' OLS with dummies and ``cov_type="cluster"``, which a test
    checks). Returns one row per regressor: estimate, se, 95% interval (t with G - 1 degrees of
    freedom, G = number of states), n_obs, n_states, the years spanned. A regressor with no
    variation left after the effects gets NaN rather than a made-up number.
    """
    from scipy import stats

    f = frame.sort_values(["iso3", "year"], ignore_index=True)
    state, year = pd.factorize(f["iso3"])[0], pd.factorize(f["year"])[0]
    z = demean(f[[y, *xs]].to_numpy(dtype=float), state, year)
    yv, x = z[:, 0], z[:, 1:]
    ok = x.std(axis=0) > 1e-9 * np.maximum(1.0, np.abs(f[xs].to_numpy(dtype=float)).max(axis=0))
    xk = x[:, ok]
    n, g, k = len(f), int(state.max() + 1), int(ok.sum())
    xtx_inv = np.linalg.pinv(xk.T @ xk)
    beta = xtx_inv @ (xk.T @ yv)
    u = yv - xk @ beta
    scores = np.zeros((g, k))
    np.add.at(scores, state, xk * u[:, None])
    dof = k + g + int(year.max() + 1) - 1  # regressors + state and year effects (+ constant)
    c = g / (g - 1) * (n - 1) / (n - dof)
    cov = c * xtx_inv @ (scores.T @ scores) @ xtx_inv
    est, se = np.full(len(xs), np.nan), np.full(len(xs), np.nan)
    est[ok], se[ok] = beta, np.sqrt(np.diag(cov))
    q = stats.t.ppf(0.975, g - 1)
    last = "end" if "end" in f.columns else "year"
    return pd.DataFrame({"term": xs, "estimate": est, "se": se,
                         "ci_low": est - q * se, "ci_high": est + q * se,
                         "n_obs": n, "n_states": g,
                         "years": f"{int(f['year'].min())}-{int(f[last].max())}"})


def demean(values: np.ndarray, *groupings: np.ndarray, tol: float = 1e-12,
           max_sweeps: int = 10_000) -> np.ndarray:
    """Columns of ``values`` with the means of every grouping removed (alternating projections).

    One sweep is exact for one grouping or a balanced panel; an unbalanced panel needs a few
    dozen sweeps to converge to ``tol``.
    """
    r = np.array(values, dtype=float)
    counts = [np.bincount(codes) for codes in groupings]
    for _ in range(max_sweeps):
        before = r.copy()
        for codes, cnt in zip(groupings, counts, strict=True):
            sums = np.stack([np.bincount(codes, weights=col, minlength=cnt.size) for col in r.T], axis=1)
            r -= (sums / cnt[:, None])[codes]
        if np.max(np.abs(r - before)) < tol:
            break
    return r


def estimate(panel: pd.DataFrame, drivers: pd.DataFrame) -> pd.DataFrame:
    """Every regression of the table: scales x horizons x specs, plus Western aid's own spec."""
    t = load_years(panel, drivers)
    names = [term.name for term in TERMS]
    out = []
    for scale in SCALES:
        for h in HORIZONS:
            for spec in ("changes", "levels"):
                w = windows(t, scale, h, spec)
                r = fit_fe(w, "dy", names)
                r["driver_sd"] = w[names].std().to_numpy()
                out.append(r.assign(outcome="alignment_change", horizon=h, scale=scale, spec=spec))
            w = windows(t, scale, h, "changes", (*TERMS, AID))
            r = fit_fe(w, "dy", [*names, AID.name]).iloc[[-1]]
            r["driver_sd"] = w[AID.name].std()
            out.append(r.assign(outcome="alignment_change", horizon=h, scale=scale,
                                spec="changes_aid_observed"))
    table = pd.concat(out, ignore_index=True)[COLUMNS]
    return table


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write the table with 6 significant digits, atomically (a temporary name, then rename)."""
    tmp = path.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
    tmp.replace(path)


def read_world(data: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped panel and drivers tables."""
    panel = pd.read_csv(data / "panel.csv", keep_default_na=False, na_values=[""])
    drivers = pd.read_csv(data / "drivers.csv", keep_default_na=False, na_values=[""])
    return panel, drivers


def markdown(table: pd.DataFrame, *, spec="changes", horizon=5, model=None) -> str:
    """The docs table: per term, both scales' estimate and 95% CI, 1-SD response, model's."""
    lines = ["| term | scale | estimate (per unit) | 95% CI | 1 SD of driver | data: 1-SD response "
             "(95% CI) | model: 1-SD response | model inside the CI? |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    specs = [spec, f"{spec}_aid_observed"]
    sub = table[(table.spec.isin(specs)) & (table.horizon == horizon)]
    for term in [*(t.name for t in TERMS), AID.name]:
        for scale in SCALES:
            r = sub[(sub.term == term) & (sub.scale == scale)]
            if r.empty:
                continue
            r = r.iloc[0]
            sd = r.driver_sd
            if np.isnan(r.estimate):
                lines.append(f"| {term} | {scale} | not identified | | {sd:.3f} | | | |")
                continue
            m = v = ""
            if model is not None and scale == "stable":
                x = model.get(term, np.nan)
                m = _fmt(x)
                x = 0.0 if x is None else x
                lo, hi = sorted((r.ci_low * sd, r.ci_high * sd))
                v = "n/a" if np.isnan(x) or np.isnan(lo) else ("yes" if lo <= x <= hi else "**no**")
            lines.append(f"| {term} | {scale} | {r.estimate:+.3f} | [{r.ci_low:+.3f}, {r.ci_high:+.3f}] "
                         f"| {sd:.3f} | {r.estimate * sd:+.3f} ({r.ci_low * sd:+.3f}, "
                         f"{r.ci_high * sd:+.3f}) | {m} | {v} |")
    return "\n".join(lines)


def _fmt(x) -> str:
    return "no channel (0)" if x is None else ("n/a" if np.isnan(x) else f"{x:+.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DATA / "estimates.csv")
    ap.add_argument("--no-model", action="store_true", help="skip the model's responses and dynamics")
    args = ap.parse_args(argv)
    panel, drivers = read_world()
    table = estimate(panel, drivers)
    write_csv(table, args.out)
    print(f"wrote {args.out} ({len(table)} rows)")
    model = {1: None, 5: None}
    if not args.no_model:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import estimate_model

        model = estimate_model.responses(table)
        print(estimate_model.report(panel, drivers))
        before = "previous defaults (anchor to start)"
        print(f"\n### spec changes, horizon 5, model: {before} (docs/estimates.md section 4)\n")
        print(markdown(table, spec="changes", horizon=5,
                       model=estimate_model.responses(table, (5,), estimate_model.CANDIDATES[before])[5]))
    for spec in ("changes", "levels"):
        for h in HORIZONS:
            print(f"\n### spec {spec}, horizon {h}\n")
            print(markdown(table, spec=spec, horizon=h,
                           model=model[h] if spec == "changes" else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
