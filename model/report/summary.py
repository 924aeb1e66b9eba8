"""The short text summary ``blocsim run`` prints: camps at the start and the end, top movers.

Imports the config layer only (and numpy, pandas).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config.scenario import Scenario


def _count(median: float) -> str:
    """A median count of states: whole, or with one decimal (78.5) between two runs' counts."""
    return f"{median:.0f}" if float(median).is_integer() else f"{median:.1f}"


def summary_table(scenario: Scenario, blocs: pd.DataFrame, traj: pd.DataFrame, top: int = 5) -> str:
    """A short text summary: camps at the start and the end, and the states that moved most.

    The camps are the median over runs, the statistic the bloc-share plots draw (as the line in
    their bands), so the summary and ``plots/bloc_shares.png`` give the same numbers. The states
    that moved most are ranked by the mean change over runs, as in ``plots/attribution.png``
    and the world heatmap (a mean, because the drivers' mean contributions add up to it).
    """
    first, last = blocs["year"].min(), blocs["year"].max()
    median = blocs.groupby("year").median(numeric_only=True)
    lines = [f"{scenario.name}: {first}-{last}, {blocs['run'].nunique()} run(s); camps by "
             f"|alignment| > {scenario.parameters.lean_threshold} (median over runs, as in the plots)",
             f"{'':12}{'states':>22}{'GDP share':>24}{'SCO':>6}",
             f"{'year':12}{'SCO  non-al.  West':>22}{'SCO  non-al.  West':>24}{'mem.':>6}"]
    for y in (first, last):
        r = median.loc[y]
        lines.append(f"{y!s:12}{_count(r.states_sco):>6}{_count(r.states_nonaligned):>8}"
                     f"{_count(r.states_west):>7}"
                     f"{r.gdp_share_sco:9.1%}{r.gdp_share_nonaligned:8.1%}{r.gdp_share_west:7.1%}"
                     f"{r.sco_members:6.1f}")
    a = traj.pivot_table(index="iso3", columns="year", values="alignment", aggfunc="mean")
    change = (a[last] - a[first]).sort_values(key=np.abs, ascending=False).head(top)
    contrib_cols = [c for c in traj.columns if c.startswith("c_")]
    total = traj.groupby("iso3")[contrib_cols].sum() / traj["run"].nunique()
    lines.append(f"States that moved most (mean change {first}-{last} over runs; the driver that "
                 f"pushed most in that direction):")
    for iso, d in change.items():
        drivers = total.loc[iso]
        main = (drivers * np.sign(d)).idxmax()
        lines.append(f"  {iso}  {a.loc[iso, first]:+.3f} -> {a.loc[iso, last]:+.3f}  "
                     f"({d:+.3f}; {main[2:]} {drivers[main]:+.3f})")
    return "\n".join(lines)
