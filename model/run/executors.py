"""Where chunks run: in this process, on local worker processes or on a Dask cluster.

Each executor yields (task, tables) as chunks finish, keeping a bounded window in flight.
Imports the run layer only (``distributed`` lazily).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..base.children import end_with_caller
from ..base.errors import ScenarioError
from .chunks import ChunkTask, compute_group, groups, run_group


def serial(tasks: Iterable[ChunkTask]) -> Iterator[tuple[ChunkTask, dict]]:
    """Run the chunks one after another in this process (a cell's consecutive ones as one ensemble)."""
    for group in groups(tasks):
        for t, tables in zip(group, compute_group(group), strict=True):
            yield t, tables.encode()



def encode_aside(tasks: Iterable[ChunkTask], threads: int | Callable[[], int] = 1,
                 sink: Callable[[ChunkTask, dict], None] | None = None,
                 ) -> Iterator[tuple[ChunkTask, dict | None]]:
    """The chunks in this process, each chunk's tables encoded in ``threads`` other threads.

    For a batch too small to pay for worker processes (``batch.choose_executor``) on a machine
    with a core idle (``batch.encode_threads``): the engine runs the next group of chunks
    (``chunks.groups``, one ensemble) while pyarrow encodes the last group's Parquet, which it
    does without holding the GIL. ``threads`` may be a function, asked once the first group is
    computed (so that a measure of idle cores spans that work instead of a pause); 0 encodes in
    this thread. Results come in task order; while a group is computed, the last group's chunks
    (and ``threads`` more) wait to be encoded: at most two groups' runs are held. The bytes are
    those ``run_group`` makes. With ``sink``, the other thread also hands each chunk's bytes to
    ``sink(task, tables)`` (the store's writer: hashing and writing release the GIL too) and
    the chunk is yielded with None for its tables; encoded in this thread, they are yielded.

    Threads, not processes, for the second core: a forked helper process was measured at 1.6x
    the batch's peak memory (its copy of the parent's pages counts again) and the engine's
    steps hold the GIL too often for two computing threads to gain (measured: none).
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    it = groups(tasks)
    first = next(it, None)
    if first is None:
        return
    computed = list(zip(first, compute_group(first), strict=True))
    group = next(it, None)
    n = 0 if group is None else threads() if callable(threads) else threads  # none: nothing to overlap
    if n < 1:
        for t, tables in computed:
            yield t, tables.encode()
        rest = it if group is None else itertools.chain([group], it)
        yield from serial(t for g in rest for t in g)
        return
    waiting: deque = deque()
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="blocsim-encode") as pool:
        while computed:
            for t, tables in computed:  # the Arrow tables here, Parquet (no GIL) there
                waiting.append((t, pool.submit(_write, t, tables.write, tables.arrow(), sink)))
            computed = [] if group is None else list(zip(group, compute_group(group), strict=True))
            group = next(it, None)
            while len(waiting) > (n if computed else 0):
                done, fut = waiting.popleft()
                yield done, fut.result()



def _write(task: ChunkTask, write: Callable[[dict], dict], arrow: dict,
           sink: Callable[[ChunkTask, dict], None] | None) -> dict | None:
    """In an encoding thread: ``arrow`` as Parquet bytes, given to ``sink`` if there is one."""
    tables = write(arrow)
    if sink is None:
        return tables
    sink(task, tables)
    return None



def processes(tasks: Iterable[ChunkTask], workers: int) -> Iterator[tuple[ChunkTask, dict]]:
    """Local worker processes, with a bounded number of groups of chunks in flight.

    Each unit of work is a group of a cell's consecutive chunks run as one ensemble
    (``chunks.groups``). Workers start with 'spawn' (safe in notebooks and threaded programs,
    unlike 'fork'), and the calling process is one of the ``workers``: it runs groups while the
    others start and whenever none has a result ready, so ``--workers 2`` starts one extra
    process. The global start method is left alone.

    'fork' was measured as the cheap start for small batches (no imports again, ~10 ms): the
    1,000-run baseline batch's process tree then peaked at 203-207 MiB against 128-132 MiB in
    one process (RSS counts the child's copy of the parent's pages again), 0.37 of lean
    ``mesa.batch_run``'s peak where the target is 0.25; so small batches stay in the calling
    process (``encode_aside``) and 'fork' is not used.
    """
    from ..base.children import spawn_context

    ctx = spawn_context()  # 'spawn', without running a caller's script again in each worker
    # The calling process is one of the ``workers``: it runs chunks while it waits.
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx, initializer=end_with_caller) as pool:
        yield from _windowed(tasks, pool.submit, 2 * (workers - 1),
                             lambda pending: wait(pending, return_when=FIRST_COMPLETED)[0],
                             local=True, grouped=True)



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



def dask(tasks: Iterable[ChunkTask], client) -> Iterator[tuple[ChunkTask, dict]]:
    """Chunks on a Dask distributed cluster, through a connected client."""
    from distributed import wait as dask_wait

    try:
        workers = max(1, sum(client.nthreads().values()))
        with client.as_current():  # distributed.wait looks for a default client; ours is not one
            yield from _windowed(tasks, lambda f, t: client.submit(f, t, pure=False), 2 * workers,
                                 lambda pending: dask_wait(pending, return_when="FIRST_COMPLETED").done)
    finally:
        client.close()



def _windowed(tasks, submit, window: int, wait_some, local: bool = False,
              grouped: bool = False) -> Iterator[tuple[ChunkTask, dict]]:
    """Keep at most ``window`` units in flight; yield each chunk's result as its unit completes.

    A unit is a chunk, or with ``grouped`` a group of a cell's consecutive chunks run as one
    ensemble (``chunks.groups``, ``chunks.run_group``). With ``local``, the calling process runs
    a unit itself whenever none of the workers has a result ready, instead of waiting idle (it
    also works while the workers are starting).
    """
    it = groups(tasks) if grouped else ([t] for t in tasks)
    pending: dict = {}

    def fill() -> None:
        while len(pending) < window:
            g = next(it, None)
            if g is None:
                return
            pending[submit(run_group, g)] = g

    fill()
    while True:
        done = [f for f in pending if f.done()]
        if not done and local:
            g = next(it, None)
            if g is not None:
                yield from zip(g, run_group(g), strict=True)
                continue
        if not pending:
            return
        for fut in done or wait_some(list(pending)):
            g = pending.pop(fut)
            yield from zip(g, fut.result(), strict=True)
        fill()
