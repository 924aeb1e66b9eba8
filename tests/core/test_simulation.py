"""The Mesa model (``core.simulation``): stillness, bounds, attribution, seeds, events, idioms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from model.config.build import model_from_scenario, run_scenario
from model.config.scenario import Scenario, load_scenario
from model.core.dynamics import E_SCO, E_WEST, GOV, S_SCO, S_WEST, SCO_STATUSES
from model.core.levers import LEVERS
from model.core.seeds import replication_seeds
from model.core.simulation import DRIVERS, SOURCES, StateAgent
from model.data.world import load_world

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))
MEMBER = SCO_STATUSES.index("member")
#: no noise: no shocks, no drift, no random leader changes
STILL = {"shock_sd": 0.0, "leader_change_rate": 0.0, "drift_sd": 0.0}


def make(**fields) -> Scenario:
    fields.setdefault("name", "test")
    return Scenario.model_validate(fields)


def row(result, year: int) -> int:
    """Index of the record at the end of ``year`` (yearly or quarterly steps)."""
    k = int(np.flatnonzero(np.isclose(result.times, year))[0])
    return k


@pytest.fixture(scope="module")
def world():
    return load_world("builtin", 2024)


@pytest.fixture(scope="module")
def shipped():
    return {p.stem: load_scenario(p) for p in SCENARIOS}


@pytest.fixture(scope="module")
def shipped_runs(shipped):
    return {name: run_scenario(sc) for name, sc in shipped.items()}


# --- nothing acting, nothing moves --------------------------------------------------------------

@pytest.mark.parametrize("start_year", [2014, 2024])
@pytest.mark.parametrize("step", ["year", "quarter"])
def test_nothing_acting_nothing_moves(start_year, step):
    """Every lever at zero, no noise, no events: the observed world is a fixed point.

    Peers pass on moves, not standing differences, and the anchor pulls only after a move, so
    no state may move and no driver may contribute, in any year, on the real world.
    """
    levers = {lv.bloc: {} for lv in LEVERS.values()}
    for name, lv in LEVERS.items():
        levers[lv.bloc][name] = {"intensity": 0.0}
    sc = make(start_year=start_year, horizon=10, step=step, parameters=STILL, **levers)
    r = run_scenario(sc)
    np.testing.assert_array_equal(r.alignment, np.broadcast_to(r.alignment[0], r.alignment.shape))
    np.testing.assert_array_equal(r.contributions, 0.0)
    np.testing.assert_array_equal(r.status, np.broadcast_to(r.status[0], r.status.shape))
    assert r.status_log == []


# --- bounds and attribution on every shipped scenario -------------------------------------------

def test_every_shipped_scenario_is_found(shipped):
    assert {"baseline", "classroom", "hindcast_2014"} <= set(shipped)


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_shipped_scenario_stays_in_bounds(name, shipped, shipped_runs):
    sc, r = shipped[name], shipped_runs[name]
    assert r.alignment.shape == (round(sc.horizon / sc.dt) + 1, 193)
    assert r.times[0] == sc.start_year and r.times[-1] == pytest.approx(sc.end_year)
    assert np.all(np.isfinite(r.alignment))
    assert np.all((r.alignment >= -1) & (r.alignment <= 1))
    assert np.all((r.structure >= 0) & (r.structure <= 1))
    assert np.all(r.structure[:, 0] + r.structure[:, 1] <= 1 + 1e-12)
    assert np.all((r.status >= 0) & (r.status < len(SCO_STATUSES)))


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_contributions_add_up_to_the_yearly_change(name, shipped_runs):
    r = shipped_runs[name]
    assert r.contributions.shape == (len(r.times), len(DRIVERS), 193)
    np.testing.assert_array_equal(r.contributions[0], 0.0)
    np.testing.assert_allclose(r.contributions[1:].sum(axis=1), np.diff(r.alignment, axis=0),
                               rtol=0, atol=1e-9)


def test_contributions_add_up_with_quarterly_steps(shipped):
    sc = shipped["hindcast_2014"].model_copy(update={"step": "quarter"})
    r = run_scenario(sc)
    np.testing.assert_allclose(r.contributions[1:].sum(axis=1), np.diff(r.alignment, axis=0),
                               rtol=0, atol=1e-9)


def test_structure_stays_valid_under_every_lever_at_full_strength():
    """Every lever at full effort and the largest allowed efficiency, on every state at once."""
    blocks = {"sco": {}, "west": {}}
    for name, lv in LEVERS.items():
        blocks[lv.bloc][name] = {"intensity": 1.0, "efficiency": 5.0, "targets": ["world"]}
    r = run_scenario(make(horizon=10, **blocks))
    assert np.all((r.alignment >= -1) & (r.alignment <= 1))
    assert np.all((r.structure >= -1e-12) & (r.structure <= 1 + 1e-12))
    # Shares of trade cannot pass 1 together (dynamics.channel_room).
    assert np.all(r.structure[:, 0] + r.structure[:, 1] <= 1 + 1e-9)


# --- seeds and steps ------------------------------------------------------------------------------

def test_same_seed_same_run_different_seed_different_run(shipped):
    sc = shipped["classroom"]
    a, b = run_scenario(sc, rng=11), run_scenario(sc, rng=11)
    c = run_scenario(sc, rng=12)
    for field in ("alignment", "structure", "status", "contributions"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.status_log == b.status_log
    assert not np.array_equal(a.alignment, c.alignment)
    # Without an explicit rng the scenario's seed decides: the run is its replication 0.
    first = replication_seeds(sc.seed, 1)[0]
    np.testing.assert_array_equal(run_scenario(sc).alignment, run_scenario(sc, rng=first).alignment)


def test_quarterly_steps(shipped):
    sc = shipped["classroom"].model_copy(update={"step": "quarter"})
    model = model_from_scenario(sc)
    r = model.run()
    assert model.k == model.steps_total == 4 * sc.horizon
    assert len(r.times) == 4 * sc.horizon + 1
    np.testing.assert_allclose(np.diff(r.times), 0.25)
    assert r.times[-1] == sc.end_year


# --- events -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["year", "quarter"])
def test_join_sco_event_makes_a_member_and_raises_security_ties(world, step):
    r = run_scenario(make(horizon=4, step=step, parameters=STILL,
                          events=[{"year": 2026, "type": "join", "org": "SCO", "status": "member",
                                   "state": "TUR"}]))
    i = world.index["TUR"]
    y0, y1 = row(r, 2025), row(r, 2026)
    assert r.status[y0, i] != MEMBER
    assert np.all(r.status[y1:, i] == MEMBER)
    assert r.structure[y1, S_SCO, i] > r.structure[y0, S_SCO, i]
    assert r.alignment[y1, i] > r.alignment[y0, i]
    assert (2026, "TUR", SCO_STATUSES[r.status[y0, i]], "member", "events") in r.status_log


@pytest.mark.parametrize("step", ["year", "quarter"])
def test_alignment_shock_moves_the_state_that_year(world, step):
    r = run_scenario(make(horizon=3, step=step, parameters=STILL,
                          events=[{"year": 2026, "type": "alignment_shock", "delta": 0.3,
                                   "state": "BRA"}]))
    i = world.index["BRA"]
    a = r.alignment[:, i]
    assert a[row(r, 2025)] == world.alignment[i]
    change = a[row(r, 2026)] - a[row(r, 2025)]
    assert change > 0.2
    if step == "year":  # the only push in that step: (1 - a) * (1 - exp(-delta))
        assert change == pytest.approx((1 - world.alignment[i]) * -np.expm1(-0.3), rel=1e-12)
        assert r.contributions[row(r, 2026), DRIVERS.index("events"), i] == pytest.approx(change)
    # Other states feel it only through their peers, and less.
    others = np.abs(r.alignment[row(r, 2026)] - r.alignment[0])
    others[i] = 0
    assert others.max() < 0.1 * change


def test_negative_alignment_shock_moves_down(world):
    r = run_scenario(make(horizon=2, parameters=STILL,
                          events=[{"year": 2025, "type": "alignment_shock", "delta": -0.3,
                                   "state": "KAZ"}]))
    i = world.index["KAZ"]
    assert r.alignment[1, i] < world.alignment[i] - 0.2


def test_government_change_sets_governance(world):
    i = world.index["EGY"]
    params = {**STILL, "governance_decay": 0.0}
    r = run_scenario(make(horizon=3, parameters=params,
                          events=[{"year": 2026, "type": "government_change", "regime": 0.8,
                                   "state": "EGY"}]))
    assert r.structure[row(r, 2025), GOV, i] == pytest.approx(world.governance[i])
    np.testing.assert_allclose(r.structure[row(r, 2026):, GOV, i], 0.8)
    # A more democratic Egypt leans West (Werner and Lemke).
    assert r.alignment[-1, i] < world.alignment[i]
    # A change of government lasts: events do not fade, whatever the fade rate of levers.
    r = run_scenario(make(horizon=3, parameters=STILL,
                          events=[{"year": 2026, "type": "government_change", "regime": 0.8,
                                   "state": "EGY"}]))
    np.testing.assert_allclose(r.structure[row(r, 2026):, GOV, i], 0.8)


def test_ties_event_sets_the_observed_levels_and_the_jump_lasts(world):
    i = world.index["KAZ"]
    ties = {"year": 2026, "type": "ties", "e_sco": 0.6, "s_west": 0.05, "state": "KAZ"}
    r = run_scenario(make(horizon=4, parameters=STILL, events=[ties]))
    plain = run_scenario(make(horizon=4, parameters=STILL))
    y = row(r, 2026)
    np.testing.assert_allclose(r.structure[y - 1], plain.structure[y - 1])  # nothing before
    np.testing.assert_allclose(r.structure[y:, E_SCO, i], 0.6)  # set, and it does not fade
    np.testing.assert_allclose(r.structure[y:, S_WEST, i], 0.05)
    np.testing.assert_allclose(r.structure[y:, E_WEST, i], plain.structure[y:, E_WEST, i])
    np.testing.assert_allclose(r.structure[y:, S_SCO, i], plain.structure[y:, S_SCO, i])
    # More trade with China+Russia, fewer Western ties: a push towards the SCO, from 'events'.
    assert r.alignment[-1, i] > plain.alignment[-1, i]
    assert r.contributions[y:, DRIVERS.index("events"), i].sum() > 0


def test_ties_event_keeps_the_trade_shares_within_one(world):
    i = world.index["TUR"]
    r = run_scenario(make(horizon=2, parameters=STILL, events=[
        {"year": 2025, "type": "ties", "e_sco": 1.0, "state": "TUR"}]))
    assert r.structure[1, E_SCO, i] == pytest.approx(1.0 - world.e_west[i])
    assert r.structure[1, E_SCO, i] + r.structure[1, E_WEST, i] <= 1.0 + 1e-12


def test_western_sanctions_lower_trade_with_the_west_while_active(world):
    i = world.index["RUS"]
    r = run_scenario(make(horizon=6, parameters=STILL,
                          events=[{"year": 2026, "type": "sanctions", "by": "west",
                                   "intensity": 0.5, "duration": 3, "state": "RUS"}]))
    e = r.structure[:, E_WEST, i]
    y = row(r, 2026)
    assert e[y - 1] == pytest.approx(world.e_west[i])
    assert e[y] < e[y - 1] and e[y + 1] < e[y] and e[y + 2] < e[y + 1]  # active 2026-2028
    assert e[y + 3] > e[y + 2]  # lifted: trade recovers
    assert r.contributions[y:, DRIVERS.index("sanctions"), i].sum() >= 0  # attributed to them
    assert r.alignment[y + 2, i] >= r.alignment[y - 1, i]  # less Western trade: no move West
    # Other states' Western trade is untouched.
    others = np.delete(r.structure[:, E_WEST], i, axis=1)
    np.testing.assert_allclose(others, np.broadcast_to(others[0], others.shape))


def test_sco_sanctions_last_their_duration(world):
    i = world.index["KAZ"]
    r = run_scenario(make(horizon=6, parameters=STILL,
                          events=[{"year": 2026, "type": "sanctions", "by": "sco",
                                   "intensity": 0.5, "duration": 2, "state": "KAZ"}]))
    e = r.structure[:, 0, i]  # trade share with China and Russia
    y = row(r, 2026)
    assert e[y] < e[y - 1] and e[y + 1] < e[y]  # active 2026-2027
    assert e[y + 2] > e[y + 1]  # lifted: recovers


def test_joining_nato_twice_changes_nothing_and_leaving_undoes(world):
    i, j = world.index["FIN"], world.index["GEO"]  # a member already, and not a member
    r = run_scenario(make(horizon=4, parameters=STILL, events=[
        {"year": 2026, "type": "join", "org": "NATO", "states": ["FIN", "GEO"]},
        {"year": 2028, "type": "leave", "org": "NATO", "state": "GEO"}]))
    s_west = r.structure[:, 3]
    np.testing.assert_allclose(s_west[:, i], world.s_west[i])
    assert s_west[row(r, 2026), j] > world.s_west[j]
    assert s_west[row(r, 2028), j] < s_west[row(r, 2027), j]


def test_membership_needs_alignment_above_the_threshold_even_without_a_wait():
    """membership_years 0 must not let states climb without standing above the next rung.

    Nothing acts and nothing moves, so no state may change status (Myanmar once climbed from
    partner to member this way with its alignment far below the member threshold).
    """
    params = {**STILL, "membership_years": 0.0, "admission_rate": 1.0}
    r = run_scenario(make(horizon=5, parameters=params))
    assert r.status_log == []
    assert np.array_equal(r.status[-1], r.status[0])


# --- Mesa idioms ----------------------------------------------------------------------------------

def test_agents_are_the_193_states(world, shipped):
    model = model_from_scenario(shipped["classroom"])
    agents = model.agents
    assert len(agents) == 193
    assert all(isinstance(ag, StateAgent) for ag in agents)
    codes = agents.get("iso3")
    assert len(set(codes)) == 193 and set(codes) == set(world.iso3)
    assert all(model.agents_by_iso[ag.iso3] is ag for ag in agents)
    members = agents.select(lambda ag: ag.sco_status == "member")
    assert {ag.iso3 for ag in members} == set(world.iso3[world.sco_status == MEMBER])


def test_agent_alignment_matches_the_array(shipped):
    model = model_from_scenario(shipped["classroom"])
    for _ in range(3):
        model.step()
    for ag in model.agents:
        assert ag.alignment == model.a[ag.index]
        assert ag.sco_status == SCO_STATUSES[model.status[ag.index]]
        assert model.world.iso3[ag.index] == ag.iso3
    np.testing.assert_array_equal(model.result().alignment[-1], model.a)


def test_model_owns_its_generator(shipped):
    sc = shipped["classroom"]
    np.random.seed(0)
    a = run_scenario(sc).alignment
    np.random.seed(1)
    b = run_scenario(sc).alignment
    np.testing.assert_array_equal(a, b)


def test_sources_and_drivers():
    assert SOURCES[:len(LEVERS)] == tuple(LEVERS)
    assert DRIVERS[-3:] == ("peer", "inertia", "shock")
    assert "events" in SOURCES and "membership" in SOURCES


# --- a stylized fact (CONVENTIONS, Mesa examples) ---------------------------------------------

CA_LEVERS_SCO = {name: {"intensity": 1.0, "targets": ["central_asia"]}
                 for name in ("trade_facilitation", "development_bank", "eurasian_railway")}
CA_LEVERS_WEST = {name: {"intensity": 1.0, "targets": ["central_asia"]}
                  for name in ("trade_agreements", "diplomatic_alliances")}


def central_asia_effect(**blocks) -> float:
    """Central Asia's mean alignment after ten years with the levers minus without (same seed).

    Paired: the shocks and random leader changes are the same in both runs, so the difference
    is the levers' effect (a trend of one noisy run would be mostly noise at the estimated
    weights).
    """
    ca = load_world("builtin", 2024).mask(["central_asia"])
    on = run_scenario(make(horizon=10, seed=5, **blocks)).alignment[-1, ca].mean()
    off = run_scenario(make(horizon=10, seed=5)).alignment[-1, ca].mean()
    return float(on - off)


def test_sco_trade_programme_pulls_central_asia_towards_the_sco():
    assert central_asia_effect(sco=CA_LEVERS_SCO) > 0


def test_western_trade_and_diplomacy_pull_central_asia_west():
    assert central_asia_effect(west=CA_LEVERS_WEST) < 0


def test_overlapping_sanctions_stay_in_bounds(world):
    """Two heavy Western sanctions at once: trade is cut towards 0, never below (no NaN)."""
    i = world.index["IRN"]
    events = [{"year": 2026, "type": "sanctions", "by": "west", "intensity": 0.9, "duration": 3,
               "state": "IRN"} for _ in range(3)]
    r = run_scenario(make(horizon=4, parameters=STILL, events=events))
    assert np.all(np.isfinite(r.alignment)) and np.all(r.structure[:, E_WEST, i] >= 0)
    assert r.structure[row(r, 2028), E_WEST, i] < 0.2 * world.e_west[i]


def test_a_status_set_by_an_event_is_not_climbed_without_crossing_again(world):
    """An event makes Egypt an observer; with nothing moving it must stay one (not climb)."""
    params = {**STILL, "admission_rate": 1.0, "membership_years": 0.0}
    r = run_scenario(make(horizon=6, parameters=params, events=[
        {"year": 2026, "type": "join", "org": "SCO", "status": "observer", "state": "EGY"}]))
    changes = [(y, iso, new) for y, iso, _, new, _ in r.status_log]
    assert changes == [(2026, "EGY", "observer")]


def test_cap_is_skipped_only_when_levers_cannot_overfill(shipped):
    assert not model_from_scenario(shipped["baseline"]).cap_needed
    blocks = {"sco": {}, "west": {}}
    for name, lv in LEVERS.items():
        blocks[lv.bloc][name] = {"intensity": 1.0, "efficiency": 5.0, "targets": ["world"]}
    # At the measured rates (model/data/lever_units.csv) every lever at full effort and the
    # largest efficiency adds at most 0.95 of the trade room a year: only sanctions need the cap.
    assert not model_from_scenario(make(horizon=2, **blocks)).cap_needed
    from model.core.derive import levers_can_overfill
    from model.core.levers import Lever

    class Bigger(Lever):
        """A lever with twice the trade rate of the largest measured one."""

        rates = {"e_sco": 0.1}

    full = np.full(3, 5.0)
    items = [(0, LEVERS[name], full) for name in LEVERS]
    assert not levers_can_overfill(items, 1.0)
    assert levers_can_overfill([*items, (0, Bigger(), full)], 1.0)
    assert not levers_can_overfill([*items, (0, Bigger(), full)], 0.25)  # a quarter's share


@pytest.mark.parametrize("name", ["sco_expansion", "hindcast_2014"])
def test_a_reset_model_runs_exactly_like_a_new_one(name, shipped):
    """Replications reuse one model (BlocModel.reset); each must equal a fresh model's run."""
    sc = shipped[name].model_copy(update={"horizon": 6 if name == "hindcast_2014" else 4})
    world = load_world("builtin", sc.start_year)
    seeds = replication_seeds(99, 3)
    model = model_from_scenario(sc, rng=np.random.default_rng(seeds[0]), world=world)
    reused = [model.run()]
    for s in seeds[1:]:
        model.reset(np.random.default_rng(s))
        reused.append(model.run())
    for seed, r in zip(seeds, reused, strict=True):
        fresh = run_scenario(sc, rng=seed, world=world)
        for field in ("alignment", "structure", "status", "contributions"):
            np.testing.assert_array_equal(getattr(r, field), getattr(fresh, field))
        assert r.status_log == fresh.status_log


