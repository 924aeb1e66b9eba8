"""Tidy tables from recorded runs: trajectories, blocs and status changes, and their CSV form.

``trajectories.csv`` has one row per run, year and state; ``blocs.csv`` one row per run and
year; ``status_changes.csv`` one row per change of SCO status. Imports base, data and core only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from model import __version__

from ..core.blocs import CAMPS, bloc_series, camp_of
from ..core.dynamics import CHANNELS
from ..core.record import DRIVERS, RunResult  # not simulation: reading tables needs no Mesa
from ..core.seeds import SEED_RULE
from ..data.world import SCO_STATUSES
from . import csvtext

if TYPE_CHECKING:
    import pandas as pd

CONTRIB_COLUMNS = tuple(f"c_{d}" for d in DRIVERS)
STATUS_COLUMNS = ("run", "year", "iso3", "from_status", "to_status", "cause")
FLOAT_FORMAT = "%.6g"


class RunTables:
    """A run's three tables as numpy columns, written without pandas; frames made when asked for.

    ``blocsim run --no-plots`` writes the CSVs straight from the columns, so pandas (half a
    second of imports) is loaded only by whoever reads ``frame``.
    """

    def __init__(self, results: Sequence[RunResult], names: dict[str, str] | None, threshold: float):
        self.columns = {"trajectories": trajectories_columns(results, names, threshold),
                        "blocs": blocs_columns(results, threshold)}
        self.status_rows = status_rows(results)
        self._frames: dict[str, pd.DataFrame] = {}
        self._arrays: dict[str, dict[str, np.ndarray]] = {}

    def frame(self, name: str) -> pd.DataFrame:
        """``trajectories``, ``blocs`` or ``status_changes`` as a DataFrame (made once)."""
        if name not in self._frames:
            import pandas as pd

            self._frames[name] = (pd.DataFrame(list(self.status_rows), columns=list(STATUS_COLUMNS))
                                  if name == "status_changes" else pd.DataFrame(self.arrays(name)))
        return self._frames[name]

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """``trajectories`` or ``blocs`` as numpy columns by name (text expanded; made once).

        What the run's figures and summary read (``report.run_data``), without pandas.
        """
        if name not in self._arrays:
            self._arrays[name] = expanded(self.columns[name])
        return self._arrays[name]

    def csv(self, name: str) -> str:
        """The table's CSV text: the bytes ``write_csv(frame(name))`` writes."""
        return self.csv_bytes(name).decode("utf-8")

    def csv_bytes(self, name: str) -> bytes:
        """``csv(name)`` as the UTF-8 bytes written to the file (not decoded and encoded again)."""
        if name == "status_changes":
            rows = self.status_rows
            if not rows:  # what pandas writes for an empty frame: the header alone
                return (",".join(STATUS_COLUMNS) + "\n").encode()
            data = columns_csv_bytes({c: _column([row[j] for row in rows])
                                      for j, c in enumerate(STATUS_COLUMNS)})
        else:
            data = columns_csv_bytes(self.columns[name])
        return data if data is not None else csv_text(self.frame(name)).encode("utf-8")


class Coded(tuple):
    """A text column kept as ``(table, codes)``: cell ``i`` is ``table[codes[i]]``.

    The CSV is written from the codes (each text formatted once, no sorting of 200,000 strings);
    ``expand`` gives the numpy column a DataFrame is built from.
    """

    __slots__ = ()

    def __new__(cls, table: np.ndarray, codes: np.ndarray):  # noqa: D102
        return super().__new__(cls, (table, codes))

    def __getnewargs__(self):
        return tuple(self)

    def expand(self) -> np.ndarray:
        """The column as one numpy array (the table's dtype)."""
        return self[0][self[1]]


def expanded(columns: dict[str, np.ndarray | Coded]) -> dict[str, np.ndarray]:
    """The columns with every ``Coded`` text column expanded (what a DataFrame is built from)."""
    return {k: v.expand() if isinstance(v, Coded) else v for k, v in columns.items()}


