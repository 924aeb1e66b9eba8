"""Scenario discovery: PRIM and CART find a box planted in synthetic data; the cases a condition is
read over (single runs, or pairs of runs) and the inputs they vary in; the discover command.

PRIM comes from EMA Workbench, whose import alone takes about 4 s: those tests are marked slow.
"""

import numpy as np
import pandas as pd
import pytest

from model.analysis.condition import parse_condition
from model.analysis.discovery import Discovery, box_rule, case_table, discover, run_cart, run_prim
from model.base.errors import ScenarioError


def planted(n: int = 2000, seed: int = 1, noise: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Inputs a, b, c uniform on [0, 1] and a scenario; the cases: a > 0.6, b < 0.3, not 'alt'."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n), "c": rng.uniform(0, 1, n),
                      "scenario": rng.choice(["base", "exp", "alt"], n)})
    y = ((x["a"] > 0.6) & (x["b"] < 0.3) & (x["scenario"] != "alt")).to_numpy()
    flip = rng.uniform(size=n) < noise
    return x, y ^ flip


@pytest.mark.slow
def test_prim_recovers_a_planted_box():
    x, y = planted()
    boxes, limits, traj = run_prim(x, y, min_density=0.8)
    first = boxes.iloc[0]
    inside = ((x["a"] > 0.6) & (x["b"] < 0.3) & (x["scenario"] != "alt")).to_numpy()
    assert first["coverage"] >= 0.9 and first["density"] >= 0.8 and first["meets_density"]
    lim = limits[limits["box"] == 1].set_index("input")
    assert set(lim.index) == {"a", "b", "scenario"}  # c, which does not matter, is left free
    assert abs(lim.loc["a", "low"] - 0.6) < 0.06 and abs(lim.loc["b", "high"] - 0.3) < 0.08
    assert lim.loc["scenario", "values"] == "base, exp"
    # coverage and density are what they say, counted on the data
    box = ((x["a"] >= lim.loc["a", "low"]) & (x["b"] <= lim.loc["b", "high"])
           & x["scenario"].isin(["base", "exp"])).to_numpy()
    assert first["coverage"] == pytest.approx((box & y).sum() / y.sum())
    assert first["density"] == pytest.approx((box & y).sum() / box.sum())
    assert inside.sum() == y.sum()
    # the trajectory trades coverage for density, and the kept step is marked once
    kept = traj[traj["box"] == 1]
    assert kept["selected"].sum() == 1
    assert kept["density"].iloc[-1] > kept["density"].iloc[0]
    assert box_rule(limits, 1).startswith("a ≥ 0.") and "scenario in {base, exp}" in box_rule(limits, 1)


@pytest.mark.slow
def test_prim_drops_a_restriction_chance_explains_and_is_reproducible():
    x, y = planted(n=1000, noise=0.05)
    first = run_prim(x, y)
    again = run_prim(x, y)
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b)
    lim = first[1][first[1]["box"] == 1]
    assert "c" not in set(lim["input"])
    assert (lim[["qp_low", "qp_high"]].min(axis=1) < 0.05).all()


def test_cart_leaves_describe_the_planted_box():
    x, y = planted()
    leaves = run_cart(x, y, mass_min=0.02)  # leaves small enough to cut the 'alt' scenario out
    best = leaves.iloc[0]
    assert best["density"] == 1.0 and best["coverage"] > 0.5
    assert "a >" in best["rule"] and "b <=" in best["rule"] and "scenario in {base, exp}" in best["rule"]
    assert leaves["coverage"].sum() == pytest.approx(1.0)  # the leaves partition the cases
    assert leaves["mass"].sum() == pytest.approx(1.0)


def outcomes_table(scenarios=("base", "exp"), strategies=("none", "boost"), points=4, reps=3):
    """A batch's outcomes: boost lowers gdp_share_sco by 0.02, except where peer_weight > 0.5."""
    rows, run = [], 0
    for sc in scenarios:
        for st in strategies:
            for p in range(points):
                w = p / max(points - 1, 1)
                for r in range(reps):
                    v = 0.3 + 0.01 * r + (0.02 if sc == "exp" else 0)
                    if st == "boost":
                        v += 0.01 if w > 0.5 else -0.02
                    rows.append({"run_id": run, "scenario": sc, "strategy": st, "point": p,
                                 "replication": r, "status": "ok", "param_peer_weight": w,
                                 "param_inertia": 0.3, "gdp_share_sco": v, "sco_members": 10.0})
                    run += 1
    return pd.DataFrame(rows)


def test_a_condition_naming_strategies_is_read_over_pairs():
    o = outcomes_table()
    o.loc[o.index[-1], "status"] = "failed"  # its pair is left out
    cond = parse_condition("boost loses to none", outcomes=["gdp_share_sco"], strategies=["boost", "none"],
                           default_outcome="gdp_share_sco")
    x, values, dropped = case_table(o, cond)
    assert len(x) == 2 * 4 * 3 - 1 and dropped == 1
    assert list(x.columns) == ["peer_weight", "scenario"]  # inertia never varies, strategy is paired
    assert set(values.columns) == {"gdp_share_sco[boost]", "gdp_share_sco[none]"}


def test_a_condition_naming_none_is_read_over_runs_with_the_strategy_an_input():
    o = outcomes_table()
    cond = parse_condition("gdp_share_sco > 31%", outcomes=["gdp_share_sco"], strategies=["boost", "none"])
    x, values, dropped = case_table(o, cond)
    assert len(x) == len(o) and dropped == 0
    assert list(x.columns) == ["peer_weight", "scenario", "strategy"]


def test_a_batch_with_nothing_varying_is_refused():
    o = outcomes_table(scenarios=("base",), points=1)
    with pytest.raises(ScenarioError, match="nothing to discover over"):
        discover(o, "boost loses to none", default_outcome="gdp_share_sco")


@pytest.mark.parametrize(("spoil", "text"), [
    (lambda o: o.assign(status="failed"), "boost loses to none"),
    (lambda o: o.assign(gdp_share_sco=np.nan), "gdp_share_sco > 30%"),
])
def test_a_batch_with_no_case_to_read_says_so(spoil, text):
    """Every run failed, or none has the outcome: that, not 'the batch sweeps no parameter'."""
    o = spoil(outcomes_table())
    with pytest.raises(ScenarioError, match="no case to read the condition on") as err:
        discover(o, text, default_outcome="gdp_share_sco")
    assert f"of {len(o)} runs" in str(err.value) and "sweeps no parameter" not in str(err.value)


def test_a_condition_that_never_holds_says_so_without_boxes():
    d = discover(outcomes_table(), "gdp_share_sco > 90%")
    assert isinstance(d, Discovery) and d.k == 0 and "none of the" in d.note
    assert d.boxes.empty and d.cart.empty


@pytest.mark.slow
def test_discover_finds_where_the_strategy_loses():
    o = outcomes_table(points=8, reps=4)
    loose = discover(o, "boost loses to none", default_outcome="gdp_share_sco", min_density=0.8)
    assert loose.boxes.iloc[0]["density"] == pytest.approx(0.8)  # the least peeled box that is dense enough
    d = discover(o, "boost loses to none", default_outcome="gdp_share_sco", min_density=0.95)
    assert d.paired and d.phrase == "boost loses to none on the SCO GDP share"
    assert d.base_rate == pytest.approx(0.5)
    first = d.boxes.iloc[0]
    assert first["coverage"] == 1.0 and first["density"] == 1.0
    assert box_rule(d.limits, 1).startswith("peer_weight ≥ 0.5")
