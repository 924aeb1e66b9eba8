"""Running an experiment: chunks of runs on local processes or a Dask cluster, streamed to disk.

Each chunk's results are written as Parquet files named by the chunk, under temporary names then
renamed, the ``outcomes`` file last: a chunk is done exactly when its outcomes file exists. So a
batch killed at any point and started again with the same command computes only the missing
chunks, and no run is lost, duplicated or half-written. The files depend only on the design,
never on which worker ran what or when, so serial, parallel and Dask runs give the same bytes.
A run that raises is recorded as failed, with its error and seed, and the batch goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import io
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__
from .dynamics import SCO_STATUSES
from .errors import ScenarioError
from .experiment import (
    Cell,
    Chunk,
    Design,
    check_sweep,
    expand,
    load_experiment,
    parse_sweep_option,
    spec_from_files,
)
from .outcomes import OUTCOMES, first_year_in_camp, run_outcomes
from .outputs import (
    CAMPS,
    bloc_series,
    camp_of,
    check_output_dir,
    check_writable,
    default_out_dir,
    os_error,
    write_file_atomic,
)
from .seeds import SEED_RULE

TABLES = ("trajectories", "blocs", "states", "outcomes")  # written in this order; outcomes = done


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

    from .build import model_from_scenario
    from .runner import prepare_world
    from .scenario import Scenario

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


# --- executors --------------------------------------------------------------------------------

def _serial(tasks: Iterable[ChunkTask]) -> Iterator[tuple[ChunkTask, dict]]:
    for t in tasks:
        yield t, run_chunk(t)


def _processes(tasks: Iterable[ChunkTask], workers: int) -> Iterator[tuple[ChunkTask, dict]]:
    """Local worker processes, with a bounded number of chunks in flight.

    Workers start with 'spawn' (safe in notebooks and threaded programs, unlike 'fork'), and
    the calling process is one of the ``workers``: it runs chunks while the others start and
    whenever none has a result ready, so ``--workers 2`` starts one extra process. The global
    start method is left alone.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    # The calling process is one of the ``workers``: it runs chunks while it waits.
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx) as pool:
        yield from _windowed(tasks, pool.submit, 2 * (workers - 1),
                             lambda pending: wait(pending, return_when=FIRST_COMPLETED)[0],
                             local=True)


def connect(scheduler: str, timeout: str = "10s"):
    """A Dask client for the scheduler at ``scheduler`` (tcp://host:port); clear error if none."""
    try:
        from distributed import Client
    except ImportError:
        raise ScenarioError("--scheduler needs Dask: pip install 'blocsim[dask]'") from None
    try:
        return Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScenarioError(f"cannot reach the Dask scheduler at {scheduler}: {reason}") from None


def _dask(tasks: Iterable[ChunkTask], client) -> Iterator[tuple[ChunkTask, dict]]:
    """Chunks on a Dask distributed cluster, through a connected client."""
    from distributed import wait as dask_wait

    try:
        workers = max(1, sum(client.nthreads().values()))
        with client.as_current():  # distributed.wait looks for a default client; ours is not one
            yield from _windowed(tasks, lambda f, t: client.submit(f, t, pure=False), 2 * workers,
                                 lambda pending: dask_wait(pending, return_when="FIRST_COMPLETED").done)
    finally:
        client.close()


def _windowed(tasks, submit, window: int, wait_some,
              local: bool = False) -> Iterator[tuple[ChunkTask, dict]]:
    """Keep at most ``window`` tasks in flight; yield each result as it completes.

    With ``local``, the calling process runs a chunk itself whenever none of the workers has a
    result ready, instead of waiting idle (it also works while the workers are starting).
    """
    it = iter(tasks)
    pending: dict = {}

    def fill() -> None:
        while len(pending) < window:
            t = next(it, None)
            if t is None:
                return
            pending[submit(run_chunk, t)] = t

    fill()
    while True:
        done = [f for f in pending if f.done()]
        if not done and local:
            t = next(it, None)
            if t is not None:
                yield t, run_chunk(t)
                continue
        if not pending:
            return
        for fut in done or wait_some(list(pending)):
            t = pending.pop(fut)
            yield t, fut.result()
        fill()


