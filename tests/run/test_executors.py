"""``run.executors.encode_aside``: chunks computed here, encoded in other threads, yielded in order."""

from __future__ import annotations

import threading
import time

import pytest

import model.run.executors as executors


class _Computed:
    """A stand-in for ``ChunkTables``: encoding takes longer for earlier chunks."""

    def __init__(self, task: int, log: list) -> None:
        self.task, self.log = task, log

    def encode(self) -> dict:
        time.sleep(0.02 * (5 - self.task % 5))
        self.log.append(("encoded", self.task, threading.current_thread().name))
        return {"outcomes": f"part {self.task}".encode()}


@pytest.mark.parametrize("threads", [1, 2])
def test_results_come_in_task_order_with_a_bounded_backlog(monkeypatch, threads):
    log: list = []

    def compute(task):
        log.append(("computed", task, threading.current_thread().name))
        return _Computed(task, log)

    monkeypatch.setattr(executors, "compute_chunk", compute)
    got = []
    for task, tables in executors.encode_aside(range(7), threads=threads):
        got.append((task, tables))
        computed = sum(1 for e in log if e[0] == "computed")
        assert computed - len(got) <= threads  # at most `threads` chunks wait to be encoded
    assert got == [(t, {"outcomes": f"part {t}".encode()}) for t in range(7)]
    main = threading.current_thread().name
    assert all(name == main for kind, _, name in log if kind == "computed")
    assert all(name.startswith("blocsim-encode") for kind, _, name in log if kind == "encoded")


def test_an_encoding_error_reaches_the_caller(monkeypatch):
    class Bad(_Computed):
        def encode(self) -> dict:
            raise ValueError("cannot encode")

    monkeypatch.setattr(executors, "compute_chunk", lambda task: Bad(task, []))
    with pytest.raises(ValueError, match="cannot encode"):
        list(executors.encode_aside(range(3)))


def test_encoding_threads_only_with_an_idle_core():
    from model.run.batch import encode_threads

    assert encode_threads(2, 0.3, 2) == 1  # a quiet 2-core machine: one thread beside us
    assert encode_threads(2, 1.0, 2) == 0  # the other core is busy
    assert encode_threads(2, 4.5, 2) == 0
    assert encode_threads(4, 0.5, 8) == 3  # never more than the workers asked for, less one
    assert encode_threads(1, 0.0, 8) == 0
    assert encode_threads(2, None, 2) == 0  # no load average: no thread
    assert encode_threads(2, 0.1, None) == 0


def test_batch_workers_end_with_their_caller(monkeypatch):
    """A batch killed outright left its worker processes waiting for work for ever: each worker
    starts with ``base.children.end_with_caller`` (the plot helpers' test shows it ending one)."""
    from model.base.children import end_with_caller

    seen = {}

    class Pool:
        def __init__(self, *args, **kwargs):
            seen.update(kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, *args):
            raise AssertionError("no task to submit")

    monkeypatch.setattr(executors, "ProcessPoolExecutor", Pool)
    assert list(executors.processes(iter(()), 2)) == []
    assert seen["initializer"] is end_with_caller
