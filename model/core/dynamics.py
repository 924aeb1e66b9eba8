"""The dynamics of alignment as pure array functions (no Mesa, no I/O).

Every function takes and returns numpy arrays over all states at once; the Mesa model in
``simulation`` calls them once per step. The equations, parameters and their rationale are written
out in ``docs/model.md``; the names here follow it.

Conventions: alignment ``a`` lies in [-1, +1] (-1 West, +1 SCO); a *push* is a rate per year,
positive towards the SCO. The model is a perturbation model around the observed world of the
start year: structural drivers push in proportion to how far a state's trade, security ties and
regime have moved from where they stood at the start (``dev`` arrays), and an optional anchor
pulls each state back towards its starting alignment (Friedkin and Johnsen's stubbornness; off
by default: ``inertia`` 0, a local level).

Part of the core: imports numpy, base and data only.
"""

from __future__ import annotations

import numpy as np

from ..base.errors import NonFiniteError
from ..data.world import SCO_STATUSES

#: Channels through which levers and events change a state's structure (rows of ``dev``).
CHANNELS = ("e_sco", "e_west", "s_sco", "s_west", "governance")
E_SCO, E_WEST, S_SCO, S_WEST, GOV = range(len(CHANNELS))



def saturate(x: np.ndarray | float, half: float) -> np.ndarray:
    """Diminishing returns: ``1 - exp(-x / half)``, 0 at 0 and approaching 1."""
    return -np.expm1(-np.asarray(x, dtype=float) / half)


def receptiveness(gdp_usd: np.ndarray, gdp_ref_usd: float, elasticity: float) -> np.ndarray:
    """How much a unit of effort moves a state: ``(1 + gdp/gdp_ref) ** -elasticity``.

    A dollar moves Kyrgyzstan more than India (MODEL-NOTES); 1 for the smallest states.
    """
    return (1.0 + np.asarray(gdp_usd, dtype=float) / gdp_ref_usd) ** (-elasticity)


def structure(base: np.ndarray, dev: np.ndarray) -> np.ndarray:
    """Current structural variables: the start values plus every source's deviation.

    Args:
        base: (channels, n) values at the start.
        dev: (sources, channels, n) deviations attributed to each source.
    """
    return base + dev.sum(axis=0)


def structural_push(dev: np.ndarray, econ_weight: float, security_weight: float,
                    regime_weight: float) -> np.ndarray:
    """Push (per source, per state) from the change in trade, security ties and regime.

    Linear in the deviations, so each source's share of the push is exact:
    ``econ*(de_sco - de_west) + security*(ds_sco - ds_west) - 2*regime*dg``; the last term is the
    change in the regime's natural alignment ``1 - 2g`` (democracy leans West, Werner and Lemke).

    Args:
        dev: (sources, channels, n).

    Returns:
        (sources, n) pushes.
    """
    return (econ_weight * (dev[:, E_SCO] - dev[:, E_WEST])
            + security_weight * (dev[:, S_SCO] - dev[:, S_WEST])
            - 2.0 * regime_weight * dev[:, GOV])


def peer_push(relations, a: np.ndarray, a0: np.ndarray, weight: float,
              has_relations: np.ndarray | None = None,
              departure: np.ndarray | None = None) -> np.ndarray:
    """DeGroot influence on departures: ``w * (A (a - a0) - (a - a0))``.

    ``relations`` is a row-normalised (sparse) matrix. Neighbours' *moves* are contagious; their
    standing differences are already part of the observed starting world, so they move nobody.
    States without relations (a zero row) feel no peer push; pass ``has_relations`` (rows with
    any weight) to save recomputing it every step, and ``departure`` if ``a - a0`` is at hand.
    """
    d = a - a0 if departure is None else departure
    moved = relations @ d - d
    if has_relations is None:
        has_relations = np.asarray(relations.sum(axis=1)).ravel() > 0
    if not has_relations.all():  # (where every state has relations, ``where`` would copy)
        moved = np.where(has_relations, moved, 0.0)
    return weight * moved


