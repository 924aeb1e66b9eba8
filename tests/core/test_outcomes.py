"""Outcomes of a run (``model.outcomes``): values computed by hand on a tiny run, directions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.core.dynamics import SCO_STATUSES
from model.core.outcomes import (
    INFO,
    MAXIMIZE,
    MINIMIZE,
    OUTCOMES,
    better_sign,
    first_year_in_camp,
    run_outcomes,
)
from model.core.simulation import RunResult
from model.run.tables import CAMPS

THRESHOLD = 0.25
NONE, PARTNER, OBSERVER, MEMBER = (SCO_STATUSES.index(s) for s in
                                   ("none", "dialogue_partner", "observer", "member"))


@pytest.fixture
def run() -> RunResult:
    """Four states over three years (camps by |a| > 0.25: + is SCO, - is West).

    state  2024   2025   2026   camp at the end
    AAA     0.0    0.3    0.4   SCO         (crosses into the SCO camp in 2025)
    BBB     0.5    0.5   -0.3   West        (starts in the SCO camp, crosses to the West in 2026)
    CCC    -0.5   -0.1   -0.2   non-aligned (starts in the West camp, leaves it)
    DDD     0.1    0.1    0.3   SCO         (crosses into the SCO camp in 2026)
    """
    alignment = np.array([[0.0, 0.5, -0.5, 0.1],
                          [0.3, 0.5, -0.1, 0.1],
                          [0.4, -0.3, -0.2, 0.3]])
    status = np.array([[NONE, OBSERVER, NONE, NONE],
                       [PARTNER, OBSERVER, NONE, NONE],
                       [MEMBER, NONE, OBSERVER, MEMBER]])
    T, n = alignment.shape
    return RunResult(times=np.array([2024.0, 2025.0, 2026.0]), iso3=np.array(["AAA", "BBB", "CCC", "DDD"]),
                     alignment=alignment, structure=np.zeros((T, 5, n)), status=status,
                     contributions=np.zeros((T, 3, n)), gdp_usd=np.array([1.0, 2.0, 3.0, 4.0]),
                     population=np.array([50.0, 20.0, 20.0, 10.0]), status_log=[])


def test_run_outcomes_by_hand(run):
    swing = np.array([True, False, True, False])
    out = run_outcomes(run, THRESHOLD, swing)
    assert set(out) == set(OUTCOMES)
    expected = {
        # GDP shares 0.1, 0.2, 0.3, 0.4; population shares 0.5, 0.2, 0.2, 0.1
        "gdp_share_sco": 0.1 + 0.4, "gdp_share_west": 0.2, "gdp_share_nonaligned": 0.3,
        "pop_share_sco": 0.5 + 0.1, "pop_share_west": 0.2, "pop_share_nonaligned": 0.2,
        "states_sco": 2, "states_west": 1, "states_nonaligned": 1,
        "sco_members": 2, "sco_any_status": 3,
        "mean_alignment": (0.4 - 0.3 - 0.2 + 0.3) / 4,
        "gdp_weighted_alignment": 0.1 * 0.4 + 0.2 * -0.3 + 0.3 * -0.2 + 0.4 * 0.3,
        "swing_mean_alignment": (0.4 - 0.2) / 2,
    }
    for name, value in expected.items():
        assert out[name] == pytest.approx(value, abs=1e-12), name
        assert isinstance(out[name], float), name
    # the camps partition the world
    assert sum(out[f"gdp_share_{c}"] for c in CAMPS) == pytest.approx(1.0)
    assert sum(out[f"pop_share_{c}"] for c in CAMPS) == pytest.approx(1.0)
    assert sum(out[f"states_{c}"] for c in CAMPS) == 4


def test_run_outcomes_uses_last_time_and_threshold(run):
    swing = np.ones(4, dtype=bool)
    # a threshold above every |alignment| puts everyone in the non-aligned camp
    out = run_outcomes(run, 0.45, swing)
    assert out["states_nonaligned"] == 4 and out["gdp_share_nonaligned"] == pytest.approx(1.0)
    # only the last row matters
    run.alignment[:-1] = 0.9
    again = run_outcomes(run, THRESHOLD, swing)
    assert again["states_sco"] == 2 and again["mean_alignment"] == pytest.approx(0.05)
    assert again["swing_mean_alignment"] == pytest.approx(0.05)


def test_swing_mean_is_nan_without_swing_states(run):
    out = run_outcomes(run, THRESHOLD, np.zeros(4, dtype=bool))
    assert math.isnan(out["swing_mean_alignment"])
    assert not math.isnan(out["mean_alignment"])


def test_first_year_in_camp(run):
    sco = first_year_in_camp(run, THRESHOLD, CAMPS.index("sco"))
    # AAA crosses in 2025; BBB starts in the camp; CCC never; DDD crosses in 2026
    np.testing.assert_array_equal(sco, [2025.0, np.nan, np.nan, 2026.0])
    west = first_year_in_camp(run, THRESHOLD, CAMPS.index("west"))
    # BBB crosses in 2026; CCC started there (NaN even though it was there); others never
    np.testing.assert_array_equal(west, [np.nan, 2026.0, np.nan, np.nan])
    nonaligned = first_year_in_camp(run, THRESHOLD, CAMPS.index("nonaligned"))
    # AAA and DDD start non-aligned; BBB never is; CCC becomes non-aligned in 2025
    np.testing.assert_array_equal(nonaligned, [np.nan, np.nan, 2025.0, np.nan])


def test_first_year_in_camp_quarterly_times():
    times = np.array([2024.0, 2024.25, 2024.5, 2024.75])
    a = np.array([[0.0, 0.0], [0.1, 0.0], [0.3, 0.0], [0.1, 0.0]])
    r = RunResult(times=times, iso3=np.array(["A", "B"]), alignment=a, structure=np.zeros((4, 5, 2)),
                  status=np.zeros((4, 2), dtype=int), contributions=np.zeros((4, 3, 2)),
                  gdp_usd=np.ones(2), population=np.ones(2), status_log=[])
    # the first crossing counts, even if the state leaves the camp again
    np.testing.assert_array_equal(first_year_in_camp(r, THRESHOLD, CAMPS.index("sco")), [2024.5, np.nan])


def test_every_outcome_has_a_direction_and_sign():
    assert len(OUTCOMES) >= 14
    signs = {MAXIMIZE: 1.0, MINIMIZE: -1.0, INFO: 0.0}
    for name, o in OUTCOMES.items():
        assert o.name == name
        assert o.direction in {"max", "min", "info"}, name
        assert o.description, name
        assert better_sign(name) == signs[o.direction], name
    # from the West's point of view
    assert better_sign("gdp_share_west") == 1.0
    assert better_sign("gdp_share_sco") == -1.0
    assert better_sign("sco_members") == -1.0
    assert better_sign("mean_alignment") == -1.0  # -1 is West
    assert better_sign("gdp_share_nonaligned") == 0.0
    with pytest.raises(KeyError):
        better_sign("no_such_outcome")
