"""How many cores are idle now: measured from the kernel's CPU time counters, not the load average.

The 1-minute load average counts waiting and sleeping-in-kernel tasks and, in some sandboxes and
virtual machines, reports about 1 on a machine whose cores are idle; it also lags a minute behind.
Where Linux's ``/proc/stat`` exists, ``idle_cores`` reads the idle time of every core between two
readings instead: ``mark()`` takes the first (the command-line entry point calls it at start, so
the reading spans the command's own imports), and ``idle_cores()`` the second, sampling for
``SAMPLE_S`` itself when no mark is recent enough. The calling process's own work counts as busy.
Elsewhere it falls back to the load average.

Imports the standard library only.
"""

from __future__ import annotations

import os
import time

STAT = "/proc/stat"
#: A fresh sample spans at least this long (seconds); a mark younger than it is not used alone.
SAMPLE_S = 0.05

_mark: tuple[float, tuple[int, int]] | None = None


def usable_cores() -> int:
    """Cores this process may run on (its affinity where the system says, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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


def mark() -> None:
    """Take the first reading now (cheap: one small read); ``idle_cores`` measures from it."""
    global _mark
    reading = _read()
    _mark = (time.monotonic(), reading) if reading else None


def idle_share(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """The share of all cores' time that was idle between two readings (None if no time passed)."""
    total = after[1] - before[1]
    if total <= 0:
        return None
    return min(1.0, max(0.0, (after[0] - before[0]) / total))


def idle_cores() -> float:
    """Idle cores now, 0 to ``usable_cores()``; from the load average where ``/proc/stat`` is missing.

    The last ``mark()`` is used if it is at least ``SAMPLE_S`` old, else a fresh reading spans
    ``SAMPLE_S``. Machine-wide idle time is capped at the cores this process may use.
    """
    cores = usable_cores()
    start = _mark if _mark and time.monotonic() - _mark[0] >= SAMPLE_S else None
    if start is None:
        first = _read()
        if first is not None:
            time.sleep(SAMPLE_S)
            start = (0.0, first)
    now = _read() if start is not None else None
    share = idle_share(start[1], now) if now is not None else None
    if share is not None:
        return min(float(cores), share * (os.cpu_count() or cores))
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # unknown: assume busy
        return 0.0
    return max(0.0, min(float(cores), cores - 1 - load))  # this process counts as busy, as above
