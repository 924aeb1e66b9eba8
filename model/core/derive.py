"""What a run's inputs fix before its first step, computed once, without Mesa.

``BlocModel`` (``simulation``) and the ensemble engine's shared plan (``ensemble.plan``) both
start from a ``World``, ``Params``, a ``Plan``, the start year and the step length. Everything
they derive from those - receptiveness, the SCO region, the start structure, decay factors,
thresholds, smoothing, the stackable lever tables, whether the cap can bind, the event schedule -
is computed here, in one place, so the engine cannot drift from the model and building its plan
needs no ``BlocModel`` (and so no Mesa). Part of the core: imports numpy and the core's own
modules only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.world import World
from . import dynamics as dyn
from .dynamics import E_SCO, E_WEST, S_SCO, S_WEST
from .levers import LEVERS, is_plain, rate_table
from .plan import EventAction, Params, Plan
from .record import FADING, SOURCES, SRC

#: What joining an organisation does: (channel, share of room gained on joining / of value lost
#: on leaving). SCO status bumps come from the parameters.
ORG_TIES = {"NATO": (S_WEST, 0.5), "EU": (E_WEST, 0.2), "CSTO": (S_SCO, 0.4), "BRICS": (E_SCO, 0.03)}
ORG_FLAGS = {"NATO": "nato", "EU": "eu", "CSTO": "csto", "BRICS": "brics"}


@dataclass
class Fixed:
    """What the world, the parameters and the step length fix (the plan aside)."""

    decay_rates: np.ndarray      # (channels,)
    lasting: np.ndarray          # (sources,) bool: sources whose deviations do not fade
    decay_factors: np.ndarray    # (sources, channels, 1)
    smoothing: float
    thresholds: np.ndarray       # (4,)
    recept: np.ndarray           # (n,)
    in_sco_region: np.ndarray    # (n,) bool: subregions with SCO ties in the start year
    has_relations: np.ndarray    # (n,) bool
    base: np.ndarray             # (channels, n) start structure
    a0: np.ndarray               # (n,) start alignment
    shock_sd: np.ndarray         # (n,) each state's shock sd (dynamics.state_shock_sd)
    drift_sd: np.ndarray | None = None  # (n,) each state's drift sd, scaled as the shocks


@dataclass
class PlanTables:
    """What a plan fixes, given the receptiveness and timing."""

    special: list                # (src, lever, eff, first, last) for levers with own effects
    plain_src: np.ndarray        # (levers,)
    plain_eff: np.ndarray        # (levers, n)
    plain_window: np.ndarray     # (levers, 2)
    plain_rates: np.ndarray      # (levers, channels)
    plain_direct: np.ndarray     # (levers,)
    cap_needed: bool
    events: dict                 # step -> [(event, mask)]


def derive_fixed(world: World, params: Params, dt: float) -> Fixed:
    """Everything the world, parameters and step length fix, as ``BlocModel`` keeps it."""
    w, p = world, params
    decay_rates = np.array([p.econ_decay, p.econ_decay, p.security_decay,
                            p.security_decay, p.governance_decay])
    lasting = ~np.isin(SOURCES, FADING)
    fading = ~lasting[:, None, None]
    return Fixed(
        decay_rates=decay_rates, lasting=lasting,
        decay_factors=np.where(fading, dyn.decay_factors(decay_rates, dt), 1.0),
        smoothing=(1.0 - np.exp(-dt / p.decision_smoothing) if p.decision_smoothing > 0 else 1.0),
        thresholds=np.array([-np.inf, p.partner_threshold, p.observer_threshold,
                             p.member_threshold]),
        recept=dyn.receptiveness(w.gdp_usd, p.gdp_ref_usd, p.size_elasticity),
        in_sco_region=w.sco_region.copy(),  # from the start year's statuses: no look-ahead
        has_relations=np.asarray(w.relations.sum(axis=1)).ravel() > 0,
        base=np.stack([w.e_sco, w.e_west, w.s_sco, w.s_west, w.governance]),
        a0=w.alignment.copy(),
        shock_sd=dyn.state_shock_sd(p.shock_sd, w.shock_scale, p.shock_heterogeneity, w.n),
        drift_sd=dyn.state_shock_sd(p.drift_sd, w.shock_scale, p.shock_heterogeneity, w.n))


def run_drift(rng: np.random.Generator, drift_sd: np.ndarray | None) -> np.ndarray:
    """A run's drift per state (``drift_sd * z``, ``z ~ N(0, 1)``), drawn once at its start.

    Drawn from the run's own generator right after the start-of-run draw (Mesa's seeding of its
    stdlib generator) and before the first step's; with no drift (``drift_sd`` all 0 or None)
    nothing is drawn (an empty array), so every run without drift is unchanged to the byte.
    """
    if drift_sd is None or not np.any(drift_sd > 0):
        return np.zeros(0)
    return drift_sd * rng.standard_normal(len(drift_sd))


def event_step(ev: EventAction, start_year: int, dt: float) -> int:
    """The step in which an event acts: the first step of its year."""
    return int(round((ev.year - 1 - start_year) / dt))


def derive_plan(plan: Plan, n: int, recept: np.ndarray, *, start_year: int,
                dt: float) -> PlanTables:
    """Check ``plan`` against ``n`` states and compute everything derived from it.

    Raises:
        ValueError: an unknown lever, an effort of the wrong length, an event target out of range.
    """
    for lv in plan.levers:
        if lv.name not in LEVERS:
            raise ValueError(f"unknown lever {lv.name!r} in the plan")
        if len(lv.effort) != n:
            raise ValueError(f"lever {lv.name!r}: effort has {len(lv.effort)} entries, the "
                             f"world has {n} states")
    for ev in plan.events:
        if any(not 0 <= i < n for i in ev.targets):
            raise ValueError(f"{ev.kind} event of {ev.year}: a target index is outside "
                             f"0..{n - 1}")
    # Per lever: (source index, lever, effective effort per state, first, last year)
    levers = [(SRC[lv.name], LEVERS[lv.name],
               np.asarray(lv.effort, dtype=float) * recept * lv.efficiency,
               lv.first_year, lv.last_year) for lv in plan.levers]
    plain = [item for item in levers if is_plain(item[1])]
    plain_rates, plain_direct = rate_table([item[1] for item in plain])
    events: dict[int, list] = {}  # by the step in which they act
    for ev in plan.events:
        mask = np.zeros(n, dtype=bool)
        mask[list(ev.targets)] = True
        events.setdefault(event_step(ev, start_year, dt), []).append((ev, mask))
    return PlanTables(
        special=[item for item in levers if not is_plain(item[1])],
        plain_src=np.array([item[0] for item in plain], dtype=int),
        plain_eff=np.array([item[2] for item in plain]).reshape(len(plain), n),
        plain_window=np.array([(item[3], item[4]) for item in plain]).reshape(len(plain), 2),
        plain_rates=plain_rates, plain_direct=plain_direct,
        cap_needed=levers_can_overfill(levers, dt), events=events)


def levers_can_overfill(levers: list, dt: float) -> bool:
    """Whether the levers together could ever overfill a channel in one step.

    Each lever changes a channel by at most ``|rate| * eff * dt`` of its room (or value), so
    if those shares add up to at most 1 for every channel (the two trade channels together)
    the cap can never bind and the step skips it. Sanctions are capped whenever active.
    """
    rates, _ = rate_table([item[1] for item in levers])
    peak = np.array([item[2].max() if item[2].size else 0.0 for item in levers])
    share = np.abs(rates) * peak[:, None] * dt
    up = np.where(rates > 0, share, 0.0).sum(axis=0)
    down = np.where(rates < 0, share, 0.0).sum(axis=0)
    up[E_SCO] = up[E_WEST] = up[E_SCO] + up[E_WEST]
    return bool((up > 1).any() or (down > 1).any())
