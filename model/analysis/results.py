"""A batch folder read back: its outcomes, states and blocs tables, manifest and run order.

Imports base, data, core, config, run and analysis only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..base.errors import ScenarioError
from ..data.world import DATA

#: Columns every outcomes table must have (besides one column per outcome).
RUN_COLUMNS = ("run_id", "scenario", "strategy", "point", "replication", "status")


#: A pair of runs is the same scenario, sweep point and replication under two strategies.
PAIR_KEYS = ["scenario", "point", "replication"]


DESIGNS = ("none", "factorial", "lhs", "morris", "sobol")


@dataclass
class Batch:
    """A batch folder read into memory: its tables (all parts, sorted by run) and its manifest.

    ``states`` and ``blocs`` are empty frames when the batch recorded none; the optional, large
    ``trajectories`` table is not read.
    """

    outcomes: pd.DataFrame
    states: pd.DataFrame
    blocs: pd.DataFrame
    manifest: dict
    path: Path = field(default_factory=Path)
    manifest_sha256: str = ""


def _read_parts(folder: Path) -> pd.DataFrame | None:
    """All ``part-*.parquet`` files of a table, concatenated in name order; None if there are none.

    Read and joined as Arrow tables, converted to pandas once (parts whose columns differ in type
    are joined by pandas instead, which widens them).
    """
    files = sorted(folder.glob("part-*.parquet"))
    if not files:
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..run.store import read_part

    tables = []
    for f in files:
        try:
            tables.append(pq.read_table(f, use_threads=False))
        except Exception:  # pyarrow raises several types for a damaged file: one line naming it
            read_part(f)
            raise
    tables = [t for t in tables if t.num_rows] or tables[:1]
    try:
        frame = pa.concat_tables(tables).to_pandas(use_threads=False)
    except pa.ArrowInvalid:  # the parts' column types differ
        frame = pd.concat([t.to_pandas() for t in tables], ignore_index=True)
    return frame


def load_batch(path: str | Path) -> Batch:
    """Read a batch output folder: manifest, outcomes, states and blocs.

    Args:
        path: the batch folder (holding ``manifest.json`` and ``outcomes/part-*.parquet``).

    Returns:
        The tables sorted by ``run_id`` (states and blocs keep their order within a run).

    Raises:
        ScenarioError: the folder, its manifest or its outcome parts are missing or unreadable,
            or a run appears twice.
    """
    path = Path(path)
    if not path.is_dir():
        raise ScenarioError(f"batch folder not found: {path}")
    mpath = path / "manifest.json"
    if not mpath.is_file():
        raise ScenarioError(f"{path} holds no manifest.json: not a batch folder (run 'blocsim batch' first)")
    from ..run.store import read_manifest, verify_parts

    raw = mpath.read_bytes()
    manifest = read_manifest(mpath)
    verify_parts(path, ("outcomes", "states", "blocs"))  # a part changed since it was written
    outcomes = _read_parts(path / "outcomes")
    if outcomes is None or outcomes.empty:
        raise ScenarioError(f"no finished runs in {path / 'outcomes'} (no part-*.parquet files); "
                            f"has the batch run?")
    missing = [c for c in RUN_COLUMNS if c not in outcomes.columns]
    if missing:
        raise ScenarioError(f"{path / 'outcomes'}: missing columns {', '.join(missing)}")
    dup = outcomes["run_id"].duplicated()
    if dup.any():
        raise ScenarioError(f"{path / 'outcomes'}: run ids recorded twice: "
                            f"{', '.join(map(str, outcomes.loc[dup, 'run_id'].unique()[:5]))}")
    outcomes = outcomes.sort_values("run_id", kind="stable", ignore_index=True)
    for col in ("scenario", "strategy", "status"):
        outcomes[col] = outcomes[col].astype(str)
    states = _read_parts(path / "states")
    if states is None or "end_camp" not in states.columns:
        states = pd.DataFrame(columns=["run_id", "iso3", "end_alignment", "end_camp"])
    blocs = _read_parts(path / "blocs")
    if blocs is None or "year" not in blocs.columns:
        blocs = pd.DataFrame(columns=["run_id", "year"])
    states = states.sort_values("run_id", kind="stable", ignore_index=True)
    blocs = blocs.sort_values(["run_id", "year"], kind="stable", ignore_index=True)
    return Batch(outcomes, states, blocs, manifest, path, hashlib.sha256(raw).hexdigest())


def ok_runs(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished (status 'ok'); failed runs have no outcomes."""
    return outcomes[outcomes["status"] == "ok"]


def scenario_order(outcomes: pd.DataFrame) -> list[str]:
    """Scenarios in the order of their first run (the experiment file's order)."""
    return list(dict.fromkeys(outcomes.sort_values("run_id", kind="stable")["scenario"]))


def strategy_order(strategies, reference: str | None = None) -> list[str]:
    """Strategy names sorted, with the reference (if any) first."""
    names = sorted(set(strategies))
    if reference in names:
        names.remove(reference)
        names.insert(0, reference)
    return names


def sort_rows(df: pd.DataFrame, outcomes: pd.DataFrame, reference: str | None = None,
            names: list[str] | None = None, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows in scenario (batch) order, then strategy order, then outcome order, then ``extra``."""
    keys, cats = [], {}
    if "scenario" in df:
        cats["scenario"] = scenario_order(outcomes)
    if "strategy" in df:
        cats["strategy"] = strategy_order(outcomes["strategy"], reference)
    if "outcome" in df and names is not None:
        cats["outcome"] = list(names)
    tmp = df.copy()
    for col, order in cats.items():
        tmp[f"_{col}"] = pd.Categorical(tmp[col], order, ordered=True)
        keys.append(f"_{col}")
    keys += list(extra)
    if keys:
        tmp = tmp.sort_values(keys, kind="stable")
    return tmp.drop(columns=[f"_{c}" for c in cats]).reset_index(drop=True)


def state_names() -> dict[str, str]:
    """Names of the built-in world's states by ISO3 code (for labels)."""
    path = DATA / "states.csv"
    if not path.is_file():
        return {}
    table = pd.read_csv(path, usecols=["iso3", "name"])
    return dict(zip(table["iso3"], table["name"], strict=True))