def relax_to_anchor(a: np.ndarray, a0: np.ndarray, inertia: float, dt: float,
                    departure: np.ndarray | None = None) -> np.ndarray:
    """Inertia: exact relaxation towards the start disposition, ``a0 + (a - a0) exp(-k dt)``.

    Applied before the bounded update rather than as one more push: it can never leave [-1, +1]
    (it stops at ``a0``), and applying it at the same rate in both directions keeps random
    shocks from drifting states to the centre, which a room-scaled pull back would do (its rate
    would depend on which side of ``a0`` a shock had thrown the state). Its contribution to the
    change is ``relaxed - a``. ``departure`` is ``a - a0`` if already computed; without inertia
    the factor is 1 and is not multiplied (``x * 1.0`` is ``x``).
    """
    d = a - a0 if departure is None else departure
    factor = np.exp(-inertia * dt)
    return a0 + (d if factor == 1.0 else d * factor)


#: median of |z| for a standard normal z: the point where ``heavy_tails`` leaves a draw unchanged
NORMAL_MEDIAN_ABS = 0.6744897501960817


def heavy_tails(eps: np.ndarray, h: float) -> np.ndarray:
    """Standard normal draws made heavy-tailed, Tukey's h transform: ``eps exp(h (eps**2 - m**2) / 2)``.

    ``m`` is the median of ``|eps|`` (0.674), so the median size of a shock is kept (``shock_sd``
    is fitted on a robust spread, docs/model.md section 6) and only the tails grow: at
    ``h = 0.25`` the 99th percentile of ``|eps|`` is 2.2 times the normal's. Monotone and odd,
    so the random stream and the direction of every draw are unchanged; ``h = 0`` returns
    ``eps`` itself (the default model, to the byte). Tukey (1977); Hoaglin (1985).
    """
    if h == 0:
        return eps
    return eps * np.exp(h * (eps * eps - NORMAL_MEDIAN_ABS**2) / 2.0)


def persistent_shocks(eps: np.ndarray, prev: np.ndarray | None, rho: float, dt: float) -> np.ndarray:
    """Shocks that persist: ``r prev + sqrt(1 - r**2) eps`` with ``r = rho**dt`` (AR(1), unit variance).

    The observed yearly changes are positively autocorrelated (docs/estimates.md section 3);
    independent shocks, pulled back by the peers, give the wrong sign. The first step (``prev``
    None) takes ``eps`` itself, so the series starts stationary; ``rho = 0`` returns ``eps``
    (the draws, the stream and every run unchanged to the byte).
    """
    if rho == 0 or prev is None:
        return eps
    r = rho**dt
    return r * prev + np.sqrt(1.0 - r * r) * eps


def leader_change_push(u: np.ndarray, a: np.ndarray, rate: float, effect: float, draws: float,
                       dt: float) -> np.ndarray:
    """Leader changes as random events: a push that moves a state by about ``effect`` when one occurs.

    A change occurs with the chance ``1 - exp(-rate draws dt)`` a step (``u`` uniform draws);
    ``effect`` is the panel estimate of a change's 5-year effect *relative to the other states
    of the same years* (docs/estimates.md), and the stable scale is centred every year, so the
    push is centred too: ``effect (L - p)`` with ``p = 1 - exp(-rate dt)`` the expected number
    a step. States without a change drift by ``-effect p`` a year, so leader changes move no
    one on average. ``draws = 0`` keeps the centring but draws none (the conditional hindcast
    scripts the observed changes instead). As a push scaled like ``shock_push``,
    ``2 kick (1 + a sign(kick)) / dt``: after the room factor a kick moves a state by about
    ``kick (1 - a**2)`` either way, so the centring holds wherever the state stands (a push
    scaled by the room of one side would drift states at the West pole towards the SCO).
    """
    p = -np.expm1(-rate * dt)
    kick = effect * ((u < -np.expm1(-rate * draws * dt)) - p)
    push = 2.0 * kick * (1.0 + a * np.sign(kick))
    return push if dt == 1.0 else push / dt  # (``x / 1.0`` is ``x``)


