"""The shared side of the ensemble's steps: the columns no run has split off, once per plan.

A state's deviations are the same in every run until a run's own decision splits its column
off (``Ensemble.diverge``). Those shared columns follow the plan alone (events, levers,
sanctions, decay, the trim; no random number), so every ensemble of a plan steps them to the
same values: the chunks of a batch's cell did that work once per chunk. ``SharedPath`` does it
once and keeps each step's result (``SharedStep``) on the plan, when small enough to keep
(``KEEP_BYTES``); an ensemble then reads the shared side and computes only its runs and their
diverged columns. ``block_event`` is an event's change to one block of columns, the shared
block here and the diverged pairs in ``Ensemble``.

Part of the core: imports numpy, the core's own modules and ``ensemble.plan``, ``columns``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from .. import dynamics as dyn
from ..dynamics import E_SCO, E_WEST, GOV, SCO_STATUSES
from ..record import SRC
from .columns import (
    advance_structure,
    bounds_columns,
    lever_increments,
    org_event,
    pick,
    source_pushes,
    split_sums,
    status_bump,
    structure,
)
from .plan import N_SRC, SharedPlan

#: A plan keeps its shared path if all its steps may take at most this many bytes
#: (``path_bytes``, an upper bound: 1.7 MB for a 193-state world's 11 yearly steps, which hold
#: about 0.6 MB); a larger one is computed by each ensemble and dropped.
KEEP_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Held:
    """Deviations (sources, channels, n) held by their (source, channel) rows not all +0.0.

    Most rows of the shared deviations are zero (a lever moves one or two channels; no shared
    column takes membership ties), so a step keeps a few rows: a ninth of the array in the
    baseline. Rows are told apart by their bits, so a row holding -0.0 is kept: the columns
    put back together are the array's, bit for bit.
    """

    shape: tuple
    rows: np.ndarray  # (k,) rows of the (sources x channels, n) array that are held
    vals: np.ndarray  # (k, n)

    @classmethod
    def of(cls, dev: np.ndarray) -> Held:
        """The rows of ``dev`` that are not all +0.0 (a copy)."""
        flat = dev.reshape(-1, dev.shape[-1])
        rows = np.flatnonzero((flat.view(np.int64) != 0).any(axis=1))
        vals = flat[rows]
        _frozen(rows, vals)
        return cls(dev.shape, rows, vals)

    def columns(self, cols) -> np.ndarray:
        """The deviations of the states ``cols`` (indices, or a slice), a new (sources, channels, m) array."""
        vals = self.vals[:, cols]
        out = np.zeros((self.shape[0] * self.shape[1], vals.shape[1]))
        out[self.rows] = vals
        return out.reshape(self.shape[0], self.shape[1], -1)

    def full(self) -> np.ndarray:
        """The whole array, a new one."""
        return self.columns(slice(None))


@dataclass(frozen=True)
class SharedStep:
    """The shared columns after one step, and what each run's step reads from it (read-only)."""

    dev: Held              # (sources, channels, n) deviations at the end of the step
    untrimmed: Held        # the same before the step's trim (``dev`` itself if none)
    oob: np.ndarray        # (n,) columns out of bounds before the trim (``bounds_columns``)
    dirty: np.ndarray      # (n,) columns a trim would change
    direct: np.ndarray | None  # (sources, n) direct pushes, levers' included; kept only where
    #                            a trim can split pairs off (``dirty``), the one use of them
    push: np.ndarray       # (sources, n) source pushes
    pos: np.ndarray        # (n,) sum of the source pushes' positive parts, in the model's order
    neg: np.ndarray        # (n,) and of their negative parts
    structure: np.ndarray  # (channels, n) structure at the end of the step
    sanctions: tuple       # sanctions imposed so far: (first, last, mask, intensity, channel)


def step_year(plan: SharedPlan, k: int) -> int:
    """The year of step ``k`` (from ``start + k dt`` to ``start + (k+1) dt``), as ``BlocModel`` takes it."""
    t = plan.start_year + k * plan.dt if k else float(plan.start_year)
    return math.ceil(t + plan.dt - 1e-9)


def sco_goal(ev, old: np.ndarray) -> np.ndarray:
    """The SCO statuses after a join (never a demotion) or leave event, from ``old``."""
    if ev.kind == "join":
        return np.maximum(SCO_STATUSES.index(ev.status), old)
    return np.zeros_like(old)


def is_sco_event(ev) -> bool:
    """Whether the event changes SCO statuses (an SCO join or leave)."""
    return ev.kind in ("join", "leave") and ev.org == "SCO"


def block_event(plan: SharedPlan, ev, mask: np.ndarray, dev: np.ndarray, base: np.ndarray,
                cols: np.ndarray | None, direct: np.ndarray, status: np.ndarray | None,
                orgs: dict) -> None:
    """``BlocModel._apply_event``'s change to one block of deviation columns, in place.

    Each column reads only itself, so a block of columns (all states, or diverged pairs)
    changes as each column would alone. Sanctions are only recorded (``SharedPath``); the org
    flags are updated by the caller, after every block has seen them as they were.

    Args:
        dev, base: the block's deviations (sources, channels, m) and start values (channels, m).
        cols: the block's states (None: every state, in order).
        direct: the block's direct pushes (sources, m).
        status: the block's SCO statuses (m,), for an SCO event (updated in place).
        orgs: org -> (n,) membership flags before the event.
    """
    src = SRC["events"]
    sel = np.flatnonzero(pick(mask, cols))
    if is_sco_event(ev):
        old = status[sel]
        new = sco_goal(ev, old).astype(np.int8)
        ch = new != old
        status_bump(plan, dev, base, sel[ch], old[ch].astype(int), new[ch].astype(int), src)
        status[sel[ch]] = new[ch]
        return
    if ev.kind == "alignment_shock":
        direct[src, sel] += 2.0 * ev.delta / plan.dt
        return
    if ev.kind == "sanctions":
        return
    values = structure(base, dev)
    room = dyn.channel_room(values)
    if ev.kind in ("join", "leave"):
        flags = orgs[ev.org]
        joining = ev.kind == "join"
        act = mask & (~flags if joining else flags)
        org_event(dev, values, room, np.flatnonzero(pick(act, cols)), ev.org, joining)
    elif ev.kind == "economic_shock":
        c = E_SCO if ev.bloc == "sco" else E_WEST
        dev[src, c, sel] += np.clip(ev.delta, -values[c, sel], room[c, sel])
    elif ev.kind == "government_change":
        dev[src, GOV, sel] += ev.regime - values[GOV, sel]
    elif ev.kind == "ties":
        dev[src][:, sel] += dyn.level_changes(values, sel, ev.levels)