# --- storage and resumption -------------------------------------------------------------------

def part_name(chunk_id: int) -> str:
    """File name of a chunk's part in every table."""
    return f"part-{chunk_id:06d}.parquet"


def done_chunks(out_dir: Path) -> set[int]:
    """Chunks whose outcomes file exists (written last, so the chunk is complete)."""
    folder = out_dir / "outcomes"
    if not folder.is_dir():
        return set()
    return {int(p.stem.split("-")[1]) for p in folder.glob("part-*.parquet")}


def _cell_sizes(design: Design) -> list[tuple[int, int]]:
    """Per cell, (times recorded, states) of each run: what fixes the rows of its parts."""
    from .runner import prepare_world
    from .scenario import Scenario

    states: dict[tuple, int] = {}
    sizes = []
    for cell in design.cells:
        scenario = Scenario.model_validate(cell.resolved)
        key = (json.dumps(cell.resolved.get("world"), sort_keys=True, default=str), scenario.start_year)
        if key not in states:
            states[key] = len(prepare_world(scenario).iso3)
        sizes.append((int(round(scenario.horizon / scenario.dt)) + 1, states[key]))
    return sizes


def damaged_part(out_dir: Path, chunk: Chunk, times: int, states: int,
                 keep_trajectories: bool) -> tuple[Path, str] | None:
    """The first part of a done chunk that is unreadable or has the wrong rows, and why; or None.

    Expected rows: outcomes, one per run of the chunk (its run ids, in order); states, one per ok
    run and state; blocs, one per ok run and recorded time; trajectories (if kept), one per ok
    run, time and state. A chunk whose runs all failed has no states, blocs or trajectories part.
    Only the Parquet footers are read, and the outcomes part's run_id and status columns.
    """
    import pyarrow.parquet as pq

    name = part_name(chunk.chunk_id)
    path = out_dir / "outcomes" / name
    try:
        o = pq.read_table(path, columns=["run_id", "status"])
    except Exception as exc:  # pyarrow raises several types for a damaged file
        return path, _reason(exc)
    if o["run_id"].to_pylist() != list(chunk.run_ids):
        return path, f"holds runs other than those of chunk {chunk.chunk_id}"
    ok = sum(1 for v in o["status"].to_pylist() if v == "ok")
    expected = {"states": ok * states, "blocs": ok * times}
    if keep_trajectories:
        expected["trajectories"] = ok * times * states
    for table, rows in expected.items():
        path = out_dir / table / name
        if not path.exists():
            if rows:
                return path, "missing"
            continue
        try:
            found = pq.read_metadata(path).num_rows
        except Exception as exc:
            return path, _reason(exc)
        if found != rows:
            return path, f"{found} rows, expected {rows}"
    return None


def _reason(exc: Exception) -> str:
    """Why pyarrow could not read a part, without the path it repeats."""
    import re

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"^Could not open Parquet input source '.*?': ", "", text)
    return f"unreadable ({text.rstrip('.')})"


def check_done_chunks(out_dir: Path, design: Design, done: set[int],
                      note: Callable[[str], None] | None = None) -> set[int]:
    """The done chunks whose parts are all sound.

    A damaged chunk's parts are removed (outcomes first, so it is never half-done) and it is
    computed again; ``note`` says which part and why.
    """
    if not done:
        return done
    sizes = _cell_sizes(design)
    sound = set()
    for chunk in design.chunks:
        if chunk.chunk_id not in done:
            continue
        times, states = sizes[chunk.cell]
        bad = damaged_part(out_dir, chunk, times, states, design.spec.keep_trajectories)
        if bad is None:
            sound.add(chunk.chunk_id)
            continue
        if note:
            note(f"{bad[0]}: {bad[1]}: chunk {chunk.chunk_id} will be computed again")
        for table in TABLES[::-1]:  # outcomes first: the chunk is no longer done
            (out_dir / table / part_name(chunk.chunk_id)).unlink(missing_ok=True)
    return sound


