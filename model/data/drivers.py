"""Observed driver histories of every state, 2000-2024, as shipped in ``drivers.csv``.

Built by ``tools/build_world.py`` from the shared source folder (SIPRI arms transfers, the Global
Sanctions Data Base, Belt and Road MoUs, AidData, OECD DAC, US troop data, Powell-Thyne coups,
REIGN and the Global Leader Ideology data); every column and flag is documented in
``model/data/README.md``. Reading them is the data layer's job; what a model does with them is
not. pandas is imported only when the table is read, so importing this module stays cheap.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DRIVERS_CSV = Path(__file__).parent / "drivers.csv"


@lru_cache(maxsize=1)
def _read() -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(DRIVERS_CSV, keep_default_na=False, na_values=[""])


def load_drivers(last_year: int | None = None) -> pd.DataFrame:
    """The drivers table, one row per (iso3, year), sorted; a fresh copy the caller may change.

    Args:
        last_year: keep only the years up to this one (e.g. a hindcast's origin), so that code
            handed the result cannot read what happened after it.
    """
    table = _read()
    if last_year is not None:
        table = table[table["year"] <= last_year]
    return table.reset_index(drop=True).copy()
