"""A chunk of runs computed in a worker: its tables as Parquet bytes, failed runs recorded.

A chunk is one cell's consecutive replications, so it runs as one ensemble
(``core.ensemble``, every replication stepped together; each run equals ``BlocModel`` with its
seed bit for bit), without attribution: no batch table holds contributions. The tables are then
built for all the chunk's runs at once from the (runs, times, states) records.

Failures stay per run. The engine does not stop on a non-finite state as ``BlocModel`` does
(``dynamics.check_finite`` at the end of each step), so every run whose alignment or structure
is not finite at the end is run again with ``BlocModel``, which raises the same
``NonFiniteError`` (naming the step, year and state) that it always did: that run alone is
recorded as failed, with its error and seed. Should the ensemble itself raise, the whole chunk is
run again run by run with ``BlocModel``, as before the engine.

Imports base, data, core, config and run only (pyarrow lazily, in the worker).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..core.blocs import CAMPS, bloc_series, camp_of
from ..core.outcomes import OUTCOMES
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



@dataclass
class Records:
    """A chunk's runs as arrays: alignment and status (runs, T+1, n); ``error`` per run (None: ok)."""

    times: np.ndarray
    alignment: np.ndarray
    status: np.ndarray
    error: list



def run_chunk(task: ChunkTask) -> dict[str, bytes]:
    """Run a chunk's runs and return each table as Parquet bytes (in a worker process)."""
    import pyarrow as pa

    from ..config.checks import prepare_world
    from ..config.scenario import Scenario

    scenario = Scenario.model_validate(task.cell.resolved)
    world = prepare_world(scenario)
    seeds = list(task.chunk.seeds)
    try:
        rec = ensemble_records(scenario, world, seeds)
    except Exception:  # the engine failed as a whole: every run on its own, as BlocModel runs it
        rec = model_records(scenario, world, seeds)
    swing = world.mask(list(task.swing_group))
    threshold = scenario.parameters.lean_threshold  # the cell's own: it may be swept
    labels = {"iso3": [str(c) for c in world.iso3], "end_camp": list(CAMPS),
              "end_sco_status": list(SCO_STATUSES)}
    out = {"outcomes": _parquet(pa, _outcomes(task, rec, threshold, swing, world), "outcomes", labels)}
    ok = np.array([e is None for e in rec.error], dtype=bool)
    if ok.any():  # every run failed: no part file (an empty one would lack the columns)
        run_ids = np.asarray(task.chunk.run_ids, dtype=np.int64)[ok]
        a, status = rec.alignment[ok], rec.status[ok]
        out["states"] = _parquet(pa, _states(run_ids, a, status, rec.times, threshold), "states", labels)
        out["blocs"] = _parquet(pa, _blocs(run_ids, a, status, rec.times, threshold, swing, world),
                                "blocs", labels)
        if task.keep_trajectories:
            R, T, n = a.shape
            out["trajectories"] = _parquet(pa, {
                "run_id": np.repeat(run_ids, T * n),
                "year": np.tile(np.repeat(rec.times, n), R).astype(np.float32),
                "iso3": np.tile(np.arange(n, dtype=np.int32), R * T),
                "alignment": a.ravel().astype(np.float32)}, "trajectories", labels)
    return {t: out[t] for t in TABLES if t in out}



def ensemble_records(scenario, world, seeds: list) -> Records:
    """All runs as one ensemble; runs whose state is not finite are run again with ``BlocModel``."""
    from ..config.build import prepare_plan
    from ..core.ensemble import Ensemble

    res = Ensemble(prepare_plan(scenario, world=world), seeds, attribution=False).run()
    rec = Records(res.times, res.alignment, res.status, [None] * len(seeds))
    bad = ~np.isfinite(res.alignment).all(axis=(1, 2))
    if not np.isfinite(res.structure_shared).all():
        bad[:] = True
    for _states, runs, vals in res.structure_pairs:
        if runs.size and not np.isfinite(vals).all():
            bad[runs[~np.isfinite(vals).all(axis=0)]] = True
    for r in np.flatnonzero(bad).tolist():
        one = model_records(scenario, world, [seeds[r]])
        rec.alignment[r], rec.status[r], rec.error[r] = one.alignment[0], one.status[0], one.error[0]
    return rec



