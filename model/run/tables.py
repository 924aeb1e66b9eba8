"""Tidy tables from recorded runs: trajectories, blocs and status changes, and their CSV form.

``trajectories.csv`` has one row per run, year and state; ``blocs.csv`` one row per run and
year; ``status_changes.csv`` one row per change of SCO status. Imports base, data and core only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from model import __version__

from ..core.blocs import CAMPS, bloc_series, camp_of
from ..core.dynamics import CHANNELS
from ..core.record import DRIVERS, RunResult  # not simulation: reading tables needs no Mesa
from ..core.seeds import SEED_RULE
from ..data.world import SCO_STATUSES
from . import csvtext

CONTRIB_COLUMNS = tuple(f"c_{d}" for d in DRIVERS)
FLOAT_FORMAT = "%.6g"



def trajectories_frame(results: Sequence[RunResult], names: dict[str, str] | None = None,
                       threshold: float = 0.25) -> pd.DataFrame:
    """One row per run, year and state: alignment, camp, structure, status, contributions."""
    frames = []
    for run, r in enumerate(results):
        T, n = r.alignment.shape
        cols: dict[str, np.ndarray] = {
            "run": np.full(T * n, run, dtype=np.int32),
            "year": np.repeat(_years(r.times), n),
            "iso3": np.tile(r.iso3, T),
            "alignment": r.alignment.ravel(),
            "camp": np.asarray(CAMPS)[camp_of(r.alignment, threshold)].ravel(),
        }
        for c, name in enumerate(CHANNELS):  # e_sco, e_west, s_sco, s_west, governance
            cols[name] = r.structure[:, c, :].ravel()
        cols["sco_status"] = np.asarray(SCO_STATUSES)[r.status].ravel()
        for d, name in enumerate(CONTRIB_COLUMNS):
            cols[name] = r.contributions[:, d, :].ravel()
        frames.append(pd.DataFrame(cols))
    df = pd.concat(frames, ignore_index=True)
    if names:
        df.insert(3, "name", df["iso3"].map(names))
    return df



def blocs_frame(results: Sequence[RunResult], threshold: float) -> pd.DataFrame:
    """Per run and year: states and shares of world GDP and population in each camp.

    Also the SCO's members and states with any status, and the mean and GDP-weighted mean
    alignment (``bloc_series``).
    """
    frames = []
    for run, r in enumerate(results):
        series = bloc_series(r.alignment, r.status, r.gdp_usd, r.population, threshold)
        frames.append(pd.DataFrame({"run": run, "year": _years(r.times), **series,
                                    "lean_threshold": threshold}))
    return pd.concat(frames, ignore_index=True)



def status_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    """One row per change of SCO status: run, year, state, from, to, and what caused it."""
    rows = [(run, *entry) for run, r in enumerate(results) for entry in r.status_log]
    return pd.DataFrame(rows, columns=["run", "year", "iso3", "from_status", "to_status", "cause"])



def _years(times: np.ndarray) -> np.ndarray:
    """Whole years as integers; quarterly times stay fractional."""
    return times.astype(int) if np.allclose(times, np.round(times)) else np.round(times, 2)



def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format, so identical runs give identical bytes."""
    text = csv_text(df)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)



def csv_text(df: pd.DataFrame, block: int = 65_536) -> str:
    """Byte for byte pandas' ``to_csv(index=False, float_format=FLOAT_FORMAT)`` (Unix line ends), ~20x faster.

    pandas formats every float through Python one value at a time. Here floats are formatted in
    numpy (``csvtext.g6_bytes``, the same text as ``"%.6g" % x``), integers and text once per
    distinct value, and text is quoted as the csv module's QUOTE_MINIMAL quotes it. Frames with
    missing values or other column types go to pandas.
    """
    cols = []
    for name in df.columns:
        values = df[name].to_numpy()
        kind = values.dtype.kind
        if kind == "f" and not np.isnan(values).any():
            cols.append(csvtext.g6_bytes(values))
        elif kind in "iu":
            cols.append(csvtext.python_bytes(values, "%d"))
        elif kind == "O" or isinstance(df[name].dtype, pd.StringDtype):
            codes, uniq = pd.factorize(df[name], use_na_sentinel=True)
            texts = list(uniq)
            if (codes < 0).any() or not all(isinstance(v, str) and v and "\0" not in v for v in texts):
                return _pandas_csv(df)  # missing or empty text: pandas' rules
            cols.append(csvtext.text_bytes(_quoted(np.array(texts, dtype=object)).tolist(), codes))
        else:
            return _pandas_csv(df)
    header = ",".join(_quoted(np.array([str(c) for c in df.columns], dtype=object))) + "\n"
    return header + csvtext.join_rows(cols, block).decode("utf-8")



def _quoted(values: np.ndarray) -> np.ndarray:
    """Text quoted where the csv module (QUOTE_MINIMAL) quotes it: around , " or a line break."""
    special = {v for v in set(values.tolist()) if any(c in v for c in ',"\n\r')}
    if not special:
        return values
    quote = {v: '"' + v.replace('"', '""') + '"' for v in special}
    return np.array([quote.get(v, v) for v in values.tolist()], dtype=object)



def _pandas_csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")



def resolved_yaml(scenario, seeds: Sequence[int]) -> str:
    """The scenario with every default filled in, the seeds and the version: enough to rerun."""
    doc = scenario.model_dump(mode="json")
    doc["provenance"] = {"package": "blocsim", "version": __version__, "root_seed": scenario.seed,
                         "replication_seeds": [int(s) for s in seeds],
                         "seed_rule": SEED_RULE}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
