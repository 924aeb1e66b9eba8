"""Running an experiment: chunks of runs on local processes or a Dask cluster, streamed to disk.

Each chunk's results are written as Parquet files named by the chunk, under temporary names then
renamed, the ``outcomes`` file last: a chunk is done exactly when its outcomes file exists. So a
batch killed at any point and started again with the same command computes only the missing
chunks, and no run is lost, duplicated or half-written. The files depend only on the design,
never on which worker ran what or when, so serial, parallel and Dask runs give the same bytes.
A run that raises is recorded as failed, with its error and seed, and the batch goes on.

``run_batch`` drives it here; ``chunks`` computes a chunk, ``executors`` runs chunks, ``store``
owns the files. Imports base, data, core, config and run only.
"""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from model import __version__

from ..base import cores
from ..base.errors import ScenarioError
from ..base.files import check_output_dir, check_writable, os_error, write_file_atomic
from ..core.costs import COST_RULE
from ..core.outcomes import OUTCOMES
from ..core.seeds import SEED_RULE
from .chunks import ChunkTask
from .design import Design
from .executors import connect, dask, encode_aside, processes, serial
from .store import (
    CHECKSUMS,
    LOCK_FILE,
    TABLES,
    batch_lock,
    check_done_chunks,
    clean_temporaries,
    count_failures,
    done_chunks,
    read_manifest,
    write_chunk,
)

#: Seconds one state's step costs in a batch, everything included (the engine, outcomes, tables,
#: Parquet), measured in one process on the baseline (193 states x 11 steps): see
#: ``benchmarks/README.md`` ("Small batches in the calling process").
COST_PER_STATE_STEP = 6.0e-7

#: Work estimated below this many seconds runs in the calling process even with ``workers > 1``.
#: A worker is a fresh interpreter importing numpy, scipy, pyarrow and the model (about 1 s of
#: wall time, measured, more on a loaded machine), and two workers save at most half the
#: compute: below about 3 s of compute, starting them costs more than it saves.
INLINE_BELOW = 3.0


def estimate_seconds(design: Design, chunks) -> float:
    """The estimated compute of ``chunks``: runs x states x steps x ``COST_PER_STATE_STEP``."""
    total = 0
    for c in chunks:
        cell = design.cells[c.cell]
        steps = int(round(cell.resolved["horizon"] * (4 if cell.resolved["step"] == "quarter" else 1)))
        total += len(c.run_ids) * design.states.get(cell.scenario, 193) * steps
    return total * COST_PER_STATE_STEP


def choose_executor(workers: int, chunks: int, estimate: float, *, inline: bool = True,
                    below: float = INLINE_BELOW) -> str:
    """How to run ``chunks`` chunks of ``estimate`` seconds of compute on ``workers`` processes.

    Pure: "processes" when there are several workers and several chunks and either ``inline``
    is off or the work is at least ``below`` seconds; "inline" (serially, in the calling
    process) when processes were asked for but the work is too small to pay for starting them;
    "serial" when one worker or one chunk was asked for anyway.
    """
    if workers <= 1 or chunks <= 1:
        return "serial"
    if inline and estimate < below:
        return "inline"
    return "processes"



