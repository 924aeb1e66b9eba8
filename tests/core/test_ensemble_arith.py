"""The short cuts the engine takes in the arithmetic give the bits of the formulas written out.

``dynamics`` skips operations that cannot change a value (``x * 1.0``, ``x / 1.0``, a ``where``
that keeps every element, factors fixed for a run computed once), and the ensemble's
``add_dynamic`` leaves out inertia's +0.0. Each is compared here with the plain formula, bit
for bit, on values that include signed zeros; the equality of whole runs is
``test_ensemble.py``'s.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from model.core import dynamics as dyn
from model.core.ensemble import columns

SEEDS = st.integers(0, 2**32 - 1)


def values(seed: int, shape, zeros: float = 0.2) -> np.ndarray:
    """Normal values with a share of exact +0.0 and -0.0."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x[rng.random(shape) < zeros / 2] = 0.0
    x[rng.random(shape) < zeros / 2] = -0.0
    return x


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, dt=st.sampled_from([1.0, 0.25, 0.5]))
def test_pushes_equal_their_formulas(seed, dt):
    rng = np.random.default_rng(seed)
    n, runs = 17, 3
    a = np.tanh(values(seed, (n, runs)))
    a0 = np.tanh(values(seed + 1, (n, 1)))
    eps, d, u = values(seed + 2, (n, runs)), values(seed + 3, (n, runs)), rng.random((n, runs))
    rel = sp.random(n, n, density=0.3, random_state=seed % 2**31, format="csr")
    related = np.ones((n, 1), dtype=bool)
    assert same(dyn.peer_push(rel, a, a0, 0.15, related),
                0.15 * np.where(related, rel @ (a - a0) - (a - a0), 0.0))
    some = related.copy()
    some[::3] = False
    assert same(dyn.peer_push(rel, a, a0, 0.15, some, a - a0),
                0.15 * np.where(some, rel @ (a - a0) - (a - a0), 0.0))
    for inertia in (0.0, 0.3):
        assert same(dyn.relax_to_anchor(a, a0, inertia, dt, a - a0),
                    a0 + (a - a0) * np.exp(-inertia * dt))
    sd = np.abs(values(seed + 4, (n, 1)))
    assert same(dyn.shock_push(eps, a, sd, dt), sd * eps * (1.0 + a * np.sign(eps)) / np.sqrt(dt))
    p = -np.expm1(-0.178 * dt)
    kick = -0.021 * ((u < -np.expm1(-0.178 * 1.0 * dt)) - p)
    assert same(dyn.leader_change_push(u, a, 0.178, -0.021, 1.0, dt),
                2.0 * kick * (1.0 + a * np.sign(kick)) / dt)
    assert same(dyn.drift_push(d, a, dyn.drift_parts(d)), 2.0 * d * (1.0 + a * np.sign(d)))


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, zeros=st.sampled_from([0.0, 0.5, 1.0]))
def test_sums_over_drivers_equal_the_models(seed, zeros):
    """``add_dynamic`` after ``split_sums`` gives ``alignment_step``'s sums (inertia's zeros in)."""
    n_src, n = 16, 11
    sources = values(seed, (n_src, n), zeros)
    peer, shock = values(seed + 1, (n,), zeros), values(seed + 2, (n,), zeros)
    pushes = np.concatenate([sources, peer[None], np.zeros((1, n)), shock[None]])
    pos_s, neg_s = columns.split_sums(sources)
    assert same(columns.add_dynamic(pos_s, peer, shock, 1.0), np.maximum(pushes, 0.0).sum(axis=0))
    assert same(columns.add_dynamic(neg_s, peer, shock, -1.0), np.maximum(-pushes, 0.0).sum(axis=0))


def test_the_next_rungs_threshold_gives_the_streak_of_update_streak():
    rng = np.random.default_rng(3)
    status = rng.integers(0, 4, (9, 4)).astype(np.int8)
    a, streak = rng.uniform(-1, 1, (9, 4)), rng.uniform(0, 3, (9, 4))
    thresholds = np.array([-0.2, 0.0, 0.2, 0.4])
    nxt = dyn.next_threshold(status, thresholds)
    written = np.where((a >= thresholds[np.minimum(status + 1, 3)]) & (status < 3), streak + 0.25, 0.0)
    assert same(dyn.streak_after(a, status, streak, nxt, 0.25), written)
    assert same(dyn.update_streak(a, status, streak, thresholds, 0.25), written)
    assert (nxt[status == 3] == thresholds[3]).all() and (nxt[status == 0] == thresholds[1]).all()


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, dt=st.sampled_from([1.0, 0.25]))
def test_the_bounded_step_equals_the_moves_added(seed, dt):
    """``bounded_step`` against ``relaxed + up - down`` of ``bounded_move``, at the edges too
    (alignment exactly -1, -0, 0 or 1; pushes exactly 0)."""
    rng = np.random.default_rng(seed)
    relaxed = np.tanh(values(seed, (40, 3)))
    relaxed.flat[rng.choice(relaxed.size, 12, replace=False)] = rng.choice([-1.0, -0.0, 1.0], 12)
    pos, neg = np.abs(values(seed + 1, (40, 3), 0.3)) * 5, np.abs(values(seed + 2, (40, 3), 0.3)) * 5
    up, down = columns.bounded_move(relaxed, pos, neg, dt)
    out = np.empty_like(relaxed)
    columns.bounded_step(relaxed, pos, neg, dt, out)
    assert same(out, relaxed + up - down)
