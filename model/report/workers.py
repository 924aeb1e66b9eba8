"""Figures drawn in a second process while a core is idle: the same bytes with or without it.

A command that writes several independent figures (``run``'s six, ``compare``'s ten) hands the
heaviest to a helper process and draws the others itself. Each figure is drawn whole in one
process from the same data and the same matplotlib defaults, so its PNG bytes do not depend on
where it was drawn (checked in ``tests/report/test_workers.py``). The helper is a fresh
interpreter (``spawn``, never ``fork``: the parent may hold pyarrow's or BLAS's threads), started
as early as the command allows so that its imports overlap the parent's work, and only when the
machine has a core to spare: on busy cores a second process costs its imports and gains nothing.

``BLOCSIM_PLOT_WORKERS`` (a whole number) overrides the rule: ``0`` draws everything in the
calling process, ``1`` or more always uses that many helpers (at most ``MAX_WORKERS``).

Imports report and lower layers only (nothing of its own at import time).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future

#: The environment variable that fixes the number of helper processes.
ENV = "BLOCSIM_PLOT_WORKERS"
#: At most this many helpers, whatever the machine: a command has ten figures at most.
MAX_WORKERS = 2
#: A core idle at least this much short of all the time still counts as idle (background blips).
SLACK = 0.2


def spare_workers() -> int:
    """How many helper processes to use now: ``BLOCSIM_PLOT_WORKERS``, or one per idle core.

    The rule counts whole cores left idle beside this process, measured from the kernel's CPU
    time counters (``base.cores.idle_cores``, which counts this process as busy) rather than the
    load average, which reads about 1 on some idle sandboxes; a core idle ``1 - SLACK`` of the
    time (the odd daemon waking) still counts.
    """
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            return max(0, min(int(value), MAX_WORKERS))
        except ValueError:
            pass  # a stray value: fall back to the rule
    from ..base.cores import idle_cores

    return max(0, min(MAX_WORKERS, int(idle_cores() + SLACK)))


def draw_png(make: Callable) -> bytes:
    """The PNG bytes of the figure ``make()`` returns (``compare_plots.png_bytes``), here or in a helper."""
    from .compare_plots import png_bytes

    return png_bytes(make())


def _warm(module: str) -> None:
    """Start a helper: tie its life to its caller's, then import ``module`` (overlapping the caller's work).

    Ctrl-C reaches every process of the terminal's group: the helper ignores it and the caller,
    which handles it, ends the helpers. A caller killed outright (SIGTERM, SIGKILL) never ends
    them: the helper watches for its caller's end and exits then, not waiting forever for work.
    """
    import importlib
    import signal

    from ..base.children import end_with_caller

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_caller()
    importlib.import_module(module)


class Helpers:
    """Helper processes for figures, started at once; ``None`` work when there are none.

    Use as a context manager: the processes end when the block ends.
    """

    def __init__(self, workers: int, warm: str = "matplotlib.figure"):
        self.workers = workers
        self._pool = None
        if workers > 0:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            try:
                self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_warm, initargs=(warm,))
                for _ in range(workers):  # start the processes now, not at the first figure
                    self._pool.submit(int)
            except (OSError, RuntimeError):  # no process to be had (limits, a sandbox): draw here
                self.close()
                self.workers = 0

    def __enter__(self) -> Helpers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the helper processes (waiting for what they are drawing)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, jobs: Sequence[tuple[Callable, tuple]], remote: Sequence[bool]) -> list:
        """``fn(*args)`` for every job, in order; those marked ``remote`` in a helper if there is one.

        A helper that died (killed, out of memory) leaves its jobs to this process; an error
        raised by a job itself is raised here.
        """
        from concurrent.futures import wait
        from concurrent.futures.process import BrokenProcessPool

        futures: dict[int, Future] = {}
        if self._pool is not None:
            try:
                futures = {i: self._pool.submit(fn, *args) for i, ((fn, args), far) in
                           enumerate(zip(jobs, remote, strict=True)) if far}
            except (BrokenProcessPool, RuntimeError):
                futures = {}
        try:
            out = [None if i in futures else fn(*args) for i, (fn, args) in enumerate(jobs)]
            for i, future in futures.items():
                try:
                    out[i] = future.result()
                except BrokenProcessPool:
                    fn, args = jobs[i]
                    out[i] = fn(*args)
        except BaseException:  # a job failed, or Ctrl-C: the caller will remove what they write
            for future in futures.values():  # into, so the helpers' jobs end before it does
                future.cancel()
            wait(futures.values())
            raise
        return out


def helpers(workers: int | None = None, warm: str = "matplotlib.figure") -> Helpers:
    """``Helpers`` with ``workers`` processes (default ``spare_workers()``)."""
    return Helpers(spare_workers() if workers is None else workers, warm)


class RunPlotter:
    """``blocsim run``'s plotter: helpers started once the input passed its checks.

    matplotlib is loaded only to draw, so a file with a mistake is refused before any of it loads.
    """

    def __init__(self):
        self.helpers: Helpers | None = None

    def prepare(self) -> None:
        """Start the helper processes, if a core is idle (``execute_run`` calls it before the runs)."""
        if self.helpers is None:
            self.helpers = helpers(warm="model.report.run_plots")

    def __call__(self, *args, **kwargs):
        """``report.run_plots.write_plots`` with the helpers."""
        from .run_plots import write_plots

        return write_plots(*args, helpers=self.helpers, **kwargs)

    def close(self) -> None:
        """End the helpers."""
        if self.helpers is not None:
            self.helpers.close()
            self.helpers = None
