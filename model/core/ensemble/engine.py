"""``Ensemble``: R replications of one scenario stepped together over (n, R) arrays.

Part of the core: imports numpy, the core's own modules and the other ``ensemble`` modules only.
"""

from __future__ import annotations

import numpy as np

from .. import dynamics as dyn
from ..derive import run_drift
from ..dynamics import SCO_STATUSES
from ..record import SRC
from .columns import (
    add_dynamic,
    advance_structure,
    bounded_step,
    bounds_columns,
    lever_increments,
    source_pushes,
    split_sums,
    status_bump,
    structure,
    swap_in,
)
from .plan import N_SRC, TOP, SharedPlan, draw_calls, draw_step, start_generators, status_rows
from .result import EnsembleResult
from .shared import Held, SharedStep, block_event, is_sco_event, sco_goal, shared_path, step_year, update_orgs


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
        # each run's drift (n, R), drawn from its own generator before its first step's draws
        drifts = [run_drift(g, plan.drift_sd) for g in self.rngs]
        self.drift = np.stack(drifts, axis=1) if drifts and drifts[0].size else None
        self.drift_parts = dyn.drift_parts(self.drift) if self.drift is not None else None
        self.buf = np.empty((min(R, self.block), 3, n))
        self.draw_calls = [draw_calls(self.rngs[lo:lo + self.block], self.buf)
                           for lo in range(0, R, self.block)]
        self.k = 0
        self.t = float(plan.start_year)
        tile = lambda x: np.repeat(x[:, None], R, axis=1)  # noqa: E731
        self.a = tile(plan.a0)
        self.eps_prev = np.zeros((n, R))  # the last step's shocks (persistent shocks carry them)
        self.status = tile(plan.status0)
        # what only membership reads is kept for the states whose status can change at all
        # (``status_rows``): (m, R), row j being state ``mrows[j]``
        self.mrows = status_rows(plan)
        self.mrow_of = np.full(n, -1, dtype=np.intp)
        self.mrow_of[self.mrows] = np.arange(self.mrows.size)
        self.a_decide = tile(plan.a0[self.mrows])
        self.status_anchor = tile(plan.a0[self.mrows])
        self.streak = np.zeros((self.mrows.size, R))
        # each one's next rung's threshold (``dynamics.next_threshold``), changed with the status
        self.next_threshold = tile(dyn.next_threshold(plan.status0[self.mrows], plan.thresholds))
        self.status_moved = np.zeros((self.mrows.size, R), dtype=bool)
        self.orgs = {org: f.copy() for org, f in plan.orgs0.items()}
        # the shared columns' side of every step, computed once per plan (``shared``)
        self.path = shared_path(plan)
        self.dev = self.path.at(0).dev  # the shared deviations after k steps (``Held``)
        self.pair_state = np.zeros(0, dtype=np.intp)
        self.pair_run = np.zeros(0, dtype=np.intp)
        self.pair_dev = np.zeros((N_SRC, plan.base.shape[0], 0))
        self.pair_of = np.full((n, R), -1, dtype=np.intp)
        self._pair_base_cache = plan.base[:, self.pair_state]
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
        self._record(self.path.at(0))

    # --- divergence ---

    def diverge(self, states: np.ndarray, runs: np.ndarray, dev: Held | None = None) -> np.ndarray:
        """Give (state, run) pairs their own deviation columns, copied from the shared ``dev``.

        ``dev`` is the shared deviations as they stand (the current ones if None).

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
            shared = self.dev if dev is None else dev
            self.pair_dev = np.concatenate([self.pair_dev, shared.columns(s)], axis=2)
            self.pair_of[s, r] = np.arange(m0, m0 + s.size)
        return self.pair_of[states, runs]

    def dev_of_run(self, r: int) -> np.ndarray:
        """Run ``r``'s deviations (sources, channels, n): the shared ones with its diverged columns."""
        return swap_in(self.dev.full(), self.pair_dev, self.pair_state, self.pair_run == r)

    def _pair_base(self) -> np.ndarray:
        """The diverged pairs' start values (channels, m), gathered again only when pairs are added."""
        if self._pair_base_cache.shape[1] != self.pair_state.size:
            self._pair_base_cache = self.plan.base[:, self.pair_state]
        return self._pair_base_cache

    # --- status changes ---

    def _set_status(self, states: np.ndarray, runs: np.ndarray, new: np.ndarray, source: str) -> None:
        """Per-run bookkeeping of status changes (anchor, streak, log); ties are done by the caller."""
        year = int(np.ceil(self.t - 1e-9))
        old = self.status[states, runs]
        self.status[states, runs] = new
        rows = self.mrow_of[states]  # every state whose status changes has one (status_rows)
        self.status_anchor[rows, runs] = self.a_decide[rows, runs]
        self.streak[rows, runs] = 0.0
        self.next_threshold[rows, runs] = dyn.next_threshold(new, self.plan.thresholds)
        self.status_moved[rows, runs] = source == "membership"
        iso = self.plan.iso3
        for i, r, o, w in zip(states.tolist(), runs.tolist(), old.tolist(), new.tolist(), strict=True):
            self.logs[r].append((year, str(iso[i]), SCO_STATUSES[o], SCO_STATUSES[w], source))

    def _event(self, ev, mask: np.ndarray, pair_direct: np.ndarray) -> None:
        """``BlocModel._apply_event`` on the diverged pairs and the runs' statuses.

        The shared columns took it in ``shared``; the diverged ones take it here by the same
        function (``block_event``), each by its own run's status for an SCO event.
        """
        if is_sco_event(ev):
            pstatus = self.status[self.pair_state, self.pair_run]
            block_event(self.plan, ev, mask, self.pair_dev, self._pair_base(), self.pair_state,
                        pair_direct, pstatus, self.orgs)
            # every run, in the model's order (state by state), whether shared or diverged
            for i in np.flatnonzero(mask).tolist():
                old_r = self.status[i]
                new_r = sco_goal(ev, old_r).astype(np.int8)
                runs = np.flatnonzero(new_r != old_r)
                if runs.size:
                    self._set_status(np.full(runs.size, i), runs, new_r[runs], "events")
            return
        block_event(self.plan, ev, mask, self.pair_dev, self._pair_base(), self.pair_state,
                    pair_direct, None, self.orgs)
        update_orgs(self.orgs, ev, mask)

    # --- bounds ---

    def _keep_in_bounds(self, sh: SharedStep) -> None:
        """Trim each run's deviations exactly when ``BlocModel`` would trim that run's.

        The shared columns were trimmed (``sh``) if any was out of bounds. A run whose own
        columns are out trims its shared ones too, and a run that does not trim keeps them
        untrimmed: where the two differ from the shared trim, the run's columns split off.
        """
        plan = self.plan
        oob_sh, dirty_sh = sh.oob, sh.dirty
        any_dirty = bool(dirty_sh.any())
        if not self.pair_state.size and not any_dirty:
            return
        oob_p, _ = bounds_columns(structure(self._pair_base(), self.pair_dev))
        if not (any_dirty or oob_p.any()):
            return
        shared_cols = self.pair_of < 0
        trig = (oob_sh[:, None] & shared_cols).any(axis=0)
        trig[self.pair_run[oob_p]] = True
        trig_sh = bool(oob_sh.any())
        odd = np.flatnonzero(trig != trig_sh)  # runs whose shared columns must not follow the shared trim
        if odd.size and any_dirty:
            s, r = np.nonzero(dirty_sh[:, None] & shared_cols[:, odd])
            if s.size:
                self.diverge(s, odd[r], sh.untrimmed)
        sel = np.flatnonzero(trig[self.pair_run])
        if sel.size:
            self.pair_dev[:, :, sel] = dyn.keep_in_bounds(self.pair_dev[:, :, sel],
                                                         plan.base[:, self.pair_state[sel]], plan.lasting)

    # --- the step ---

    def step(self) -> None:
        """Advance every run by one step of ``dt`` years."""
        plan, dt = self.plan, self.plan.dt
        k = self.k
        year = step_year(plan, k)
        self.t = plan.start_year + (k + 1) * dt
        sh = self.path.at(k + 1)  # the shared columns' events, levers, trim and pushes
        pair_direct = np.zeros((N_SRC, self.pair_state.size))
        for ev, mask in plan.events.get(k, ()):
            self._event(ev, mask, pair_direct)
        if self.pair_state.size:  # the diverged columns, by the same functions
            pv = structure(self._pair_base(), self.pair_dev)
            proom = dyn.channel_room(pv)
            pinc, prows, pcap = lever_increments(plan, year, pv, proom, pair_direct, sh.sanctions,
                                                 self.pair_state)
            self.pair_dev = advance_structure(plan, self.pair_dev, pinc, prows, pcap, pv, proom)
        self._keep_in_bounds(sh)
        self.dev = sh.dev
        if pair_direct.shape[1] < self.pair_state.size:  # pairs split off by the trim
            extra = sh.direct[:, self.pair_state[pair_direct.shape[1]:]]
            pair_direct = np.concatenate([pair_direct, extra], axis=1)
        pair_push = source_pushes(plan, self.pair_dev, pair_direct)
        ppos, pneg = split_sums(pair_push) if self.pair_state.size else (np.zeros(0), np.zeros(0))
        self.k = k + 1
        if self.attribution:
            self.rec_push[self.k] = sh.push
            self.rec_push_pairs[self.k] = (self.pair_state, self.pair_run, pair_push)
        # alignment and membership, a block of runs at a time: the (n, block) arrays of a
        # dozen elementwise operations stay in cache, which (n, R) arrays at R = 1,000 do not
        m0 = self.pair_state.size  # pairs whose pushes were computed above
        pair_block = self.pair_run // self.block
        for lo in range(0, self.R, self.block):
            sl = slice(lo, min(lo + self.block, self.R))
            sel = np.flatnonzero(pair_block == lo // self.block) if lo or sl.stop < self.R else slice(None)
            # the start of the step's alignment: the hazard rule reads it
            a_prev = self.a[self.mrows, sl] if self.plan.params["membership_rule"] == "hazard" else None
            draws = self._align(sl, sh.pos[:, None], sh.neg[:, None], ppos[sel], pneg[sel],
                                self.pair_state[:m0][sel], self.pair_run[:m0][sel] - lo)
            self._membership(sl, draws, a_prev)
        self._record(sh)

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
        d = a - a0  # the departures: the peers and inertia read them
        peer = dyn.peer_push(plan.relations, a, a0, p["peer_weight"], plan.has_relations[:, None], d)
        eps, draws, leaders = draw_step(self.draw_calls[sl.start // self.block])
        eps = dyn.heavy_tails(eps, p["shock_tail"])
        if p["shock_persistence"]:  # (otherwise the last shocks are never read)
            eps = dyn.persistent_shocks(eps, self.eps_prev[:, sl] if self.k > 1 else None,
                                        p["shock_persistence"], dt)
            self.eps_prev[:, sl] = eps
        relaxed = dyn.relax_to_anchor(a, a0, p["inertia"], dt, d)
        shock = dyn.shock_push(eps, relaxed, plan.shock_sd[:, None], dt)
        shock += dyn.leader_change_push(leaders, relaxed, p["leader_change_rate"],
                                        p["leader_change_effect"], p["leader_change_draws"], dt)
        if self.drift is not None:  # the runs' drifts, in the shock row as in BlocModel
            twice, sign = self.drift_parts
            shock += dyn.drift_push(self.drift[:, sl], relaxed, (twice[:, sl], sign[:, sl]))
        pos = add_dynamic(pos_s, peer, shock, 1.0)
        neg = add_dynamic(neg_s, peer, shock, -1.0)
        if pi.size:
            ij = (pi, pj)
            pos[ij] = add_dynamic(ppos, peer[ij], shock[ij], 1.0)
            neg[ij] = add_dynamic(pneg, peer[ij], shock[ij], -1.0)
        if self.attribution:
            self.rec_peer[self.k][:, sl] = peer
            self.rec_shock[self.k][:, sl] = shock
        bounded_step(relaxed, pos, neg, dt, out=a)  # into the runs' alignment
        return draws

    def _membership(self, sl: slice, draws: np.ndarray, a_prev: np.ndarray | None) -> None:
        """``BlocModel._membership`` for the runs in ``sl``; movers' columns diverge, then take their ties.

        Over the rows of the states whose status can change (``mrows``): every other state's
        moves are 0 in the model (never open to the SCO, holding no status), so the test is
        the model's, elementwise, on the rows that can move.
        """
        plan, p, rows = self.plan, self.plan.params, self.mrows
        a_decide, status = self.a_decide[:, sl], self.status[rows, sl]
        a_decide += (self.a[rows, sl] - a_decide) * plan.smoothing
        nxt = self.next_threshold[:, sl]
        streak = dyn.streak_after(a_decide, status, self.streak[:, sl], nxt, plan.dt)
        self.streak[:, sl] = streak
        anchor = self.status_anchor[:, sl]
        open_ = (plan.in_sco_region & ~self.orgs["NATO"] & ~self.orgs["EU"])[rows, None]
        draws = draws[rows]
        if p["membership_rule"] == "hazard":
            chance = dyn.rise_chance(a_prev, p["rise_hazard_intercept"],
                                     p["rise_hazard_alignment"], plan.dt)
            moves = dyn.hazard_moves(status, open_, chance, a_decide, anchor, p["leave_drop"],
                                     draws)
        else:
            admit = 1.0 - (1.0 - p["admission_rate"]) ** plan.dt
            crossed = self.status_moved[:, sl] | (anchor < nxt)
            moves = dyn.membership_moves(a_decide, status, streak, open_ & crossed, anchor,
                                         p["leave_drop"], p["membership_years"], admit, draws)
        if not np.count_nonzero(moves):
            return
        s, r = np.nonzero(moves)  # state-major: each run's movers in state order, as the model
        m = moves[s, r]
        s, r = rows[s], r + sl.start
        old = self.status[s, r].astype(int)
        new = np.clip(old + m, 0, TOP)
        j = self.diverge(s, r)
        status_bump(plan, self.pair_dev, self._pair_base(), j, old, new, SRC["membership"])
        self._set_status(s, r, new.astype(np.int8), "membership")

    def _record(self, sh: SharedStep) -> None:
        k = self.k
        self.rec_a[:, k] = self.a.T
        self.rec_status[:, k] = self.status.T
        self.rec_struct[k] = sh.structure
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
