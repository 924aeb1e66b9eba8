"""An ensemble engine: all replications of one scenario advanced together, as one array.

``BlocModel`` steps one run at a time over (n,) arrays. Replications of a scenario differ only
by their random numbers, so everything a run does can be written over (n, R) arrays, columns
being runs: alignment, its smoothed copy, streaks, SCO statuses and anchors. The (n, R) layout
(states first) lets the peer term be one sparse product ``relations @ D`` with the runs as
contiguous right-hand sides, the fastest orientation scipy offers.

What is shared is stored once: the lever plan, events, and the *structural deviations*
(sources x channels x states). Deviations depend only on each state's path of SCO statuses, and
every column (state) evolves on its own, so they are the same in every run until a run's
membership decision changes a state's status. From then on that (state, run) pair is
*diverged*: its deviation column is copied out of the shared array and carried on its own
(a compact (sources, channels, pairs) block), advanced by exactly the same column-wise
functions. A run is thus the shared deviations with its diverged columns swapped in.

Random numbers come from each replication's own generator, drawn exactly as ``BlocModel``
draws them (one integer for Mesa's stdlib generator at construction, then per step
``standard_normal(n)`` and ``random(n)``), so every run equals the ``BlocModel`` run with the
same seed. Sums keep ``BlocModel``'s order (sources row by row, then peer, inertia, shock;
``sum_rows``), so the results are bit for bit the same, not merely close.

Alignment and membership are stepped a block of runs at a time (``block`` columns), which keeps
the temporaries small. Attribution keeps only what a run's contributions cannot be recomputed
without: the shared source pushes (with their diverged columns) and each run's peer and shock
pushes; ``EnsembleResult`` replays ``alignment_step``'s arithmetic for a run when asked
(``replay_contributions``), with the same functions and so the same bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import dynamics as dyn
from .build import model_from_scenario
from .dynamics import E_SCO, E_WEST, GOV, S_SCO, SCO_STATUSES
from .levers import stacked_effects
from .scenario import Scenario
from .simulation import DRIVERS, ORG_FLAGS, ORG_TIES, SOURCES, SRC, BlocModel, RunResult
from .world import World

N_SRC = len(SOURCES)
PEER, INERTIA, SHOCK = N_SRC, N_SRC + 1, N_SRC + 2
TOP = len(SCO_STATUSES) - 1
BOUNDS_TOL = 1e-12  # dynamics.out_of_bounds's default


# --- the shared plan ------------------------------------------------------------------------------

@dataclass
class SharedPlan:
    """What every replication shares: the scenario as ``BlocModel`` prepared it, stored once."""

    n: int
    dt: float
    steps: int
    start_year: int
    params: dict
    iso3: np.ndarray
    gdp_usd: np.ndarray
    population: np.ndarray
    relations: object            # (n, n) CSR, row-normalised
    has_relations: np.ndarray    # (n,) bool
    a0: np.ndarray               # (n,) start alignment
    status0: np.ndarray          # (n,) int8 start SCO status
    orgs0: dict                  # org -> (n,) bool flags at the start
    base: np.ndarray             # (channels, n) start structure
    decay_factors: np.ndarray    # (sources, channels, 1)
    lasting: np.ndarray          # (sources,) bool
    thresholds: np.ndarray       # (4,)
    smoothing: float
    in_sco_region: np.ndarray    # (n,) bool
    plain_src: np.ndarray        # (levers,) source rows of the stackable levers
    plain_eff: np.ndarray        # (levers, n)
    plain_window: np.ndarray     # (levers, 2) first, last year
    plain_rates: np.ndarray      # (levers, channels)
    plain_direct: np.ndarray     # (levers,)
    special: list                # (src, lever, eff, first, last) for levers with own effects
    cap_needed: bool
    events: dict                 # step -> [(event, mask)]
    gain_up: np.ndarray          # (4, 4) security share gained moving old -> new (new > old)
    trade_up: np.ndarray         # (4, 4) trade share gained
    loss_down: np.ndarray        # (4, 4) security share lost (new < old)
    trade_down: np.ndarray       # (4, 4) trade share lost


def bump_tables(params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``BlocModel.set_sco_status``'s shares for every (old, new) pair, computed its way.

    The products over the rungs crossed are formed with the same ``np.prod`` of the same
    slices, so a table look-up gives the same bits as the model's per-state computation.
    """
    bump = np.array([0.0, params["partner_security_bump"], params["observer_security_bump"],
                     params["member_security_bump"]])
    trade = np.array([0.0, 0.0, 0.0, params["member_trade_bump"]])
    tabs = np.zeros((4, TOP + 1, TOP + 1))
    for old in range(TOP + 1):
        for new in range(TOP + 1):
            if new > old:
                tabs[0, old, new] = 1.0 - np.prod(1.0 - bump[old + 1:new + 1])
                tabs[1, old, new] = 1.0 - np.prod(1.0 - trade[old + 1:new + 1])
            elif new < old:
                tabs[2, old, new] = 1.0 - np.prod(1.0 - bump[new + 1:old + 1])
                tabs[3, old, new] = 1.0 - np.prod(1.0 - trade[new + 1:old + 1])
    return tabs[0], tabs[1], tabs[2], tabs[3]


