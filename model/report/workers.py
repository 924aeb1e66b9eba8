"""Figures drawn in a second process while a core is idle: the same bytes with or without it.

A command that writes several independent figures (``run``'s six, ``compare``'s ten) hands the
heaviest to a helper process and draws the others itself. Each figure is drawn whole in one
process from the same data and the caller's matplotlib settings (``callers_style``: a
script's own style goes with each job), so its PNG bytes do not depend on
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
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

#: The environment variable that fixes the number of helper processes.
ENV = "BLOCSIM_PLOT_WORKERS"
#: At most this many helpers, whatever the machine: a command has ten figures at most.
MAX_WORKERS = 2
#: What ``compare``'s helper loads before its first figure (the ``warm`` of ``Helpers``).
COMPARE_WARM = "model.report.workers:warm_compare"
#: A core idle at least this much short of all the time still counts as idle (background blips).
SLACK = 0.2


def spare_workers() -> int:
    """How many helper processes to use now: ``BLOCSIM_PLOT_WORKERS``, or one per idle core.

    The rule counts whole cores left free beside this process by every other program, measured
    from the kernel's CPU time counters (``base.cores.free_cores``) rather than the load
    average, which reads about 1 on some idle sandboxes; a core idle ``1 - SLACK`` of the time
    (the odd daemon waking) still counts.
    """
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            return max(0, min(int(value), MAX_WORKERS))
        except ValueError:
            pass  # a stray value: fall back to the rule
    from ..base.cores import free_cores

    return max(0, min(MAX_WORKERS, int(free_cores() + SLACK)))


@dataclass(frozen=True)
class Plot:
    """A figure to draw, ``module.function(*args, **kwargs)``, named rather than imported.

    Describing (and handing over) a figure loads nothing of matplotlib: only the process that
    draws it imports ``module``.
    """

    module: str
    function: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __call__(self):
        """The figure."""
        import importlib

        return getattr(importlib.import_module(self.module), self.function)(*self.args, **self.kwargs)


def draw_png(make: Callable) -> bytes:
    """The PNG bytes of the figure ``make()`` returns (``png.png_bytes``), here or in a helper."""
    from .png import png_bytes

    return png_bytes(make())


def warm_compare() -> None:
    """Load what ``compare``'s first figure would: its plotting modules and fonts.

    Its helper does this while it waits for the data of its first figure.
    """
    from matplotlib.figure import Figure

    from . import compare_plots, costs  # noqa: F401
    from .png import png_bytes

    ax = Figure(figsize=(1, 1), dpi=compare_plots.DPI).add_subplot()
    ax.set_title("0%", fontweight="bold")
    png_bytes(ax.figure)


def _warm(module: str) -> None:
    """Start a helper: tie its life to its caller's, then import ``module`` (overlapping the caller's work).

    ``module:function`` also calls the function (say, to load fonts before the first figure).

    Ctrl-C reaches every process of the terminal's group: the helper ignores it and the caller,
    which handles it, ends the helpers. A caller killed outright (SIGTERM, SIGKILL) never ends
    them: the helper watches for its caller's end and exits then, not waiting forever for work.
    """
    import importlib
    import signal

    from ..base.children import end_with_caller

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_caller()
    name, _, function = module.partition(":")
    loaded = importlib.import_module(name)
    if function:
        getattr(loaded, function)()


def callers_style() -> dict:
    """This process's matplotlib settings that a fresh process would not have (none if not loaded).

    A script's or notebook's own style (``rcParams``, a style sheet, an inline backend's sizes)
    applies to the figures drawn here; a helper, a fresh interpreter, starts from the
    matplotlibrc alone. Handed over with each job, so that a figure's bytes do not depend on
    where it was drawn. The backend is left out: figures are drawn on an Agg canvas anyway.
    """
    mpl = sys.modules.get("matplotlib")
    if mpl is None:  # not loaded here: nothing changed, the helper's settings are the same
        return {}
    orig = mpl.rcParamsOrig
    return {k: v for k, v in mpl.rcParams.items() if k != "backend" and not _same(orig.get(k), v)}


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # arrays and the like: compare as text
        return repr(a) == repr(b)


def _styled(style: dict, fn: Callable, *args):
    """In a helper: ``fn(*args)`` with the caller's matplotlib settings ``style``."""
    if not style:
        return fn(*args)
    import matplotlib

    with matplotlib.rc_context(style):
        return fn(*args)


class Helpers:
    """Helper processes for figures, started at once; ``None`` work when there are none.

    Use as a context manager: the processes end when the block ends.
    """

    def __init__(self, workers: int, warm: str = "matplotlib.figure"):
        self.workers = workers
        self._pool = None
        if workers > 0:
            from concurrent.futures import ProcessPoolExecutor

            from ..base.children import spawn_context

            try:  # a caller's unguarded script is not run again in the helper (spawn_context)
                self._pool = ProcessPoolExecutor(workers, mp_context=spawn_context(),
                                                 initializer=_warm, initargs=(warm,))
                for _ in range(workers):  # start the processes now, not at the first figure
                    self._pool.submit(int)
            except (OSError, RuntimeError):  # no process to be had (limits, a sandbox): draw here
                self.close()
                self.workers = 0

    def __enter__(self) -> Helpers:
        return self

    def __exit__(self, kind, *exc) -> None:
        self.close(finish=kind is None)

    def close(self, finish: bool = True) -> None:
        """End the helper processes when they have finished what they are doing.

        ``finish=False`` (the caller failed): at once, so that the error is reported without
        waiting for a helper's imports.
        """
        if self._pool is not None:
            if not finish:
                for process in (getattr(self._pool, "_processes", None) or {}).values():
                    process.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(self, fn: Callable, *args) -> Future | None:
        """Hand ``fn(*args)`` to a helper now; None if there is none (the caller then does it).

        The helper runs it with the caller's matplotlib settings (``callers_style``).
        """
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            return None
        try:
            return self._pool.submit(_styled, callers_style(), fn, *args)
        except (BrokenProcessPool, RuntimeError):
            return None

    def run(self, jobs: Sequence[tuple[Callable, tuple]], remote: Sequence[bool]) -> list:
        """``fn(*args)`` for every job, in order; those marked ``remote`` in a helper if there is one.

        A helper that died (killed, out of memory) leaves its jobs to this process; an error
        raised by a job itself is raised here.
        """
        futures = [self.submit(fn, *args) if far else None
                   for (fn, args), far in zip(jobs, remote, strict=True)]
        return self.gather(jobs, futures)

    def gather(self, jobs: Sequence[tuple[Callable, tuple]], futures: Sequence[Future | None],
               cost: Sequence[float] | None = None, start_cost: float = 0.0) -> list:
        """The results of ``jobs``: those without a future done here, then the helpers' collected.

        With ``cost`` (rough seconds per job), jobs handed over but not started yet are taken
        back, the last first, while this process would finish one (``start_cost`` more for the
        first: its imports) before the helpers finish what they have left: both sides then end at
        about the same time. A helper that died leaves its jobs here; a job's error is raised here.
        """
        from concurrent.futures import wait
        from concurrent.futures.process import BrokenProcessPool

        live = {i: f for i, f in enumerate(futures) if f is not None}
        try:
            out = [None if i in live else fn(*args) for i, (fn, args) in enumerate(jobs)]
            while cost is not None:
                left = [i for i, f in live.items() if not f.done()]
                if len(left) < 2 or cost[left[-1]] + start_cost >= sum(cost[i] for i in left):
                    break
                if not live[left[-1]].cancel():  # started (or queued for a helper): theirs
                    break
                i = left[-1]
                del live[i]
                fn, args = jobs[i]
                out[i], start_cost = fn(*args), 0.0
            for i, future in live.items():
                try:
                    out[i] = future.result()
                except BrokenProcessPool:
                    fn, args = jobs[i]
                    out[i] = fn(*args)
        except BaseException:  # a job failed, or Ctrl-C: the caller will remove what they write
            for future in live.values():  # into, so the helpers' jobs end before it does
                future.cancel()
            wait(live.values())
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
