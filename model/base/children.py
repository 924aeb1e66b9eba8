"""Worker processes that end with the process that started them.

A caller killed outright (SIGTERM, SIGKILL) never shuts its process pool down, and the pool's
workers would wait for work for ever, holding its output pipes open (a ``blocsim run | tee``
then never ends). ``end_with_caller``, given as a pool's ``initializer``, makes each worker exit
once its caller has ended. ``spawn_context`` starts workers without the caller's main module.
Standard library only.
"""

from __future__ import annotations

import os
import sys
import types
from multiprocessing.context import SpawnContext, SpawnProcess


def end_with_caller() -> None:
    """In a worker process: exit once the process that started it has ended.

    A thread waits on the caller's end of the pipe the worker was started through
    (``multiprocessing.parent_process().sentinel``), which closes when the caller ends.
    """
    import threading
    from multiprocessing import parent_process

    parent = parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel: int) -> None:
    """Wait until ``sentinel`` is closed (the caller ended), then exit at once."""
    from multiprocessing.connection import wait

    wait([sentinel])
    os._exit(1)



class _SpawnWithoutMain(SpawnProcess):
    """A 'spawn' process told nothing of the caller's ``__main__`` (``spawn_context``)."""

    @staticmethod
    def _Popen(process_obj):
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")  # no file, no spec: nothing to run
        try:
            return SpawnProcess._Popen(process_obj)
        finally:
            sys.modules["__main__"] = main


class _SpawnContext(SpawnContext):
    Process = _SpawnWithoutMain


def spawn_context() -> SpawnContext:
    """A 'spawn' context whose processes do not import the caller's main module.

    'spawn' runs the caller's main script again in each new process, as ``__mp_main__``: a script
    that calls ``model.main`` with no ``if __name__ == "__main__"`` guard had its whole body (a
    second run into the same folder) run again by each helper. blocsim's workers run blocsim's
    own functions only, so they need nothing of it (the main module is hidden while a process
    is launched, a few milliseconds).
    """
    return _SpawnContext()
