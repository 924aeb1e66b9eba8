"""What "intensity 1" of a lever means: historically plausible yearly rises of its observable.

Issue 10, item 3: a lever at full effective effort changes an observable (an arms-import share,
a trade share, the V-Dem index) by a stated, historically plausible amount. This script measures
that amount on the shipped world (``model/data/panel.csv``, ``drivers.csv``), **years up to 2014
only** (the same discipline as ``tools/estimate.py``: 2015-2024 are the hindcast's test years),
and writes ``model/data/lever_units.csv``, from which every channel rate in
``model/core/levers.py`` is set (``tests/core/test_levers.py`` checks each rate against it).

The measure, per observable (documented in ``docs/model.md`` section 7 and
``model/data/README.md``):

* every state and 5-year window t..t+5 with t + 5 <= 2014 whose both ends are observed
  (not interpolated or carried), the mean yearly change over the window, in the unit the
  lever's rate acts on (the share itself for arms imports; a share of the room left, the
  unaligned trade share or ``1 - g``, at the start of the window, for trade and governance);
* minus the median over states of the same window (the common drift, e.g. every state's trade
  with China rising in 2000-2014, is what happens without any programme);
* the 90th percentile over all state-windows: a rise that one state-window in ten exceeded.
  The quantile is a convention (a judgement): the 75th and 95th are in the table as the range
  for sensitivity runs.

A channel rate is then ``rate_factor`` times the quantile: 0.8 for the security channels (the
index is ``1 - exp(-score)`` with weight 0.8 on the arms-import share, ``tools/world_drivers.py``,
so filling the share ``rho`` of the room a year is a rise of the share by ``rho / 0.8`` a year), 1
for trade and governance (their measure is already a share of the room). Two reference rows
(Chinese development finance and Western aid per recipient-year, in US$ bn) set no rate; they
put each lever's ``half_budget_bn`` beside the flows history knows.

    python tools/lever_units.py             # writes model/data/lever_units.csv, prints the table
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
try:
    from estimate import DATA, LAST_FIT_YEAR, read_world, write_csv
finally:
    sys.path.pop(0)

HORIZON = 5  # years per window: a programme is sustained; the estimates use 5-year windows too
QUANTILES = (0.75, 0.90, 0.95)  # 0.90 sets the rates (convention); 0.75 and 0.95 for sensitivity
ARMS_WEIGHT = 0.8  # tools/world_drivers.py: weight of an arms-import share in the security score
COLUMNS = ["key", "channel", "observable", "measure", "unit", "n_obs", "n_states", "years",
           "q75", "q90", "q95", "rate_factor", "rate_q75", "rate_q90", "rate_q95"]


@dataclass(frozen=True)
class Observable:
    """One observable a lever's channel changes, and how its yearly rise is measured."""

    key: str
    channel: str  # the model's channel (``dynamics.CHANNELS``) whose rate it sets
    columns: tuple[str, ...]  # summed to make the observable
    flag: tuple[str, str]  # (source-flag column, value of an observed cell)
    room: str | None  # None: the share itself; "trade": 1 - both trade shares; "governance": 1 - g
    rate_factor: float
    doc: str


OBSERVABLES = (
    Observable("arms_sco", "s_sco", ("arms_share_rus", "arms_share_chn"), ("arms_src", "sipri"),
               None, ARMS_WEIGHT, "arms-import share from Russia + China (SIPRI, trailing 5 years)"),
    Observable("arms_west", "s_west", ("arms_share_west",), ("arms_src", "sipri"), None,
               ARMS_WEIGHT, "arms-import share from the USA + EU + UK (SIPRI, trailing 5 years)"),
    Observable("trade_sco", "e_sco", ("trade_sco",), ("trade_src", "cow"), "trade", 1.0,
               "trade share with China + Russia (COW)"),
    Observable("trade_west", "e_west", ("trade_west",), ("trade_src", "cow"), "trade", 1.0,
               "trade share with the USA + EU (COW)"),
    Observable("regime", "governance", ("regime",), ("regime_src", "vdem"), "governance", 1.0,
               "V-Dem electoral democracy index"),
)
MEASURE = "5-year mean yearly rise minus the window's median, quantile over state-windows"
UNITS = {None: "share per year", "trade": "share of the unaligned trade share per year",
         "governance": "share of 1 - g per year"}


