"""Worker processes that end with the process that started them.

A caller killed outright (SIGTERM, SIGKILL) never shuts its process pool down, and the pool's
workers would wait for work for ever, holding its output pipes open (a ``blocsim run | tee``
then never ends). ``end_with_caller``, given as a pool's ``initializer``, makes each worker exit
once its caller has ended. Standard library only.
"""

from __future__ import annotations

import os


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