LOCK_FILE = ".blocsim.lock"
_held: dict[Path, int] = {}  # lock files this process holds, with how many times taken


@contextlib.contextmanager
def batch_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on a batch folder; a second process is refused with a ScenarioError.

    ``fcntl.flock`` on ``<out_dir>/.blocsim.lock``: the kernel releases it when its holder exits
    in any way (even ``kill -9``), so a lock is never stale after a crash; a leftover file is
    simply locked again. The file is removed when the lock is released (after checking, when
    taking it, that the locked file is still the one at that path). Re-entrant in one process.
    """
    path = (Path(out_dir) / LOCK_FILE).resolve()
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise os_error(exc, path, "lock") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            try:
                owner = os.read(fd, 64).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ScenarioError(
                    f"{out_dir} is in use by another blocsim process"
                    + (f" (pid {owner})" if owner.isdigit() else "")
                    + ": wait for it to finish, or choose another --out") from None
            raise os_error(exc, path, "lock") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # removed by its holder as we opened it: take the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:
        pass  # the pid is only for the message
    _held[path] = 1
    try:
        yield
    finally:
        del _held[path]
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _clean_temporaries(out_dir: Path) -> None:
    """Remove temporaries of killed writers: only the lock holder calls this, so none is live."""
    for folder in (out_dir, *(out_dir / t for t in TABLES)):
        for p in folder.glob(".*.tmp"):  # parts, the manifest, CSV exports, a report folder
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def write_chunk(out_dir: Path, chunk_id: int, tables: dict[str, bytes]) -> None:
    """Write a chunk's tables atomically, outcomes last."""
    for table in TABLES:
        if table in tables:
            write_file_atomic(out_dir / table / part_name(chunk_id), tables[table])


def _manifest(design: Design, *, experiment_file: str, executor: str, started: str,
              finished: str | None, done: int, failures: int, elapsed: float,
              resumed_runs: int) -> dict:
    spec = design.spec
    text = Path(experiment_file).read_bytes() if Path(experiment_file).is_file() else b""
    import hashlib

    return {
        "experiment": spec.name, "description": spec.description,
        "experiment_file": experiment_file,
        "experiment_file_sha256": hashlib.sha256(text).hexdigest() if text else None,
        "design_sha256": design.digest, "package": "blocsim", "version": __version__,
        "python": platform.python_version(), "numpy": np.__version__,
        "root_seed": spec.seed, "replication_seeds": design.seeds,
        "seed_rule": SEED_RULE + ", the same in every scenario, strategy and sweep point",
        "scenarios": list(dict.fromkeys(c.scenario for c in design.cells)),
        "strategies": list(dict.fromkeys(c.strategy for c in design.cells)),
        "reference": spec.reference or design.cells[0].strategy, "primary": spec.primary,
        "outcomes": list(spec.outcomes),
        "outcome_directions": {n: OUTCOMES[n].direction for n in OUTCOMES},
        "design": spec.sweep.design if spec.sweep else "none",
        "swept_parameters": design.swept,
        "sweep_ranges": ({n: [min(v), max(v)] for n, v in spec.sweep.parameters.items()}
                         if spec.sweep else {}),
        "morris_levels": spec.sweep.levels if spec.sweep else None,
        "points": max(c.point for c in design.cells) + 1,
        "replications": spec.replications, "runs": design.runs,
        "chunks": len(design.chunks), "chunk_size": spec.chunk_size,
        "lean_threshold": sorted({c.resolved["parameters"]["lean_threshold"] for c in design.cells}),
        "swing_states": design.swing,
        "keep_trajectories": spec.keep_trajectories,
        "executor": executor, "started_at": started, "finished_at": finished,
        "chunks_done": done, "runs_failed": failures,
        "runs_done_before_this_session": resumed_runs, "elapsed_seconds_this_session": round(elapsed, 3),
    }


