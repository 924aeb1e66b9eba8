"""Pure-function tests of ``model.dynamics``: bounds, exact attribution, monotone response."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse

from model.core import dynamics as dyn

# --- strategies -------------------------------------------------------------------------------

alignments = st.floats(-1.0, 1.0, allow_nan=False)
dts = st.sampled_from([0.25, 1.0])
#: Pushes from tiny to huge (1e300 per driver: up to 8 drivers still sum without overflow).
push_values = st.one_of(
    st.floats(-10.0, 10.0, allow_nan=False),
    st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 1e6, -1e6]),
)


@st.composite
def step_inputs(draw, max_states: int = 6, max_drivers: int = 8):
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(1, max_drivers))
    a = draw(arrays(float, n, elements=alignments))
    pushes = draw(arrays(float, (k, n), elements=push_values))
    return a, pushes, draw(dts)


# --- alignment_step ---------------------------------------------------------------------------

@settings(max_examples=300)
@given(step_inputs())
def test_alignment_step_stays_in_bounds(inputs):
    a, pushes, dt = inputs
    new, _ = dyn.alignment_step(a, pushes, dt)
    assert np.all(np.isfinite(new))
    assert np.all(new >= -1.0) and np.all(new <= 1.0)


@settings(max_examples=300)
@given(step_inputs())
def test_alignment_step_contributions_add_up_to_the_change(inputs):
    a, pushes, dt = inputs
    new, contrib = dyn.alignment_step(a, pushes, dt)
    assert contrib.shape == pushes.shape
    assert np.all(np.isfinite(contrib))
    np.testing.assert_allclose(contrib.sum(axis=0), new - a, rtol=0, atol=1e-12)


@settings(max_examples=300)
@given(step_inputs())
def test_alignment_step_contribution_has_the_sign_of_its_push(inputs):
    a, pushes, dt = inputs
    _, contrib = dyn.alignment_step(a, pushes, dt)
    assert np.all(contrib[pushes == 0] == 0)
    assert np.all(contrib[pushes > 0] >= 0)
    assert np.all(contrib[pushes < 0] <= 0)


@given(arrays(float, st.integers(1, 6), elements=alignments), st.integers(1, 5), dts)
def test_alignment_step_zero_pushes_change_nothing(a, k, dt):
    new, contrib = dyn.alignment_step(a, np.zeros((k, a.size)), dt)
    np.testing.assert_array_equal(new, a)
    np.testing.assert_array_equal(contrib, 0.0)


@settings(max_examples=300)
@given(step_inputs(), st.data())
def test_alignment_step_is_monotone_in_each_push(inputs, data):
    a, pushes, dt = inputs
    k = data.draw(st.integers(0, pushes.shape[0] - 1), label="driver")
    extra = data.draw(arrays(float, a.size, elements=st.floats(0.0, 1e300)), label="extra")
    more = pushes.copy()
    more[k] = np.minimum(pushes[k] + extra, 1e300)  # stays a bounded push
    assume(np.all(more[k] >= pushes[k]))
    low, _ = dyn.alignment_step(a, pushes, dt)
    high, _ = dyn.alignment_step(a, more, dt)
    assert np.all(high >= low)


@given(st.floats(-1.0, 0.999), st.floats(1e-3, 1e6), st.integers(1, 5), dts)
def test_a_positive_push_alone_moves_up(a0, p, k, dt):
    a = np.array([a0])
    pushes = np.zeros((k, 1))
    pushes[k - 1] = p
    new, contrib = dyn.alignment_step(a, pushes, dt)
    assert new[0] > a0
    assert contrib[k - 1, 0] > 0


@given(st.floats(-0.999, 1.0), st.floats(1e-3, 1e6), dts)
def test_a_negative_push_alone_moves_down(a0, p, dt):
    new, _ = dyn.alignment_step(np.array([a0]), np.array([[-p]]), dt)
    assert new[0] < a0


def test_alignment_step_small_push_is_rate_times_half_the_room():
    # MODEL-NOTES: for small pushes the change is dt * P * (room left) / 2.
    a = np.array([-0.6, 0.0, 0.5])
    p = 1e-6
    new, _ = dyn.alignment_step(a, np.array([[p, p, p]]), 1.0)
    np.testing.assert_allclose(new - a, p * (1 - a) / 2, rtol=1e-6)
    new, _ = dyn.alignment_step(a, np.array([[-p, -p, -p]]), 1.0)
    np.testing.assert_allclose(new - a, -p * (1 + a) / 2, rtol=1e-6)


def test_alignment_step_quarter_steps_match_a_year_for_a_constant_push():
    a = np.array([-0.3, 0.2])
    push = np.array([[0.4, -0.7]])
    year, _ = dyn.alignment_step(a, push, 1.0)
    q = a
    for _ in range(4):
        q, _ = dyn.alignment_step(q, push, 0.25)
    np.testing.assert_allclose(q, year, rtol=0, atol=1e-12)


# --- shock_push -------------------------------------------------------------------------------

def _shock_change(eps: float, a: float, sd: float, dt: float) -> float:
    aa = np.array([a])
    push = dyn.shock_push(np.array([eps]), aa, sd, dt)
    new, _ = dyn.alignment_step(aa, push[None, :], dt)
    return float(new[0] - a)


@given(st.floats(-0.99, 0.99), st.floats(1e-3, 4.0), st.sampled_from([0.01, 0.02, 0.1]), dts)
def test_shock_effect_is_symmetric_to_first_order(a, eps, sd, dt):
    up = _shock_change(eps, a, sd, dt)
    down = _shock_change(-eps, a, sd, dt)
    assert up > 0 > down
    first_order = sd * np.sqrt(dt) * eps * (1 - a * a) / 2
    np.testing.assert_allclose(up, first_order, rtol=sd * eps * 2)
    # The two directions cancel up to second order in sd * eps (no drift from noise).
    assert abs(up + down) <= (sd * eps) ** 2 * dt


def test_shock_noise_alone_does_not_drift():
    rng = np.random.default_rng(1)
    eps = rng.standard_normal(200_000)
    for sd in (0.02, 0.17):  # a small shock, and one above the fitted default (0.10)
        for a0 in (-0.8, 0.0, 0.8):
            a = np.full(eps.size, a0)
            new, _ = dyn.alignment_step(a, dyn.shock_push(eps, a, sd, 1.0)[None, :], 1.0)
            change = new - a
            # Drift is second order (about sd**2 |a| (1 - a**2) / 8: 0.001 at 0.17, towards the
            # centre), the spread first order: the drift stays a few percent of a typical move.
            assert abs(change.mean()) < 0.05 * np.abs(change).mean()
            assert np.sign(change.mean()) != np.sign(a0) or a0 == 0
            assert change.std() > 0.5 * sd * (1 - a0 ** 2) / 2


@pytest.mark.parametrize("dt", [0.25, 1.0])
@pytest.mark.parametrize("pole", [-1.0, 1.0])
def test_shock_cannot_leave_the_interval_at_the_poles(pole, dt):
    for eps in (-3.0, -0.5, 0.5, 3.0):
        assert _shock_change(eps, pole, 0.1, dt) == 0.0
    # Inward shocks vanish already in the push (no room factor needed).
    inward = -np.sign(pole)
    assert dyn.shock_push(np.array([inward]), np.array([pole]), 0.1, dt)[0] == 0.0


def test_shock_push_scales_with_sd_and_sqrt_dt():
    eps, a = np.array([1.0, -1.0]), np.array([0.2, 0.2])
    assert np.all(dyn.shock_push(eps, a, 0.0, 1.0) == 0)
    np.testing.assert_allclose(dyn.shock_push(eps, a, 0.1, 0.25), 2 * dyn.shock_push(eps, a, 0.1, 1.0))
    np.testing.assert_allclose(dyn.shock_push(eps, a, 0.1, 1.0), [0.1 * 1.2, -0.1 * 0.8])


# --- peer_push --------------------------------------------------------------------------------

@st.composite
def relations_and_state(draw, max_n: int = 7):
    n = draw(st.integers(2, max_n))
    w = draw(arrays(float, (n, n), elements=st.sampled_from([0.0, 0.0, 0.2, 0.5, 1.0, 2.0])))
    np.fill_diagonal(w, 0.0)
    totals = w.sum(axis=1)
    inv = np.divide(1.0, totals, out=np.zeros(n), where=totals > 0)
    rel = sparse.csr_matrix(w * inv[:, None])
    a0 = draw(arrays(float, n, elements=st.floats(-0.9, 0.9)))
    d = draw(arrays(float, n, elements=st.floats(-0.1, 0.1)))
    return rel, a0, d


@given(relations_and_state(), st.floats(-0.1, 0.1), st.floats(0.0, 2.0))
def test_peer_push_is_zero_for_equal_departures(data, common, weight):
    rel, a0, _ = data
    push = dyn.peer_push(rel, a0 + common, a0, weight)
    np.testing.assert_allclose(push, 0.0, atol=1e-12)


@given(relations_and_state(), st.floats(0.01, 2.0))
def test_peer_push_moves_towards_neighbours_mean_departure(data, weight):
    rel, a0, d = data
    push = dyn.peer_push(rel, a0 + d, a0, weight)
    has = np.asarray(rel.sum(axis=1)).ravel() > 0
    mean_neighbour = rel @ d
    gap = mean_neighbour - d
    # (a0 + d) - a0 need not equal d exactly in floating point; compare the signs away from 0.
    clear = has & (np.abs(gap) > 1e-9)
    assert np.all(np.sign(push[clear]) == np.sign(gap[clear]))
    np.testing.assert_allclose(push[has], weight * gap[has], atol=1e-12)
    assert np.all(push[~has] == 0.0)


def test_peer_push_hand_case_and_zero_row():
    # State 0 listens to 1 and 2 equally; state 1 only to 0; state 2 to nobody.
    rel = sparse.csr_matrix(np.array([[0, 0.5, 0.5], [1, 0, 0], [0, 0, 0]], dtype=float))
    a0 = np.array([0.0, 0.5, -0.5])
    a = a0 + np.array([0.0, 0.2, 0.4])
    push = dyn.peer_push(rel, a, a0, 0.5)
    np.testing.assert_allclose(push, [0.5 * 0.3, 0.5 * (0.0 - 0.2), 0.0])
    has = np.array([True, True, False])
    np.testing.assert_array_equal(dyn.peer_push(rel, a, a0, 0.5, has), push)
    # Standing differences (a == a0 everywhere) move nobody, however different the levels are.
    np.testing.assert_array_equal(dyn.peer_push(rel, a0, a0, 0.5), 0.0)


# --- small helpers ----------------------------------------------------------------------------

@given(st.floats(0.0, 1e6), st.floats(0.0, 1e6), st.floats(0.01, 100.0))
def test_saturate_is_bounded_and_increasing(x, y, half):
    sx, sy = float(dyn.saturate(x, half)), float(dyn.saturate(y, half))
    assert 0.0 <= sx <= 1.0
    if x <= y:
        assert sx <= sy


def test_saturate_values():
    assert dyn.saturate(0.0, 2.0) == 0.0
    np.testing.assert_allclose(dyn.saturate(2.0, 2.0), 1 - np.exp(-1))
    np.testing.assert_allclose(dyn.saturate(np.array([1.0, 3.0]), 1.0), 1 - np.exp([-1.0, -3.0]))
    assert dyn.saturate(1e4, 1.0) == pytest.approx(1.0)


@given(st.floats(0.0, 1e15), st.floats(0.0, 1e15), st.floats(0.01, 2.0))
def test_receptiveness_decreases_with_gdp(g1, g2, elasticity):
    r1, r2 = dyn.receptiveness(np.array([g1, g2]), 1e11, elasticity)
    assert 0.0 < r1 <= 1.0 and 0.0 < r2 <= 1.0
    if g1 <= g2:
        assert r1 >= r2


def test_receptiveness_values():
    r = dyn.receptiveness(np.array([0.0, 1e11, 3e11]), 1e11, 0.5)
    np.testing.assert_allclose(r, [1.0, 2 ** -0.5, 4 ** -0.5])
    # Without a size effect every state is equally receptive.
    np.testing.assert_array_equal(dyn.receptiveness(np.array([0.0, 1e13]), 1e11, 0.0), 1.0)
    # A dollar moves Kyrgyzstan more than India.
    kgz, ind = dyn.receptiveness(np.array([1.4e10, 3.9e12]), 1e11, 0.3)
    assert kgz > ind


def test_channel_room_hand_case():
    values = np.array([[0.3, 0.9], [0.5, 0.4], [0.2, 1.0], [0.0, 0.7], [0.6, 0.1]])
    room = dyn.channel_room(values)
    np.testing.assert_allclose(room, [[0.2, 0.0], [0.2, 0.0], [0.8, 0.0], [1.0, 0.3], [0.4, 0.9]])


@given(arrays(float, (len(dyn.CHANNELS), 4), elements=st.floats(-0.5, 1.5)))
def test_channel_room_is_in_unit_interval(values):
    room = dyn.channel_room(values)
    assert np.all((room >= 0) & (room <= 1))
    assert np.all(room[dyn.E_SCO] == room[dyn.E_WEST])


def test_decay_hand_case_and_composition():
    dev = np.ones((2, len(dyn.CHANNELS), 3))
    rates = np.array([0.1, 0.1, 0.05, 0.05, 0.0])
    out = dyn.decay(dev, rates, 1.0)
    np.testing.assert_allclose(out[0, :, 0], np.exp(-rates))
    np.testing.assert_array_equal(out[:, dyn.GOV], 1.0)  # zero rate: nothing fades
    half_twice = dyn.decay(dyn.decay(dev, rates, 0.5), rates, 0.5)
    np.testing.assert_allclose(half_twice, out, rtol=1e-14)
    assert np.all(dyn.decay(dev, rates, 1.0) <= dev)


def test_structural_push_hand_case():
    dev = np.zeros((1, len(dyn.CHANNELS), 3))
    dev[0, dyn.E_SCO, 0] = 0.1      # more trade with the SCO -> towards the SCO
    dev[0, dyn.S_WEST, 1] = 0.2     # more security ties with the West -> towards the West
    dev[0, dyn.GOV, 2] = 0.1        # more democratic -> towards the West
    push = dyn.structural_push(dev, econ_weight=0.5, security_weight=0.6, regime_weight=0.3)
    np.testing.assert_allclose(push[0], [0.05, -0.12, -0.06])


@given(arrays(float, (4, len(dyn.CHANNELS), 3), elements=st.floats(-1, 1)),
       st.floats(0, 5), st.floats(0, 5), st.floats(0, 5))
def test_structural_push_is_linear_in_the_sources(dev, e, s, r):
    per_source = dyn.structural_push(dev, e, s, r)
    summed = dyn.structural_push(dev.sum(axis=0, keepdims=True), e, s, r)[0]
    np.testing.assert_allclose(per_source.sum(axis=0), summed, atol=1e-12)
    np.testing.assert_allclose(dyn.structural_push(2 * dev, e, s, r), 2 * per_source, atol=1e-12)


def test_structure_adds_deviations_to_base():
    base = np.full((len(dyn.CHANNELS), 2), 0.3)
    dev = np.zeros((3, len(dyn.CHANNELS), 2))
    dev[0, 0, 0], dev[2, 0, 0], dev[1, 4, 1] = 0.1, 0.05, -0.2
    out = dyn.structure(base, dev)
    assert out[0, 0] == pytest.approx(0.45)
    assert out[4, 1] == pytest.approx(0.1)


def test_regime_natural_alignment():
    np.testing.assert_allclose(dyn.regime_natural_alignment(np.array([0.0, 0.5, 1.0])), [1, 0, -1])


# --- membership -------------------------------------------------------------------------------

THRESHOLDS = np.array([-np.inf, 0.35, 0.5, 0.65])


def test_update_streak_hand_case():
    #        above partner  below    above member  member    observer just at threshold
    a = np.array([0.40, 0.30, 0.70, 0.90, 0.65])
    status = np.array([0, 0, 2, 3, 2])
    streak = np.array([1.0, 2.0, 0.5, 4.0, 0.0])
    out = dyn.update_streak(a, status, streak, THRESHOLDS, 0.25)
    np.testing.assert_allclose(out, [1.25, 0.0, 0.75, 0.0, 0.25])


def test_membership_moves_hand_case():
    n = 6
    a = np.array([0.50, 0.50, 0.50, 0.50, 0.10, 0.50])
    status = np.array([0, 0, 0, 3, 2, 3])
    streak = np.array([3.0, 2.5, 3.0, 9.0, 0.0, 0.0])
    eligible = np.array([True, True, False, True, True, True])
    anchor = np.array([0.4, 0.4, 0.4, 0.7, 0.5, 0.9])
    draws = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    admit = np.full(n, 0.2)
    moves = dyn.membership_moves(a, status, streak, eligible, anchor, 0.3, 3.0, admit, draws)
    # 0: qualified and admitted; 1: streak too short; 2: not eligible; 3: already at the top;
    # 4: fell 0.4 below where it gained its status (> 0.3): steps down; 5: fell exactly 0.4 too.
    np.testing.assert_array_equal(moves, [1, 0, 0, 0, -1, -1])
    assert moves.dtype == np.int8
    # A draw above the admission probability means the SCO does not admit this step.
    moves = dyn.membership_moves(a, status, streak, eligible, anchor, 0.3, 3.0, admit,
                                 np.full(n, 0.9))
    np.testing.assert_array_equal(moves, [0, 0, 0, 0, -1, -1])


def test_membership_moves_status_is_sticky_within_leave_drop():
    a = np.array([0.45, 0.2])
    status = np.array([1, 3])
    anchor = np.array([0.5, 0.45])
    moves = dyn.membership_moves(a, status, np.zeros(2), np.ones(2, bool), anchor, 0.3, 3.0,
                                 np.ones(2), np.zeros(2))
    np.testing.assert_array_equal(moves, [0, 0])


def test_membership_never_leaves_the_status_ladder():
    rng = np.random.default_rng(3)
    n = 500
    status = rng.integers(0, 4, n)
    moves = dyn.membership_moves(rng.uniform(-1, 1, n), status, rng.uniform(0, 5, n),
                                 rng.random(n) < 0.5, rng.uniform(-1, 1, n), 0.3, 3.0,
                                 np.full(n, 0.5), rng.random(n))
    new = status + moves
    assert new.min() >= 0 and new.max() <= len(dyn.SCO_STATUSES) - 1
    assert set(np.unique(moves)) <= {-1, 0, 1}


def test_cap_increments_keeps_joint_trade_room_and_values():
    E_SCO, E_WEST, GOV = dyn.E_SCO, dyn.E_WEST, dyn.GOV
    values = np.zeros((len(dyn.CHANNELS), 2))
    values[E_SCO] = [0.3, 0.1]
    values[E_WEST] = [0.5, 0.1]
    values[GOV] = [0.1, 0.5]
    room = dyn.channel_room(values)
    inc = np.zeros((2, len(dyn.CHANNELS), 2))
    inc[0, E_SCO] = [0.15, 0.01]  # state 0: 0.15 + 0.15 asked for, 0.2 of joint room left
    inc[1, E_WEST] = [0.15, 0.01]
    inc[0, GOV] = [-0.08, -0.1]  # state 0: 0.2 taken from 0.1 available
    inc[1, GOV] = [-0.12, 0.0]
    out = dyn.cap_increments(inc, values, room)
    after = values + out.sum(axis=0)
    assert after[E_SCO, 0] + after[E_WEST, 0] == pytest.approx(1.0)
    assert out[0, E_SCO, 0] == pytest.approx(0.1) and out[1, E_WEST, 0] == pytest.approx(0.1)
    assert after[GOV, 0] == pytest.approx(0.0)
    np.testing.assert_allclose(out[:, :, 1], inc[:, :, 1])  # within bounds: untouched


def test_cap_increments_stays_finite_where_rounding_left_a_value_below_zero():
    """Issue 6: governance changed to 0 sums to -2.8e-17; no decrease asked for there.

    The cap used to divide that value by the zero sum of decreases (-inf) and multiply the zero
    increments by it: NaN for every source, then for the whole run.
    """
    values = np.full((len(dyn.CHANNELS), 3), 0.2)
    values[dyn.GOV] = [-2.7755575615628914e-17, -1e-17, 0.0]
    room = dyn.channel_room(values)
    inc = np.zeros((2, len(dyn.CHANNELS), 3))
    inc[0, dyn.E_WEST] = -0.2  # sanctions cut Western trade: the cap is in use
    inc[1, dyn.GOV] = [1e-19, 0.0, 0.0]  # a negative rate times a value below 0: a tiny gain
    inc[0, dyn.GOV, 1] = -0.01  # a decrease where nothing is left: cut to nothing
    with np.errstate(all="raise"):
        out = dyn.cap_increments(inc, values, room)
    assert np.isfinite(out).all()
    assert out[0, dyn.GOV, 1] == 0.0 and out[1, dyn.GOV, 0] == 1e-19
    np.testing.assert_array_equal(out[:, dyn.E_WEST], inc[:, dyn.E_WEST])


def test_check_finite_passes_numbers_and_names_what_is_not():
    n = 3
    iso3 = np.array(["AAA", "BBB", "CCC"])
    sources, drivers = ("lever", "events"), ("lever", "events", "peer")
    a, dev = np.zeros(n), np.zeros((2, len(dyn.CHANNELS), n))
    pushes, contrib = np.zeros((3, n)), np.zeros((3, n))
    kw = dict(step=5, year=2026.25, iso3=iso3, sources=sources, drivers=drivers)
    dyn.check_finite(a, dev, pushes, contrib, **kw)  # all numbers: nothing happens
    dev[0, dyn.GOV, 1] = np.nan
    pushes[0, 1] = np.nan
    contrib[2, 2] = np.inf
    a[1] = np.nan
    with pytest.raises(dyn.NonFiniteError) as info:
        dyn.check_finite(a, dev, pushes, contrib, **kw)
    msg = str(info.value)
    assert "step 5 (year 2026.25) in BBB (and 1 other state)" in msg
    assert "non-finite drivers: lever;" in msg and "non-finite channels: lever.governance" in msg
    assert "\n" not in msg


def test_heavy_tails_keep_the_median_and_the_draws_and_widen_the_tails():
    from model.core import dynamics as dyn

    z = np.random.default_rng(np.random.SeedSequence(3)).standard_normal(200_000)
    assert dyn.heavy_tails(z, 0.0) is z  # the default leaves the draws untouched
    t = dyn.heavy_tails(z, 0.25)
    assert np.array_equal(np.sign(t), np.sign(z))
    assert np.all(np.diff(t[np.argsort(z)]) > 0)  # monotone: same order as the draws
    assert np.median(np.abs(t)) == pytest.approx(np.median(np.abs(z)), rel=0.01)
    ratio = np.quantile(np.abs(t), 0.99) / np.quantile(np.abs(z), 0.99)
    assert ratio == pytest.approx(np.exp(0.25 * (2.5758**2 - dyn.NORMAL_MEDIAN_ABS**2) / 2), rel=0.03)


def test_persistent_shocks_have_the_asked_autocorrelation_and_unit_variance():
    from model.core import dynamics as dyn

    z = np.random.default_rng(np.random.SeedSequence(4)).standard_normal((20_000, 8))
    first, second = z[0], z[1]
    assert dyn.persistent_shocks(second, first, 0.0, 1.0) is second  # the default: draws untouched
    assert dyn.persistent_shocks(first, None, 0.5, 1.0) is first  # the first step starts stationary
    e = [z[0]]
    for row in z[1:]:
        e.append(dyn.persistent_shocks(row, e[-1], 0.5, 1.0))
    e = np.array(e)
    assert e.std() == pytest.approx(1.0, rel=0.02)
    lag1 = np.corrcoef(e[1:].ravel(), e[:-1].ravel())[0, 1]
    assert lag1 == pytest.approx(0.5, abs=0.02)
    # half-year steps: two steps carry as much as one year
    assert dyn.persistent_shocks(z[1], z[0], 0.25, 0.5) == pytest.approx(
        0.5 * z[0] + np.sqrt(0.75) * z[1])


def test_leader_changes_are_centred_and_shift_by_the_effect():
    from model.core import dynamics as dyn

    u = np.random.default_rng(np.random.SeedSequence(5)).random(400_000)
    centre = np.zeros_like(u)
    push = dyn.leader_change_push(u, centre, 0.178, -0.021, 1.0, 1.0)
    p = -np.expm1(-0.178)
    assert np.mean(u < p) == pytest.approx(p, abs=0.003)
    assert push.mean() == pytest.approx(0.0, abs=2e-4)  # no one moves on average
    # at the centre, as a push 2 shift / dt: a change shifts by effect (1 - p), the others by -effect p
    assert set(np.round(push / 2, 12)) == {round(-0.021 * (1 - p), 12), round(0.021 * p, 12)}
    scripted = dyn.leader_change_push(u, centre, 0.178, -0.021, 0.0, 1.0)  # none drawn, centred
    assert np.all(scripted == 2 * 0.021 * p)
    assert np.all(dyn.leader_change_push(u, centre, 0.0, -0.021, 1.0, 1.0) == 0)
    # off the centre the moves stay centred: after the room factor of the update no drift,
    # even at the West pole (a push scaled by one side's room would drift it towards the SCO)
    for a0 in (-1.0, -0.5, 0.6):
        a = np.full_like(u, a0)
        new, _ = dyn.alignment_step(a, dyn.leader_change_push(u, a, 0.178, -0.021, 1.0, 1.0)[None], 1.0)
        assert (new - a).mean() == pytest.approx(0.0, abs=2e-4)


# --- the hazard rule of SCO status rises ----------------------------------------------------------

def test_rise_chance_is_the_yearly_hazard_whatever_the_step():
    a = np.linspace(-1, 1, 9)
    yearly = dyn.rise_chance(a, -3.7, 1.4, 1.0)
    assert np.allclose(yearly, 1 / (1 + np.exp(-(-3.7 + 1.4 * a))))
    quarter = dyn.rise_chance(a, -3.7, 1.4, 0.25)
    assert np.allclose(1 - (1 - quarter) ** 4, yearly)  # four quarters make the year
    assert (np.diff(yearly) > 0).all()  # a positive slope: more pro-SCO, likelier to rise


def test_hazard_moves_need_eligibility_room_above_and_a_low_draw():
    status = np.array([0, 1, 2, 3, 0, 0])
    eligible = np.array([True, True, True, True, False, True])
    chance = np.full(6, 0.5)
    draws = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.9])
    a = np.zeros(6)
    moves = dyn.hazard_moves(status, eligible, chance, a, a, 0.3, draws)
    # members cannot rise; the ineligible and the unlucky stay
    assert moves.tolist() == [1, 1, 1, 0, 0, 0]


def test_hazard_moves_step_down_as_the_threshold_rule_does():
    status = np.array([2, 2, 0])
    anchor = np.array([0.5, 0.5, 0.5])
    a = np.array([0.1, 0.3, -1.0])  # fell 0.4, fell 0.2, no status to lose
    moves = dyn.hazard_moves(status, np.zeros(3, bool), np.zeros(3), a, anchor, 0.3, np.ones(3))
    assert moves.tolist() == [-1, 0, 0]


@given(st.floats(-0.95, 0.95), st.floats(-0.05, 0.05), st.sampled_from([1.0, 0.25]))
def test_drift_moves_a_state_by_its_size_times_the_room(a, d, dt):
    """A drift ``d`` moves a state by about ``d dt (1 - a**2)`` a step, either way."""
    push = dyn.drift_push(np.array([d]), np.array([a]))
    new, _ = dyn.alignment_step(np.array([a]), push[None], dt)
    assert new[0] - a == pytest.approx(d * dt * (1 - a * a), abs=2 * d * d * dt * dt + 1e-12)
