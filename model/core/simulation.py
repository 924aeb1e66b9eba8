"""The Mesa model: one agent per state, the arithmetic over all states in numpy arrays.

``BlocModel`` wires the pure functions of ``dynamics`` and the ``levers`` together once per step;
``StateAgent`` holds a state's identity and SCO status and carries out its changes of status.
Every step records each driver's contribution to each state's change of alignment.

Part of the core: imports numpy, mesa, data and the core's own modules only.
"""

from __future__ import annotations

import random

import mesa
import numpy as np

from ..data.world import World
from . import dynamics as dyn
from .derive import (  # noqa: F401 - the constants are re-exported
    ORG_FLAGS,
    ORG_TIES,
    derive_fixed,
    derive_plan,
    event_step,
    run_drift,
)
from .dynamics import E_SCO, E_WEST, GOV, S_SCO, SCO_STATUSES
from .levers import stacked_effects
from .plan import EventAction, Params, Plan
from .record import DRIVERS, FADING, SOURCES, SRC, RunResult  # noqa: F401 - re-exported
from .snapshot import FORMAT as SNAPSHOT_FORMAT
from .snapshot import VERSION as SNAPSHOT_VERSION
from .snapshot import Snapshot, SnapshotError, world_fingerprint


class StateAgent(mesa.Agent):
    """A sovereign state: its identity and SCO status, and the act of changing that status.

    Who qualifies is tested for all states at once in ``BlocModel._membership``; the few states
    that move then carry out the change themselves (``change_sco_status``).
    """

    def __init__(self, model: BlocModel, index: int) -> None:
        super().__init__(model)
        w = model.world
        self.index = index
        self.iso3 = str(w.iso3[index])
        self.name = str(w.name[index])
        self.region = str(w.region[index])
        self.subregion = str(w.subregion[index])

    @property
    def alignment(self) -> float:
        """Current alignment (-1 West .. +1 SCO)."""
        return float(self.model.a[self.index])

    @property
    def sco_status(self) -> str:
        """Current SCO status name."""
        return SCO_STATUSES[self.model.status[self.index]]

    def change_sco_status(self, rung: int, source: str = "membership") -> None:
        """Move one rung up (apply and be admitted) or down (step back); ties follow status."""
        self.model.set_sco_status(self.index, int(self.model.status[self.index]) + rung, source)