def update_orgs(orgs: dict, ev, mask: np.ndarray) -> None:
    """The org flags after a join or leave event of NATO, the EU, the CSTO or BRICS."""
    if ev.kind in ("join", "leave") and not is_sco_event(ev):
        orgs[ev.org][mask] = ev.kind == "join"


def _frozen(*arrays: np.ndarray) -> None:
    for x in arrays:
        x.flags.writeable = False


class SharedPath:
    """The shared columns step by step: computed on demand, kept if ``keep``, else only the last."""

    def __init__(self, plan: SharedPlan, *, keep: bool) -> None:
        self.plan, self.keep = plan, keep
        n, channels = plan.n, plan.base.shape[0]
        self._dev = np.zeros((N_SRC, channels, n))
        self._status = plan.status0.copy()
        self._orgs = {org: f.copy() for org, f in plan.orgs0.items()}
        self._sanctions: list = []
        zero = np.zeros((N_SRC, n))
        held = Held.of(self._dev)
        first = SharedStep(dev=held, untrimmed=held,
                           oob=np.zeros(n, dtype=bool), dirty=np.zeros(n, dtype=bool),
                           direct=zero, push=zero, pos=np.zeros(n), neg=np.zeros(n),
                           structure=structure(plan.base, self._dev), sanctions=())
        _frozen(zero, first.pos, first.neg, first.structure)
        self._steps = {0: first}
        self._k = 0
        self._lock = threading.Lock()

    def at(self, k: int) -> SharedStep:
        """The shared side after ``k`` steps (``k`` at or after the last one asked, if not kept)."""
        with self._lock:
            while self._k < k:
                self._steps[self._k + 1] = self._advance(self._k)
                if not self.keep:
                    del self._steps[self._k]
                self._k += 1
            return self._steps[k]

    def _advance(self, k: int) -> SharedStep:
        """``BlocModel.step`` up to the pushes, for the shared columns."""
        plan = self.plan
        year = step_year(plan, k)
        dev = self._dev.copy()
        direct = np.zeros((N_SRC, plan.n))
        for ev, mask in plan.events.get(k, ()):
            if ev.kind == "sanctions":  # as ``lever_increments`` reads them
                channel = E_WEST if ev.bloc == "west" else E_SCO
                self._sanctions.append((year, year + ev.duration - 1, mask, ev.intensity, channel))
            block_event(plan, ev, mask, dev, plan.base, None, direct, self._status, self._orgs)
            update_orgs(self._orgs, ev, mask)
        values = structure(plan.base, dev)
        room = dyn.channel_room(values)
        inc, rows, capped = lever_increments(plan, year, values, room, direct, self._sanctions, None)
        dev = advance_structure(plan, dev, inc, rows, capped, values, room)
        untrimmed = dev
        dev, oob, dirty, values = trim_shared(plan, dev)
        self._dev = dev  # the next step works on a copy
        push = source_pushes(plan, dev, direct)
        pos, neg = split_sums(push)
        _frozen(dev, oob, dirty, direct, push, pos, neg, values)
        held = Held.of(dev)
        untrimmed = held if untrimmed is dev else Held.of(untrimmed)
        direct = direct if dirty.any() else None
        return SharedStep(dev=held, untrimmed=untrimmed, oob=oob, dirty=dirty, direct=direct,
                          push=push, pos=pos, neg=neg, structure=values,
                          sanctions=tuple(self._sanctions))


def trim_shared(plan: SharedPlan, dev: np.ndarray) -> tuple[np.ndarray, ...]:
    """The shared columns trimmed as ``BlocModel`` trims a run (if any is out), and the tests.

    Returns:
        The deviations (trimmed: a new array), ``bounds_columns``' out-of-bounds and dirty
        columns before the trim, and the structure after it.
    """
    values = structure(plan.base, dev)
    oob, dirty = bounds_columns(values)
    if oob.any():
        dev = dyn.keep_in_bounds(dev, plan.base, plan.lasting)
        values = structure(plan.base, dev)
    return dev, oob, dirty, values


def path_bytes(plan: SharedPlan) -> int:
    """About the bytes a kept path of the plan takes."""
    n, channels = plan.n, plan.base.shape[0]
    return 8 * (plan.steps + 1) * (N_SRC * channels * n + N_SRC * n + channels * n + 2 * n)


def shared_path(plan: SharedPlan) -> SharedPath:
    """The plan's shared path: the one kept on the plan, or a new one that keeps only its last step."""
    if path_bytes(plan) > KEEP_BYTES:
        return SharedPath(plan, keep=False)
    with _CACHE_LOCK:
        path = plan.cache.get("shared_path")
        if path is None:
            path = plan.cache["shared_path"] = SharedPath(plan, keep=True)
    return path


_CACHE_LOCK = threading.Lock()