def model_records(scenario, world, seeds: list) -> Records:
    """The runs one by one with ``BlocModel`` (one model, reset per run); a run that raises is failed."""
    from ..config.build import model_from_scenario

    model, times, shape = None, None, None
    alignment, status, errors = [], [], []
    for seed in seeds:
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
            alignment.append(None)
            status.append(None)
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        times, shape = r.times, r.alignment.shape
        alignment.append(r.alignment.copy())
        status.append(r.status.copy())
        errors.append(None)
    if model is not None:
        model.release()
    if shape is None:  # every run failed
        times, shape = np.zeros(1), (1, world.n)
    fill = lambda xs, v, dt: np.stack([x if x is not None else np.full(shape, v, dt) for x in xs])  # noqa: E731
    return Records(times, fill(alignment, np.nan, np.float64), fill(status, 0, np.int8), errors)



def _outcomes(task: ChunkTask, rec: Records, threshold: float, swing: np.ndarray,
              world) -> dict[str, list]:
    """One row per run, failed runs included; outcomes at the horizon, computed for all runs at once."""
    ch, cell = task.chunk, task.cell
    R = len(ch.run_ids)
    # One run at a time, on its (1, n) last row as ``run_outcomes`` does: over (runs, n) rows at
    # once, BLAS and numpy's reductions sum in another order, and the last bits differ.
    rows = [bloc_series(rec.alignment[r, -1:], rec.status[r, -1:], world.gdp_usd, world.population,
                        threshold, swing) for r in range(R)]
    last = {name: np.array([row[name][0] for row in rows], dtype=np.float64) for name in OUTCOMES}
    ok = [e is None for e in rec.error]
    cols: dict[str, list] = {
        "run_id": list(ch.run_ids), "scenario": [cell.scenario] * R, "strategy": [cell.strategy] * R,
        "point": [cell.point] * R, "replication": list(ch.replications), "seed": list(ch.seeds),
        "status": ["ok" if k else "failed" for k in ok], "error": list(rec.error)}
    for n in task.swept:
        cols[f"param_{n}"] = [cell.params[n]] * R
    for name in OUTCOMES:
        cols[name] = [float(v) if k else float("nan")
                      for v, k in zip(last[name].tolist(), ok, strict=True)]
    return cols



def _states(run_ids: np.ndarray, a: np.ndarray, status: np.ndarray, times: np.ndarray,
            threshold: float) -> dict[str, np.ndarray]:
    """Per run and state: start and end alignment, end camp and status, first years in a camp."""
    R, _, n = a.shape
    camps = camp_of(a, threshold)  # (R, T+1, n)

    def first_year(camp: int) -> np.ndarray:  # outcomes.first_year_in_camp over every run
        inside = camps[:, 1:] == camp
        crossed = inside.any(axis=1) & (camps[:, 0] != camp)
        return np.where(crossed, times[1:][np.argmax(inside, axis=1)], np.nan).ravel()

    return {"run_id": np.repeat(run_ids, n), "iso3": np.tile(np.arange(n, dtype=np.int32), R),
            "start_alignment": a[:, 0].ravel(), "end_alignment": a[:, -1].ravel(),
            "end_camp": camps[:, -1].astype(np.int32).ravel(),
            "end_sco_status": status[:, -1].astype(np.int32).ravel(),
            "year_first_sco": first_year(CAMPS.index("sco")),
            "year_first_west": first_year(CAMPS.index("west"))}



def _blocs(run_ids: np.ndarray, a: np.ndarray, status: np.ndarray, times: np.ndarray,
           threshold: float, swing: np.ndarray, world) -> dict[str, np.ndarray]:
    """Per run and year: ``bloc_series`` of every run at once, over (runs x years, n) rows."""
    R, T, n = a.shape
    series = bloc_series(a.reshape(R * T, n), status.reshape(R * T, n), world.gdp_usd,
                         world.population, threshold, swing)
    for key in series:
        if key.startswith("states_") or key.startswith("sco_"):
            series[key] = series[key].astype(np.int16)
    return {"run_id": np.repeat(run_ids, T), "year": np.tile(times.astype(np.float32), R), **series}



def _parquet(pa, columns: dict, table: str, labels: dict[str, list[str]]) -> bytes:
    """One table as Parquet bytes from arrays (or lists, for the outcomes).

    Array columns named in ``labels`` hold integer codes and are written as the labels' text.
    """
    import pyarrow.parquet as pq

    data = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray) and name in labels:
            data[name] = pa.array(labels[name]).take(values)
        else:
            data[name] = values
    if table == "outcomes":
        data["seed"] = pa.array(data.get("seed", []), type=pa.uint64())
        data["error"] = pa.array(data.get("error", []), type=pa.string())  # not null when all ok
    buf = io.BytesIO()
    pq.write_table(pa.table(data), buf, compression="zstd")
    return buf.getvalue()
