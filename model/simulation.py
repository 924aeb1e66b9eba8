"""The Mesa model: one agent per state, the arithmetic over all states in numpy arrays.

``BlocModel`` wires the pure functions of ``dynamics`` and the ``levers`` together once per step;
``StateAgent`` holds a state's identity and SCO status and carries out its changes of status.
Every step records each driver's contribution to each state's change of alignment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import mesa
import numpy as np

from . import dynamics as dyn
from .dynamics import E_SCO, E_WEST, GOV, S_SCO, S_WEST, SCO_STATUSES
from .levers import LEVERS, is_plain, rate_table, stacked_effects
from .scenario import Scenario
from .seeds import replication_seeds
from .world import World, check_scenario, load_world

#: Attribution sources that act through structure or directly, then the dynamic drivers.
#: Lever and sanction effects fade when they stop; events and SCO status changes are lasting
#: changes of structure (a new government, a treaty) and do not.
SOURCES = (*LEVERS, "sanctions", "events", "membership")
FADING = (*LEVERS, "sanctions")
DRIVERS = (*SOURCES, "peer", "inertia", "shock")
SRC = {s: i for i, s in enumerate(SOURCES)}

#: Subregions whose states may seek SCO status (where every SCO member, observer and partner
#: of 2024 lies), for states that are not NATO or EU members.
SCO_ELIGIBLE_SUBREGIONS = ("Central Asia", "Southern Asia", "Eastern Asia", "South-eastern Asia",
                           "Western Asia", "Eastern Europe", "Northern Africa")

#: What joining an organisation does: (channel, share of room gained on joining / of value lost
#: on leaving). SCO status bumps come from the parameters.
ORG_TIES = {"NATO": (S_WEST, 0.5), "EU": (E_WEST, 0.2), "CSTO": (S_SCO, 0.4), "BRICS": (E_SCO, 0.03)}
ORG_FLAGS = {"NATO": "nato", "EU": "eu", "CSTO": "csto", "BRICS": "brics"}


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


@dataclass
class RunResult:
    """What one run recorded: arrays over (time, ...) plus the labels to read them."""

    times: np.ndarray          # (T+1,) years, fractional for quarterly steps
    iso3: np.ndarray           # (n,)
    alignment: np.ndarray      # (T+1, n)
    structure: np.ndarray      # (T+1, channels, n)
    status: np.ndarray         # (T+1, n) SCO status codes
    contributions: np.ndarray  # (T+1, drivers, n); row 0 is zeros
    gdp_usd: np.ndarray        # (n,)
    population: np.ndarray     # (n,)
    status_log: list           # (year, iso3, old status, new status, source)


class BlocModel(mesa.Model):
    """States drifting between the West and the SCO under a scenario's levers and events."""

    def __init__(self, scenario: Scenario, *, rng=None, world: World | None = None,
                 base_dir=None) -> None:
        if rng is None:  # replication 0 of the scenario, as 'blocsim run' would run it
            rng = replication_seeds(scenario.seed, 1)[0]
        # Always hand Mesa a Generator: it then treats an int seed and a Generator made from it
        # alike (for an int it would seed its stdlib generator differently), and so does reset().
        super().__init__(rng=np.random.default_rng(rng))
        self.scenario = scenario
        self.params = scenario.parameters.model_dump()
        self.world = world or load_world(scenario.world, scenario.start_year, base_dir)
        check_scenario(scenario, self.world)
        w = self.world
        self.dt = scenario.dt
        self.steps_total = int(round(scenario.horizon / self.dt))
        p = self.params
        self.decay_rates = np.array([p["econ_decay"], p["econ_decay"], p["security_decay"],
                                     p["security_decay"], p["governance_decay"]])
        self.lasting = ~np.isin(SOURCES, FADING)
        fading = ~self.lasting[:, None, None]
        self.decay_factors = np.where(fading, dyn.decay_factors(self.decay_rates, self.dt), 1.0)
        self.smoothing = (1.0 - np.exp(-self.dt / p["decision_smoothing"])
                          if p["decision_smoothing"] > 0 else 1.0)
        self.thresholds = np.array([-np.inf, p["partner_threshold"], p["observer_threshold"],
                                    p["member_threshold"]])
        self.recept = dyn.receptiveness(w.gdp_usd, p["gdp_ref_usd"], p["size_elasticity"])
        self.in_sco_region = np.isin(w.subregion, SCO_ELIGIBLE_SUBREGIONS)
        self.has_relations = np.asarray(w.relations.sum(axis=1)).ravel() > 0
        self.base = np.stack([w.e_sco, w.e_west, w.s_sco, w.s_west, w.governance])
        self.a0 = w.alignment.copy()
        self.plan = self._lever_plan()
        plain = [item for item in self.plan if is_plain(item[1])]
        self.special = [item for item in self.plan if not is_plain(item[1])]
        self.plain_src = np.array([item[0] for item in plain], dtype=int)
        self.plain_eff = np.array([item[2] for item in plain]).reshape(len(plain), w.n)
        self.plain_window = np.array([(item[3], item[4]) for item in plain]).reshape(len(plain), 2)
        self.plain_rates, self.plain_direct = rate_table([item[1] for item in plain])
        self.cap_needed = self._levers_can_overfill()
        self.events = self._event_plan()
        self.state_agents = [StateAgent(self, i) for i in range(w.n)]  # in array order
        self.agents_by_iso = {agent.iso3: agent for agent in self.state_agents}
        self._reset_state()

    def reset(self, rng) -> None:
        """Start again from the start year with a new generator, keeping the agents and plan.

        Gives exactly what a new model with this ``rng`` would give, without rebuilding 193
        agents: replications of one scenario reuse one model.
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
        self.t = float(self.scenario.start_year)  # not 'time': later Mesa 3.x releases own it
        self.k = 0  # steps taken; our own counter, whatever Mesa does with 'steps'
        self.a = w.alignment.copy()
        self.dev = np.zeros((len(SOURCES), len(dyn.CHANNELS), w.n))
        self.status = w.sco_status.astype(np.int8).copy()
        self.streak = np.zeros(w.n)
        self.a_decide = w.alignment.copy()  # alignment as membership decisions see it (smoothed)
        self.status_anchor = w.alignment.copy()
        self.status_moved = np.zeros(w.n, dtype=bool)
        self.orgs = {org: getattr(w, flag).copy() for org, flag in ORG_FLAGS.items()}
        # (first year, last year, mask, intensity, channel)
        self.sanctions: list[tuple[int, int, np.ndarray, float, int]] = []
        self.status_log: list = []
        self._record_init()

    # --- set-up -----------------------------------------------------------------------------

    def _lever_plan(self) -> list[tuple[int, object, np.ndarray, int, int]]:
        """Per lever in use: (source index, lever, effective effort per state, first, last year)."""
        sc, w = self.scenario, self.world
        plan = []
        for name, cfg in sc.lever_configs():
            lever = LEVERS[name]
            effort = np.zeros(w.n)
            targets = cfg.targets if cfg.targets is not None else list(lever.default_targets)
            if isinstance(targets, dict):  # each target its own intensity (the schema's rule)
                for t, x in targets.items():
                    effort[w.mask([t])] = x
            else:
                effort[w.mask(targets)] = lever.effort(cfg.intensity, cfg.budget)
            eff = effort * self.recept * cfg.efficiency
            plan.append((SRC[name], lever, eff, *sc.lever_window(cfg)))
        return plan

    def _levers_can_overfill(self) -> bool:
        """Whether the levers together could ever overfill a channel in one step.

        Each lever changes a channel by at most ``|rate| * eff * dt`` of its room (or value), so
        if those shares add up to at most 1 for every channel (the two trade channels together)
        the cap can never bind and the step skips it. Sanctions are capped whenever active.
        """
        rates, _ = rate_table([item[1] for item in self.plan])
        peak = np.array([item[2].max() if item[2].size else 0.0 for item in self.plan])
        share = np.abs(rates) * peak[:, None] * self.dt
        up = np.where(rates > 0, share, 0.0).sum(axis=0)
        down = np.where(rates < 0, share, 0.0).sum(axis=0)
        up[E_SCO] = up[E_WEST] = up[E_SCO] + up[E_WEST]
        return bool((up > 1).any() or (down > 1).any())

    def _event_plan(self) -> dict[int, list]:
        """Events by the step in which they act: the first step of their year."""
        out: dict[int, list] = {}
        for ev in self.scenario.events:
            k = int(round((ev.year - 1 - self.scenario.start_year) / self.dt))
            out.setdefault(k, []).append((ev, self.world.mask(ev.targets())))
        return out

    # --- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one step of ``dt`` years for all states at once."""
        k = self.k
        dt, p = self.dt, self.params
        year = int(np.ceil(self.t + dt - 1e-9))
        self.t = self.scenario.start_year + (k + 1) * dt  # before events: their log shows 'year'
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
                rate, push = lever.effects(eff, values, room, p)
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
            self.dev, p["econ_weight"], p["security_weight"], p["regime_weight"])
        pushes[n_src] = dyn.peer_push(self.world.relations, self.a, self.a0, p["peer_weight"],
                                      self.has_relations)
        # Draw every step whatever the parameters, so replication k sees the same numbers under
        # every strategy (common random numbers).
        eps = self.rng.standard_normal(self.world.n)
        draws = self.rng.random(self.world.n)
        relaxed = dyn.relax_to_anchor(self.a, self.a0, p["inertia"], dt)
        pushes[n_src + 2] = dyn.shock_push(eps, relaxed, p["shock_sd"], dt)
        new, contrib = dyn.alignment_step(relaxed, pushes, dt)
        contrib[n_src + 1] = relaxed - self.a  # inertia's share (its push row stays zero)
        self.a = new
        self.k = k + 1
        self._membership(draws, year)
        self._record(self.k, contrib)
        dyn.check_finite(self.a, self.dev, pushes, contrib, step=self.k, year=self.t,
                         iso3=self.world.iso3, sources=SOURCES, drivers=DRIVERS)

    def _membership(self, draws: np.ndarray, year: int) -> None:
        """States decide on the SCO: a vectorised test, then the few movers act as agents."""
        p = self.params
        self.a_decide += (self.a - self.a_decide) * self.smoothing
        self.streak = dyn.update_streak(self.a_decide, self.status, self.streak, self.thresholds,
                                        self.dt)
        admit = 1.0 - (1.0 - p["admission_rate"]) ** self.dt  # the yearly chance, per step
        # A state whose status is as observed at the start may climb only once it has crossed
        # the next rung's threshold during the run: the start year's statuses are observed, not
        # a disequilibrium to correct.
        crossed = self.status_moved | (
            self.status_anchor < self.thresholds[np.minimum(self.status + 1, len(SCO_STATUSES) - 1)])
        eligible = self.in_sco_region & ~self.orgs["NATO"] & ~self.orgs["EU"] & crossed
        moves = dyn.membership_moves(self.a_decide, self.status, self.streak, eligible,
                                     self.status_anchor, p["leave_drop"],
                                     p["membership_years"], admit, draws)
        for i in np.flatnonzero(moves):
            self.state_agents[i].change_sco_status(int(moves[i]))

    def set_sco_status(self, i: int, new: int, source: str) -> None:
        """Give state ``i`` a new SCO status and the security and trade ties that go with it."""
        p = self.params
        old = int(self.status[i])
        new = int(np.clip(new, 0, len(SCO_STATUSES) - 1))
        if new == old:
            return
        bump = np.array([0.0, p["partner_security_bump"], p["observer_security_bump"],
                         p["member_security_bump"]])
        trade = np.array([0.0, 0.0, 0.0, p["member_trade_bump"]])
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

    def _apply_event(self, ev, mask: np.ndarray, direct: np.ndarray, year: int) -> None:
        """Carry out one timeline event on the states in ``mask`` (attributed to 'events')."""
        src = SRC["events"]
        values = dyn.structure(self.base, self.dev)
        room = dyn.channel_room(values)
        idx = np.flatnonzero(mask)
        if ev.type in ("join", "leave") and ev.org == "SCO":
            target = SCO_STATUSES.index(ev.status) if ev.type == "join" else 0
            for i in idx:  # joining never demotes: a member 'joining' as observer stays member
                new = max(target, int(self.status[i])) if ev.type == "join" else 0
                self.set_sco_status(int(i), new, "events")
        elif ev.type in ("join", "leave"):
            channel, share = ORG_TIES[ev.org]
            flags = self.orgs[ev.org]
            if ev.type == "join":
                idx = idx[~flags[idx]]  # joining what a state already belongs to changes nothing
                self.dev[src, channel, idx] += share * room[channel, idx]
            else:
                idx = idx[flags[idx]]
                self.dev[src, channel, idx] -= share * values[channel, idx]
            flags[idx] = ev.type == "join"
        elif ev.type == "sanctions":
            channel = E_WEST if ev.by == "west" else E_SCO
            self.sanctions.append((year, year + ev.duration - 1, mask, ev.intensity, channel))
        elif ev.type == "alignment_shock":
            direct[src, idx] += 2.0 * ev.delta / self.dt
        elif ev.type == "economic_shock":
            c = E_SCO if ev.bloc == "sco" else E_WEST
            lo, hi = -values[c, idx], room[c, idx]
            self.dev[src, c, idx] += np.clip(ev.delta, lo, hi)
        elif ev.type == "government_change":
            self.dev[src, GOV, idx] += ev.regime - values[GOV, idx]

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
        times = self.scenario.start_year + np.arange(k) * self.dt
        return RunResult(times=times, iso3=self.world.iso3, alignment=self.rec_alignment[:k],
                         structure=self.rec_structure[:k], status=self.rec_status[:k],
                         contributions=self.rec_contrib[:k], gdp_usd=self.world.gdp_usd,
                         population=self.world.population, status_log=list(self.status_log))


def run_scenario(scenario: Scenario, *, rng=None, world: World | None = None,
                 base_dir=None) -> RunResult:
    """Build the model for a scenario, run it to the horizon, release it, return the record."""
    model = BlocModel(scenario, rng=rng, world=world, base_dir=base_dir)
    result = model.run()
    model.release()
    return result
