"""The terminal summary of ``blocsim run``: a median count that is not whole keeps its half."""

from __future__ import annotations

import pandas as pd

from model.config.scenario import Scenario
from model.report.summary import summary_table


def _frames():
    rows = []
    for run, (sco, non, west) in enumerate([(20, 78, 95), (21, 79, 93)]):
        for year in (2025, 2035):
            rows.append({"run": run, "year": year, "states_sco": sco, "states_nonaligned": non,
                         "states_west": west, "gdp_share_sco": 0.3, "gdp_share_nonaligned": 0.2,
                         "gdp_share_west": 0.5, "sco_members": 10})
    blocs = pd.DataFrame(rows)
    traj = pd.DataFrame([{"run": r, "year": y, "iso3": "KAZ", "alignment": 0.1 * r + (y - 2025) / 100,
                          "c_peer": 0.01, "c_trade": -0.02} for r in (0, 1) for y in (2025, 2035)])
    return blocs, traj


def test_a_median_between_two_counts_prints_its_half():
    blocs, traj = _frames()
    text = summary_table(Scenario(name="s"), blocs, traj)
    row = next(line for line in text.splitlines() if line.startswith("2035"))
    assert row.split()[1:4] == ["20.5", "78.5", "94"]
