"""The ensemble's column-wise arithmetic: sums in the model's order, structure and alignment.

Part of the core: imports numpy, the core's own modules and ``ensemble.plan`` only.
"""

from __future__ import annotations

import numpy as np

from .. import dynamics as dyn
from ..derive import ORG_TIES
from ..dynamics import E_SCO, E_WEST, S_SCO
from ..levers import stacked_effects
from ..record import DRIVERS, SRC
from .plan import BOUNDS_TOL, INERTIA, N_SRC, PEER, SHOCK, SharedPlan


def sum_rows(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Sum over ``axis`` strictly in order, first row plus the second plus the third...

    This is the order numpy uses for ``BlocModel``'s sums over sources and drivers (a leading
    axis of a C-ordered array, added row by row). For a block of one column, or a gathered
    block that numpy lays out column-major, numpy may instead sum pairwise, which differs in the
    last bit. A C-ordered block with other than one value a row is the model's case, summed by
    numpy in one call; any other is accumulated (``np.add.accumulate`` adds each row to the
    running sum, in order) and the last running sum taken. Both are pinned by
    ``test_sum_rows_adds_row_by_row_for_every_block_shape``.
    """
    if axis == 0 and x.flags.c_contiguous and x.ndim > 1 and x[0].size != 1:
        return np.add.reduce(x, axis=0)
    return np.take(np.add.accumulate(x, axis=axis), -1, axis=axis)



def structure(base: np.ndarray, dev: np.ndarray) -> np.ndarray:
    """``dynamics.structure`` with the sum over sources in the model's order, for any block."""
    return base + sum_rows(dev)



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



def split_sums(pushes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the positive and of the negative parts of the source pushes (over sources).

    The first 16 terms of ``alignment_step``'s sums over drivers, summed in the same order
    (numpy adds along a leading axis row by row), so adding the dynamic drivers afterwards
    gives the same bits.
    """
    return sum_rows(np.maximum(pushes, 0.0)), sum_rows(np.maximum(-pushes, 0.0))



def add_dynamic(src_part: np.ndarray, peer: np.ndarray, shock: np.ndarray, sign: float) -> np.ndarray:
    """Finish a sum over drivers: sources, then peer, inertia (a zero push) and shock, in order.

    Inertia's part is ``np.maximum(±0.0, 0.0)``, +0.0, and is not added: every part is
    ``np.maximum(x, 0.0)``, never -0.0, so the sum so far is never -0.0 and adding +0.0
    leaves it as it is, bit for bit. For the negative parts, ``s - np.minimum(x, 0.0)`` is
    ``s + np.maximum(-x, 0.0)`` but for the sign of a zero added, which leaves such a sum as
    it is too (one operation fewer).
    """
    if sign > 0:
        s = src_part + np.maximum(peer, 0.0)
        s += np.maximum(shock, 0.0)
    else:
        s = src_part - np.minimum(peer, 0.0)
        s -= np.minimum(shock, 0.0)
    return s



def bounded_move(relaxed: np.ndarray, pos: np.ndarray, neg: np.ndarray, dt: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``alignment_step``'s bounded moves up and down, from the summed pushes."""
    up = (1.0 - relaxed) * -np.expm1(-dt * pos / 2.0)
    down = (1.0 + relaxed) * -np.expm1(-dt * neg / 2.0)
    return up, down



def bounded_step(relaxed: np.ndarray, pos: np.ndarray, neg: np.ndarray, dt: float,
                 out: np.ndarray) -> None:
    """``relaxed + up - down`` with ``bounded_move``'s moves, bit for bit, into ``out``.

    Four operations fewer: ``(1 - r) * -e`` is written ``(r - 1) * e`` and ``(1 + r) * -e``
    ``(-1 - r) * e`` (the same values but for the sign of a zero move, which the sum cannot
    show), and for a step of one year ``(-dt * p) / 2`` is ``p * -0.5`` (one rounding of the
    same number). The moves themselves, for attribution, come from ``bounded_move``.
    """
    up = pos * -0.5 if dt == 1.0 else -dt * pos / 2.0
    np.expm1(up, out=up)
    up *= relaxed - 1.0
    down = neg * -0.5 if dt == 1.0 else -dt * neg / 2.0
    np.expm1(down, out=down)
    down *= -1.0 - relaxed
    np.add(relaxed, up, out=out)
    out -= down



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
