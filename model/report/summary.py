"""The short text summary ``blocsim run`` prints: camps at the start and the end, top movers.

Tables are DataFrames or the run's numpy columns (``run.tables.RunTables.arrays``); the numbers
come from ``report.run_data``, so printing the summary loads no pandas. Imports the config
layer and report only (and numpy).
"""

from __future__ import annotations

import numpy as np

from ..config.scenario import Scenario
from .run_data import Table, column, contributions, n_runs, start_end

#: The columns of ``blocs`` the summary quotes, as medians over runs.
QUOTED = ("states_sco", "states_nonaligned", "states_west", "gdp_share_sco", "gdp_share_nonaligned",
          "gdp_share_west", "sco_members")


def _count(median: float) -> str:
    """A median count of states: whole, or with one decimal (78.5) between two runs' counts."""
    return f"{median:.0f}" if float(median).is_integer() else f"{median:.1f}"


def summary_table(scenario: Scenario, blocs: Table, traj: Table, top: int = 5) -> str:
    """A short text summary: camps at the start and the end, and the states that moved most.

    The camps are the median over runs, the statistic the bloc-share plots draw (as the line in
    their bands), so the summary and ``plots/bloc_shares.png`` give the same numbers. The states
    that moved most are ranked by the mean change over runs, as in ``plots/attribution.png``
    and the world heatmap (a mean, because the drivers' mean contributions add up to it); ties
    are broken by ISO3 code.
    """
    years = column(blocs, "year")
    first, last = years.min(), years.max()
    lines = [f"{scenario.name}: {first}-{last}, {n_runs(blocs)} run(s); camps by "
             f"|alignment| > {scenario.parameters.lean_threshold} (median over runs, as in the plots)",
             f"{'':12}{'states':>22}{'GDP share':>24}{'SCO':>6}",
             f"{'year':12}{'SCO  non-al.  West':>22}{'SCO  non-al.  West':>24}{'mem.':>6}"]
    for y in (first, last):
        r = {c: np.median(column(blocs, c)[years == y]) for c in QUOTED}
        lines.append(f"{y!s:12}{_count(r['states_sco']):>6}{_count(r['states_nonaligned']):>8}"
                     f"{_count(r['states_west']):>7}"
                     f"{r['gdp_share_sco']:9.1%}{r['gdp_share_nonaligned']:8.1%}{r['gdp_share_west']:7.1%}"
                     f"{r['sco_members']:6.1f}")
    iso, start, end = start_end(traj)
    change = end - start
    moved = np.argsort(-np.abs(change), kind="stable")[:top]
    drivers = [str(c)[2:] for c in traj if str(c).startswith("c_")]
    totals = contributions(traj, iso[moved], drivers)
    lines.append(f"States that moved most (mean change {first}-{last} over runs; the driver that "
                 f"pushed most in that direction):")
    for i, total in zip(moved, totals, strict=True):
        main = int(np.argmax(total * np.sign(change[i])))
        lines.append(f"  {iso[i]}  {start[i]:+.3f} -> {end[i]:+.3f}  "
                     f"({change[i]:+.3f}; {drivers[main]} {total[main]:+.3f})")
    return "\n".join(lines)