def state_shock_sd(sd: float, scale: np.ndarray | None, heterogeneity: float,
                   n: int) -> np.ndarray:
    """Each state's shock sd: ``sd * scale ** heterogeneity`` (``sd`` for all when pooled).

    ``scale`` is the world's per-state volatility relative to the pooled one (estimated from
    each state's own yearly changes up to the start year, shrunk towards 1); states differ a
    lot in how much they move, and one pooled sd makes intervals too wide for stable states and
    too narrow for volatile ones. ``heterogeneity = 0`` or no scale gives ``sd`` everywhere
    (every run unchanged to the byte).
    """
    if scale is None or heterogeneity == 0:
        return np.full(n, float(sd))
    return sd * np.asarray(scale, dtype=float) ** heterogeneity


def drift_push(d: np.ndarray, a: np.ndarray, parts: tuple | None = None) -> np.ndarray:
    """A run's drift as a push: ``2 d (1 + a sign(d))``, scaled like ``shock_push``.

    ``d`` (one value per state, drawn once a run) is the yearly change at the centre of the
    scale; after the room factor of ``alignment_step`` it moves a state by about
    ``d dt (1 - a**2)`` a step either way, so the pole states stay put. Uncertainty about each
    state's local trend (a random walk plus drift): the spread of futures grows about linearly
    with the horizon and a run's changes are positively autocorrelated. ``parts`` is
    ``drift_parts(d)``, fixed for a run, if already computed.
    """
    twice, sign = drift_parts(d) if parts is None else parts
    return twice * (1.0 + a * sign)


def drift_parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The factors of ``drift_push`` that a run's drift fixes: ``2 d`` and ``sign(d)``."""
    return 2.0 * d, np.sign(d)


def shock_push(eps: np.ndarray, a: np.ndarray, sd: float, dt: float) -> np.ndarray:
    """Random shocks as a push: ``sd * eps * (1 + a sign(eps)) / sqrt(dt)``.

    After the room factor of ``alignment_step`` a shock moves a state by about
    ``sd * sqrt(dt) * eps * (1 - a**2) / 2`` either way: symmetric to first order, so noise alone
    drifts a state only by a second-order pull towards the centre (about
    ``sd**2 * a * (1 - a**2) / 8`` a year: 0.001 at the default sd), and vanishing at the poles,
    where room in one direction would otherwise push states off the edge.
    """
    push = sd * eps * (1.0 + a * np.sign(eps))
    return push if dt == 1.0 else push / np.sqrt(dt)  # (``x / 1.0`` is ``x``)


