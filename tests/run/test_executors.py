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
