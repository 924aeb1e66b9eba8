"""Driver histories, trade splice, security indices and stable scales for tools/build_world.py.

Split from ``build_world.py`` (which imports it) so that each file holds one idea: this one
derives what issue 9 added to the shipped world from the shared source folder:

* ``drivers.csv``: compact yearly driver tables (arms imports by supplier, sanctions by sender,
  Belt and Road MoUs, Chinese finance, Western aid, US troops, coups, leader changes and
  ideology, BRICS) from ``drivers/drivers_country_year_2000_2024.csv``;
* the trade shares spliced from Correlates of War (to 2014) and IMF DOTS (to 2020);
* the security indices ``sec_sco``/``sec_west`` rebuilt from observed inputs and squashed
  smoothly, so that they do not saturate;
* the stable alignment scale (one constant fitted on years <= 2014) and the ideal-point scale.

Every rule, constant and weight is documented in ``model/data/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

YEARS = list(range(2000, 2025))
LAST_TRAIN_YEAR = 2014
LAST_COW_YEAR = 2014
LAST_DOTS_YEAR = 2020
LAST_GSDB_YEAR = 2022
LAST_AIDDATA_YEAR = 2021
LAST_LEADER_YEAR = 2020
LAST_DAC_YEAR = 2022
ARMS_WINDOW = 5  # trailing years of SIPRI deliveries summed for the supplier shares
SPLICE_YEARS = 5  # last overlap years (2010-2014) whose mean COW - DOTS gap adjusts DOTS

# Security index weights (judgement, documented in model/data/README.md). The raw score is a
# weighted sum of observed ties; the index is 1 - exp(-score), smooth and never exactly 1.
SEC_SCO_WEIGHTS = {"csto": 0.6, "sco_member": 0.4, "sco_observer": 0.15, "sco_partner": 0.05,
                   "ru_pact": 0.5, "cn_pact": 0.5, "arms": 0.8}
SEC_WEST_WEIGHTS = {"nato": 0.8, "us_pact": 0.5, "eu": 0.15, "arms": 0.8, "troops": 0.4}
TROOPS_FULL = 10_000  # US troops at which the troops term reaches 1 (log scale from 1 soldier)

DRIVER_COLS = [
    "iso3", "year", "arms_share_rus", "arms_share_chn", "arms_share_west", "arms_tiv_total",
    "arms_src", "sanctions_west", "sanctions_sco", "sanctions_src", "bri_mou", "bri_src",
    "cn_finance_musd", "cn_finance_src", "west_aid_musd", "west_aid_src", "us_troops",
    "us_troops_src", "coup", "leader_change", "leader_change_src", "leader_left",
    "leader_left_src", "brics",
]
DRIVER_FLOATS = ["arms_share_rus", "arms_share_chn", "arms_share_west", "arms_tiv_total",
                 "cn_finance_musd", "west_aid_musd"]


def to_wide(df: pd.DataFrame, col: str, isos: list[str], years=YEARS) -> pd.DataFrame:
    """Pivot a long (iso3, year) column to a states x years table."""
    w = df.pivot(index="iso3", columns="year", values=col)
    return w.reindex(index=isos, columns=years).astype(float)


def to_long(wide: pd.DataFrame, name: str) -> pd.Series:
    """Stack a states x years table to a Series indexed by (iso3, year)."""
    s = wide.stack(future_stack=True)
    s.index.names = ["iso3", "year"]
    return s.rename(name)


def _flags(shape_like: pd.DataFrame, value: str) -> pd.DataFrame:
    return pd.DataFrame(value, index=shape_like.index, columns=shape_like.columns)


def _carry(vals: pd.DataFrame, flags: pd.DataFrame, last: int, flag: str):
    """Carry each state's value of ``last`` into the later years, flagged ``flag``."""
    for y in YEARS:
        if y > last:
            vals[y] = vals[last]
            flags[y] = flag
    return vals, flags


# --------------------------------------------------------------------------
# drivers.csv
# --------------------------------------------------------------------------