def _check_folder(out_dir: Path, design: Design) -> dict | None:
    """An existing output folder must hold this experiment (then we resume) or nothing."""
    path = out_dir / "manifest.json"
    check_output_dir(out_dir, "manifest.json", owned=_only_scaffolding)
    if not path.exists():
        return None
    old = read_manifest(path)
    if old.get("design_sha256") != design.digest:
        raise ScenarioError(
            f"output folder {out_dir} holds a different experiment ('{old.get('experiment')}', "
            f"design {str(old.get('design_sha256'))[:12]}, not {design.digest[:12]}); nothing "
            f"was overwritten: choose another --out")
    return old


def _only_scaffolding(folder: Path) -> bool:
    """True if ``folder`` holds only what a batch makes before its manifest.

    That is the lock file, empty table folders and temporaries (a batch killed at its start).
    """
    for p in folder.iterdir():
        if p.name == LOCK_FILE or (p.name.startswith(".") and p.name.endswith(".tmp")):
            continue
        if p.name in TABLES and p.is_dir() and not p.is_symlink() and \
                all(q.name.startswith(".") and q.name.endswith(".tmp") for q in p.iterdir()):
            continue
        return False
    return True


def read_manifest(path: Path) -> dict:
    """A batch's ``manifest.json``: a JSON object, or a one-line ScenarioError saying what is wrong."""
    try:
        doc = json.loads(Path(path).read_bytes())
    except OSError as exc:
        raise os_error(exc, path, "read") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{path} holds a JSON {type(doc).__name__}, not the batch's manifest "
                            f"(an object with 'design_sha256', 'experiment'...): is it damaged?")
    return doc


@dataclass
class BatchSummary:
    """What a batch did."""

    out_dir: Path
    runs: int
    runs_now: int
    failed: int
    elapsed: float


def run_batch(design: Design, out_dir: Path, *, workers: int = 1, scheduler: str | None = None,
              experiment_file: str = "<command line>", progress: bool = False,
              then: Callable[[BatchSummary], None] | None = None) -> BatchSummary:
    """Run the chunks of ``design`` not yet in ``out_dir``, streaming each to disk as it ends.

    Everything that can fail on the user's side (a folder holding another experiment, an
    unreachable scheduler, a folder that cannot be written) is checked before anything is
    written. The folder is locked (``batch_lock``) from then on, and still while ``then(summary)``
    runs (the CSV export and the report): a second batch on it is refused. On resume, the parts of
    every done chunk are checked (``check_done_chunks``) and a damaged chunk is computed again.
    """
    out_dir = Path(out_dir)
    old = _check_folder(out_dir, design)
    check_writable(out_dir / "manifest.json")  # the folder itself if it exists (a resume)
    client = connect(scheduler) if scheduler else None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if client is not None:
            client.close()
        raise os_error(exc, out_dir) from None
    try:
        with batch_lock(out_dir):
            old = _check_folder(out_dir, design)  # again: another batch may have started it
            summary = _run_locked(design, out_dir, old, client, workers=workers,
                                  scheduler=scheduler, experiment_file=experiment_file,
                                  progress=progress)
            if then is not None:
                then(summary)
    except BaseException:
        if client is not None:
            with contextlib.suppress(Exception):  # closed already if it ran
                client.close()
        raise
    return summary


def _note(text: str) -> None:
    print(f"blocsim: note: {text}", file=sys.stderr)