def plan_from_model(m: BlocModel) -> SharedPlan:
    """Read the shared plan off a freshly built ``BlocModel`` (the one place that knows its names).

    The engine reuses the model's own set-up (lever plan, events, decay factors, thresholds) so
    that it cannot drift from it; after a refactor of the constructor only this function changes.
    """
    w = m.world
    return SharedPlan(
        n=w.n, dt=m.dt, steps=m.steps_total, start_year=int(m.start_year),
        params=m.params.to_dict(), iso3=w.iso3, gdp_usd=w.gdp_usd, population=w.population,
        relations=w.relations, has_relations=m.has_relations, a0=m.a0.copy(),
        status0=w.sco_status.astype(np.int8).copy(),
        orgs0={org: getattr(w, flag).copy() for org, flag in ORG_FLAGS.items()},
        base=m.base, decay_factors=m.decay_factors, lasting=m.lasting, thresholds=m.thresholds,
        smoothing=m.smoothing, in_sco_region=m.in_sco_region, plain_src=m.plain_src,
        plain_eff=m.plain_eff, plain_window=m.plain_window, plain_rates=m.plain_rates,
        plain_direct=m.plain_direct, special=list(m.special), cap_needed=m.cap_needed,
        events=m.events, **dict(zip(("gain_up", "trade_up", "loss_down", "trade_down"),
                                    bump_tables(m.params.to_dict()), strict=True)))


# --- random numbers -------------------------------------------------------------------------------

def start_generators(seeds) -> list[np.random.Generator]:
    """One generator per replication, advanced past the draw Mesa's ``Model.__init__`` makes.

    Mesa seeds its stdlib ``random`` with ``rng.integers(int32 max)``; ``BlocModel`` never uses
    that generator, but the draw moves the numpy stream, so it is made here too.
    """
    rngs = [np.random.default_rng(s) for s in seeds]
    for g in rngs:
        g.integers(np.iinfo(np.int32).max)
    return rngs