def arms_shares(d: pd.DataFrame, isos: list[str]) -> pd.DataFrame:
    """Supplier shares of the trailing ARMS_WINDOW-year sums of SIPRI TIV deliveries."""
    roll = {}
    for c in ["arms_tiv_total", "arms_tiv_RUS", "arms_tiv_CHN", "arms_tiv_USA", "arms_tiv_EUUK"]:
        w = to_wide(d, c, isos).fillna(0.0)
        roll[c] = w.T.rolling(ARMS_WINDOW, min_periods=1).sum().T
    tot = roll["arms_tiv_total"]
    share = lambda x: (x / tot.where(tot > 0)).fillna(0.0).clip(0, 1)  # noqa: E731
    src = _flags(tot, "sipri")
    src.loc[:, [y for y in YEARS if y < YEARS[0] + ARMS_WINDOW - 1]] = "sipri_short_window"
    west = share(roll["arms_tiv_USA"] + roll["arms_tiv_EUUK"])
    return pd.concat([to_long(share(roll["arms_tiv_RUS"]), "arms_share_rus"),
                      to_long(share(roll["arms_tiv_CHN"]), "arms_share_chn"),
                      to_long(west, "arms_share_west"), to_long(tot, "arms_tiv_total"),
                      to_long(src, "arms_src")], axis=1)


def build_drivers(src: Path, isos: list[str], brics: pd.Series, fill_within) -> pd.DataFrame:
    """One row per state and year 2000-2024 of the observed drivers, with source flags.

    ``brics`` is the panel's 0/1 membership indexed by (iso3, year); ``fill_within`` is
    build_world's within-state filler (held-out rule respected).
    """
    d = pd.read_csv(src / "drivers" / "drivers_country_year_2000_2024.csv")
    d = d[d.iso3.isin(isos) & d.year.isin(YEARS)]
    parts = [arms_shares(d, isos)]

    west = to_wide(d, "sanct_west_cases", isos)
    sco = to_wide(d, "sanct_RUS_cases", isos) + to_wide(d, "sanct_CHN_cases", isos)
    sflag = _flags(west, "gsdb")
    west, sflag = _carry(west, sflag, LAST_GSDB_YEAR, "carried")
    sco, _ = _carry(sco, sflag.copy(), LAST_GSDB_YEAR, "carried")
    parts += [to_long(west, "sanctions_west"), to_long(sco, "sanctions_sco"),
              to_long(sflag, "sanctions_src")]

    bri = to_wide(d, "bri_mou", isos)
    bflag = _flags(bri, "lpv").where(bri.notna(), "none_known")
    parts += [to_long(bri.fillna(0.0), "bri_mou"), to_long(bflag, "bri_src")]

    fin = to_wide(d, "cn_finance_adj_musd", isos)
    fflag = _flags(fin, "aiddata")
    late = [y for y in YEARS if y > LAST_AIDDATA_YEAR]
    recent = fin.loc[:, LAST_AIDDATA_YEAR - 2:LAST_AIDDATA_YEAR].mean(axis=1)
    for y in late:
        fin[y] = recent
        fflag[y] = "mean_2019_2021"
    parts += [to_long(fin, "cn_finance_musd"), to_long(fflag, "cn_finance_src")]

    aid = to_wide(d, "oda_net_musd_USA", isos) + to_wide(d, "oda_net_musd_EUUK", isos)
    never = aid.isna().all(axis=1)
    aid_v, aid_f = fill_within(aid)
    aid_f = aid_f.replace("", "oecd_dac")
    aid_v.loc[never] = 0.0
    aid_f.loc[never] = "not_recipient"
    late = [y for y in YEARS if y > LAST_DAC_YEAR]
    aid_f.loc[~never, late] = "carried"
    parts += [to_long(aid_v, "west_aid_musd"), to_long(aid_f, "west_aid_src")]

    troops = to_wide(d, "us_troops", isos)
    tv, tf = fill_within(troops)
    tf = tf.replace("", "troopdata")
    tf = tf.where(tv.notna(), "none_recorded")
    parts += [to_long(tv.fillna(0.0), "us_troops"), to_long(tf, "us_troops_src")]

    coup = (to_wide(d, "coup_successes", isos) > 0).astype(int)
    lead = to_wide(d, "leader_changes", isos)
    lflag = _flags(lead, "reign").where(lead.notna(), "coup_only")
    lead = (lead.fillna(0) > 0).astype(int) | coup
    parts += [to_long(coup, "coup"), to_long(lead, "leader_change"),
              to_long(lflag, "leader_change_src")]

    ideo = d.assign(left=np.where(d.leader_ideology.isna(), np.nan,
                                  (d.leader_ideology == "leftist").astype(float)))
    left = to_wide(ideo, "left", isos)
    known = left.notna()
    left_f = _flags(left, "herre").where(known, "unknown")
    left_v = left.fillna(0.0)
    left_v, left_f = _carry(left_v, left_f, LAST_LEADER_YEAR, "carried")
    parts += [to_long(left_v.astype(int), "leader_left"), to_long(left_f, "leader_left_src")]

    out = pd.concat(parts, axis=1)
    out["brics"] = brics.reindex(out.index).astype(int)
    out = out.reset_index().sort_values(["iso3", "year"]).reset_index(drop=True)
    for c in ["sanctions_west", "sanctions_sco", "bri_mou", "us_troops"]:
        out[c] = out[c].round().astype(int)
    return out[DRIVER_COLS]