_EVENT = st.one_of(
    st.builds(lambda y, d, b: {"year": y, "type": "economic_shock", "bloc": b, "delta": d,
                               "state": "KAZ"},
              st.integers(2025, 2030), st.floats(-1, 1), st.sampled_from(["sco", "west"])),
    st.builds(lambda y, x, n, b: {"year": y, "type": "sanctions", "by": b, "intensity": x,
                                  "duration": n, "state": "KAZ"},
              st.integers(2025, 2030), st.floats(0, 1), st.integers(1, 4),
              st.sampled_from(["sco", "west"])),
    st.builds(lambda y, g: {"year": y, "type": "government_change", "regime": g, "state": "KAZ"},
              st.integers(2025, 2030), st.floats(0, 1)),
    st.builds(lambda y, o, j: {"year": y, "type": j, "org": o, "state": "KAZ"},
              st.integers(2025, 2030), st.sampled_from(["NATO", "EU", "CSTO", "BRICS"]),
              st.sampled_from(["join", "leave"])),
)
_LEVER = st.tuples(st.sampled_from(sorted(LEVERS)), st.floats(0, 1), st.floats(0, 5),
                   st.integers(2025, 2030))


@settings(max_examples=40, deadline=None)
@given(events=st.lists(_EVENT, max_size=5), levers=st.lists(_LEVER, max_size=4, unique_by=lambda x: x[0]),
       step=st.sampled_from(["year", "quarter"]))