def alignment_step(a: np.ndarray, pushes: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Move alignment by the pushes, bounded, with exact attribution.

    The positive pushes P+ and negative pushes P- (summed over drivers) move a state by
    ``up = (1 - a) * (1 - exp(-dt P+ / 2))`` towards the SCO and
    ``down = (1 + a) * (1 - exp(-dt P- / 2))`` towards the West. For small pushes this is
    ``dt * P * (room left) / 2`` (MODEL-NOTES); for any push it keeps ``a`` strictly inside
    (-1, +1) without clipping. Each driver gets the share of ``up`` or ``down`` that its push makes
    of P+ or P-, so the contributions add up to the change exactly.

    Args:
        a: (n,) alignment.
        pushes: (drivers, n) pushes, positive towards the SCO.
        dt: step length in years.

    Returns:
        The new alignment (n,) and the contributions (drivers, n).
    """
    pos_parts = np.maximum(pushes, 0.0)
    neg_parts = np.maximum(-pushes, 0.0)
    pos = pos_parts.sum(axis=0)
    neg = neg_parts.sum(axis=0)
    up = (1.0 - a) * -np.expm1(-dt * pos / 2.0)
    down = (1.0 + a) * -np.expm1(-dt * neg / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        up_share = np.where(pos > 0, up / pos, 0.0)
        down_share = np.where(neg > 0, down / neg, 0.0)
    contributions = pos_parts * up_share - neg_parts * down_share
    return a + up - down, contributions


def channel_room(values: np.ndarray) -> np.ndarray:
    """Room left in each channel for an increase: shares of trade cannot pass 1 together.

    Args:
        values: (channels, n) current structure.

    Returns:
        (channels, n) room: ``1 - e_sco - e_west`` for both trade shares, ``1 - x`` otherwise.
    """
    room = 1.0 - values
    trade_room = 1.0 - values[E_SCO] - values[E_WEST]
    room[E_SCO] = trade_room
    room[E_WEST] = trade_room
    return np.clip(room, 0.0, 1.0)


def cap_increments(inc: np.ndarray, values: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Scale a step's increments so that together they keep every channel in bounds.

    Each lever fills a share of the room left, computed from the same room, so many levers at
    high efficiency could together overfill it. Where the increases to a channel add up to more
    than its room (for the two trade shares, their joint room) they are scaled down in
    proportion, and likewise decreases that add up to more than the value.

    Args:
        inc: (sources, channels, n) increments of this step.
        values: (channels, n) structure at the start of the step.
        room: (channels, n) room left for increases (``channel_room``).
    """
    pos = np.maximum(inc, 0.0).sum(axis=0)
    neg = np.maximum(-inc, 0.0).sum(axis=0)
    pos[E_SCO] = pos[E_WEST] = pos[E_SCO] + pos[E_WEST]
    # A value that rounding left a hair below 0 (a government changed to 0, a share cut to 0
    # by sanctions of intensity 1) leaves no room for a decrease; it must not be divided by a
    # zero sum of decreases (-0/0 is -inf). Each factor is then finite and in [0, 1], and is
    # chosen before it multiplies, so a zero increment stays 0 (0 * inf would be NaN). Where a
    # ratio is used it lies in [0, 1]; elsewhere it may overflow (a subnormal sum), unused.
    floor = np.maximum(values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        up = np.where(pos > room, room / pos, 1.0)
        down = np.where(neg > floor, floor / neg, 1.0)
    return inc * np.where(inc > 0, up, down)


def keep_in_bounds(dev: np.ndarray, base: np.ndarray, lasting: np.ndarray) -> np.ndarray:
    """Trim lasting deviations wherever the structure has left its bounds.

    Events and status changes last while lever and sanction effects fade; a lasting change made
    into room that a fading one had opened (a trade deal while sanctions cut Western trade) can
    overfill the channel once the fading one is gone. The start values plus fading deviations
    always stay in bounds (each increment was capped, and fading shrinks them towards the
    start), so the excess is taken from the lasting deviations that point the offending way,
    in proportion to their size.

    Args:
        dev: (sources, channels, n) deviations.
        base: (channels, n) start values.
        lasting: (sources,) True for sources whose deviations do not fade.

    Returns:
        The deviations, trimmed where needed (a new array).
    """
    dev = dev.copy()
    rows = np.flatnonzero(lasting)

    def trim(excess: np.ndarray, channels: list[int], sign: float) -> None:
        part = np.maximum(sign * dev[np.ix_(rows, channels)], 0.0)  # (k, c, n)
        total = part.sum(axis=(0, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(total > 0, np.minimum(excess / total, 1.0), 0.0)
        dev[np.ix_(rows, channels)] -= sign * part * frac

    values = base + dev.sum(axis=0)
    for c in range(values.shape[0]):
        trim(np.maximum(values[c] - 1.0, 0.0), [c], 1.0)
        trim(np.maximum(-values[c], 0.0), [c], -1.0)
    values = base + dev.sum(axis=0)
    trim(np.maximum(values[E_SCO] + values[E_WEST] - 1.0, 0.0), [E_SCO, E_WEST], 1.0)
    return dev


def out_of_bounds(values: np.ndarray, tol: float = 1e-12) -> bool:
    """Whether any channel left [0, 1] or the two trade shares together passed 1."""
    return bool((values < -tol).any() or (values > 1 + tol).any()
                or (values[E_SCO] + values[E_WEST] > 1 + tol).any())


def level_changes(values: np.ndarray, idx: np.ndarray, levels) -> np.ndarray:
    """The changes that bring some channels of the states ``idx`` to given levels (a ties event).

    Security ties are clipped to [0, 1]; a trade share to [0, 1 - the other share], the other's
    new level if it is given too, so that the two never pass 1 together.

    Args:
        values: (channels, n) current structure.
        idx: indices of the states the event sets.
        levels: ``(channel name, level)`` pairs; channels not named keep their values.

    Returns:
        (channels, len(idx)) changes, zero in the channels not named.
    """
    now = values[:, idx]
    target = now.copy()
    given = {CHANNELS.index(name): float(x) for name, x in levels}
    for c, x in given.items():
        target[c] = np.clip(x, 0.0, 1.0)
    for c, other in ((E_SCO, E_WEST), (E_WEST, E_SCO)):
        if c in given:
            target[c] = np.minimum(target[c], 1.0 - target[other])
    return target - now


def decay(dev: np.ndarray, rates: np.ndarray, dt: float) -> np.ndarray:
    """Deviations fade back to the start values when nothing sustains them.

    Args:
        dev: (sources, channels, n).
        rates: (channels,) fade rates per year.
    """
    return dev * decay_factors(rates, dt)


def decay_factors(rates: np.ndarray, dt: float) -> np.ndarray:
    """The factor ``exp(-rate dt)`` per channel, shaped to multiply ``dev`` in place."""
    return np.exp(-np.asarray(rates) * dt)[None, :, None]


def regime_natural_alignment(governance: np.ndarray) -> np.ndarray:
    """The alignment a regime would have on its own: ``1 - 2g`` (democracies lean West)."""
    return 1.0 - 2.0 * governance


def membership_moves(a: np.ndarray, status: np.ndarray, streak: np.ndarray, eligible: np.ndarray,
                     status_anchor: np.ndarray, leave_drop: float, years_required: float,
                     admit_prob: np.ndarray | float, draws: np.ndarray) -> np.ndarray:
    """Which states move up or down one rung of SCO status this step (+1, -1 or 0).

    A state moves up when it is eligible, its alignment stands at or above the threshold of the
    next rung and has stayed there for ``years_required`` years (``streak``) and the SCO admits it this step
    (``draws < admit_prob``). A state that holds a status steps down one rung when its alignment
    has fallen more than ``leave_drop`` below where it stood when it gained that status (or at
    the start): statuses are sticky, and members need not be the most pro-SCO states (India).

    Args:
        status: (n,) integer codes into ``SCO_STATUSES``.
        streak: (n,) years the alignment has stayed above the next rung's threshold.
        status_anchor: (n,) alignment when the current status was gained (or at the start).
        admit_prob: probability of admission this step for a qualified state (per state or one).
        draws: (n,) uniform draws in [0, 1).
    """
    top = len(SCO_STATUSES) - 1
    up = (eligible & (status < top) & (streak > 0) & (streak >= years_required)
          & (draws < admit_prob))
    down = (status > 0) & (a < status_anchor - leave_drop)
    return up.astype(np.int8) - (down & ~up).astype(np.int8)


def rise_chance(a_prev: np.ndarray, intercept: float, slope: float, dt: float) -> np.ndarray:
    """Chance of one rung up this step under the hazard rule: ``1 - (1 - p)**dt``.

    ``p = 1 / (1 + exp(-(intercept + slope * a_prev)))`` is the yearly hazard fitted on the
    status rises of 2002-2014 (``tools/estimate_sco_rule.py``), ``a_prev`` the alignment at the
    start of the step (the fit reads the year before the rise); the chance over a year is ``p``
    whatever the step length.
    """
    yearly = 1.0 / (1.0 + np.exp(-(intercept + slope * a_prev)))
    return 1.0 - (1.0 - yearly) ** dt


def hazard_moves(status: np.ndarray, eligible: np.ndarray, chance: np.ndarray,
                 a: np.ndarray, status_anchor: np.ndarray, leave_drop: float,
                 draws: np.ndarray) -> np.ndarray:
    """Moves of the hazard rule (+1, -1 or 0), one rung at most.

    An eligible state below member rises when its draw falls under its ``chance``
    (``rise_chance``); stepping down is the threshold rule's (``a`` fallen more than
    ``leave_drop`` below ``status_anchor``): no exit was observed in 2001-2024 to fit one.
    """
    up = eligible & (status < len(SCO_STATUSES) - 1) & (draws < chance)
    down = (status > 0) & (a < status_anchor - leave_drop)
    return up.astype(np.int8) - (down & ~up).astype(np.int8)


def update_streak(a: np.ndarray, status: np.ndarray, streak: np.ndarray, thresholds: np.ndarray,
                  dt: float) -> np.ndarray:
    """Years each state has stayed at or above the alignment its next SCO rung needs."""
    return streak_after(a, status, streak, next_threshold(status, thresholds), dt)


def next_threshold(status: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The alignment each state's next SCO rung needs (the top rung's own for members)."""
    return thresholds[np.minimum(status + 1, len(SCO_STATUSES) - 1)]


def streak_after(a: np.ndarray, status: np.ndarray, streak: np.ndarray, nxt: np.ndarray,
                 dt: float) -> np.ndarray:
    """``update_streak`` given ``nxt = next_threshold(status, thresholds)``."""
    above = (a >= nxt) & (status < len(SCO_STATUSES) - 1)
    return np.where(above, streak + dt, 0.0)


def check_finite(a: np.ndarray, dev: np.ndarray, pushes: np.ndarray, contributions: np.ndarray, *,
                 step: int, year: float, iso3: np.ndarray, sources: tuple[str, ...],
                 drivers: tuple[str, ...]) -> None:
    """Stop a run whose state is no longer a number, naming where and through what it happened.

    Nothing non-finite may be written or counted: a NaN alignment would be recorded as a valid
    trajectory and counted as non-aligned. Called at the end of every step, so the first state
    named is one where it began (a non-finite value reaches every state through peers within a
    few steps).

    Args:
        a: (n,) alignment after the step.
        dev: (sources, channels, n) deviations after the step.
        pushes: (drivers, n) the step's pushes; contributions: (drivers, n) its contributions.
        step, year: the step just taken (1 for the first) and the time at its end.
        iso3: (n,) state codes; sources, drivers: the names of the rows of ``dev`` and ``pushes``.

    Raises:
        NonFiniteError: naming the step, the year, the first state affected (and how many
        there are) and the drivers whose push or contribution, and the source.channel
        deviations, that are not finite there.
    """
    if (np.isfinite(a).all() and np.isfinite(dev).all() and np.isfinite(pushes).all()
            and np.isfinite(contributions).all()):
        return
    bad_dev = ~np.isfinite(dev)
    bad_push = ~np.isfinite(pushes) | ~np.isfinite(contributions)
    states = np.flatnonzero(~np.isfinite(a) | bad_dev.any(axis=(0, 1)) | bad_push.any(axis=0))
    i = states[0]
    channels = [f"{sources[s]}.{CHANNELS[c]}" for s, c in zip(*np.nonzero(bad_dev[:, :, i]),
                                                                strict=True)]
    more = len(states) - 1
    others = f" (and {more} other state{'s' if more > 1 else ''})" if more else ""
    raise NonFiniteError(
        f"the run stopped being a number at step {step} (year {year:g}) in {iso3[i]}{others}: "
        f"alignment {a[i]:g}; non-finite drivers: "
        f"{', '.join(drivers[d] for d in np.flatnonzero(bad_push[:, i])) or 'none'}; "
        f"non-finite channels: {', '.join(channels) or 'none'}")