def trajectories_columns(results: Sequence[RunResult], names: dict[str, str] | None = None,
                         threshold: float = 0.25) -> dict[str, np.ndarray | Coded]:
    """One row per run, year and state: alignment, camp, structure, status, contributions.

    Text columns (state, name, camp, status) are ``Coded``; ``expanded`` makes them arrays.
    """
    if not results:
        raise ValueError("No objects to concatenate")  # as pd.concat([]) says

    def joined(part) -> np.ndarray:
        return np.concatenate([part(r) for r in results])

    first = np.asarray(results[0].iso3)
    if all(np.array_equal(r.iso3, first) for r in results):  # one world: states by position
        iso3 = Coded(first, joined(lambda r: np.tile(np.arange(len(first)), r.alignment.shape[0])))
    else:
        iso3 = Coded(*_codes(joined(lambda r: np.tile(r.iso3, r.alignment.shape[0])))[::-1])
    cols: dict[str, np.ndarray | Coded] = {
        "run": np.concatenate([np.full(r.alignment.size, run, dtype=np.int32)
                               for run, r in enumerate(results)]),
        "year": joined(lambda r: np.repeat(_years(r.times), r.alignment.shape[1])),
        "iso3": iso3,
    }
    if names:
        mapped = [names.get(c) for c in iso3[0].tolist()]
        cols["name"] = Coded(np.array(mapped, dtype=object if None in mapped else str), iso3[1])
    cols["alignment"] = joined(lambda r: r.alignment.ravel())
    cols["camp"] = Coded(np.asarray(CAMPS), joined(lambda r: camp_of(r.alignment, threshold).ravel()))
    for c, name in enumerate(CHANNELS):  # e_sco, e_west, s_sco, s_west, governance
        cols[name] = joined(lambda r, c=c: r.structure[:, c, :].ravel())
    cols["sco_status"] = Coded(np.asarray(SCO_STATUSES), joined(lambda r: r.status.ravel()))
    for d, name in enumerate(CONTRIB_COLUMNS):
        cols[name] = joined(lambda r, d=d: r.contributions[:, d, :].ravel())
    return cols


def trajectories_frame(results: Sequence[RunResult], names: dict[str, str] | None = None,
                       threshold: float = 0.25) -> pd.DataFrame:
    """``trajectories_columns`` as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(expanded(trajectories_columns(results, names, threshold)))


def blocs_columns(results: Sequence[RunResult], threshold: float) -> dict[str, np.ndarray]:
    """Per run and year: states and shares of world GDP and population in each camp.

    Also the SCO's members and states with any status, and the mean and GDP-weighted mean
    alignment (``bloc_series``).
    """
    if not results:
        raise ValueError("No objects to concatenate")  # as pd.concat([]) says
    parts = []
    for run, r in enumerate(results):
        years = _years(r.times)
        series = bloc_series(r.alignment, r.status, r.gdp_usd, r.population, threshold)
        parts.append({"run": np.full(len(years), run, dtype=np.int64), "year": years, **series,
                      "lean_threshold": np.full(len(years), threshold)})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def blocs_frame(results: Sequence[RunResult], threshold: float) -> pd.DataFrame:
    """``blocs_columns`` as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(blocs_columns(results, threshold))


def status_rows(results: Sequence[RunResult]) -> list[tuple]:
    """One row per change of SCO status: run, year, state, from, to, and what caused it."""
    return [(run, *entry) for run, r in enumerate(results) for entry in r.status_log]


def status_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    """``status_rows`` as a DataFrame (``STATUS_COLUMNS``)."""
    import pandas as pd

    return pd.DataFrame(status_rows(results), columns=list(STATUS_COLUMNS))


def _years(times: np.ndarray) -> np.ndarray:
    """Whole years as integers; quarterly times stay fractional."""
    return times.astype(int) if np.allclose(times, np.round(times)) else np.round(times, 2)


