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

    def arrow(self) -> dict:
        self.log.append(("arrow", self.task, threading.current_thread().name))
        return {"task": self.task, "log": self.log}

    @staticmethod
    def write(arrow: dict) -> dict:
        time.sleep(0.02 * (5 - arrow["task"] % 5))
        arrow["log"].append(("encoded", arrow["task"], threading.current_thread().name))
        return {"outcomes": f"part {arrow['task']}".encode()}

    def encode(self) -> dict:
        return self.write(self.arrow())


def _grouped(monkeypatch, log: list, size: int = 3, cls=None) -> None:
    """Tasks are ints, grouped ``size`` at a time; computing logs the thread that did it."""
    cls = cls or _Computed

    def compute(group):
        log.extend(("computed", t, threading.current_thread().name) for t in group)
        return [cls(t, log) for t in group]

    monkeypatch.setattr(executors, "compute_group", compute)
    def groups(tasks):
        tasks = list(tasks)
        return (tasks[i:i + size] for i in range(0, len(tasks), size))

    monkeypatch.setattr(executors, "groups", groups)


@pytest.mark.parametrize("threads", [1, 2, lambda: 1, lambda: 0])
def test_results_come_in_task_order_with_a_bounded_backlog(monkeypatch, threads):
    log: list = []
    _grouped(monkeypatch, log)
    n = threads() if callable(threads) else threads
    got = []
    for task, tables in executors.encode_aside(list(range(7)), threads=threads):
        got.append((task, tables))
        computed = sum(1 for e in log if e[0] == "computed")
        assert computed - len(got) <= 2 * 3 + n - 1  # two groups at most, and `threads` more
    assert got == [(t, {"outcomes": f"part {t}".encode()}) for t in range(7)]
    main = threading.current_thread().name
    assert all(name == main for kind, _, name in log if kind in ("computed", "arrow"))
    encoders = {name for kind, _, name in log if kind == "encoded"}
    assert encoders == {main} if n == 0 else all(e.startswith("blocsim-encode") for e in encoders)


def test_the_thread_count_is_asked_once_after_the_first_group(monkeypatch):
    log: list = []
    _grouped(monkeypatch, log)
    asked = []

    def threads() -> int:
        asked.append(sum(1 for e in log if e[0] == "computed"))
        return 1

    assert [t for t, _ in executors.encode_aside(list(range(7)), threads=threads)] == list(range(7))
    assert asked == [3]



def test_an_encoding_error_reaches_the_caller(monkeypatch):
    class Bad(_Computed):
        @staticmethod
        def write(arrow: dict) -> dict:
            raise ValueError("cannot encode")

    _grouped(monkeypatch, [], cls=Bad)
    with pytest.raises(ValueError, match="cannot encode"):
        list(executors.encode_aside(list(range(3))))


def test_encoding_threads_only_with_an_idle_core():
    from model.run.batch import encode_threads

    assert encode_threads(2, 1.0) == 1  # a quiet 2-core machine: we use one core, one is idle
    assert encode_threads(2, 0.6) == 1
    assert encode_threads(2, 0.4) == 0  # the other core is mostly busy
    assert encode_threads(2, 0.0) == 0
    assert encode_threads(4, 7.0) == 3  # never more than the workers asked for, less one
    assert encode_threads(4, 1.7) == 2
    assert encode_threads(1, 8.0) == 0
    assert encode_threads(2, None) == 0  # unknown: no thread


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


def test_a_sink_gets_every_chunk_in_the_encoding_thread(monkeypatch):
    log: list = []
    _grouped(monkeypatch, log)
    got: list = []
    sink = lambda task, tables: got.append((task, tables, threading.current_thread().name))  # noqa: E731
    out = list(executors.encode_aside(list(range(7)), threads=1, sink=sink))
    assert out == [(t, None) for t in range(7)]
    parts = [(t, {"outcomes": f"part {t}".encode()}) for t in range(7)]
    assert [(t, tables) for t, tables, _ in got] == parts
    assert all(name.startswith("blocsim-encode") for _, _, name in got)
    log.clear()
    got.clear()  # no thread (0): the tables come back, the sink is not called
    assert list(executors.encode_aside(list(range(7)), threads=0, sink=sink)) == parts
    assert got == []
