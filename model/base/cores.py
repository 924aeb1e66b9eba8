"""How many cores are free beside this process: from the kernel's CPU time counters, not the load average.

The 1-minute load average counts waiting and sleeping-in-kernel tasks and, in some sandboxes and
virtual machines, reports about 1 on a machine whose cores are idle; it also lags a minute behind.
Where Linux's ``/proc/stat`` exists, ``free_cores`` takes the busy time of every core between
two readings, less this process's own CPU time over the same span (its threads included: numpy's
BLAS threads spin for a while after the import, which would otherwise read as another program's
work), and counts one core for this process. ``mark()`` takes the first reading (the command-line
entry point calls it at start, so the span covers the command's own imports); ``free_cores()``
the second, sampling for ``SAMPLE_S`` itself when no mark is old enough. Elsewhere it falls back
to the load average.

Imports the standard library only.
"""

from __future__ import annotations

import os
import time

STAT = "/proc/stat"
#: A container's CPU quota (cgroup v2): "quota period" in microseconds, or "max period" for none.
CPU_MAX = "/sys/fs/cgroup/cpu.max"
#: A fresh sample spans at least this long (seconds); a mark younger than it is not used alone.
SAMPLE_S = 0.05

#: (monotonic time, (idle, total) ticks, this process's CPU seconds) at the last ``mark()``.
_mark: tuple[float, tuple[int, int], float] | None = None


def usable_cores() -> int:
    """Cores this process may run on: its affinity (else all), at most a quota's whole CPUs.

    At least one. The quota is a container's (``CPU_MAX``): a container limited to some CPUs
    still sees every core of its host, in its affinity and in ``/proc/stat``, so without it an
    idle host read as many free cores.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        with open(CPU_MAX, encoding="ascii") as f:
            allowed = parse_cpu_max(f.read(256))
    except (OSError, UnicodeDecodeError):
        allowed = None
    return max(1, min(cores, int(allowed))) if allowed is not None else max(1, cores)


def parse_cpu_max(text: str) -> float | None:
    """The CPUs a cgroup v2 ``cpu.max`` allows ("150000 100000": 1.5); None for no quota or unreadable."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def parse_stat(text: str) -> tuple[int, int] | None:
    """(idle, total) clock ticks of all cores from the text of ``/proc/stat``; None if unreadable.

    Idle counts the ``idle`` and ``iowait`` fields; total, the first eight fields of the ``cpu``
    line (``guest`` and ``guest_nice`` are already inside ``user`` and ``nice``).
    """
    for line in text.splitlines():
        if line.startswith("cpu "):
            try:
                ticks = [int(v) for v in line.split()[1:]]
            except ValueError:
                return None
            if len(ticks) < 4:
                return None
            return ticks[3] + (ticks[4] if len(ticks) > 4 else 0), sum(ticks[:8])
    return None


def _read() -> tuple[int, int] | None:
    try:
        with open(STAT, encoding="ascii") as f:
            return parse_stat(f.read(4096))
    except (OSError, UnicodeDecodeError):
        return None


def _own_cpu() -> float:
    """This process's CPU seconds so far, every thread (not its children)."""
    t = os.times()
    return t.user + t.system


def mark() -> None:
    """Take the first reading now (cheap: one small read); ``free_cores`` measures from it."""
    global _mark
    reading = _read()
    _mark = (time.monotonic(), reading, _own_cpu()) if reading else None


def others_busy(before: tuple[int, int], after: tuple[int, int], own_s: float, ticks_per_s: float,
                cpus: int) -> float | None:
    """Cores kept busy by everything but this process between two readings (None if no time passed).

    Args:
        before, after: ``(idle, total)`` ticks of all cores.
        own_s: this process's CPU seconds between the readings.
        ticks_per_s: the kernel's clock ticks a second (``SC_CLK_TCK``).
        cpus: the cores the counters cover.
    """
    total = after[1] - before[1]
    if total <= 0:
        return None
    busy = total - (after[0] - before[0]) - own_s * ticks_per_s
    return min(float(cpus), max(0.0, busy / total * cpus))


def free_cores() -> float:
    """Cores free beside this process now, 0 to ``usable_cores() - 1``.

    Measured from the last ``mark()`` if it is at least ``SAMPLE_S`` old, else over a fresh
    ``SAMPLE_S``; from the load average where ``/proc/stat`` is missing.
    """
    cores = usable_cores()
    start = _mark if _mark and time.monotonic() - _mark[0] >= SAMPLE_S else None
    if start is None:
        first = _read()
        if first is not None:
            start = (0.0, first, _own_cpu())
            time.sleep(SAMPLE_S)
    now = _read() if start is not None else None
    if start is not None and now is not None:
        cpus = os.cpu_count() or cores
        busy = others_busy(start[1], now, _own_cpu() - start[2], os.sysconf("SC_CLK_TCK"), cpus)
        if busy is not None:
            return max(0.0, min(cores, cpus - busy) - 1.0)
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # unknown: assume busy
        return 0.0
    return max(0.0, min(float(cores), cores - 1 - load))  # this process counts as one of the load