def load_years(panel: pd.DataFrame, drivers: pd.DataFrame) -> pd.DataFrame:
    """Panel and drivers merged, years <= 2014 only (filtered before any other column is read)."""
    panel = panel[panel["year"] <= LAST_FIT_YEAR]
    drivers = drivers[drivers["year"] <= LAST_FIT_YEAR]
    keep = ["iso3", "year", "regime", "regime_src", "trade_sco", "trade_west", "trade_src"]
    t = panel[keep].merge(drivers, on=["iso3", "year"], how="inner")
    assert t["year"].max() <= LAST_FIT_YEAR
    return t.sort_values(["iso3", "year"], ignore_index=True)


def wide(t: pd.DataFrame, column: str) -> pd.DataFrame:
    """A states x years table of one column."""
    return t.pivot(index="iso3", columns="year", values=column)


def window_rises(t: pd.DataFrame, obs: Observable, horizon: int = HORIZON) -> np.ndarray:
    """(states, start years) mean yearly rise over each window, NaN where an end is unobserved.

    For arms shares only states that imported arms at both ends count (the share is defined).
    """
    value = sum(wide(t, c) for c in obs.columns)
    seen = wide(t, obs.flag[0]) == obs.flag[1]
    if obs.key.startswith("arms"):
        seen &= wide(t, "arms_tiv_total") > 0
    if obs.room == "trade":
        room = 1.0 - wide(t, "trade_sco") - wide(t, "trade_west")
    elif obs.room == "governance":
        room = 1.0 - wide(t, "regime")
    else:
        room = value * 0.0 + 1.0
    v, r, s = (x.to_numpy(dtype=float) for x in (value, room, seen))
    h = horizon
    ok = (s[:, h:] > 0) & (s[:, :-h] > 0) & (r[:, :-h] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rise = (v[:, h:] - v[:, :-h]) / h / r[:, :-h]
    return np.where(ok, rise, np.nan)


def measure(t: pd.DataFrame, obs: Observable) -> dict:
    """The row of the table for one observable: detrended quantiles and the rates they give."""
    rise = window_rises(t, obs)
    drift = np.nanmedian(np.where(np.isnan(rise).all(axis=0), 0.0, rise), axis=0)
    rel = rise - drift
    used = ~np.isnan(rel)
    starts = np.array(sorted(t["year"].unique()))[: rel.shape[1]][used.any(axis=0)]
    q = np.quantile(rel[used], QUANTILES)
    row = {"key": obs.key, "channel": obs.channel, "observable": obs.doc, "measure": MEASURE,
           "unit": UNITS[obs.room], "n_obs": int(used.sum()), "n_states": int(used.any(axis=1).sum()),
           "years": f"{starts.min()}-{starts.max() + HORIZON}", "rate_factor": obs.rate_factor}
    for name, v in zip(("q75", "q90", "q95"), q, strict=True):
        row[name] = float(v)
        row[f"rate_{name}"] = float(v * obs.rate_factor)
    return row


def finance_row(t: pd.DataFrame, key: str, column: str, flag: str, doc: str) -> dict:
    """A reference row: quantiles of a yearly flow to recipient-years (US$ bn), no rate."""
    seen = t[(t[column.replace("_musd", "_src")] == flag) & (t[column] > 0)]
    q = np.quantile(seen[column].to_numpy(dtype=float) / 1000.0, QUANTILES)
    return {"key": key, "channel": "", "observable": doc,
            "measure": "yearly flow to a recipient with a positive flow, quantile over recipient-years",
            "unit": "US$ bn per year", "n_obs": len(seen), "n_states": seen["iso3"].nunique(),
            "years": f"{seen['year'].min()}-{seen['year'].max()}", "rate_factor": np.nan,
            "q75": q[0], "q90": q[1], "q95": q[2], "rate_q75": np.nan, "rate_q90": np.nan,
            "rate_q95": np.nan}


def lever_units(panel: pd.DataFrame, drivers: pd.DataFrame) -> pd.DataFrame:
    """The whole table, one row per observable plus the two finance references."""
    t = load_years(panel, drivers)
    rows = [measure(t, obs) for obs in OBSERVABLES]
    rows.append(finance_row(t, "cn_finance", "cn_finance_musd", "aiddata",
                            "Chinese official development finance committed (AidData, constant 2021 US$)"))
    rows.append(finance_row(t, "west_aid", "west_aid_musd", "oecd_dac",
                            "net ODA from the USA + EU + UK (OECD DAC, constant 2022 US$)"))
    return pd.DataFrame(rows)[COLUMNS]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DATA / "lever_units.csv")
    args = ap.parse_args(argv)
    table = lever_units(*read_world())
    write_csv(table, args.out)
    print(f"wrote {args.out} ({len(table)} rows)\n")
    show = table[["key", "channel", "n_obs", "n_states", "years", "q75", "q90", "q95", "rate_q90"]]
    print(show.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
