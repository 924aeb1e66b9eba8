"""A chunk of runs computed in a worker: its tables as Parquet bytes, failed runs recorded.

A chunk is one cell's consecutive replications, so it runs as one ensemble
(``core.ensemble``, every replication stepped together; each run equals ``BlocModel`` with its
seed bit for bit), without attribution: no batch table holds contributions. Consecutive chunks
of a cell computed in one place run as one larger ensemble (``groups``): cheaper per run, the
same numbers. The tables are then built for all a chunk's runs at once from the (runs, times,
states) records.

Failures stay per run. The engine does not stop on a non-finite state as ``BlocModel`` does
(``dynamics.check_finite`` at the end of each step), so every run whose alignment or structure
is not finite at the end is run again with ``BlocModel``, which raises the same
``NonFiniteError`` (naming the step, year and state) that it always did: that run alone is
recorded as failed, with its error and seed. Should the ensemble itself raise, each of its runs is
run again run by run with ``BlocModel``, as before the engine.

Imports base, data, core, config and run only (pyarrow lazily, in the worker).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..core.blocs import CAMPS, bloc_series, camp_of
from ..core.outcomes import OUTCOMES
from ..data.world import SCO_STATUSES
from .batch_parquet import arrow_table, write_parquet
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
    return compute_chunk(task).encode()


def run_group(tasks: list[ChunkTask]) -> list[dict[str, bytes]]:
    """Run a group of a cell's chunks (``groups``) as one ensemble: each chunk's tables as Parquet."""
    return [tables.encode() for tables in compute_group(tasks)]



@dataclass
class ChunkTables:
    """A computed chunk's tables, not yet encoded: per table, a function giving its columns.

    The engine's work is done; what is left is building the columns and Arrow tables
    (``arrow``, Python and numpy: it holds the GIL) and encoding them as Parquet (``write``:
    pyarrow releases the GIL), which can run in another thread while the next chunks run
    (``executors.encode_aside``).
    """

    columns: dict
    labels: dict[str, list[str]]

    def arrow(self) -> dict:
        """Each table as an Arrow table, in ``TABLES`` order."""
        return {t: arrow_table(self.columns[t](), t, self.labels) for t in TABLES if t in self.columns}

    @staticmethod
    def write(arrow: dict) -> dict[str, bytes]:
        """``arrow``'s tables as Parquet bytes."""
        return {t: write_parquet(a, release=True) for t, a in arrow.items()}

    def encode(self) -> dict[str, bytes]:
        """Each table as Parquet bytes, in ``TABLES`` order."""
        return self.write(self.arrow())



#: Runs of one cell stepped as one ensemble when consecutive chunks are computed in one place
#: (``groups``, ``compute_group``): the engine's cost per run falls with the ensemble's size
#: (Python's overhead per step is shared) and its memory grows with it. Measured on the
#: baseline's 1,000 runs (trajectories kept), engine and records only, CPU: 0.45-0.50 s in
#: ensembles of 50, 0.36-0.39 s of 100, 0.32 s of 250, 0.28 s of 500; the whole batch's peak
#: resident memory with Parquet encoded in a second thread: 124 MiB at 50, 129 at 100, 132 at
#: 150, 137 at 250. 100 keeps the peak where it was before groups (131 MiB, a quarter of lean
#: ``mesa.batch_run``'s: ``benchmarks/bench_batch.py``).
GROUP_RUNS = 100


def compute_chunk(task: ChunkTask) -> ChunkTables:
    """Run a chunk's runs; the tables' columns are made when ``encode`` asks for them."""
    return compute_group([task])[0]



def groups(tasks: Iterable[ChunkTask], runs: int | None = None) -> Iterator[list[ChunkTask]]:
    """Consecutive tasks of one cell, at most ``runs`` (``GROUP_RUNS``) runs a group (or one chunk).

    A run's numbers do not depend on the runs stepped beside it (the engine equals ``BlocModel``
    run by run), and each chunk's tables are still made from its own runs, so the files are
    the same whatever the grouping.
    """
    runs = runs or GROUP_RUNS
    group: list[ChunkTask] = []
    size = 0
    for t in tasks:
        n = len(t.chunk.run_ids)
        if group and (not _same_runs(group[0], t) or size + n > runs):
            yield group
            group, size = [], 0
        group.append(t)
        size += n
    if group:
        yield group