def encode_threads(workers: int, idle: float | None) -> int:
    """Threads that encode Parquet beside an in-process batch (``executors.encode_aside``).

    Pure: the cores ``idle`` beside the calling process (``base.cores.free_cores``, measured
    while the batch's first group of chunks ran: what other programs left beside it),
    rounded, at most ``workers - 1``; 0 encodes in the calling thread. Measured on the 1,000-run
    baseline batch with both cores busy (load 4-5 on 2), the thread gave no wall time and cost
    about 0.3 s more CPU (GIL hand-offs): its gain needs a free core. Unknown: no thread.
    """
    if workers <= 1 or idle is None:
        return 0
    return max(0, min(workers - 1, int(idle + 0.5)))



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
        "costs": design.costs, "cost_rule": COST_RULE,
        "equal_cost_bn_per_year": spec.equal_cost,
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
    old = read_manifest(path, require=("design_sha256", "experiment"))
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
        if p.name in (*TABLES, CHECKSUMS) and p.is_dir() and not p.is_symlink() and \
                all(q.name.startswith(".") and q.name.endswith(".tmp") for q in p.iterdir()):
            continue
        return False
    return True



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
              then: Callable[[BatchSummary], None] | None = None,
              inline: bool = True) -> BatchSummary:
    """Run the chunks of ``design`` not yet in ``out_dir``, streaming each to disk as it ends.

    With ``workers > 1``, work estimated below ``INLINE_BELOW`` seconds (``choose_executor``)
    runs in the calling process instead, unless ``inline`` is False (``--no-inline``); the
    files are the same either way.

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
                                  progress=progress, inline=inline)
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
                scheduler: str | None, experiment_file: str, progress: bool,
                inline: bool = True) -> BatchSummary:
    try:
        for table in TABLES:
            if table != "trajectories" or design.spec.keep_trajectories:
                (out_dir / table).mkdir(exist_ok=True)
        clean_temporaries(out_dir)
    except OSError as exc:
        raise os_error(exc) from None
    done = check_done_chunks(out_dir, design, done_chunks(out_dir), _note)
    started = old["started_at"] if old else datetime.now(UTC).isoformat(timespec="seconds")
    todo = [c for c in design.chunks if c.chunk_id not in done]
    estimate = estimate_seconds(design, todo)
    how = "dask" if scheduler else choose_executor(workers, len(todo), estimate, inline=inline)
    threads: list[int] = []  # encode_threads' answer, once asked (executors.encode_aside)

    def executor() -> str:
        if not threads:  # not asked (yet, or a single group: nothing to encode beside it)
            aside = ""
        elif threads[0]:
            aside = (f"; the Parquet tables encoded in {threads[0]} other thread"
                     f"{'s' if threads[0] > 1 else ''}")
        else:
            aside = "; no core idle to encode the Parquet tables beside it"
        return {"dask": f"dask {scheduler}", "processes": f"{workers} processes", "serial": "serial",
                "inline": f"serial in the calling process ({workers} workers asked; estimated "
                          f"{estimate:.1f} s of compute < {INLINE_BELOW:g} s: starting them "
                          f"would cost more than they save{aside})"}[how]

    def encoders() -> int:
        threads.append(encode_threads(workers, cores.free_cores()))
        return threads[0]

    if how == "inline":
        cores.mark()  # idle cores are measured from here to the end of the first group (encoders)

    if how == "inline" and progress:
        _note(f"running in this process, not {workers} workers: about {estimate:.1f} s of "
              f"compute (< {INLINE_BELOW:g} s) would not pay for starting them (--no-inline "
              f"forces processes)")
    t0 = time.perf_counter()

    def manifest(finished: str | None, failures: int) -> None:
        doc = _manifest(design, experiment_file=experiment_file, executor=executor(),
                        started=started, finished=finished, done=len(done), failures=failures,
                        elapsed=time.perf_counter() - t0, resumed_runs=resumed_runs)
        write_file_atomic(out_dir / "manifest.json", json.dumps(doc, indent=2) + "\n")
        if finished is None:  # same text at the end: written once (85 ms of YAML at 1,000 seeds)
            write_file_atomic(out_dir / "experiment.resolved.yaml", _resolved_yaml(design))

    resumed_runs = design.runs - sum(len(c.run_ids) for c in todo)
    manifest(None, 0)
    tasks = (ChunkTask(c, design.cells[c.cell], tuple(design.swept), tuple(design.spec.swing_group),
                       design.spec.keep_trajectories) for c in todo)
    if client is not None:
        stream = dask(tasks, client)
    elif how == "processes":
        stream = processes(tasks, workers)
    elif how == "inline":
        stream = encode_aside(tasks, threads=encoders,
                              sink=lambda task, tables: write_chunk(out_dir, task.chunk.chunk_id, tables))
    else:
        stream = serial(tasks)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=design.runs, initial=resumed_runs, unit="run",
                   desc=design.spec.name + (" (in-process)" if how == "inline" else ""),
                   file=sys.stderr, smoothing=0.1)
    runs_now = 0
    try:
        for task, tables in stream:
            if tables is not None:  # None: written already, by encode_aside's thread
                write_chunk(out_dir, task.chunk.chunk_id, tables)
            done.add(task.chunk.chunk_id)
            runs_now += len(task.chunk.run_ids)
            if bar:
                bar.update(len(task.chunk.run_ids))
    finally:
        if bar:
            bar.close()
        # An error or Ctrl-C here, not inside the stream: end the stream now (its encode threads
        # finish the files they hold), while the batch is still locked, not whenever the
        # traceback lets it go, which may be after the lock is released.
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    failed = count_failures(out_dir)
    manifest(datetime.now(UTC).isoformat(timespec="seconds"), failed)
    return BatchSummary(out_dir, design.runs, runs_now, failed, time.perf_counter() - t0)



def _resolved_yaml(design: Design) -> str:
    """The resolved experiment as YAML: the spec, every cell and every replication's seed.

    The seeds (a list of whole numbers, last in the document) are written as PyYAML writes
    them (``- 123`` a line), without its emitter: at 1,000 seeds it spent 0.03 of its 0.04 s
    analysing each number. ``tests/run/test_batch.py`` compares both ways, byte for byte.
    """
    import yaml

    doc = design.spec.model_dump(mode="json")
    doc["cells"] = [{"scenario": c.scenario, "strategy": c.strategy, "point": c.point,
                     "parameters": c.params} for c in design.cells]
    seeds = design.seeds
    plain = bool(seeds) and all(type(s) is int for s in seeds) and "replication_seeds" not in doc
    if not plain:
        doc["replication_seeds"] = seeds

    class Plain(yaml.SafeDumper):  # cells share dicts: write them out, not as &id001 aliases
        def ignore_aliases(self, data):
            return True

    text = yaml.dump(doc, Dumper=Plain, sort_keys=False)
    return text + "replication_seeds:\n" + "".join(f"- {s}\n" for s in seeds) if plain else text
