"""What a run records (``RunResult``) and the drivers it attributes change to, without Mesa.

Reading records and tables (``run.tables``, ``blocsim compare``) needs these and not the model,
so they live here and ``simulation`` re-exports them. Part of the core: imports numpy and
``levers`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .levers import LEVERS

#: Attribution sources that act through structure or directly, then the dynamic drivers.
#: Lever and sanction effects fade when they stop; events and SCO status changes are lasting
#: changes of structure (a new government, a treaty) and do not.
SOURCES = (*LEVERS, "sanctions", "events", "membership")
FADING = (*LEVERS, "sanctions")
DRIVERS = (*SOURCES, "peer", "inertia", "shock")
SRC = {s: i for i, s in enumerate(SOURCES)}


@dataclass
class RunResult:
    """What one run recorded: arrays over (time, ...) plus the labels to read them."""

    times: np.ndarray          # (T+1,) years, fractional for quarterly steps
    iso3: np.ndarray           # (n,)
    alignment: np.ndarray      # (T+1, n)
    structure: np.ndarray      # (T+1, channels, n)
    status: np.ndarray         # (T+1, n) SCO status codes
    contributions: np.ndarray  # (T+1, drivers, n); row 0 is zeros
    gdp_usd: np.ndarray        # (n,)
    population: np.ndarray     # (n,)
    status_log: list           # (year, iso3, old status, new status, source)
