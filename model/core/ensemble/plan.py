"""The ensemble's shared plan (read off a built ``BlocModel``) and its random numbers.

Part of the core: imports numpy and the core's own modules only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dynamics import SCO_STATUSES
from ..simulation import ORG_FLAGS, SOURCES, BlocModel

N_SRC = len(SOURCES)
PEER, INERTIA, SHOCK = N_SRC, N_SRC + 1, N_SRC + 2
TOP = len(SCO_STATUSES) - 1
BOUNDS_TOL = 1e-12  # dynamics.out_of_bounds's default



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