def draw_step(rngs: list[np.random.Generator], buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step's shocks and membership draws for every run, as (n, R) arrays.

    Each run draws ``standard_normal(n)`` then ``random(n)`` from its own generator, as
    ``BlocModel.step`` does every step whatever the parameters; ``buf`` is (2, R, n) scratch.
    """
    for r, g in enumerate(rngs):
        g.standard_normal(out=buf[0, r])
        g.random(out=buf[1, r])
    return np.ascontiguousarray(buf[0].T), np.ascontiguousarray(buf[1].T)


# --- sums in the model's order ---------------------------------------------------------------------

def sum_rows(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sum over ``axis`` strictly in order, first row plus the second plus the third...

    This is the order numpy uses for ``BlocModel``'s sums over sources and drivers (a leading
    axis of a C-ordered array, added row by row). For a block of one column, or a gathered
    block that numpy lays out column-major, numpy may instead sum pairwise, which differs in the
    last bit; written out, the order cannot depend on the layout.
    """
    x = np.moveaxis(x, axis, 0)
    out = x[0].copy()
    for row in x[1:]:
        out += row
    return out


def structure(base: np.ndarray, dev: np.ndarray) -> np.ndarray:
    """``dynamics.structure`` with the sum over sources in the model's order, for any block."""
    return base + sum_rows(dev)


# --- structure, column by column ------------------------------------------------------------------
# Each function acts on a block of columns: the shared deviations (all n states) or the diverged
# (state, run) pairs. ``cols`` picks the plan's per-state arrays for the block (None: all states).

def pick(x: np.ndarray, cols: np.ndarray | None) -> np.ndarray:
    """The block's columns of a per-state array (last axis), or the array itself for all states."""
    return x if cols is None else x[..., cols]


def status_bump(plan: SharedPlan, dev: np.ndarray, base: np.ndarray, j: np.ndarray, old: np.ndarray,
                new: np.ndarray, src: int) -> None:
    """Add the security and trade ties of moving from ``old`` to ``new`` status, in place.

    ``BlocModel.set_sco_status`` for the block columns ``j`` at once: up a rung, a share of the
    room left; down, a share of the value held. Every column reads only itself, so doing them
    together gives each the same numbers as doing them one by one.
    """
    if j.size == 0:
        return
    values = structure(base[:, j], dev[:, :, j])
    room = dyn.channel_room(values)
    up = new > old
    sec = np.where(up, plan.gain_up[old, new] * room[S_SCO], -(plan.loss_down[old, new] * values[S_SCO]))
    trd = np.where(up, plan.trade_up[old, new] * room[E_SCO], -(plan.trade_down[old, new] * values[E_SCO]))
    dev[src, S_SCO, j] += sec
    dev[src, E_SCO, j] += trd


def org_event(dev: np.ndarray, values: np.ndarray, room: np.ndarray, sel: np.ndarray, org: str,
              joining: bool) -> None:
    """Joining or leaving NATO, the EU, the CSTO or BRICS for block columns ``sel``, in place."""
    channel, share = ORG_TIES[org]
    if joining:
        dev[SRC["events"], channel, sel] += share * room[channel, sel]
    else:
        dev[SRC["events"], channel, sel] -= share * values[channel, sel]


def lever_increments(plan: SharedPlan, year: int, values: np.ndarray, room: np.ndarray,
                     direct: np.ndarray, sanctions: list, cols: np.ndarray | None
                     ) -> tuple[np.ndarray, list[int], bool]:
    """This step's increments of structure from levers and sanctions, for a block of columns.

    The body of ``BlocModel.step`` between the events and the update, with the plan's
    per-state arrays restricted to the block. Adds the levers' direct pushes into ``direct``.

    Returns:
        Increments (sources, channels, m), the sorted source rows touched, whether to cap.
    """
    dt, p = plan.dt, plan.params
    inc = np.zeros((N_SRC, values.shape[0], values.shape[1]))
    touched = set()
    on = (plan.plain_window[:, 0] <= year) & (year <= plan.plain_window[:, 1])
    if on.any():
        rate, push = stacked_effects(plan.plain_rates[on], plan.plain_direct[on],
                                     pick(plan.plain_eff[on], cols), values, room)
        inc[plan.plain_src[on]] += rate * dt
        direct[plan.plain_src[on]] += push
        touched.update(plan.plain_src[on].tolist())
    for src, lever, eff, first, last in plan.special:
        if first <= year <= last:
            rate, push = lever.effects(pick(eff, cols), values, room, p)
            inc[src] += rate * dt
            direct[src] += push
            touched.add(src)
    capped = plan.cap_needed
    for first, last, mask, x, channel in sanctions:
        if first <= year <= last:
            inc[SRC["sanctions"], channel] -= (1.0 - (1.0 - x) ** dt) * values[channel] * pick(mask, cols)
            touched.add(SRC["sanctions"])
            capped = True
    return inc, sorted(touched), capped


def advance_structure(plan: SharedPlan, dev: np.ndarray, inc: np.ndarray, rows: list[int], capped: bool,
                      values: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Add the increments (capped if needed) and let fading deviations decay."""
    if rows:
        dev[rows] += dyn.cap_increments(inc[rows], values, room) if capped else inc[rows]
    dev *= plan.decay_factors
    return dev


def bounds_columns(values: np.ndarray, tol: float = BOUNDS_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Per column: out of bounds as ``dynamics.out_of_bounds`` judges it, and touched at all.

    ``BlocModel`` trims a run's deviations (``keep_in_bounds``) when *any* of its states is out
    by more than ``tol``; the trim then changes every column with any excess (``dirty``), even
    one within ``tol``. The engine needs both to decide per run.
    """
    trade = values[E_SCO] + values[E_WEST]
    oob = (values < -tol).any(axis=0) | (values > 1 + tol).any(axis=0) | (trade > 1 + tol)
    dirty = (values < 0).any(axis=0) | (values > 1).any(axis=0) | (trade > 1)
    return oob, dirty


def source_pushes(plan: SharedPlan, dev: np.ndarray, direct: np.ndarray) -> np.ndarray:
    """Each source's push on each column: direct pushes plus ``structural_push`` of the deviations."""
    p = plan.params
    return direct + dyn.structural_push(dev, p["econ_weight"], p["security_weight"], p["regime_weight"])


def swap_in(shared: np.ndarray, pairs: np.ndarray, pair_state: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """A copy of a shared per-state array with the selected diverged columns put in their places."""
    out = shared.copy()
    out[..., pair_state[sel]] = pairs[..., sel]
    return out


# --- alignment, all runs at once --------------------------------------------------------------------

def split_sums(pushes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the positive and of the negative parts of the source pushes (over sources).

    The first 16 terms of ``alignment_step``'s sums over drivers, summed in the same order
    (numpy adds along a leading axis row by row), so adding the dynamic drivers afterwards
    gives the same bits.
    """
    return sum_rows(np.maximum(pushes, 0.0)), sum_rows(np.maximum(-pushes, 0.0))


def add_dynamic(src_part: np.ndarray, peer: np.ndarray, shock: np.ndarray, sign: float) -> np.ndarray:
    """Finish a sum over drivers: sources, then peer, inertia (a zero push) and shock, in order."""
    s = src_part + np.maximum(sign * peer, 0.0)
    s += np.maximum(sign * 0.0, 0.0)
    s += np.maximum(sign * shock, 0.0)
    return s


def bounded_move(relaxed: np.ndarray, pos: np.ndarray, neg: np.ndarray, dt: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``alignment_step``'s bounded moves up and down, from the summed pushes."""
    up = (1.0 - relaxed) * -np.expm1(-dt * pos / 2.0)
    down = (1.0 + relaxed) * -np.expm1(-dt * neg / 2.0)
    return up, down


def shares(up: np.ndarray, down: np.ndarray, pos: np.ndarray, neg: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Move per unit of positive and of negative push: a driver's contribution is its push times these."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pos > 0, up / pos, 0.0), np.where(neg > 0, down / neg, 0.0)


def contribution(push: np.ndarray, up_share: np.ndarray, down_share: np.ndarray) -> np.ndarray:
    """One driver's contribution, written as ``alignment_step`` writes it."""
    return np.maximum(push, 0.0) * up_share - np.maximum(-push, 0.0) * down_share


def replay_contributions(a: np.ndarray, parts: tuple, pairs: list, peer: np.ndarray,
                         shock: np.ndarray, a0: np.ndarray, inertia: float, dt: float) -> np.ndarray:
    """One run's contributions (T+1, drivers, n), recomputed from what the engine kept.

    Every step of ``alignment_step`` is a function of the run's alignment before the step, the
    source pushes, and the peer and shock pushes; the engine keeps only those (the alignment
    anyway) and this replays the arithmetic, all steps at once, with the very functions the
    engine stepped with. Same inputs, same operations: the same bits as ``BlocModel`` records.

    Args:
        a: (T+1, n) the run's alignment.
        parts: ``shared_parts`` of the shared source pushes, computed once for all runs.
        pairs: per step, (states, source pushes (sources, m)) of this run's diverged columns.
        peer, shock: (T+1, n) the run's peer and shock pushes (row 0 unused).
    """
    pos_parts, neg_parts, pos_s, neg_s = parts
    pos_s, neg_s = pos_s.copy(), neg_s.copy()
    for k, (cols, vals) in enumerate(pairs):
        if cols.size:
            pos_s[k][cols], neg_s[k][cols] = split_sums(vals)
    relaxed = dyn.relax_to_anchor(a[:-1], a0, inertia, dt)
    p, s = peer[1:], shock[1:]
    pos, neg = add_dynamic(pos_s[1:], p, s, 1.0), add_dynamic(neg_s[1:], p, s, -1.0)
    up, down = bounded_move(relaxed, pos, neg, dt)
    us, ds = shares(up, down, pos, neg)
    out = np.zeros((a.shape[0], len(DRIVERS), a.shape[1]))
    # contribution() with the positive and negative parts taken once for every run
    out[1:, :N_SRC] = pos_parts[1:] * us[:, None] - neg_parts[1:] * ds[:, None]
    for k, (cols, vals) in enumerate(pairs):
        if cols.size:
            out[k, :N_SRC, cols] = contribution(vals, us[k - 1, cols], ds[k - 1, cols]).T
    out[1:, PEER] = contribution(p, us, ds)
    out[1:, INERTIA] = relaxed - a[:-1]
    out[1:, SHOCK] = contribution(s, us, ds)
    return out


def shared_parts(push: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positive and negative parts of the shared source pushes (T+1, sources, n) and their sums."""
    pos_parts, neg_parts = np.maximum(push, 0.0), np.maximum(-push, 0.0)
    return pos_parts, neg_parts, sum_rows(pos_parts, axis=1), sum_rows(neg_parts, axis=1)


# --- the result --------------------------------------------------------------------------------------

@dataclass
class EnsembleResult:
    """R runs of one scenario: per-run arrays (R, T+1, n), shared parts once, divergence sparsely.

    ``structure`` and ``contributions`` are stored as the shared array plus, per step, the
    (state, run) columns that diverged; ``structure_of(r)``, ``contributions_of(r)`` and
    ``run_result(r)`` put one run together, equal to what ``BlocModel`` records.
    """

    seeds: list
    times: np.ndarray             # (T+1,)
    iso3: np.ndarray              # (n,)
    alignment: np.ndarray         # (R, T+1, n)
    status: np.ndarray            # (R, T+1, n) int8
    structure_shared: np.ndarray  # (T+1, channels, n)
    structure_pairs: list         # per step: (states, runs, (channels, m) values)
    status_logs: list             # per run: [(year, iso3, old, new, source)]
    gdp_usd: np.ndarray
    population: np.ndarray
    attribution: bool
    pushes_shared: np.ndarray | None = None  # (T+1, sources, n); row 0 unused
    pushes_pairs: list | None = None         # per step: (states, runs, (sources, m))
    peer: np.ndarray | None = None           # (T+1, n, R) peer pushes
    shock: np.ndarray | None = None          # (T+1, n, R) shock pushes
    a0: np.ndarray | None = None             # (n,) start alignment (the anchor)
    dt: float = 1.0
    inertia: float = 0.0
    _parts: tuple | None = field(default=None, repr=False)  # shared_parts, once asked for

    @property
    def runs(self) -> int:
        """Number of replications R."""
        return self.alignment.shape[0]

    def structure_of(self, r: int) -> np.ndarray:
        """Run ``r``'s structure (T+1, channels, n): the shared one with its diverged columns."""
        out = self.structure_shared.copy()
        for k, (states, runs, vals) in enumerate(self.structure_pairs):
            sel = runs == r
            if sel.any():
                out[k][:, states[sel]] = vals[:, sel]
        return out

    def contributions_of(self, r: int) -> np.ndarray:
        """Run ``r``'s contributions (T+1, drivers, n), row 0 zeros, as ``BlocModel`` records them."""
        if not self.attribution:
            raise ValueError("run with attribution=True to get contributions")
        if self._parts is None:
            self._parts = shared_parts(self.pushes_shared)
        pairs = [(states[runs == r], vals[:, runs == r]) for states, runs, vals in self.pushes_pairs]
        return replay_contributions(self.alignment[r], self._parts, pairs,
                                    np.ascontiguousarray(self.peer[..., r]),
                                    np.ascontiguousarray(self.shock[..., r]), self.a0, self.inertia,
                                    self.dt)

    def run_result(self, r: int) -> RunResult:
        """Run ``r`` as the ``RunResult`` that ``BlocModel`` with seed ``seeds[r]`` returns."""
        t1, n = self.alignment.shape[1], self.alignment.shape[2]
        contrib = self.contributions_of(r) if self.attribution else np.zeros((t1, len(DRIVERS), n))
        return RunResult(times=self.times, iso3=self.iso3, alignment=self.alignment[r],
                         structure=self.structure_of(r), status=self.status[r],
                         contributions=contrib, gdp_usd=self.gdp_usd, population=self.population,
                         status_log=list(self.status_logs[r]))

    def run_results(self) -> list[RunResult]:
        """Every run as a ``RunResult``, in seed order (what ``runner.run_seeds`` returns)."""
        return [self.run_result(r) for r in range(self.runs)]


# --- the engine --------------------------------------------------------------------------------------

class Ensemble:
    """R replications of one scenario, stepped together; wires the functions above.

    State per run is (n, R); deviations are shared (sources, channels, n) plus a block of
    diverged (state, run) columns: ``pair_state``, ``pair_run`` and ``pair_dev``
    (sources, channels, m), with ``pair_of`` (n, R) pointing into it (-1: not diverged).
    """

    def __init__(self, plan: SharedPlan, seeds, *, attribution: bool = True, block: int = 128) -> None:
        self.plan = plan
        self.block = max(1, int(block))
        self.seeds = list(seeds)
        self.attribution = attribution
        n, R, T = plan.n, len(self.seeds), plan.steps
        self.R = R
        self.rngs = start_generators(self.seeds)
        self.buf = np.empty((2, min(R, self.block), n))
        self.k = 0
        self.t = float(plan.start_year)
        tile = lambda x: np.repeat(x[:, None], R, axis=1)  # noqa: E731
        self.a = tile(plan.a0)
        self.a_decide = tile(plan.a0)
        self.status_anchor = tile(plan.a0)
        self.streak = np.zeros((n, R))
        self.status = tile(plan.status0)
        self.status_moved = np.zeros((n, R), dtype=bool)
        self.status_shared = plan.status0.copy()
        self.orgs = {org: f.copy() for org, f in plan.orgs0.items()}
        self.sanctions: list = []
        self.dev = np.zeros((N_SRC, plan.base.shape[0], n))
        self.pair_state = np.zeros(0, dtype=np.intp)
        self.pair_run = np.zeros(0, dtype=np.intp)
        self.pair_dev = np.zeros((N_SRC, plan.base.shape[0], 0))
        self.pair_of = np.full((n, R), -1, dtype=np.intp)
        self.logs: list[list] = [[] for _ in range(R)]
        # records run-major, (R, T+1, ...), so that one run is one contiguous block; each step
        # writes its (n, R) arrays transposed, cheaper than transposing the whole record at the end
        self.rec_a = np.empty((R, T + 1, n))
        self.rec_status = np.empty((R, T + 1, n), dtype=np.int8)
        self.rec_struct = np.empty((T + 1, plan.base.shape[0], n))
        self.rec_struct_pairs: list = [None] * (T + 1)
        if attribution:
            self.rec_push = np.zeros((T + 1, N_SRC, n))
            self.rec_push_pairs: list = [(self.pair_state, self.pair_run, np.zeros((N_SRC, 0)))] * (T + 1)
            # the peer and shock pushes are all a run's attribution needs besides what is shared
            # and its alignment; written in place each step, gathered per run when asked for
            self.rec_peer = np.zeros((T + 1, n, R))
            self.rec_shock = np.zeros((T + 1, n, R))
        self._record()

    # --- divergence ---

    def diverge(self, states: np.ndarray, runs: np.ndarray) -> np.ndarray:
        """Give (state, run) pairs their own deviation columns (copied from the shared ones).

        Returns the pairs' indices into the diverged block (new or already there).
        """
        new = self.pair_of[states, runs] < 0
        if new.any():
            s, r = states[new], runs[new]
            key = np.unique(s * self.R + r)  # a pair named twice is added once
            s, r = key // self.R, key % self.R
            m0 = self.pair_state.size
            self.pair_state = np.concatenate([self.pair_state, s])
            self.pair_run = np.concatenate([self.pair_run, r])
            self.pair_dev = np.concatenate([self.pair_dev, self.dev[:, :, s]], axis=2)
            self.pair_of[s, r] = np.arange(m0, m0 + s.size)
        return self.pair_of[states, runs]

    def dev_of_run(self, r: int) -> np.ndarray:
        """Run ``r``'s deviations (sources, channels, n): the shared ones with its diverged columns."""
        return swap_in(self.dev, self.pair_dev, self.pair_state, self.pair_run == r)

    def _pair_base(self) -> np.ndarray:
        return self.plan.base[:, self.pair_state]

    # --- status changes ---

    def _set_status(self, states: np.ndarray, runs: np.ndarray, new: np.ndarray, source: str) -> None:
        """Per-run bookkeeping of status changes (anchor, streak, log); ties are done by the caller."""
        year = int(np.ceil(self.t - 1e-9))
        old = self.status[states, runs]
        self.status[states, runs] = new
        self.status_anchor[states, runs] = self.a_decide[states, runs]
        self.streak[states, runs] = 0.0
        self.status_moved[states, runs] = source == "membership"
        iso = self.plan.iso3
        for i, r, o, w in zip(states.tolist(), runs.tolist(), old.tolist(), new.tolist(), strict=True):
            self.logs[r].append((year, str(iso[i]), SCO_STATUSES[o], SCO_STATUSES[w], source))

    def _sco_event(self, ev, idx: np.ndarray) -> None:
        """An SCO join or leave event: shared columns by the shared status, diverged ones by theirs."""
        target = SCO_STATUSES.index(ev.status) if ev.kind == "join" else 0
        src = SRC["events"]

        def goal(old):
            return np.maximum(target, old) if ev.kind == "join" else np.zeros_like(old)

        old = self.status_shared[idx]
        new = goal(old).astype(np.int8)
        ch = new != old
        status_bump(self.plan, self.dev, self.plan.base, idx[ch], old[ch].astype(int),
                    new[ch].astype(int), src)
        self.status_shared[idx[ch]] = new[ch]
        sel = np.flatnonzero(np.isin(self.pair_state, idx))
        if sel.size:
            pold = self.status[self.pair_state[sel], self.pair_run[sel]].astype(int)
            pnew = goal(pold)
            pch = pnew != pold
            status_bump(self.plan, self.pair_dev, self._pair_base(), sel[pch], pold[pch], pnew[pch], src)
        # every run, in the model's order (state by state), whether shared or diverged
        for i in idx.tolist():
            old_r = self.status[i]
            new_r = goal(old_r).astype(np.int8)
            runs = np.flatnonzero(new_r != old_r)
            if runs.size:
                self._set_status(np.full(runs.size, i), runs, new_r[runs], "events")

    def _event(self, ev, mask: np.ndarray, direct: np.ndarray, pair_direct: np.ndarray, year: int) -> None:
        """``BlocModel._apply_event`` on the shared columns and the diverged ones."""
        plan, src = self.plan, SRC["events"]
        idx = np.flatnonzero(mask)
        pmask = mask[self.pair_state]
        if ev.kind in ("join", "leave") and ev.org == "SCO":
            self._sco_event(ev, idx)
            return
        if ev.kind == "sanctions":
            channel = E_WEST if ev.bloc == "west" else E_SCO
            self.sanctions.append((year, year + ev.duration - 1, mask, ev.intensity, channel))
            return
        if ev.kind == "alignment_shock":
            direct[src, idx] += 2.0 * ev.delta / plan.dt
            pair_direct[src, pmask] += 2.0 * ev.delta / plan.dt
            return
        blocks = [(self.dev, plan.base, None), (self.pair_dev, self._pair_base(), self.pair_state)]
        if ev.kind in ("join", "leave"):
            flags = self.orgs[ev.org]
            joining = ev.kind == "join"
            act = mask & (~flags if joining else flags)
            for dev, base, cols in blocks:
                values = structure(base, dev)
                org_event(dev, values, dyn.channel_room(values), np.flatnonzero(pick(act, cols)), ev.org,
                          joining)
            flags[act] = joining
            return
        for dev, base, cols in blocks:
            values = structure(base, dev)
            room = dyn.channel_room(values)
            sel = np.flatnonzero(pick(mask, cols))
            if ev.kind == "economic_shock":
                c = E_SCO if ev.bloc == "sco" else E_WEST
                dev[src, c, sel] += np.clip(ev.delta, -values[c, sel], room[c, sel])
            elif ev.kind == "government_change":
                dev[src, GOV, sel] += ev.regime - values[GOV, sel]

    # --- bounds ---

    def _keep_in_bounds(self) -> None:
        """Trim each run's deviations exactly when ``BlocModel`` would trim that run's."""
        plan = self.plan
        v_sh = structure(plan.base, self.dev)
        oob_sh, dirty_sh = bounds_columns(v_sh)
        base_p = self._pair_base()
        oob_p, _ = bounds_columns(structure(base_p, self.pair_dev))
        if not (dirty_sh.any() or oob_p.any()):
            return
        shared_cols = self.pair_of < 0
        trig = (oob_sh[:, None] & shared_cols).any(axis=0)
        trig[self.pair_run[oob_p]] = True
        trig_sh = bool(oob_sh.any())
        odd = np.flatnonzero(trig != trig_sh)  # runs whose shared columns must not follow the shared trim
        if odd.size and dirty_sh.any():
            s, r = np.nonzero(dirty_sh[:, None] & shared_cols[:, odd])
            if s.size:
                self.diverge(s, odd[r])
        if trig_sh:
            self.dev = dyn.keep_in_bounds(self.dev, plan.base, plan.lasting)
        sel = np.flatnonzero(trig[self.pair_run])
        if sel.size:
            self.pair_dev[:, :, sel] = dyn.keep_in_bounds(self.pair_dev[:, :, sel],
                                                         plan.base[:, self.pair_state[sel]], plan.lasting)

    # --- the step ---

    def step(self) -> None:
        """Advance every run by one step of ``dt`` years."""
        plan, dt = self.plan, self.plan.dt
        k = self.k
        year = int(np.ceil(self.t + dt - 1e-9))
        self.t = plan.start_year + (k + 1) * dt
        direct = np.zeros((N_SRC, plan.n))
        pair_direct = np.zeros((N_SRC, self.pair_state.size))
        for ev, mask in plan.events.get(k, ()):
            self._event(ev, mask, direct, pair_direct, year)
        # structure: shared columns, then the diverged ones, by the same functions
        values = structure(plan.base, self.dev)
        room = dyn.channel_room(values)
        inc, rows, capped = lever_increments(plan, year, values, room, direct, self.sanctions, None)
        self.dev = advance_structure(plan, self.dev, inc, rows, capped, values, room)
        if self.pair_state.size:
            pv = structure(self._pair_base(), self.pair_dev)
            proom = dyn.channel_room(pv)
            pinc, prows, pcap = lever_increments(plan, year, pv, proom, pair_direct, self.sanctions,
                                                 self.pair_state)
            self.pair_dev = advance_structure(plan, self.pair_dev, pinc, prows, pcap, pv, proom)
        self._keep_in_bounds()
        if pair_direct.shape[1] < self.pair_state.size:  # pairs split off by the trim
            extra = direct[:, self.pair_state[pair_direct.shape[1]:]]
            pair_direct = np.concatenate([pair_direct, extra], axis=1)
        push = source_pushes(plan, self.dev, direct)
        pair_push = source_pushes(plan, self.pair_dev, pair_direct)
        pos_s, neg_s = split_sums(push)
        ppos, pneg = split_sums(pair_push)
        self.k = k + 1
        if self.attribution:
            self.rec_push[self.k] = push
            self.rec_push_pairs[self.k] = (self.pair_state, self.pair_run, pair_push)
        # alignment and membership, a block of runs at a time: the (n, block) arrays of a
        # dozen elementwise operations stay in cache, which (n, R) arrays at R = 1,000 do not
        m0 = self.pair_state.size  # pairs whose pushes were computed above
        pair_block = self.pair_run // self.block
        for lo in range(0, self.R, self.block):
            sl = slice(lo, min(lo + self.block, self.R))
            sel = np.flatnonzero(pair_block == lo // self.block)
            draws = self._align(sl, pos_s[:, None], neg_s[:, None], ppos[sel], pneg[sel],
                                self.pair_state[:m0][sel], self.pair_run[:m0][sel] - lo)
            self._membership(sl, draws)
        self._record()

    def _align(self, sl: slice, pos_s: np.ndarray, neg_s: np.ndarray, ppos: np.ndarray,
               pneg: np.ndarray, pi: np.ndarray, pj: np.ndarray) -> np.ndarray:
        """Alignment of the runs in ``sl``: ``BlocModel.step`` from the peer push on.

        Args:
            pos_s, neg_s: (n, 1) sums of the shared source pushes' positive and negative parts.
            ppos, pneg: the same for this block's diverged pairs, at (state ``pi``, local run ``pj``).

        Returns:
            The block's membership draws (n, runs in block).
        """
        plan, p, dt = self.plan, self.plan.params, self.plan.dt
        a, a0 = self.a[:, sl], plan.a0[:, None]
        peer = dyn.peer_push(plan.relations, a, a0, p["peer_weight"], plan.has_relations[:, None])
        eps, draws = draw_step(self.rngs[sl], self.buf[:, :a.shape[1]])
        relaxed = dyn.relax_to_anchor(a, a0, p["inertia"], dt)
        shock = dyn.shock_push(eps, relaxed, p["shock_sd"], dt)
        pos = add_dynamic(pos_s, peer, shock, 1.0)
        neg = add_dynamic(neg_s, peer, shock, -1.0)
        if pi.size:
            ij = (pi, pj)
            pos[ij] = add_dynamic(ppos, peer[ij], shock[ij], 1.0)
            neg[ij] = add_dynamic(pneg, peer[ij], shock[ij], -1.0)
        up, down = bounded_move(relaxed, pos, neg, dt)
        if self.attribution:
            self.rec_peer[self.k][:, sl] = peer
            self.rec_shock[self.k][:, sl] = shock
        self.a[:, sl] = relaxed + up - down
        return draws

    def _membership(self, sl: slice, draws: np.ndarray) -> None:
        """``BlocModel._membership`` for the runs in ``sl``; movers' columns diverge, then take their ties."""
        plan, p = self.plan, self.plan.params
        a_decide, status = self.a_decide[:, sl], self.status[:, sl]
        a_decide += (self.a[:, sl] - a_decide) * plan.smoothing
        streak = dyn.update_streak(a_decide, status, self.streak[:, sl], plan.thresholds, plan.dt)
        self.streak[:, sl] = streak
        admit = 1.0 - (1.0 - p["admission_rate"]) ** plan.dt
        anchor = self.status_anchor[:, sl]
        crossed = self.status_moved[:, sl] | (anchor < plan.thresholds[np.minimum(status + 1, TOP)])
        open_ = plan.in_sco_region & ~self.orgs["NATO"] & ~self.orgs["EU"]
        eligible = open_[:, None] & crossed
        moves = dyn.membership_moves(a_decide, status, streak, eligible, anchor, p["leave_drop"],
                                     p["membership_years"], admit, draws)
        s, r = np.nonzero(moves)  # state-major: each run's movers in state order, as the model
        if s.size == 0:
            return
        m = moves[s, r]
        r = r + sl.start
        old = self.status[s, r].astype(int)
        new = np.clip(old + m, 0, TOP)
        j = self.diverge(s, r)
        status_bump(plan, self.pair_dev, self._pair_base(), j, old, new, SRC["membership"])
        self._set_status(s, r, new.astype(np.int8), "membership")

    def _record(self) -> None:
        k = self.k
        self.rec_a[:, k] = self.a.T
        self.rec_status[:, k] = self.status.T
        self.rec_struct[k] = structure(self.plan.base, self.dev)
        self.rec_struct_pairs[k] = (self.pair_state, self.pair_run,
                                    structure(self._pair_base(), self.pair_dev))

    def run(self) -> EnsembleResult:
        """Step to the horizon and return the record."""
        while self.k < self.plan.steps:
            self.step()
        plan = self.plan
        times = plan.start_year + np.arange(plan.steps + 1) * plan.dt
        att = self.attribution
        return EnsembleResult(
            seeds=self.seeds, times=times, iso3=plan.iso3,
            alignment=self.rec_a, status=self.rec_status,
            structure_shared=self.rec_struct, structure_pairs=self.rec_struct_pairs,
            status_logs=self.logs, gdp_usd=plan.gdp_usd, population=plan.population,
            attribution=att, pushes_shared=self.rec_push if att else None,
            pushes_pairs=self.rec_push_pairs if att else None,
            peer=self.rec_peer if att else None, shock=self.rec_shock if att else None,
            a0=plan.a0, dt=plan.dt, inertia=plan.params["inertia"])


def prepare_plan(scenario: Scenario, *, world: World | None = None, base_dir=None) -> SharedPlan:
    """The shared plan of a scenario, read off one ``BlocModel`` built for the purpose."""
    model = model_from_scenario(scenario, rng=0, world=world, base_dir=base_dir)
    plan = plan_from_model(model)
    model.release()
    return plan


def run_ensemble(scenario: Scenario, seeds, *, world: World | None = None, attribution: bool = True,
                 base_dir=None, plan: SharedPlan | None = None) -> EnsembleResult:
    """Run one replication per seed, all together; run r equals ``BlocModel`` with ``seeds[r]``.

    Args:
        scenario: the scenario (every run shares it).
        seeds: one seed per replication (ints as ``replication_seeds`` gives, or anything
            ``numpy.random.default_rng`` takes).
        world: the scenario's world, if already loaded.
        attribution: record what each driver contributed (skipped when False).
        plan: a plan from ``prepare_plan``, to skip building it again.
    """
    plan = plan or prepare_plan(scenario, world=world, base_dir=base_dir)
    return Ensemble(plan, seeds, attribution=attribution).run()
