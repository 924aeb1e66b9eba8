"""A chunk of runs computed in a worker: its tables as Parquet bytes, failed runs recorded.

Imports base, data, core, config and run only (pyarrow lazily, in the worker).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.blocs import CAMPS, bloc_series, camp_of
from ..core.outcomes import OUTCOMES, first_year_in_camp, run_outcomes
from ..data.world import SCO_STATUSES
from .design import Cell, Chunk
from .store import TABLES


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to run one chunk, as plain data (picklable, no open files)."""

    chunk: Chunk
    cell: Cell
    swept: tuple[str, ...]
    swing_group: tuple[str, ...]
    keep_trajectories: bool



def run_chunk(task: ChunkTask) -> dict[str, bytes]:
    """Run a chunk's runs and return each table as Parquet bytes (in a worker process)."""
    import pyarrow as pa

    from ..config.build import model_from_scenario
    from ..config.checks import prepare_world
    from ..config.scenario import Scenario

    scenario = Scenario.model_validate(task.cell.resolved)
    world = prepare_world(scenario)
    swing = world.mask(list(task.swing_group))
    threshold = scenario.parameters.lean_threshold  # the cell's own: it may be swept
    cols: dict[str, dict[str, list]] = {t: {} for t in TABLES}
    model = None  # one model per chunk, reset for each replication

    def add(table: str, **values) -> None:
        for k, v in values.items():
            cols[table].setdefault(k, []).append(v)

    for run_id, rep, seed in zip(task.chunk.run_ids, task.chunk.replications, task.chunk.seeds, strict=True):
        meta = dict(run_id=run_id, scenario=task.cell.scenario, strategy=task.cell.strategy,
                    point=task.cell.point, replication=rep, seed=seed)
        params = {f"param_{n}": task.cell.params[n] for n in task.swept}
        try:
            if model is None:
                model = model_from_scenario(scenario, rng=np.random.default_rng(seed), world=world)
            else:
                model.reset(np.random.default_rng(seed))
            r = model.run()
        except Exception as exc:  # a failing run is data: recorded, and the batch goes on
            if model is not None:
                model.release()
            model = None  # rebuilt for the next run, whatever state this one left
            add("outcomes", **meta, status="failed", error=f"{type(exc).__name__}: {exc}",
                **params, **{n: float("nan") for n in OUTCOMES})
            continue
        add("outcomes", **meta, status="ok", error=None, **params,
            **run_outcomes(r, threshold, swing))
        _add_states(add, r, run_id, threshold)
        _add_blocs(add, r, run_id, threshold, swing)
        if task.keep_trajectories:
            T, n = r.alignment.shape
            add("trajectories", run_id=np.full(T * n, run_id, dtype=np.int64),
                year=np.repeat(r.times, n).astype(np.float32),
                iso3=np.tile(np.arange(n, dtype=np.int32), T),
                alignment=r.alignment.ravel().astype(np.float32))
    if model is not None:
        model.release()
    # Text columns are gathered as codes and decoded once per chunk (40x faster than
    # converting numpy strings run by run).
    labels = {"iso3": [str(c) for c in world.iso3], "end_camp": list(CAMPS),
              "end_sco_status": list(SCO_STATUSES)}
    out = {}
    for table in TABLES:
        if table != "outcomes" and not cols[table]:  # no trajectories kept, or every run failed:
            continue  # no part file (an empty one would lack the columns and hide them in a dataset)
        out[table] = _parquet(pa, cols[table], table, labels)
    return out



def _add_states(add: Callable, r, run_id: int, threshold: float) -> None:
    n = len(r.iso3)
    end_camp = camp_of(r.alignment[-1], threshold).astype(np.int32)
    add("states", run_id=np.full(n, run_id, dtype=np.int64), iso3=np.arange(n, dtype=np.int32),
        start_alignment=r.alignment[0], end_alignment=r.alignment[-1], end_camp=end_camp,
        end_sco_status=r.status[-1].astype(np.int32),
        year_first_sco=first_year_in_camp(r, threshold, CAMPS.index("sco")),
        year_first_west=first_year_in_camp(r, threshold, CAMPS.index("west")))



def _add_blocs(add: Callable, r, run_id: int, threshold: float, swing: np.ndarray) -> None:
    T = len(r.times)
    series = bloc_series(r.alignment, r.status, r.gdp_usd, r.population, threshold, swing)
    for key in series:
        if key.startswith("states_") or key.startswith("sco_"):
            series[key] = series[key].astype(np.int16)
    add("blocs", run_id=np.full(T, run_id, dtype=np.int64), year=r.times.astype(np.float32),
        **series)



def _parquet(pa, columns: dict[str, list], table: str, labels: dict[str, list[str]]) -> bytes:
    """One table as Parquet bytes; array-valued columns are concatenated, scalars listed.

    Array columns named in ``labels`` hold integer codes and are written as the labels' text.
    """
    import pyarrow.parquet as pq

    data = {}
    for name, parts in columns.items():
        if parts and isinstance(parts[0], np.ndarray):
            values = np.concatenate(parts)
            data[name] = pa.array(labels[name]).take(values) if name in labels else values
        else:
            data[name] = parts
    if table == "outcomes":
        data["seed"] = pa.array(data.get("seed", []), type=pa.uint64())
        data["error"] = pa.array(data.get("error", []), type=pa.string())  # not null when all ok
    buf = io.BytesIO()
    pq.write_table(pa.table(data) if data else pa.table({"run_id": pa.array([], pa.int64())}), buf,
                   compression="zstd")
    return buf.getvalue()