def _run_locked(design: Design, out_dir: Path, old: dict | None, client, *, workers: int,
                scheduler: str | None, experiment_file: str, progress: bool) -> BatchSummary:
    try:
        for table in TABLES:
            if table != "trajectories" or design.spec.keep_trajectories:
                (out_dir / table).mkdir(exist_ok=True)
        _clean_temporaries(out_dir)
    except OSError as exc:
        raise os_error(exc) from None
    done = check_done_chunks(out_dir, design, done_chunks(out_dir), _note)
    started = old["started_at"] if old else datetime.now(UTC).isoformat(timespec="seconds")
    executor = f"dask {scheduler}" if scheduler else (f"{workers} processes" if workers > 1 else "serial")
    t0 = time.perf_counter()

    def manifest(finished: str | None, failures: int) -> None:
        doc = _manifest(design, experiment_file=experiment_file, executor=executor,
                        started=started, finished=finished, done=len(done), failures=failures,
                        elapsed=time.perf_counter() - t0, resumed_runs=resumed_runs)
        write_file_atomic(out_dir / "manifest.json", json.dumps(doc, indent=2) + "\n")
        write_file_atomic(out_dir / "experiment.resolved.yaml", _resolved_yaml(design))

    todo = [c for c in design.chunks if c.chunk_id not in done]
    resumed_runs = design.runs - sum(len(c.run_ids) for c in todo)
    manifest(None, 0)
    tasks = (ChunkTask(c, design.cells[c.cell], tuple(design.swept), tuple(design.spec.swing_group),
                       design.spec.keep_trajectories) for c in todo)
    if client is not None:
        stream = _dask(tasks, client)
    elif workers > 1 and len(todo) > 1:
        stream = _processes(tasks, workers)
    else:
        stream = _serial(tasks)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=design.runs, initial=resumed_runs,
                   unit="run", desc=design.spec.name, file=sys.stderr, smoothing=0.1)
    runs_now = 0
    try:
        for task, tables in stream:
            write_chunk(out_dir, task.chunk.chunk_id, tables)
            done.add(task.chunk.chunk_id)
            runs_now += len(task.chunk.run_ids)
            if bar:
                bar.update(len(task.chunk.run_ids))
    finally:
        if bar:
            bar.close()
    failed = count_failures(out_dir)
    manifest(datetime.now(UTC).isoformat(timespec="seconds"), failed)
    return BatchSummary(out_dir, design.runs, runs_now, failed, time.perf_counter() - t0)