def _same_runs(a: ChunkTask, b: ChunkTask) -> bool:
    return (a.chunk.cell, a.cell, a.swept, a.swing_group, a.keep_trajectories) == \
        (b.chunk.cell, b.cell, b.swept, b.swing_group, b.keep_trajectories)



def compute_group(tasks: list[ChunkTask]) -> list[ChunkTables]:
    """The chunks ``tasks`` (one cell, ``groups``) run as one ensemble; each chunk's tables apart."""
    from ..config.checks import prepare_world
    from ..config.scenario import Scenario

    first = tasks[0]
    scenario = Scenario.model_validate(first.cell.resolved)
    world = prepare_world(scenario)
    rec = records(scenario, world, [s for t in tasks for s in t.chunk.seeds])
    out, start = [], 0
    for t in tasks:
        end = start + len(t.chunk.seeds)
        part = Records(rec.times, rec.alignment[start:end], rec.status[start:end], rec.error[start:end])
        out.append(_chunk_tables(t, part, scenario, world))
        start = end
    return out



def _chunk_tables(task: ChunkTask, rec: Records, scenario, world) -> ChunkTables:
    """One chunk's tables from its runs' records, as functions giving their columns."""
    swing = world.mask(list(task.swing_group))
    threshold = scenario.parameters.lean_threshold  # the cell's own: it may be swept
    labels = {"iso3": [str(c) for c in world.iso3], "end_camp": list(CAMPS),
              "end_sco_status": list(SCO_STATUSES)}
    columns = {"outcomes": lambda: _outcomes(task, rec, threshold, swing, world)}
    ok = np.array([e is None for e in rec.error], dtype=bool)
    if ok.any():  # every run failed: no part file (an empty one would lack the columns)
        run_ids = np.asarray(task.chunk.run_ids, dtype=np.int64)[ok]
        # views of the group's records when every run is in (no copy held while encodes wait)
        a, status = (rec.alignment, rec.status) if ok.all() else (rec.alignment[ok], rec.status[ok])
        columns["states"] = lambda: _states(run_ids, a, status, rec.times, threshold)
        columns["blocs"] = lambda: _blocs(run_ids, a, status, rec.times, threshold, swing, world)
        if task.keep_trajectories:
            columns["trajectories"] = lambda: _trajectories(run_ids, a, rec.times)
    return ChunkTables(columns, labels)



def _trajectories(run_ids: np.ndarray, a: np.ndarray, times: np.ndarray) -> dict[str, np.ndarray]:
    """Per run, year and state: the alignment (float32, as stored)."""
    R, T, n = a.shape
    return {"run_id": np.repeat(run_ids, T * n),
            "year": np.tile(np.repeat(times, n), R).astype(np.float32),
            "iso3": np.tile(np.arange(n, dtype=np.int32), R * T),
            "alignment": a.ravel().astype(np.float32)}



def records(scenario, world, seeds: list) -> Records:
    """The chunk's runs through the run service's one loop (``run.service.run_group``), as arrays.

    No batch table holds contributions, so the engine runs without attribution. A run that
    failed (alone on ``BlocModel``) is recorded with its error; the others carry on.
    """
    from ..config.build import prepare_plan
    from ..run.service import run_group

    plan = prepare_plan(scenario, world=world)
    ens, alone = run_group(scenario, seeds, world, plan=plan, attribution=False)
    if ens is not None:
        times, alignment, status = ens.times, ens.alignment, ens.status
    else:  # the engine failed as a whole: every run came from BlocModel
        ok = next((x for x in alone.values() if not isinstance(x, Exception)), None)
        shape = (len(seeds),) + (ok.alignment.shape if ok is not None else (0, 0))
        times = ok.times if ok is not None else np.zeros(0)
        alignment, status = np.zeros(shape), np.zeros(shape, dtype=np.int8)
    rec = Records(times, alignment, status, [None] * len(seeds))
    for r, x in alone.items():
        if isinstance(x, Exception):
            rec.error[r] = f"{type(x).__name__}: {x}"
        else:
            rec.alignment[r], rec.status[r] = x.alignment, x.status
    return rec

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
