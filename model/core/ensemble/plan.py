"""The ensemble's shared plan (built by ``core.derive``, as ``BlocModel`` builds its own).

Also the replications' random numbers. Part of the core: imports numpy and the core's own
modules only - not ``simulation``, so the engine runs without Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...data.world import World
from ..derive import ORG_FLAGS, derive_fixed, derive_plan
from ..dynamics import SCO_STATUSES
from ..plan import Params, Plan
from ..record import SOURCES

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
    shock_sd: np.ndarray | None = None  # (n,) each state's shock sd (core.derive)
    drift_sd: np.ndarray | None = None  # (n,) each state's drift sd (core.derive; 0: none)
    #: what ensembles of the plan compute once and share (``shared.shared_path``); not an
    #: argument, so that ``dataclasses.replace`` gives a changed plan an empty one of its own
    cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)



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



def shared_plan(world: World, params: Params, plan: Plan, *, start_year: int | None = None,
                horizon: float, dt: float = 1.0) -> SharedPlan:
    """The shared plan of a run's inputs: what ``BlocModel(world, params, plan, ...)`` derives.

    Both compute it with ``core.derive`` (``derive_fixed``, ``derive_plan``), so the engine
    cannot drift from the model; no ``BlocModel`` is built, so Mesa is not imported.
    """
    w, dt = world, float(dt)
    start = int(w.year if start_year is None else start_year)
    fixed = derive_fixed(w, params, dt)
    tables = derive_plan(plan, w.n, fixed.recept, start_year=start, dt=dt)
    pmap = params.to_dict()
    return SharedPlan(
        n=w.n, dt=dt, steps=int(round(horizon / dt)), start_year=start,
        params=pmap, iso3=w.iso3, gdp_usd=w.gdp_usd, population=w.population,
        relations=w.relations, has_relations=fixed.has_relations, a0=fixed.a0.copy(),
        status0=w.sco_status.astype(np.int8).copy(),
        orgs0={org: getattr(w, flag).copy() for org, flag in ORG_FLAGS.items()},
        base=fixed.base, decay_factors=fixed.decay_factors, lasting=fixed.lasting,
        thresholds=fixed.thresholds, smoothing=fixed.smoothing,
        in_sco_region=fixed.in_sco_region, plain_src=tables.plain_src,
        plain_eff=tables.plain_eff, plain_window=tables.plain_window,
        plain_rates=tables.plain_rates, plain_direct=tables.plain_direct,
        special=list(tables.special), cap_needed=tables.cap_needed, events=tables.events,
        shock_sd=fixed.shock_sd, drift_sd=fixed.drift_sd,
        **dict(zip(("gain_up", "trade_up", "loss_down", "trade_down"), bump_tables(pmap),
                   strict=True)))



def start_generators(seeds) -> list[np.random.Generator]:
    """One generator per replication, advanced past the draw Mesa's ``Model.__init__`` makes.

    Mesa seeds its stdlib ``random`` with ``rng.integers(int32 max)``; ``BlocModel`` never uses
    that generator, but the draw moves the numpy stream, so it is made here too.
    """
    rngs = [np.random.default_rng(s) for s in seeds]
    top = np.iinfo(np.int32).max
    for g in rngs:
        g.integers(top)
    return rngs



def draw_calls(rngs: list[np.random.Generator], buf: np.ndarray) -> tuple:
    """What ``draw_step`` calls for these runs: each generator's two methods and its rows of ``buf``.

    ``buf`` is (runs, 3, n) scratch (rows beyond ``len(rngs)`` unused). Bound once for the
    ensemble, since looking the methods up costs about as much as drawing a run's numbers.
    """
    buf = buf[:len(rngs)]
    return [(g.standard_normal, g.random, row[0], row[1:]) for g, row in zip(rngs, buf, strict=True)], buf


def draw_step(calls: tuple) -> tuple[np.ndarray, ...]:
    """One step's shocks, membership draws and leader-change draws for every run, (n, R) each.

    Each run draws ``standard_normal(n)`` then ``random(n)`` twice from its own generator, as
    ``BlocModel.step`` does every step whatever the parameters. The two uniform draws are one
    call, ``random(2n)``: every uniform double takes one 64-bit output of the bit generator, so
    one call of 2n gives the very numbers of two calls of n. ``calls`` is ``draw_calls``'s;
    the shocks come back as a contiguous copy (transcendental functions are applied to them),
    the uniform draws as views of the scratch rows (only compared), valid until the next call.
    """
    fns, buf = calls
    for normal, uniform, shocks, draws in fns:
        normal(out=shocks)
        uniform(out=draws)
    return np.ascontiguousarray(buf[:, 0].T), buf[:, 1].T, buf[:, 2].T



def status_rows(plan: SharedPlan) -> np.ndarray:
    """The states whose SCO status can change in some run, in order; no other state's ever does.

    A state rises only if open to the SCO (in the SCO's region), falls only from a status it
    holds (at the start, or gained by rising or by an event), and events move only the states
    they name: the region, the start's status holders and every state an SCO event names.
    """
    can = plan.in_sco_region | (plan.status0 > 0)
    for actions in plan.events.values():
        for ev, mask in actions:
            if ev.kind in ("join", "leave") and ev.org == "SCO":
                can = can | mask
    return np.flatnonzero(can)