# Found in review: a lasting change made into room that a fading one had opened.
@example(events=[{"year": 2025, "type": "sanctions", "by": "west", "intensity": 0.6, "duration": 3,
                  "state": "KAZ"},
                 {"year": 2028, "type": "economic_shock", "bloc": "sco", "delta": 1.0, "state": "KAZ"}],
         levers=[], step="year")
@example(events=[{"year": 2028, "type": "government_change", "regime": 1.0, "state": "KAZ"}],
         levers=[("counter_terrorism", 1.0, 5.0, 2027)], step="quarter")
def test_structure_stays_in_bounds_under_any_mix_of_events_and_levers(events, levers, step):
    """Lasting events on top of fading levers and sanctions never push structure out of bounds."""
    blocks = {"sco": {}, "west": {}}
    for name, x, efficiency, end in levers:
        blocks[LEVERS[name].bloc][name] = {"intensity": x, "efficiency": efficiency,
                                            "targets": ["KAZ"], "end": end}
    r = run_scenario(make(horizon=8, step=step, parameters=STILL, events=events, **blocks))
    s = r.structure
    assert s.min() >= -1e-9 and s.max() <= 1 + 1e-9
    assert (s[:, 0] + s[:, 1]).max() <= 1 + 1e-9
    assert np.all(np.isfinite(r.alignment)) and np.abs(r.alignment).max() <= 1
    np.testing.assert_allclose(r.contributions.sum(axis=1)[1:], np.diff(r.alignment, axis=0),
                               atol=1e-12)


