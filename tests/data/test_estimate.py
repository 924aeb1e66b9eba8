"""tools/estimate.py: the panel estimator recovers what is planted, reads no year after 2014,
and the dynamics statistics compute what they say."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
try:
    import estimate
    import estimate_model
finally:
    sys.path.pop(0)



def synthetic_panel(rng: np.random.Generator, states=60, years=15, beta=0.5):
    """y = beta x + state effect + year effect + noise shared within a state (AR(1) in time)."""
    iso = np.repeat([f"S{i:02d}" for i in range(states)], years)
    year = np.tile(np.arange(2000, 2000 + years), states)
    x = rng.normal(size=states * years) + np.repeat(rng.normal(size=states), years)
    e = np.empty((states, years))
    e[:, 0] = rng.normal(size=states)
    for t in range(1, years):  # serially correlated errors: what clustering by state is for
        e[:, t] = 0.7 * e[:, t - 1] + rng.normal(size=states)
    y = (beta * x + np.repeat(rng.normal(size=states), years)
         + np.tile(rng.normal(size=years), states) + e.ravel())
    return pd.DataFrame({"iso3": iso, "year": year, "x": x, "z": rng.normal(size=x.size), "y": y})


def test_recovers_a_planted_effect_with_standard_errors_of_the_right_size():
    rng = np.random.default_rng(np.random.SeedSequence(10))
    fits = [estimate.fit_fe(synthetic_panel(rng), "y", ["x", "z"]) for _ in range(60)]
    est = np.array([f.set_index("term").loc["x", "estimate"] for f in fits])
    se = np.array([f.set_index("term").loc["x", "se"] for f in fits])
    z_est = np.array([f.set_index("term").loc["z", "estimate"] for f in fits])
    # unbiased: the mean of 60 estimates lies within 3 Monte Carlo standard errors of 0.5 ...
    assert abs(est.mean() - 0.5) < 3 * est.std(ddof=1) / np.sqrt(len(est))
    # ... and the clustered SE matches the actual spread of the estimates (same order)
    ratio = se.mean() / est.std(ddof=1)
    assert 0.7 < ratio < 1.4, ratio
    # a regressor with no effect is found near 0; intervals cover the truth about 95% of the time
    assert abs(z_est.mean()) < 3 * z_est.std(ddof=1) / np.sqrt(len(z_est))
    cover = np.mean([(f.iloc[0].ci_low <= 0.5 <= f.iloc[0].ci_high) for f in fits])
    assert cover >= 0.85
    row = fits[0].iloc[0]
    assert row.n_obs == 60 * 15 and row.n_states == 60 and row.years == "2000-2014"


def test_same_numbers_as_statsmodels_with_dummies_on_an_unbalanced_panel():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(np.random.SeedSequence(14))
    p = synthetic_panel(rng, states=25, years=8)
    p = p.drop(index=rng.choice(len(p), 30, replace=False)).reset_index(drop=True)  # unbalanced
    ours = estimate.fit_fe(p, "y", ["x", "z"]).set_index("term")
    f = p.sort_values(["iso3", "year"], ignore_index=True)
    x = pd.concat([f[["x", "z"]], pd.get_dummies(f[["iso3", "year"]].astype(str), drop_first=True,
                                                 dtype=float)], axis=1)
    x.insert(0, "const", 1.0)
    ref = sm.OLS(f["y"], x).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(f["iso3"])[0]})
    for term in ("x", "z"):
        assert ours.loc[term, "estimate"] == pytest.approx(ref.params[term], rel=1e-8)
        assert ours.loc[term, "se"] == pytest.approx(ref.bse[term], rel=1e-8)


def test_a_term_without_variation_is_not_estimated():
    rng = np.random.default_rng(np.random.SeedSequence(11))
    p = synthetic_panel(rng, states=20, years=6).assign(flat=1.0)
    fit = estimate.fit_fe(p, "y", ["x", "flat"]).set_index("term")
    assert np.isnan(fit.loc["flat", "estimate"]) and np.isfinite(fit.loc["x", "estimate"])


def small_world(states=12):
    """A small slice of the shipped panel and drivers (every year), for speed."""
    panel, drivers = estimate.read_world()
    keep = np.sort(panel["iso3"].unique())[:: max(1, 193 // states)]
    return panel[panel.iso3.isin(keep)], drivers[drivers.iso3.isin(keep)]


def test_only_years_up_to_2014_are_read(scramble_after):
    panel, drivers = small_world(24)
    fitted = estimate.estimate(panel, drivers)
    # truncated at 2014: identical
    assert fitted.equals(estimate.estimate(panel[panel.year <= 2014], drivers[drivers.year <= 2014]))
    # every later value scrambled: identical
    p2, d2 = scramble_after(2014, 12, panel, drivers)
    assert fitted.equals(estimate.estimate(p2, d2))
    assert fitted["years"].str.slice(5).astype(int).max() <= 2014
    assert list(fitted.columns) == estimate.COLUMNS


def test_windows_pair_each_change_with_the_drivers_of_the_same_years():
    panel, drivers = small_world(12)
    t = estimate.load_years(panel, drivers)
    w = estimate.windows(t, "stable", 5, "changes").set_index(["iso3", "year"])
    iso, y = w.index[0]
    row = t.set_index(["iso3", "year"])
    assert w.loc[(iso, y), "dy"] == pytest.approx(row.loc[(iso, y + 5), "alignment"]
                                                   - row.loc[(iso, y), "alignment"])
    assert w.loc[(iso, y), "regime"] == pytest.approx(row.loc[(iso, y + 5), "regime"]
                                                       - row.loc[(iso, y), "regime"])
    assert w.loc[(iso, y), "coup"] == row.loc[[(iso, y + k) for k in range(1, 6)], "coup"].sum()
    assert (w["end"] <= 2014).all()


def test_change_stats_compute_what_they_say():
    rng = np.random.default_rng(np.random.SeedSequence(13))
    # changes with known lag-1 autocorrelation: an MA(1) d_t = e_t + 0.5 e_(t-1) has rho 0.4
    e = rng.normal(scale=0.1, size=(4001, 50))
    d = e[1:] + 0.5 * e[:-1]
    paths = np.vstack([np.zeros((1, 50)), np.cumsum(d, axis=0)])
    s = estimate_model.change_stats(paths)
    assert s["ac1"] == pytest.approx(0.4, abs=0.03)
    absd = np.abs(d)
    assert s["median"] == pytest.approx(np.median(absd))
    assert s["p95"] == pytest.approx(np.quantile(absd, 0.95))
    assert s["p99"] == pytest.approx(np.quantile(absd, 0.99))
    # 10-year changes of a random walk with these steps: sd = sqrt(10 var(d) + 2*9 cov)
    expected = np.sqrt(10 * 0.01 * 1.25 + 18 * 0.01 * 0.5)
    assert s["sd10"] == pytest.approx(expected, rel=0.05)
    assert s["n_changes"] == d.size


def test_change_stats_skip_unobserved_years():
    paths = np.array([[0.0, 0.0], [0.1, np.nan], [0.3, 0.2], [0.2, 0.5]])
    s = estimate_model.change_stats(paths)
    assert s["n_changes"] == 4  # 0.1, 0.2, -0.1 and 0.3; the changes into and out of NaN dropped
    assert s["median"] == pytest.approx(0.15)


def test_trailing_mean_is_the_mean_of_the_last_three_years():
    paths = np.arange(12, dtype=float).reshape(6, 2) ** 2
    out = estimate_model.trailing_mean(paths)
    assert out.shape == (4, 2)
    assert out[0] == pytest.approx(paths[:3].mean(axis=0))
    assert out[-1] == pytest.approx(paths[-3:].mean(axis=0))


def test_event_rates_with_exact_poisson_intervals():
    d = pd.DataFrame({"year": np.repeat(np.arange(2000, 2015), 10), "iso3": "X",
                      "leader_change": 0, "coup": 0})
    d.loc[:29, "leader_change"] = 1  # 30 of 150 state-years
    r = estimate_model.event_rates(d).set_index("event")
    assert r.loc["leader_change", "rate"] == pytest.approx(0.2)
    assert r.loc["leader_change", "ci_low"] < 0.2 < r.loc["leader_change", "ci_high"]
    assert r.loc["coup", "ci_low"] == 0.0 and r.loc["coup", "ci_high"] == pytest.approx(3.689 / 150,
                                                                                         rel=1e-3)


def test_channel_change_follows_the_data_build_and_names_drivers_without_a_channel():
    from model.core.dynamics import CHANNELS

    values = np.array([[0.2, 0.1], [0.5, 0.3], [0.4, 1.0], [0.0, 0.5], [0.6, 0.9]])  # (channels, n)
    src, c, delta = estimate_model.channel_change("arms_rus", 0.1, values)
    assert (src, CHANNELS[c]) == ("events", "s_sco")
    assert delta == pytest.approx(estimate_model.ARMS_WEIGHT * (1 - values[c]) * 0.1)
    _, c, delta = estimate_model.channel_change("regime", 0.2, values)
    assert CHANNELS[c] == "governance" and delta == pytest.approx([0.2, 0.1])  # clipped to room
    src, c, delta = estimate_model.channel_change("sanctions_west", 1.0, values)
    assert src == "sanctions" and delta == pytest.approx(-0.3 * values[c])
    for term in ("leader_change", "coup", "leader_left", "cn_finance", "bri_mou", "west_aid"):
        assert estimate_model.channel_change(term, 1.0, values) is None


@pytest.mark.slow
def test_the_models_lone_response_is_zero_without_a_shift_and_westward_for_democratisation():
    plan = estimate_model.origin_plan(2009, 2)
    from model.core.dynamics import GOV

    zero = estimate_model.lone_response(plan, "events", GOV, np.zeros(plan.n))
    assert np.array_equal(zero, np.zeros(3))
    up = estimate_model.lone_response(plan, "events", GOV, np.minimum(0.1, 1 - plan.base[GOV]))
    assert up[0] == 0 and up[1] < 0 and up[2] < up[1]


def test_the_spec_comparison_ranks_by_mean_crps_and_pairs_its_bootstrap():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import compare_specs
    finally:
        sys.path.pop(0)
    rows = [{"candidate": c, "scale": s, "mode": "projection", "horizon": h, "rmse": 0.1,
             "crps": base + 0.001 * h, "cover50": 0.5, "cover90": 0.9, "n": 10}
            for c, base in (("a", 0.05), ("b", 0.04)) for s in ("x", "y") for h in (1, 3, 5, 10)]
    table = pd.DataFrame(rows)
    ranking = compare_specs.choose(table, ["a", "b"])
    assert list(ranking.index) == ["b", "a"]
    assert ranking.loc["b", "crps"] == pytest.approx(0.04 + 0.003)  # horizons 1, 3, 5 only
    per_state = {"ref": [np.array([1.0, 2.0, 3.0]), np.ones(3)],
                 "better": [np.array([0.5, 1.5, 2.5]), np.ones(3)]}
    diff = compare_specs.paired_bootstrap(per_state, "ref", n_boot=200)
    # the same resamples for both: a constant gap of 0.5 has an interval of width 0
    assert diff.loc["better", "crps_minus_reference"] == pytest.approx(-0.5)
    assert diff.loc["better", "ci_low"] == pytest.approx(-0.5)
    assert diff.loc["better", "ci_high"] == pytest.approx(-0.5)
    assert diff.loc["ref", "crps_minus_reference"] == 0


def _compare_specs():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import compare_specs
    finally:
        sys.path.pop(0)
    return compare_specs


def test_round_six_breaks_a_crps_tie_by_coverage_and_not_otherwise():
    cs = _compare_specs()
    cover = {"low": (0.40, 0.75), "tied": (0.50, 0.90), "far": (0.50, 0.90)}
    crps = {"low": 0.050, "tied": 0.0501, "far": 0.060}
    rows = [{"candidate": c, "scale": "x", "mode": "projection", "horizon": h, "rmse": 0.1,
             "crps": crps[c], "cover50": cover[c][0], "cover90": cover[c][1], "n": 3}
            for c in cover for h in (1, 3, 5)]
    states = np.array([1.0, 2.0, 3.0])
    noise = np.array([0.001, -0.001, 0.0])  # tied: the interval of its difference contains 0
    per_state = {"low": [states * 0.050, np.ones(3)],
                 "tied": [states * 0.050 + noise * states, np.ones(3)],
                 "far": [states * 0.060, np.ones(3)]}
    winner, table = cs.round6_choice(pd.DataFrame(rows), per_state, list(cover))
    assert table.index[0] == "low" and bool(table.loc["tied", "tied"])
    assert not bool(table.loc["far", "tied"])
    assert winner == "tied"  # nearer the nominal coverage, within the noise on CRPS
    per_state["tied"] = [states * 0.052, np.ones(3)]  # now clearly worse: no tie
    winner, _ = cs.round6_choice(pd.DataFrame(rows), per_state, list(cover))
    assert winner == "low"


def test_the_trailing_mean_measurement_averages_known_and_simulated_years():
    cs = _compare_specs()
    known = np.array([[0.1, -0.3], [0.2, -0.3], [0.3, -0.3]])  # t-2, t-1, t
    paths = np.array([[[0.6, -0.3], [0.9, -0.3], [1.2, -0.3]]])  # one run, t+1 .. t+3
    got = cs.measured(paths, known, "mean", [1])
    np.testing.assert_allclose(got[0, :, 0], [(0.2 + 0.3 + 0.6) / 3, (0.3 + 0.6 + 0.9) / 3,
                                              (0.6 + 0.9 + 1.2) / 3])
    np.testing.assert_allclose(got[0, :, 1], -0.3)
    noisy = cs.measured(paths, known, "noise", [1])
    assert not np.allclose(noisy, got) and np.array_equal(noisy, cs.measured(paths, known, "noise", [1]))


@pytest.mark.slow
def test_the_models_leader_change_response_is_the_effect_scaled_by_the_room():
    plan = estimate_model.origin_plan(2009, 2)
    r = estimate_model.leader_response(plan, 1.0)
    a = plan.a0
    shift = ((1 + a) * np.expm1(plan.params["leader_change_effect"])).mean()  # room-scaled, < 0
    assert r[0] == 0 and r[1] == pytest.approx(shift, rel=0.15) and r[1] < 0
    none = estimate_model.origin_plan(2009, 2, params={"leader_change_effect": 0.0})
    assert np.array_equal(estimate_model.leader_response(none, 1.0), np.zeros(3))


@pytest.mark.slow
def test_status_rises_count_the_panels_rung_increases():
    """The rises ``status_rises`` scores are the panel's own year-on-year rung increases."""
    panel = pd.read_csv(ROOT / "model" / "data" / "panel.csv", usecols=["iso3", "year", "sco_status"])
    rung = {"none": 0, "dialogue_partner": 1, "observer": 2, "member": 3}
    wide = panel.assign(r=panel.sco_status.map(rung)).pivot(index="year", columns="iso3", values="r")
    ups = int(((wide.diff() > 0) & wide.shift().notna()).loc[2002:2014].to_numpy().sum())
    r = estimate_model.status_rises().set_index("scale")
    assert r.loc["alignment", "rises"] == ups == 8  # Mongolia 2004 .. Afghanistan, Turkey 2012
    assert 0.0 <= r.loc["alignment", "auc"] <= 1.0
