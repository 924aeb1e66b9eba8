"""Fit what the history up to 2014 can tell about inertia and shocks; read nothing later.

A pooled AR(1) on each state's alignment around its own 2000-2014 mean,
``x_t = rho x_{t-1} + e_t``, using only state-years observed in UN votes (not imputed), gives
the yearly pull back to a state's disposition, ``inertia = -ln(rho)``, and the spread of yearly
moves. The model's shock moves a state by about ``shock_sd * eps * (1 - a**2) / 2`` a year, so
the residual spread divided by the mean of ``(1 - a**2) / 2`` is the shock size that would
reproduce it (the robust spread, 1.4826 x the median absolute deviation, discounts the rare
large jumps of a changed agenda or a thin voting year). Part of that spread is the General
Assembly's changing agenda (measurement, not movement): docs/model.md says how the defaults use
these figures.

    python tools/calibrate.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

PANEL = Path(__file__).resolve().parent.parent / "model" / "data" / "panel.csv"
LAST_FIT_YEAR = 2014  # 2015-2024 are held out for the hindcast


def fit(panel: pd.DataFrame) -> dict[str, float]:
    """Inertia, residual spread and the implied shock size from years <= 2014."""
    panel = panel[panel["year"] <= LAST_FIT_YEAR]
    assert panel["year"].max() <= LAST_FIT_YEAR
    a = panel.pivot(index="iso3", columns="year", values="alignment")
    observed = panel.pivot(index="iso3", columns="year", values="alignment_src") == "unga"
    x = a.sub(a.mean(axis=1), axis=0)
    prev, cur = x.iloc[:, :-1].to_numpy(), x.iloc[:, 1:].to_numpy()
    ok = (observed.iloc[:, :-1].to_numpy() & observed.iloc[:, 1:].to_numpy()).ravel()
    prev, cur = prev.ravel()[ok], cur.ravel()[ok]
    rho = float(np.dot(prev, cur) / np.dot(prev, prev))
    resid = cur - rho * prev
    level = a.iloc[:, :-1].to_numpy().ravel()[ok]
    room = float(np.mean((1 - level**2) / 2))
    robust_sd = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
    return {"state_years": int(ok.sum()), "rho": rho, "inertia": -np.log(rho),
            "residual_sd": float(resid.std()), "residual_sd_robust": robust_sd,
            "mean_room": room, "implied_shock_sd": float(resid.std() / room),
            "implied_shock_sd_robust": robust_sd / room,
            "median_abs_change": float(np.median(np.abs(cur - prev)))}


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # --help, no options
    result = fit(pd.read_csv(PANEL))
    print(f"pooled AR(1) on {result['state_years']} observed state-years, 2000-{LAST_FIT_YEAR}:")
    for key in ("rho", "inertia", "residual_sd", "residual_sd_robust", "mean_room",
                "implied_shock_sd", "implied_shock_sd_robust", "median_abs_change"):
        print(f"  {key:18} {result[key]:.4f}")


if __name__ == "__main__":
    main()
