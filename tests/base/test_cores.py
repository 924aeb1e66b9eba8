"""Free cores from the kernel's CPU time counters (model.base.cores)."""

from __future__ import annotations

import os

import pytest

from model.base import cores

STAT_A = "cpu  100 0 50 800 50 0 0 0 7 0\ncpu0 50 0 25 400 25 0 0 0 0 0\nintr 1\n"
STAT_B = "cpu  250 0 50 1400 50 0 0 0 9 0\ncpu0 75 0 25 750 25 0 0 0 0 0\nintr 1\n"


def test_parse_stat_reads_idle_and_iowait_and_leaves_guest_out():
    # idle 800 + iowait 50; total of the first eight fields (guest 7 is inside user already)
    assert cores.parse_stat(STAT_A) == (850, 1000)


@pytest.mark.parametrize("text", ["", "intr 1\n", "cpu  a b c d\n", "cpu  1 2\n"])
def test_parse_stat_refuses_what_it_cannot_read(text):
    assert cores.parse_stat(text) is None


def test_others_busy_leaves_out_this_process():
    a, b = cores.parse_stat(STAT_A), cores.parse_stat(STAT_B)
    # 750 ticks pass on 2 cores, 150 of them busy; this process used 1 s = 100 ticks of them
    assert cores.others_busy(a, b, 1.0, 100, 2) == pytest.approx(2 * 50 / 750)
    assert cores.others_busy(a, b, 0.0, 100, 2) == pytest.approx(2 * 150 / 750)
    assert cores.others_busy(a, b, 5.0, 100, 2) == 0.0  # more than all the busy time: none left to others
    assert cores.others_busy(b, b, 0.0, 100, 2) is None


def test_free_cores_measures_from_the_mark(monkeypatch):
    readings = iter([STAT_A, STAT_B])
    monkeypatch.setattr(cores, "_read", lambda: cores.parse_stat(next(readings)))
    monkeypatch.setattr(cores.time, "monotonic", iter([0.0, 1.0]).__next__)
    monkeypatch.setattr(cores, "_own_cpu", iter([3.0, 4.0]).__next__)  # 1 s of its own CPU
    monkeypatch.setattr(cores.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(cores.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(cores, "usable_cores", lambda: 2)
    cores.mark()
    # two cores, others busy 2 * 50 / 750 of a core, one core for this process
    assert cores.free_cores() == pytest.approx(2 - 2 * 50 / 750 - 1)


def test_free_cores_falls_back_to_the_load_average(monkeypatch):
    monkeypatch.setattr(cores, "_read", lambda: None)
    monkeypatch.setattr(cores, "_mark", None)
    monkeypatch.setattr(cores, "usable_cores", lambda: 4)
    monkeypatch.setattr(cores.os, "getloadavg", lambda: (1.5, 0, 0))
    assert cores.free_cores() == pytest.approx(1.5)  # 4 cores, this process and 1.5 others busy


def test_free_cores_is_below_the_usable_cores():
    assert 0.0 <= cores.free_cores() <= cores.usable_cores() - 1 <= (os.cpu_count() or 1)


@pytest.mark.parametrize(("text", "allowed"), [("max 100000\n", None), ("150000 100000\n", 1.5),
                                               ("400000 100000", 4.0), ("", None), ("x y", None),
                                               ("0 100000", None)])
def test_parse_cpu_max_reads_a_containers_cpu_quota(text, allowed):
    assert cores.parse_cpu_max(text) == allowed


def test_a_cpu_quota_caps_the_usable_cores(monkeypatch, tmp_path):
    """In a container limited to 1.5 CPUs on a 16-core host, the affinity and the host's idle
    counters showed 15 free cores: two plot helpers and up to 15 encode threads were started
    on one and a half CPUs, each costing its imports for nothing."""
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")
    monkeypatch.setattr(cores, "CPU_MAX", str(quota))
    monkeypatch.setattr(cores.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert cores.usable_cores() == 1  # whole CPUs the quota gives
    quota.write_text("max 100000\n")  # no quota: the affinity decides
    assert cores.usable_cores() == 16
    quota.unlink()  # no cgroup v2 file at all
    assert cores.usable_cores() == 16