class BlocModel(mesa.Model):
    """States drifting between the West and the SCO under a plan of levers and events.

    Built from what a run needs and nothing else: a ``World`` (the start year's data), the
    ``Params`` of the dynamics, a ``Plan`` of lever actions and events, the timing and a random
    generator. It reads no files and knows no scenario format: ``config.build.model_from_scenario``
    makes one from a scenario. Between steps the plan may be replaced (``set_plan``) and the
    whole dynamic state captured and restored (``snapshot``, ``restore``, ``from_snapshot``).
    """

    def __init__(self, world: World, params: Params, plan: Plan, *, rng,
                 start_year: int | None = None, horizon: float, dt: float = 1.0) -> None:
        """Build the agents and everything the parameters and plan fix, at the start year.

        Args:
            world: the states and their start values.
            params: the parameters of the dynamics.
            plan: the levers and events (``set_plan`` may replace it between steps).
            rng: an int seed, a ``SeedSequence`` or a numpy ``Generator``; required (the
                scenario layer picks replication 0's seed when none is given).
            start_year: the year the world describes (default ``world.year``).
            horizon: years simulated after ``start_year``.
            dt: step length in years (1 or 0.25).
        """
        # Always hand Mesa a Generator: it then treats an int seed and a Generator made from it
        # alike (for an int it would seed its stdlib generator differently), and so does reset().
        super().__init__(rng=np.random.default_rng(rng))
        self.world = w = world
        self.params = p = params
        self.start_year = int(world.year if start_year is None else start_year)
        self.horizon = horizon
        self.dt = float(dt)
        self.steps_total = int(round(horizon / self.dt))
        # The parameters as a mapping, for levers with rules of their own (Lever.effects).
        self._param_map = p.to_dict()
        # What the world, parameters and step fix: core.derive, shared with the ensemble engine.
        fixed = derive_fixed(w, p, self.dt)
        self.decay_rates, self.lasting = fixed.decay_rates, fixed.lasting
        self.decay_factors, self.smoothing = fixed.decay_factors, fixed.smoothing
        self.thresholds, self.recept = fixed.thresholds, fixed.recept
        self.in_sco_region, self.has_relations = fixed.in_sco_region, fixed.has_relations
        self.base, self.a0 = fixed.base, fixed.a0
        self.shock_sd, self.drift_sd = fixed.shock_sd, fixed.drift_sd
        self._apply_plan(plan)
        self.state_agents = [StateAgent(self, i) for i in range(w.n)]  # in array order
        self.agents_by_iso = {agent.iso3: agent for agent in self.state_agents}
        self._reset_state()

    def reset(self, rng) -> None:
        """Start again from the start year with a new generator, keeping the agents and plan.

        Gives exactly what a new model with this ``rng`` and the current plan would give,
        without rebuilding 193 agents: replications of one scenario reuse one model.
        """
        self.reset_rng(rng)
        # Mesa's Model.__init__ seeds its stdlib generator with one draw from rng; do the same,
        # so a reset model draws exactly what a new one would (tests check it).
        self.random = random.Random(int(self.rng.integers(np.iinfo(np.int32).max)))
        self.steps = 0
        self.running = True
        self._reset_state()

    def _reset_state(self) -> None:
        """The dynamic state as it stands at the start year."""
        w = self.world
        self.t = float(self.start_year)  # not 'time': later Mesa 3.x releases own it
        self.k = 0  # steps taken; our own counter, whatever Mesa does with 'steps'
        self.a = w.alignment.copy()
        self.dev = np.zeros((len(SOURCES), len(dyn.CHANNELS), w.n))
        self.status = w.sco_status.astype(np.int8).copy()
        self.streak = np.zeros(w.n)
        self.a_decide = w.alignment.copy()  # alignment as membership decisions see it (smoothed)
        self.status_anchor = w.alignment.copy()
        self.status_moved = np.zeros(w.n, dtype=bool)
        self.eps_prev = np.zeros(w.n)  # the last step's shocks (persistent shocks carry them)
        self.drift = run_drift(self.rng, self.drift_sd)  # held for the run (empty: none)
        self.orgs = {org: getattr(w, flag).copy() for org, flag in ORG_FLAGS.items()}
        # (first year, last year, mask, intensity, channel)
        self.sanctions: list[tuple[int, int, np.ndarray, float, int]] = []
        self.status_log: list = []
        self._record_init()

    # --- the plan -----------------------------------------------------------------------------

    def set_plan(self, plan: Plan) -> None:
        """Replace the plan between steps; it governs every step from the next one on.

        Semantics (``docs/model.md``, "Steering"):

        * Called after ``k`` steps (``self.k == k``), the new plan applies to step ``k`` onwards
          (the step taking the model from ``t = start + k dt`` to ``start + (k+1) dt``); steps
          already taken are not touched. A lever acts in a step when the step's year
          ``y = ceil(t + dt)`` lies in its ``[first_year, last_year]``, exactly as in a plan
          given at the start: a lever switched on with ``first_year = y`` acts from that step.
        * Everything the plan determines is recomputed at once (``_apply_plan``, shared with
          ``__init__``): the lever tables, whether the cap is needed, the event schedule.
          Setting the plan the model already has changes nothing, to the byte.
        * Events act in the first step of their year. Events of steps already taken have been
          applied and are not applied again; the new plan must list the same past events, in
          the same order, as the current one (history cannot be rewritten): otherwise
          ``ValueError``. Events of the current step and later are taken from the new plan.
        * Sanctions already imposed by past events keep running their course.
        """
        past = [ev for ev in self.plan.events if self._event_step(ev) < self.k]
        new_past = [ev for ev in plan.events if self._event_step(ev) < self.k]
        if past != new_past:
            raise ValueError(f"the new plan changes events of steps already taken (before step "
                             f"{self.k}, year {self.t:g}): past events cannot be added, removed "
                             f"or changed")
        self._apply_plan(plan)

    def _event_step(self, ev: EventAction) -> int:
        """The step in which an event acts: the first step of its year."""
        return event_step(ev, self.start_year, self.dt)

    def _apply_plan(self, plan: Plan) -> None:
        """Take ``plan`` and recompute everything derived from it (``core.derive``, the one place)."""
        tables = derive_plan(plan, self.world.n, self.recept, start_year=self.start_year,
                             dt=self.dt)
        self.plan = plan
        self.special = tables.special
        self.plain_src, self.plain_eff = tables.plain_src, tables.plain_eff
        self.plain_window = tables.plain_window
        self.plain_rates, self.plain_direct = tables.plain_rates, tables.plain_direct
        self.cap_needed = tables.cap_needed
        self.events = tables.events

    # --- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one step of ``dt`` years for all states at once."""
        k = self.k
        dt, p = self.dt, self.params
        year = int(np.ceil(self.t + dt - 1e-9))
        self.t = self.start_year + (k + 1) * dt  # before events: their log shows 'year'
        n_src = len(SOURCES)
        direct = np.zeros((n_src, self.world.n))
        for ev, mask in self.events.get(k, ()):
            self._apply_event(ev, mask, direct, year)
        values = dyn.structure(self.base, self.dev)
        room = dyn.channel_room(values)
        inc = np.zeros_like(self.dev)
        touched = set()
        on = (self.plain_window[:, 0] <= year) & (year <= self.plain_window[:, 1])
        if on.any():  # every plain lever in one numpy expression
            rate, push = stacked_effects(self.plain_rates[on], self.plain_direct[on],
                                         self.plain_eff[on], values, room)
            inc[self.plain_src[on]] += rate * dt
            direct[self.plain_src[on]] += push
            touched.update(self.plain_src[on].tolist())
        for src, lever, eff, first, last in self.special:
            if first <= year <= last:
                rate, push = lever.effects(eff, values, room, self._param_map)
                inc[src] += rate * dt
                direct[src] += push
                touched.add(src)
        capped = self.cap_needed
        for first, last, mask, x, channel in self.sanctions:
            if first <= year <= last:
                # 'intensity' of what is left each year, whatever the step length
                inc[SRC["sanctions"], channel] -= (1.0 - (1.0 - x) ** dt) * values[channel] * mask
                touched.add(SRC["sanctions"])
                capped = True
        if touched:  # together, even overlapping cuts stay in bounds
            rows = sorted(touched)
            self.dev[rows] += dyn.cap_increments(inc[rows], values, room) if capped else inc[rows]
        self.dev *= self.decay_factors  # dyn.decay, with the factors computed once
        if dyn.out_of_bounds(dyn.structure(self.base, self.dev)):
            self.dev = dyn.keep_in_bounds(self.dev, self.base, self.lasting)
        pushes = np.zeros((len(DRIVERS), self.world.n))
        pushes[:n_src] = direct + dyn.structural_push(
            self.dev, p.econ_weight, p.security_weight, p.regime_weight)
        pushes[n_src] = dyn.peer_push(self.world.relations, self.a, self.a0, p.peer_weight,
                                      self.has_relations)
        # Draw every step whatever the parameters, so replication k sees the same numbers under
        # every strategy (common random numbers).
        eps = dyn.heavy_tails(self.rng.standard_normal(self.world.n), p.shock_tail)
        eps = self.eps_prev = dyn.persistent_shocks(eps, self.eps_prev if k else None,
                                                    p.shock_persistence, dt)
        draws = self.rng.random(self.world.n)
        leaders = self.rng.random(self.world.n)
        relaxed = dyn.relax_to_anchor(self.a, self.a0, p.inertia, dt)
        pushes[n_src + 2] = dyn.shock_push(eps, relaxed, self.shock_sd, dt) + dyn.leader_change_push(
            leaders, relaxed, p.leader_change_rate, p.leader_change_effect, p.leader_change_draws,
            dt)
        if self.drift.size:  # the run's drift, in the shock row (docs/model.md 4.9)
            pushes[n_src + 2] += dyn.drift_push(self.drift, relaxed)
        new, contrib = dyn.alignment_step(relaxed, pushes, dt)
        contrib[n_src + 1] = relaxed - self.a  # inertia's share (its push row stays zero)
        a_prev, self.a = self.a, new
        self.k = k + 1
        self._membership(draws, year, a_prev)
        self._record(self.k, contrib)
        dyn.check_finite(self.a, self.dev, pushes, contrib, step=self.k, year=self.t,
                         iso3=self.world.iso3, sources=SOURCES, drivers=DRIVERS)

    def _membership(self, draws: np.ndarray, year: int, a_prev: np.ndarray) -> None:
        """States decide on the SCO: a vectorised test, then the few movers act as agents.

        ``a_prev`` is the alignment at the start of the step, which the hazard rule reads.
        """
        p = self.params
        self.a_decide += (self.a - self.a_decide) * self.smoothing
        self.streak = dyn.update_streak(self.a_decide, self.status, self.streak, self.thresholds,
                                        self.dt)
        open_ = self.in_sco_region & ~self.orgs["NATO"] & ~self.orgs["EU"]
        if p.membership_rule == "hazard":
            chance = dyn.rise_chance(a_prev, p.rise_hazard_intercept, p.rise_hazard_alignment,
                                     self.dt)
            moves = dyn.hazard_moves(self.status, open_, chance, self.a_decide,
                                     self.status_anchor, p.leave_drop, draws)
        else:
            admit = 1.0 - (1.0 - p.admission_rate) ** self.dt  # the yearly chance, per step
            # A state whose status is as observed at the start may climb only once it has
            # crossed the next rung's threshold during the run: the start year's statuses are
            # observed, not a disequilibrium to correct.
            crossed = self.status_moved | (self.status_anchor < self.thresholds[
                np.minimum(self.status + 1, len(SCO_STATUSES) - 1)])
            moves = dyn.membership_moves(self.a_decide, self.status, self.streak,
                                         open_ & crossed, self.status_anchor, p.leave_drop,
                                         p.membership_years, admit, draws)
        for i in np.flatnonzero(moves):
            self.state_agents[i].change_sco_status(int(moves[i]))

    def set_sco_status(self, i: int, new: int, source: str) -> None:
        """Give state ``i`` a new SCO status and the security and trade ties that go with it."""
        p = self.params
        old = int(self.status[i])
        new = int(np.clip(new, 0, len(SCO_STATUSES) - 1))
        if new == old:
            return
        bump = np.array([0.0, p.partner_security_bump, p.observer_security_bump,
                         p.member_security_bump])
        trade = np.array([0.0, 0.0, 0.0, p.member_trade_bump])
        values = dyn.structure(self.base[:, i:i + 1], self.dev[:, :, i:i + 1])[:, 0]
        room = dyn.channel_room(values[:, None])[:, 0]
        src = SRC[source]
        if new > old:
            gain = 1.0 - np.prod(1.0 - bump[old + 1:new + 1])
            self.dev[src, S_SCO, i] += gain * room[S_SCO]
            self.dev[src, E_SCO, i] += (1.0 - np.prod(1.0 - trade[old + 1:new + 1])) * room[E_SCO]
        else:
            loss = 1.0 - np.prod(1.0 - bump[new + 1:old + 1])
            self.dev[src, S_SCO, i] -= loss * values[S_SCO]
            self.dev[src, E_SCO, i] -= (1.0 - np.prod(1.0 - trade[new + 1:old + 1])) * values[E_SCO]
        self.status[i] = new
        self.status_anchor[i] = self.a_decide[i]
        self.streak[i] = 0.0  # years count towards the next rung from here
        # A status the model's own rule gave may be climbed from at once; one a scenario event
        # set is treated like the start year's: observed, climbed only after crossing again.
        self.status_moved[i] = source == "membership"
        self.status_log.append((int(np.ceil(self.t - 1e-9)), str(self.world.iso3[i]),
                                SCO_STATUSES[old], SCO_STATUSES[new], source))

    def _apply_event(self, ev: EventAction, mask: np.ndarray, direct: np.ndarray, year: int) -> None:
        """Carry out one timeline event on the states in ``mask`` (attributed to 'events')."""
        src = SRC["events"]
        values = dyn.structure(self.base, self.dev)
        room = dyn.channel_room(values)
        idx = np.flatnonzero(mask)
        if ev.kind in ("join", "leave") and ev.org == "SCO":
            target = SCO_STATUSES.index(ev.status) if ev.kind == "join" else 0
            for i in idx:  # joining never demotes: a member 'joining' as observer stays member
                new = max(target, int(self.status[i])) if ev.kind == "join" else 0
                self.set_sco_status(int(i), new, "events")
        elif ev.kind in ("join", "leave"):
            channel, share = ORG_TIES[ev.org]
            flags = self.orgs[ev.org]
            if ev.kind == "join":
                idx = idx[~flags[idx]]  # joining what a state already belongs to changes nothing
                self.dev[src, channel, idx] += share * room[channel, idx]
            else:
                idx = idx[flags[idx]]
                self.dev[src, channel, idx] -= share * values[channel, idx]
            flags[idx] = ev.kind == "join"
        elif ev.kind == "sanctions":
            channel = E_WEST if ev.bloc == "west" else E_SCO
            self.sanctions.append((year, year + ev.duration - 1, mask, ev.intensity, channel))
        elif ev.kind == "alignment_shock":
            direct[src, idx] += 2.0 * ev.delta / self.dt
        elif ev.kind == "economic_shock":
            c = E_SCO if ev.bloc == "sco" else E_WEST
            lo, hi = -values[c, idx], room[c, idx]
            self.dev[src, c, idx] += np.clip(ev.delta, lo, hi)
        elif ev.kind == "government_change":
            self.dev[src, GOV, idx] += ev.regime - values[GOV, idx]
        elif ev.kind == "ties":  # observed levels: the jump lasts, as other events' changes do
            self.dev[src][:, idx] += dyn.level_changes(values, idx, ev.levels)

    # --- recording ----------------------------------------------------------------------------

    def _record_init(self) -> None:
        T, n = self.steps_total, self.world.n
        self.rec_alignment = np.empty((T + 1, n))
        self.rec_structure = np.empty((T + 1, len(dyn.CHANNELS), n))
        self.rec_status = np.empty((T + 1, n), dtype=np.int8)
        self.rec_contrib = np.zeros((T + 1, len(DRIVERS), n))
        self._record(0, None)

    def _record(self, k: int, contrib: np.ndarray | None) -> None:
        self.rec_alignment[k] = self.a
        self.rec_structure[k] = dyn.structure(self.base, self.dev)
        self.rec_status[k] = self.status
        if contrib is not None:
            self.rec_contrib[k] = contrib

    # --- snapshots ----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The whole dynamic state now, as plain data (``snapshot.Snapshot``).

        Holds the step counters, time, alignment, deviations, statuses, streaks, smoothed
        decision alignment, anchors, organisation flags, running sanctions, the status log, the
        record so far, the current plan, the parameters and timing, and the states of both
        generators (numpy's and Mesa's stdlib ``random``). Restored into a model built on the
        same world (``restore`` or ``from_snapshot``), the run continues to the byte as this
        one would. Arrays are copies: stepping on does not change the snapshot.
        """
        k = self.k
        r_version, r_internal, r_gauss = self.random.getstate()
        header = {
            "format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION,
            "world": {"n": self.world.n, "year": int(self.world.year),
                      "fingerprint": world_fingerprint(self.world)},
            "timing": {"start_year": self.start_year, "horizon": self.horizon, "dt": self.dt,
                       "steps_total": self.steps_total},
            "params": self.params.to_dict(),
            "plan": self.plan.to_dict(),
            "k": k, "t": self.t, "steps": int(self.steps), "running": bool(self.running),
            "rng": self.rng.bit_generator.state,
            "random": [r_version, list(r_internal), r_gauss],
            "orgs": list(self.orgs),
            "sanctions": [[int(first), int(last), float(x), int(channel)]
                          for first, last, _, x, channel in self.sanctions],
            "status_log": [list(entry) for entry in self.status_log],
        }
        arrays = {
            "a": self.a, "dev": self.dev, "status": self.status, "streak": self.streak,
            "a_decide": self.a_decide, "status_anchor": self.status_anchor,
            "status_moved": self.status_moved, "eps_prev": self.eps_prev, "drift": self.drift,
            **{f"org_{org}": flags for org, flags in self.orgs.items()},
            "sanction_masks": np.array([m for _, _, m, _, _ in self.sanctions],
                                       dtype=bool).reshape(len(self.sanctions), self.world.n),
            "rec_alignment": self.rec_alignment[:k + 1], "rec_structure": self.rec_structure[:k + 1],
            "rec_status": self.rec_status[:k + 1], "rec_contrib": self.rec_contrib[:k + 1],
        }
        return Snapshot(header, {name: np.array(v, copy=True) for name, v in arrays.items()})

    def restore(self, snap: Snapshot) -> None:
        """Put back the state of ``snap``: this model then continues exactly as the original.

        The model must have been built on the same world (checked by fingerprint), with the
        same parameters and timing; otherwise ``SnapshotError`` says what differs. The plan is
        the snapshot's (replacing this model's, with no check on past events: the snapshot
        carries its own history).
        """
        h, arr = snap.header, snap.arrays
        n = self.world.n
        if h.get("format") != SNAPSHOT_FORMAT or h.get("version") != SNAPSHOT_VERSION:
            raise SnapshotError("not a blocsim snapshot of a version this model reads")
        fingerprint = world_fingerprint(self.world)
        if (h["world"]["fingerprint"] != fingerprint and self.world.shock_scale is not None
                and h["world"]["fingerprint"] == world_fingerprint(self.world, with_scale=False)):
            raise SnapshotError("the snapshot was saved by an earlier version of blocsim, before "
                                "worlds carried per-state shock scales (and drift): this version "
                                "cannot continue it; start again from the scenario")
        if h["world"]["n"] != n or h["world"]["fingerprint"] != fingerprint:
            raise SnapshotError(f"the snapshot was taken on a different world ({h['world']['n']} "
                                f"states, year {h['world']['year']}) from this model's ({n} "
                                f"states, year {self.world.year}); restore it into a model "
                                f"built on the same world")
        timing = {"start_year": self.start_year, "horizon": self.horizon, "dt": self.dt,
                  "steps_total": self.steps_total}
        if h["timing"] != timing:
            raise SnapshotError(f"the snapshot's timing {h['timing']} differs from this "
                                f"model's {timing}")
        saved = Params.from_dict(h["params"])  # a parameter an older header lacks: its default
        if saved != self.params:
            theirs = saved.to_dict()
            diff = sorted(k for k, v in self.params.to_dict().items() if theirs[k] != v)
            raise SnapshotError(f"the snapshot's parameters differ from this model's: {diff}")
        k = int(h["k"])
        shapes = {"a": (n,), "dev": self.dev.shape, "status": (n,),
                  "rec_alignment": (k + 1, n), "rec_contrib": (k + 1, *self.rec_contrib.shape[1:])}
        for name, shape in shapes.items():
            if name not in arr or arr[name].shape != shape:
                got = arr[name].shape if name in arr else "missing"
                raise SnapshotError(f"snapshot array {name!r} has shape {got}, expected {shape}")
        if not 0 <= k <= self.steps_total:
            raise SnapshotError(f"snapshot after {k} steps; this model runs {self.steps_total}")
        self._apply_plan(Plan.from_dict(h["plan"]))
        self.k, self.t = k, float(h["t"])
        self.steps, self.running = int(h["steps"]), bool(h["running"])
        self.rng.bit_generator.state = h["rng"]
        version, internal, gauss = h["random"]
        self.random.setstate((version, tuple(internal), gauss))
        self.a = arr["a"].astype(float, copy=True)
        self.dev = arr["dev"].astype(float, copy=True)
        self.status = arr["status"].astype(np.int8, copy=True)
        self.streak = arr["streak"].astype(float, copy=True)
        self.a_decide = arr["a_decide"].astype(float, copy=True)
        self.status_anchor = arr["status_anchor"].astype(float, copy=True)
        self.status_moved = arr["status_moved"].astype(bool, copy=True)
        # snapshots from before persistent shocks hold no last shocks: with rho = 0 none matter
        self.eps_prev = arr["eps_prev"].astype(float, copy=True) if "eps_prev" in arr else np.zeros(n)
        # snapshots from before drift hold none: with drift_sd = 0 none is drawn
        self.drift = arr["drift"].astype(float, copy=True) if "drift" in arr else np.zeros(0)
        self.orgs = {org: arr[f"org_{org}"].astype(bool, copy=True) for org in h["orgs"]}
        masks = arr["sanction_masks"].astype(bool)
        self.sanctions = [(first, last, masks[j].copy(), x, channel)
                          for j, (first, last, x, channel) in enumerate(h["sanctions"])]
        self.status_log = [tuple(entry) for entry in h["status_log"]]
        self._record_init()  # fresh record arrays, then the record so far
        self.rec_alignment[:k + 1] = arr["rec_alignment"]
        self.rec_structure[:k + 1] = arr["rec_structure"]
        self.rec_status[:k + 1] = arr["rec_status"]
        self.rec_contrib[:k + 1] = arr["rec_contrib"]

    @classmethod
    def from_snapshot(cls, world: World, snap: Snapshot) -> BlocModel:
        """A model on ``world`` with the snapshot's parameters, plan and timing, restored to it."""
        h = snap.header
        tm = h["timing"]
        model = cls(world, Params.from_dict(h["params"]), Plan.from_dict(h["plan"]), rng=0,
                    start_year=tm["start_year"], horizon=tm["horizon"], dt=tm["dt"])
        model.restore(snap)
        return model

    def release(self) -> None:
        """Let go of the model once no more runs are wanted from it.

        Mesa 3.3 keeps every model that ever had agents alive in ``Agent._ids`` (the agent id
        counters, mesa#3179), which leaked about 0.6 MiB per model in long batches.
        """
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self, None)

    def run(self) -> RunResult:
        """Run to the horizon and return what was recorded."""
        while self.k < self.steps_total:
            self.step()
        return self.result()

    def result(self) -> RunResult:
        """What has been recorded so far, as a ``RunResult``."""
        k = self.k + 1
        times = self.start_year + np.arange(k) * self.dt
        return RunResult(times=times, iso3=self.world.iso3, alignment=self.rec_alignment[:k],
                         structure=self.rec_structure[:k], status=self.rec_status[:k],
                         contributions=self.rec_contrib[:k], gdp_usd=self.world.gdp_usd,
                         population=self.world.population, status_log=list(self.status_log))