def read_part(path: Path, columns: list[str] | None = None):
    """One Parquet part as an Arrow table; a damaged one is a one-line ScenarioError naming it."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns)
    except OSError as exc:
        if exc.errno is not None:  # the disk or the file system, not the file's contents
            raise os_error(exc, path, "read") from None
        raise ScenarioError(f"damaged part {path}: {_reason(exc)}; run the same 'blocsim batch' "
                            f"command again to compute its chunk again") from None
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ScenarioError(f"damaged part {path}: {_reason(exc)}; run the same 'blocsim batch' "
                            f"command again to compute its chunk again") from None


def count_failures(out_dir: Path) -> int:
    """Failed runs recorded in the outcomes tables (read one part at a time: memory stays flat)."""
    import pyarrow.compute as pc

    failed = 0
    for part in sorted((out_dir / "outcomes").glob("part-*.parquet")):
        status = read_part(part, ["status"])["status"]
        failed += int(pc.sum(pc.equal(status, "failed")).as_py() or 0)
    return failed


def _resolved_yaml(design: Design) -> str:
    import yaml

    doc = design.spec.model_dump(mode="json")
    doc["cells"] = [{"scenario": c.scenario, "strategy": c.strategy, "point": c.point,
                     "parameters": c.params} for c in design.cells]
    doc["replication_seeds"] = design.seeds

    class Plain(yaml.SafeDumper):  # cells share dicts: write them out, not as &id001 aliases
        def ignore_aliases(self, data):
            return True

    return yaml.dump(doc, Dumper=Plain, sort_keys=False)


def export_csv(out_dir: Path) -> list[Path]:
    """Each table as one CSV beside the Parquet parts (on request: it reads them whole)."""
    import pyarrow.dataset as ds

    from .outputs import FLOAT_FORMAT

    written = []
    for table in TABLES:
        folder = out_dir / table
        if not folder.is_dir() or not any(folder.glob("part-*.parquet")):
            continue
        try:
            data = ds.dataset(folder, format="parquet").to_table()
        except Exception:  # name the damaged part: read them one by one
            for part in sorted(folder.glob("part-*.parquet")):
                read_part(part)
            raise
        df = data.to_pandas().sort_values(["run_id"], kind="stable")
        path = out_dir / f"{table}.csv"
        write_file_atomic(path, df.to_csv(index=False, float_format=FLOAT_FORMAT,
                                          lineterminator="\n"))
        written.append(path)
    return written


# --- command line -------------------------------------------------------------------------------

def design_from_args(args: argparse.Namespace) -> tuple[Design, str]:
    """The experiment from a file or from --scenario/--strategy, with command-line overrides."""
    from pydantic import ValidationError

    try:
        return _design_from_args(args)
    except ValidationError as exc:  # an option's value outside the schema (--runs, --name, --sample)
        err = exc.errors()[0]
        raise ScenarioError(f"{'.'.join(map(str, err['loc'])) or 'batch'}: "
                            f"{err['msg'].removeprefix('Value error, ')} "
                            f"(got {err['input']!r})") from None


def _design_from_args(args: argparse.Namespace) -> tuple[Design, str]:
    if args.experiment is not None:
        if args.scenario or args.strategy:
            raise ScenarioError("give an experiment file or --scenario/--strategy, not both")
        spec = load_experiment(args.experiment)
        source = str(args.experiment)
    elif args.scenario:
        spec = spec_from_files(args.scenario, args.strategy, name=args.name or "batch",
                               replications=args.runs or 100, seed=args.seed or 2024)
        source = "<command line>"
    else:
        raise ScenarioError("batch needs an experiment file or at least one --scenario")
    if args.runs is not None:
        spec.replications = args.runs
    if args.seed is not None:
        spec.seed = args.seed
    if args.sweep or args.sample:
        spec.sweep = _sweep_from_args(spec, args)
    base = args.experiment.parent if args.experiment is not None else Path.cwd()
    return expand(spec, base_dir=base), source


def _sweep_from_args(spec, args: argparse.Namespace):
    from .experiment import Sweep

    given = dict(parse_sweep_option(s) for s in args.sweep)
    params = {**spec.sweep.parameters, **given} if spec.sweep is not None else dict(given)
    if not params:
        raise ScenarioError("--sample needs parameter ranges: give them with --sweep NAME=LOW:HIGH")
    design, samples = "factorial", 16
    levels = spec.sweep.levels if spec.sweep is not None else 4
    if args.sample:
        kind, _, n = args.sample.partition(":")
        if kind not in ("lhs", "morris", "sobol") or not n.isdigit() or int(n) < 1:
            raise ScenarioError(f"--sample {args.sample!r}: write lhs:N, morris:N or sobol:N")
        design, samples = kind, int(n)
    elif spec.sweep is not None:
        design, samples = spec.sweep.design, spec.sweep.samples
    # Check what the command line gave against the command line, not the file's lines.
    cli = spec.model_copy(update={"sweep": Sweep(design=design, samples=samples, levels=levels,
                                                 parameters=given or params)})
    cli._source, cli._where = "command line (--sweep/--sample)", {}
    check_sweep(cli)
    return Sweep(design=design, parameters=params, samples=samples, levels=levels)


def run_batch_command(args: argparse.Namespace) -> int:
    """``blocsim batch``: expand, run what is missing, summarise, optionally report."""
    design, source = design_from_args(args)
    out_dir = args.out or default_out_dir("batch", design.spec.name)

    def then(summary: BatchSummary) -> None:  # while the folder is still locked
        if args.csv:
            export_csv(out_dir)
        if not args.quiet:
            rate = summary.runs_now / summary.elapsed if summary.elapsed > 0 else float("nan")
            print(f"{design.spec.name}: {summary.runs} runs in {len(design.cells)} cells "
                  f"({summary.runs - summary.runs_now} already done, {summary.runs_now} run now in "
                  f"{summary.elapsed:.1f} s, {rate:.0f} runs/s); {summary.failed} failed")
            print(f"Results in {out_dir}/ (outcomes, states, blocs"
                  f"{', trajectories' if design.spec.keep_trajectories else ''}; manifest.json)")
        if args.report:
            from .compare import write_report
            path = write_report(out_dir)
            if not args.quiet:
                print(f"Report: {path}")

    summary = run_batch(design, out_dir, workers=args.workers, scheduler=args.scheduler,
                        experiment_file=source, progress=not args.quiet, then=then)
    return 1 if summary.failed and summary.failed == summary.runs else 0