def test_skipping_the_cap_changes_nothing_when_it_cannot_bind(shipped):
    """The step skips cap_increments when levers cannot overfill; forcing it on gives the same run."""
    sc = shipped["baseline"].model_copy(update={"horizon": 4})
    fast = model_from_scenario(sc)
    assert not fast.cap_needed
    capped = model_from_scenario(sc)
    capped.cap_needed = True
    a, b = fast.run(), capped.run()
    np.testing.assert_array_equal(a.structure, b.structure)
    np.testing.assert_array_equal(a.alignment, b.alignment)


def test_a_non_finite_state_stops_the_run_naming_step_state_and_drivers(world):
    """Nothing non-finite is recorded as a result: the step where it appears raises."""
    from model.base.errors import NonFiniteError

    sc = make(horizon=4, step="quarter", west={"civil_society": {"intensity": 1.0,
                                                                  "targets": ["KAZ"]}})
    from model.config.build import model_from_scenario
    model = model_from_scenario(sc, rng=np.random.default_rng(0), world=world)
    model.step()
    model.step()
    kaz = int(np.flatnonzero(world.iso3 == "KAZ")[0])
    model.dev[SOURCES.index("civil_society"), GOV, kaz] = np.nan
    with pytest.raises(NonFiniteError) as info:
        model.step()
    msg = str(info.value)
    assert "step 3 (year 2024.75) in KAZ:" in msg
    assert "non-finite drivers: civil_society;" in msg
    assert "non-finite channels: civil_society.governance" in msg