# --------------------------------------------------------------------------
# Trade: COW spliced with IMF DOTS
# --------------------------------------------------------------------------

def compare_trade(cow: pd.DataFrame, dots: pd.DataFrame) -> dict:
    """Correlation and mean difference (COW - DOTS) of the two shares where both exist."""
    both = cow.merge(dots, on=["iso3", "year"], how="inner")
    res = {}
    for c, dc, name in [("share_east_CHN_RUS", "share_cn_ru", "sco"),
                        ("share_west_USA_EU", "share_us_eu", "west")]:
        ok = both[["iso3", "year", c, dc]].dropna()
        diff = ok[c] - ok[dc]
        first = ok.sort_values("year").groupby("iso3").first()
        last = ok.sort_values("year").groupby("iso3").last()
        span = last.year - first.year >= 10  # states seen in both over a decade or more
        change = (last[c] - first[c])[span].corr((last[dc] - first[dc])[span])
        res[name] = {"n": len(ok), "corr": ok[c].corr(ok[dc]), "mean_diff": diff.mean(),
                     "mad": diff.abs().mean(), "change_corr": change, "n_states": int(span.sum())}
    return res


def splice_trade(cow: pd.DataFrame, dots: pd.DataFrame, states: pd.DataFrame,
                 fill_within) -> pd.DataFrame:
    """COW shares to 2014, level-adjusted DOTS 2015-2020, the 2020 value carried after.

    For states without any COW value, DOTS is used unadjusted in every year; states in
    neither source get their subregion's median. Returns long trade_sco, trade_west,
    trade_src, trade_year.
    """
    isos = list(states.iso3)
    sub = states.set_index("iso3").subregion.reindex(isos)
    out = {}
    for c, dc, name in [("share_east_CHN_RUS", "share_cn_ru", "trade_sco"),
                        ("share_west_USA_EU", "share_us_eu", "trade_west")]:
        cw = to_wide(cow[cow.year <= LAST_COW_YEAR], c, isos)
        dw = to_wide(dots[dots.year <= LAST_DOTS_YEAR], dc, isos)
        lo, hi = LAST_COW_YEAR - SPLICE_YEARS + 1, LAST_COW_YEAR
        gap = (cw.loc[:, lo:hi] - dw.loc[:, lo:hi]).mean(axis=1).fillna(0.0)
        base = cw.copy()
        flag = _flags(cw, "cow").where(cw.notna(), "")
        later = [y for y in YEARS if LAST_COW_YEAR < y <= LAST_DOTS_YEAR]
        has_cow = cw.notna().any(axis=1)
        base.loc[has_cow, later] = dw.loc[has_cow, later].add(gap[has_cow], axis=0).clip(0, 1)
        flag.loc[has_cow, later] = np.where(dw.loc[has_cow, later].notna(), "dots_adj", "")
        base.loc[~has_cow] = dw.loc[~has_cow]
        flag.loc[~has_cow] = np.where(dw.loc[~has_cow].notna(), "dots", "")
        span = [y for y in YEARS if y <= LAST_DOTS_YEAR]
        obs = base[span]
        vals, fills = fill_within(obs)
        flag = flag[span].where(flag[span] != "", fills)
        years = pd.DataFrame({iso: _source_year(obs.loc[iso]) for iso in isos}).T
        med = obs.groupby(sub).median().reindex(sub.to_numpy())
        med.index = isos
        hole = vals.isna()  # no value even after the within-state fill (held-out rule)
        vals = vals.where(~hole, med)
        flag = flag.where(~hole, "subregion_median")
        years = years.where(~hole, pd.DataFrame([span] * len(isos), index=isos, columns=span))
        vals = vals.reindex(columns=YEARS)
        flag = flag.reindex(columns=YEARS)
        years = years.reindex(columns=YEARS)
        vals, flag = _carry(vals, flag, LAST_DOTS_YEAR, "carried")
        years, _ = _carry(years, flag.copy(), LAST_DOTS_YEAR, "carried")
        out[name] = (vals, flag, years)
    sco, west = out["trade_sco"][0], out["trade_west"][0]
    total = (sco + west).clip(lower=1.0)
    sco, west = sco / total, west / total
    flags, years = out["trade_sco"][1], out["trade_sco"][2]
    return pd.concat([to_long(sco, "trade_sco"), to_long(west, "trade_west"),
                      to_long(flags, "trade_src"), to_long(years.astype(int), "trade_year")], axis=1)


