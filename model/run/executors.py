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
from .chunks import ChunkTask, compute_group, groups, run_chunk


def serial(tasks: Iterable[ChunkTask]) -> Iterator[tuple[ChunkTask, dict]]:
    """Run the chunks one after another in this process (a cell's consecutive ones as one ensemble)."""
    for group in groups(tasks):
        for t, tables in zip(group, compute_group(group), strict=True):
            yield t, tables.encode()



def encode_aside(tasks: Iterable[ChunkTask],
                 threads: int | Callable[[], int] = 1) -> Iterator[tuple[ChunkTask, dict]]:
    """The chunks in this process, each chunk's tables encoded in ``threads`` other threads.

    For a batch too small to pay for worker processes (``batch.choose_executor``) on a machine
    with a core idle (``batch.encode_threads``): the engine runs the next group of chunks
    (``chunks.groups``, one ensemble) while pyarrow encodes the last group's Parquet, which it
    does without holding the GIL. ``threads`` may be a function, asked once the first group is
    computed (so that a measure of idle cores spans that work instead of a pause); 0 encodes in
    this thread. Results come in task order; while a group is computed, the last group's chunks
    (and ``threads`` more) wait to be encoded: at most two groups' runs are held. The bytes are
    those ``run_chunk`` makes.

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
            for t, tables in computed:
                waiting.append((t, pool.submit(tables.encode)))
            computed = [] if group is None else list(zip(group, compute_group(group), strict=True))
            group = next(it, None)
            while len(waiting) > (n if computed else 0):
                done, fut = waiting.popleft()
                yield done, fut.result()



def processes(tasks: Iterable[ChunkTask], workers: int) -> Iterator[tuple[ChunkTask, dict]]:
    """Local worker processes, with a bounded number of chunks in flight.

    Workers start with 'spawn' (safe in notebooks and threaded programs, unlike 'fork'), and
    the calling process is one of the ``workers``: it runs chunks while the others start and
    whenever none has a result ready, so ``--workers 2`` starts one extra process. The global
    start method is left alone.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    # The calling process is one of the ``workers``: it runs chunks while it waits.
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx, initializer=end_with_caller) as pool:
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