def test_eligibility_reads_the_start_year_not_the_future():
    """A 2014 start knows the SCO statuses of 2014 only: ASEAN and North Africa stay closed.

    A shock pushes every state far towards the SCO and the SCO admits at once, so every
    eligible state climbs; none outside the start year's SCO subregions may (Brunei gained an
    SCO tie in earlier hindcasts only because eligibility was read from 2024's statuses).
    """
    sc = make(start_year=2014, horizon=6,
              parameters={"membership_years": 0.0, "admission_rate": 1.0, "shock_sd": 0.0,
                          "drift_sd": 0.0},
              events=[{"year": 2015, "type": "alignment_shock", "delta": 1.5, "states": ["world"]}])
    res = model_from_scenario(sc, rng=np.random.default_rng(1)).run()
    w = load_world(year=2014)
    gained = res.status[-1] > w.sco_status
    assert gained.any()
    assert not gained[np.isin(w.subregion, ["South-eastern Asia", "Northern Africa"])].any()
    assert not gained[~w.sco_region].any()


# --- the hazard rule of SCO status rises (docs/model.md 4.11) --------------------------------------

def test_hazard_rule_raises_every_eligible_state_one_rung_at_a_certain_chance(world):
    """A sure hazard raises every eligible state below member by one rung in the first step;
    NATO and EU members and states outside the SCO's subregions never move."""
    params = {**STILL, "membership_rule": "hazard", "rise_hazard_intercept": 20.0,
              "rise_hazard_alignment": 0.0}
    r = run_scenario(make(horizon=1, parameters=params))
    eligible = world.sco_region & ~world.nato & ~world.eu & (world.sco_status < MEMBER)
    change = r.status[-1].astype(int) - r.status[0].astype(int)
    assert (change[eligible] == 1).all() and (change[~eligible] == 0).all()
    assert {src for *_, src in r.status_log} == {"membership"}


def test_hazard_rule_with_no_chance_moves_no_one():
    params = {**STILL, "membership_rule": "hazard", "rise_hazard_intercept": -20.0}
    r = run_scenario(make(horizon=5, parameters=params))
    assert r.status_log == []


def test_hazard_rule_draws_what_the_threshold_rule_draws(world):
    """The rule reuses the step's membership draws: the alignment paths are the same under both
    rules until a status changes (common random numbers across the rules)."""
    base = {"membership_rule": "hazard", "rise_hazard_intercept": -20.0}
    a = run_scenario(make(horizon=5, seed=3, parameters=base))
    b = run_scenario(make(horizon=5, seed=3, parameters={"admission_rate": 0.0}))
    np.testing.assert_array_equal(a.alignment, b.alignment)