def _source_year(s: pd.Series) -> pd.Series:
    """Year each value of a filled series comes from (own year if inside, else nearest)."""
    inner = s.interpolate(method="index", limit_area="inside")
    own = pd.Series(s.index, index=s.index, dtype=float)
    return own.where(inner.notna()).ffill().bfill()


# --------------------------------------------------------------------------
# Security indices
# --------------------------------------------------------------------------

def squash(score: pd.Series) -> pd.Series:
    """Map a non-negative tie score smoothly onto [0, 1): 1 - exp(-score)."""
    return 1.0 - np.exp(-score.clip(lower=0.0))


def security_indices(sec: pd.DataFrame, drivers: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """sec_sco and sec_west from memberships, pacts, arms-import shares and US troops.

    ``sec`` is build_world's security frame indexed by (iso3, year); ``drivers`` the
    drivers table. China and Russia keep sec_sco = 1 and the USA sec_west = 1 (the poles).
    """
    d = drivers.set_index(["iso3", "year"]).reindex(sec.index)
    st = sec.sco_status
    ws, ww = SEC_SCO_WEIGHTS, SEC_WEST_WEIGHTS
    s_score = (ws["csto"] * sec.csto + ws["sco_member"] * (st == "member")
               + ws["sco_observer"] * (st == "observer")
               + ws["sco_partner"] * (st == "dialogue_partner")
               + ws["ru_pact"] * sec.ru_pact + ws["cn_pact"] * sec.cn_pact
               + ws["arms"] * (d.arms_share_rus + d.arms_share_chn))
    troops = (np.log10(1.0 + d.us_troops) / np.log10(1.0 + TROOPS_FULL)).clip(0.0, 1.0)
    w_score = (ww["nato"] * sec.nato + ww["us_pact"] * sec.us_pact + ww["eu"] * sec.eu
               + ww["arms"] * d.arms_share_west + ww["troops"] * troops)
    sec_sco, sec_west = squash(s_score.astype(float)), squash(w_score.astype(float))
    iso = sec.index.get_level_values("iso3")
    sec_west[iso == "USA"] = 1.0
    sec_sco[iso.isin(["CHN", "RUS"])] = 1.0
    return sec_sco, sec_west


# --------------------------------------------------------------------------
# Stable scales
# --------------------------------------------------------------------------

def stable_constant(stats: pd.DataFrame) -> float:
    """The one scale constant: mean over years <= 2014 of (E_y - W_y) / 2."""
    s = stats.loc[stats.index <= LAST_TRAIN_YEAR]
    return float(((s.E - s.W) / 2).mean())


def stable_alignment(smooth: pd.DataFrame, stats: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """(x - m_y) / K clipped to [-1, 1], with K = stable_constant(stats)."""
    k = stable_constant(stats)
    return ((smooth - stats.m) / k).clip(-1.0, 1.0), k


def ideal_scale(ideal: pd.DataFrame, isos: list[str], fill_within):
    """Raw ideal points (sign: + = China/Russia side) and one affine map onto [-1, 1].

    The map is fitted on years <= 2014 only: centre c = median of all state-years, unit
    k = mean over those years of (m_y - W_y), the distance from the year's median state down to
    the mean of USA, GBR and FRA (so the P3 average sits near -1 and the same unit applies above
    the median). (E - W)/2, the stable alignment's choice, would clip a quarter of the cells at
    -1 here, because the ideal points spread the Western states widely. Returns long
    ideal_point, alignment_ideal, alignment_ideal_src and (c, k).
    """
    ip = ideal[ideal.iso3.isin(isos)].assign(ip=lambda t: -t.idealpointfp)
    wide = to_wide(ip, "ip", isos)
    train = wide.loc[:, [y for y in YEARS if y <= LAST_TRAIN_YEAR]]
    c = float(np.nanmedian(train.to_numpy()))
    w = train.reindex(["USA", "GBR", "FRA"]).mean()
    k = float((train.median() - w).mean())
    mapped = ((wide - c) / k).clip(-1.0, 1.0)
    vals, flags = fill_within(mapped)
    flags = flags.replace("", "voeten")
    return pd.concat([to_long(wide, "ideal_point"), to_long(vals, "alignment_ideal"),
                      to_long(flags, "alignment_ideal_src")], axis=1), (c, k)


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def report(panel: pd.DataFrame, drivers: pd.DataFrame, stats: pd.DataFrame) -> None:
    """Print the scale constants, the COW/DOTS comparison, the security and driver figures."""
    c, k = stats.attrs["ideal_map"]
    print(f"\nstable alignment: K = mean 2000-2014 of (E - W)/2 = {stats.attrs['K']:.4f}")
    print(f"ideal-point map (fitted on <= 2014): centre {c:.4f}, unit {k:.4f}")
    for col in ["alignment", "alignment_stretched", "alignment_ideal"]:
        w = panel.pivot(index="iso3", columns="year", values=col)
        print(f"  {col}: cells at -1 {int((w <= -1).sum().sum())}, at +1 {int((w >= 1).sum().sum())}; "
              f"s.d. of the 2014 -> 2024 change {(w[2024] - w[2014]).std():.3f}; "
              f"median {w[2014].median():+.3f} (2014), {w[2024].median():+.3f} (2024)")
    for name, r in stats.attrs["trade_cmp"].items():
        print(f"COW vs DOTS 2000-2014, trade_{name}: n {r['n']}, correlation {r['corr']:.3f}, "
              f"mean COW - DOTS {r['mean_diff']:+.4f}, mean |diff| {r['mad']:.4f}; correlation "
              f"of first-to-last-year changes {r['change_corr']:.3f} ({r['n_states']} states)")
    print(f"  trade_src: {panel.trade_src.value_counts().to_dict()}")
    for y in [2014, 2024]:
        p = panel[panel.year == y]
        mem = p[p.sco_status == "member"]
        print(f"{y}: SCO members {len(mem)}, sec_sco >= 0.99: {(mem.sec_sco >= 0.99).sum()} "
              f"(excluding CHN, RUS: {((mem.sec_sco >= 0.99) & ~mem.iso3.isin(['CHN', 'RUS'])).sum()});"
              f" members' sec_sco {mem.set_index('iso3').sec_sco.round(2).to_dict()}")
        for col in ["sec_sco", "sec_west"]:
            q = p[col].quantile([0.1, 0.25, 0.5, 0.75, 0.9]).round(3).tolist()
            print(f"  {col} deciles/quartiles 10,25,50,75,90%: {q}; >= 0.99: {(p[col] >= 0.99).sum()}")
    print("drivers flags:")
    for col in [c for c in drivers.columns if c.endswith("_src")]:
        print(f"  {col}: {drivers[col].value_counts().to_dict()}")