def _column(values: list) -> np.ndarray:
    """Python values of one column as the numpy column pandas would infer (int, float or text)."""
    kinds = {type(v) for v in values}
    if kinds <= {int}:
        return np.array(values, dtype=np.int64)
    if kinds <= {int, float}:
        return np.array(values, dtype=np.float64)
    return np.array(values, dtype=object)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format, so identical runs give identical bytes."""
    write_text(csv_text(df), path)


def write_bytes(data: bytes, path: Path) -> None:
    """Bytes to a file as they are (a run's CSVs, already UTF-8)."""
    with open(path, "wb") as f:
        f.write(data)


def write_text(text: str, path: Path) -> None:
    """Text as UTF-8 with the line ends as given."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def csv_text(df: pd.DataFrame, block: int = 4096) -> str:
    """Byte for byte pandas' ``to_csv(index=False, float_format=FLOAT_FORMAT)`` (Unix line ends), faster.

    pandas formats every float through Python one value at a time; ``columns_csv`` does it in
    numpy. Frames with missing values or other column types go to pandas.
    """
    import pandas as pd

    cols: dict[str, np.ndarray | tuple] = {}
    for name in df.columns:
        if df[name].dtype.kind == "O" or isinstance(df[name].dtype, pd.StringDtype):
            codes, uniq = pd.factorize(df[name], use_na_sentinel=True)  # fast on pyarrow text
            if (codes < 0).any():
                return _pandas_csv(df)
            cols[name] = (list(uniq), codes)
        else:
            cols[name] = df[name].to_numpy()
    text = columns_csv(cols, block)
    return text if text is not None else _pandas_csv(df)


def columns_csv(columns: dict[str, np.ndarray | tuple], block: int = 4096) -> str | None:
    """``columns_csv_bytes`` as text."""
    data = columns_csv_bytes(columns, block)
    return None if data is None else data.decode("utf-8")


def columns_csv_bytes(columns: dict[str, np.ndarray | tuple], block: int = 4096) -> bytes | None:
    """The CSV pandas writes for a frame of these columns (``FLOAT_FORMAT``), or None: ask pandas.

    Floats are formatted in numpy (``csvtext.g6_bytes``, the text of ``"%.6g" % x``), integers
    and text once per distinct value; text is quoted as the csv module's QUOTE_MINIMAL quotes
    it. A text column may come as ``(distinct values, codes)``. None for missing values (NaN,
    None, empty text), text with a carriage return and other types, whose rules are pandas'.
    """
    cells = []
    for values in columns.values():
        if isinstance(values, tuple) or values.dtype.kind in "OU":
            if not isinstance(values, tuple) and values.dtype.kind == "O" and \
                    not all(isinstance(v, str) for v in set(values.tolist())):
                return None
            texts, codes = values if isinstance(values, tuple) else _codes(values)[::-1]
            if not all(isinstance(v, str) and v and "\0" not in v and "\r" not in v for v in texts):
                return None  # a lone "\r" is quoted or not by the csv module's version: pandas
            cells.append(csvtext.text_cells(_quoted(np.array(texts, dtype=object)).tolist(), codes))
        elif values.dtype.kind == "f" and not np.isnan(values).any():
            cells.append(csvtext.g6_cells(values))
        elif values.dtype.kind in "iu":
            cells.append(csvtext.python_cells(values, "%d"))
        else:
            return None
    header = ",".join(_quoted(np.array([str(c) for c in columns], dtype=object))) + "\n"
    return header.encode("utf-8") + csvtext.join_rows(cells, block)


def _codes(values: np.ndarray) -> tuple[np.ndarray, list]:
    """(codes, distinct values) of a text column (numpy text, or objects that are all str)."""
    keys = values.astype(str) if values.dtype.kind == "O" else values
    _, first, codes = np.unique(keys, return_index=True, return_inverse=True)
    return codes.ravel(), values[first]


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
