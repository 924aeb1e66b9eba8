"""Comparing strategies: statistics on hand-made batches whose answers are known, the sensitivity
methods on functions whose answers are known, the plots' data helpers, and the report (one
self-contained HTML file, tables as CSV and Markdown, byte-identical when written again).

The batches are synthetic folders written by ``make_batch_dir`` with the schema of
``run.batch`` (manifest.json, outcomes/states/blocs as Parquet parts), so these tests do not
run the model and take a few seconds.
"""

import argparse
import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from model.analysis import labels, results, sensitivity, stats
from model.apps import compare_command
from model.apps.cli import build_parser
from model.base.errors import ScenarioError
from model.core.outcomes import OUTCOMES
from model.report import compare_plots
from model.report import html as report_html

matplotlib.use("Agg")

STATES = ("AAA", "BBB", "CCC", "DDD")
YEARS = (2024, 2025, 2026)


# --- synthetic batches ----------------------------------------------------------------------------

def base_values(rep: int) -> dict[str, float]:
    """Every outcome of ``OUTCOMES`` for replication ``rep``: plausible numbers that vary by
    replication (the common random numbers every strategy shares)."""
    rng = np.random.default_rng(1000 + rep)
    west = 0.55 + 0.05 * rng.random()
    sco = 0.30 + 0.05 * rng.random()
    v = {"gdp_share_west": west, "gdp_share_sco": sco, "gdp_share_nonaligned": 1 - west - sco,
         "pop_share_west": 0.2, "pop_share_sco": 0.5, "pop_share_nonaligned": 0.3,
         "states_west": 60.0, "states_sco": 50.0, "states_nonaligned": 83.0,
         "sco_members": 10.0 + rep % 3, "sco_any_status": 30.0, "mean_alignment": -0.05,
         "gdp_weighted_alignment": -0.25, "swing_mean_alignment": 0.15 + 0.01 * rng.random()}
    assert set(v) == set(OUTCOMES)
    return v


def make_outcomes(strategies=("none", "boost"), scenarios=("base",), reps=6, *, effect=None,
                  points=None, failed=()) -> pd.DataFrame:
    """An outcomes table with the batch schema.

    Args:
        effect: ``effect(scenario, strategy, point, rep, values) -> dict`` of outcome values to
            set; by default every strategy gets ``base_values(rep)``.
        points: list of {param: value} dicts (a sweep); one empty point without.
        failed: (scenario, strategy, point, rep) tuples recorded as failed runs.
    """
    points = points or [{}]
    params = sorted({p for pt in points for p in pt})
    rows, run_id = [], 0
    for sc in scenarios:
        for st in strategies:
            for pi, pt in enumerate(points):
                for rep in range(reps):
                    v = base_values(rep)
                    if effect is not None:
                        v.update(effect(sc, st, pi, rep, v))
                    bad = (sc, st, pi, rep) in failed
                    row = {"run_id": run_id, "scenario": sc, "strategy": st, "point": pi, "replication": rep,
                           "seed": 2**63 + rep, "status": "failed" if bad else "ok",
                           "error": "RuntimeError: boom" if bad else None}
                    row.update({f"param_{p}": float(pt[p]) for p in params})
                    row.update({n: (np.nan if bad else float(v[n])) for n in OUTCOMES})
                    rows.append(row)
                    run_id += 1
    df = pd.DataFrame(rows)
    return df.astype({"run_id": "int64", "point": "int32", "replication": "int32", "seed": "uint64",
                      "scenario": str, "strategy": str, "status": str})


def make_states(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per successful run and state. AAA ends in the West under every strategy but
    'none' (where it ends non-aligned); BBB is always SCO; CCC always West; DDD non-aligned in
    even replications, West in odd ones."""
    rows = []
    for r in outcomes[outcomes["status"] == "ok"].itertuples(index=False):
        camps = {"AAA": "nonaligned" if r.strategy == "none" else "west", "BBB": "sco", "CCC": "west",
                 "DDD": "nonaligned" if r.replication % 2 == 0 else "west"}
        for iso in STATES:
            end = {"west": -0.5, "sco": 0.5, "nonaligned": 0.0}[camps[iso]]
            rows.append({"run_id": r.run_id, "iso3": iso, "start_alignment": 0.0, "end_alignment": end,
                         "end_camp": camps[iso], "end_sco_status": "member" if iso == "BBB" else "none",
                         "year_first_sco": 2025.0 if iso == "BBB" else np.nan,
                         "year_first_west": 2025.0 if camps[iso] == "west" else np.nan})
    return pd.DataFrame(rows).astype({"run_id": "int64", "iso3": str, "end_camp": str, "end_sco_status": str})


def make_blocs(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per successful run and year, each share moving linearly from a common start to the
    run's outcome at the horizon."""
    rows = []
    start = {"gdp_share_west": 0.55, "gdp_share_sco": 0.30, "gdp_share_nonaligned": 0.15}
    for r in outcomes[outcomes["status"] == "ok"].itertuples(index=False):
        for i, year in enumerate(YEARS):
            f = i / (len(YEARS) - 1)
            row = {"run_id": r.run_id, "year": year}
            for m, s in start.items():
                row[m] = s + f * (getattr(r, m) - s)
            row.update({"pop_share_sco": 0.5, "pop_share_nonaligned": 0.3, "pop_share_west": 0.2,
                        "states_sco": 50, "states_nonaligned": 83, "states_west": 60,
                        "sco_members": 10, "mean_alignment": -0.05})
            rows.append(row)
    df = pd.DataFrame(rows)
    return df.astype({"run_id": "int64", "year": "int16", "states_sco": "int16", "states_nonaligned": "int16",
                      "states_west": "int16", "sco_members": "int16"})


def make_batch_dir(tmp_path: Path, outcomes: pd.DataFrame | None = None, *, name: str = "batch",
                   parts: int = 2, **manifest) -> Path:
    """A batch folder in ``tmp_path / name``: manifest.json and each table split into ``parts``
    Parquet parts (by run, in order), as ``run.batch`` writes them."""
    outcomes = make_outcomes() if outcomes is None else outcomes
    folder = tmp_path / name
    params = [c.removeprefix("param_") for c in outcomes.columns if c.startswith("param_")]
    doc = {"experiment": name, "description": "", "root_seed": 42, "reference": "none",
           "primary": "gdp_share_west", "outcomes": ["gdp_share_west", "gdp_share_sco", "sco_members"],
           "swept_parameters": params, "design": "factorial" if params else "none",
           "sweep_ranges": {p: [float(outcomes[f"param_{p}"].min()), float(outcomes[f"param_{p}"].max())]
                            for p in params},
           "morris_levels": 4, "runs": len(outcomes), "package": "blocsim", "version": "0.1.0",
           "seed_rule": "SeedSequence(root_seed).spawn(replications)"}
    doc.update(manifest)
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(doc, indent=2))
    chunks = np.array_split(outcomes["run_id"].to_numpy(), parts)
    tables = {"outcomes": outcomes, "states": make_states(outcomes), "blocs": make_blocs(outcomes)}
    for table, df in tables.items():
        (folder / table).mkdir()
        for i, ids in enumerate(chunks):
            df[df["run_id"].isin(ids)].to_parquet(folder / table / f"part-{i:06d}.parquet", index=False)
    return folder


def shift(strategy: str, name: str, amount: float):
    """An effect: ``strategy`` gets ``amount`` added to ``name`` in every replication."""
    def effect(sc, st, point, rep, v):
        return {name: v[name] + amount} if st == strategy else {}
    return effect


# --- loading --------------------------------------------------------------------------------------

def test_load_batch_concatenates_parts_sorted_by_run(tmp_path):
    folder = make_batch_dir(tmp_path, make_outcomes(reps=5), parts=3)
    batch = results.load_batch(folder)
    assert list(batch.outcomes["run_id"]) == list(range(10))
    assert len(batch.states) == 10 * len(STATES) and len(batch.blocs) == 10 * len(YEARS)
    assert batch.states["run_id"].is_monotonic_increasing
    assert batch.manifest["reference"] == "none" and len(batch.manifest_sha256) == 64


def test_load_batch_missing_folder_or_parts_is_a_user_error(tmp_path):
    with pytest.raises(ScenarioError, match="batch folder not found"):
        results.load_batch(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScenarioError, match="no manifest.json"):
        results.load_batch(tmp_path / "empty")
    (tmp_path / "empty" / "manifest.json").write_text("{}")
    with pytest.raises(ScenarioError, match="no finished runs"):
        results.load_batch(tmp_path / "empty")


def test_load_batch_rejects_a_run_recorded_twice(tmp_path):
    folder = make_batch_dir(tmp_path, make_outcomes(reps=2), parts=1)
    df = pd.read_parquet(folder / "outcomes" / "part-000000.parquet")
    df.head(1).to_parquet(folder / "outcomes" / "part-000001.parquet", index=False)
    with pytest.raises(ScenarioError, match="recorded twice"):
        results.load_batch(folder)


# --- statistics with known answers ----------------------------------------------------------------

def test_exact_shift_gives_that_difference_with_a_degenerate_interval():
    o = make_outcomes(effect=shift("boost", "gdp_share_west", 0.02))
    d = stats.paired_differences(o, ["gdp_share_west", "gdp_share_sco"], "none")
    row = d[d["outcome"] == "gdp_share_west"].iloc[0]
    assert row["strategy"] == "boost" and row["n_pairs"] == 6
    assert row["mean_diff"] == pytest.approx(0.02, abs=1e-12)
    assert row["ci_low"] == pytest.approx(0.02, abs=1e-12)
    assert row["ci_high"] == pytest.approx(0.02, abs=1e-12)
    assert row["better"] == "yes"
    untouched = d[d["outcome"] == "gdp_share_sco"].iloc[0]
    assert untouched["mean_diff"] == 0 and untouched["better"] == "no"


def test_better_follows_the_outcome_direction():
    up_sco = make_outcomes(effect=shift("boost", "gdp_share_sco", 0.02))  # more SCO GDP is worse
    d = stats.paired_differences(up_sco, ["gdp_share_sco"], "none").iloc[0]
    assert d["better"] == "worse"
    down_sco = make_outcomes(effect=shift("boost", "gdp_share_sco", -0.02))
    assert stats.paired_differences(down_sco, ["gdp_share_sco"], "none").iloc[0]["better"] == "yes"
    info = make_outcomes(effect=shift("boost", "gdp_share_nonaligned", 0.02))
    assert stats.paired_differences(info, ["gdp_share_nonaligned"], "none").iloc[0]["better"] == "n/a"


def test_prob_best_of_a_shift_is_one_for_a_maximised_outcome_and_zero_for_a_minimised_one():
    o = make_outcomes(effect=lambda sc, st, p, r, v: (
        {"gdp_share_west": v["gdp_share_west"] + 0.02, "gdp_share_sco": v["gdp_share_sco"] + 0.02}
        if st == "boost" else {}))
    pb = stats.prob_best(o, "gdp_share_west").set_index("strategy")["p_best"]
    assert pb["boost"] == 1 and pb["none"] == 0
    pb = stats.prob_best(o, "gdp_share_sco").set_index("strategy")["p_best"]
    assert pb["boost"] == 0 and pb["none"] == 1


def test_ties_share_the_credit():
    o = make_outcomes(strategies=("none", "boost"))  # identical values: a tie in every replication
    pb = stats.prob_best(o, "gdp_share_west").set_index("strategy")["p_best"]
    assert pb["none"] == pytest.approx(0.5) and pb["boost"] == pytest.approx(0.5)
    three = make_outcomes(strategies=("none", "a", "b"), effect=lambda sc, st, p, r, v: (
        {"gdp_share_west": v["gdp_share_west"] - 0.1} if st == "none" else {}))
    pb = stats.prob_best(three, "gdp_share_west").set_index("strategy")["p_best"]
    assert pb.to_dict() == pytest.approx({"a": 0.5, "b": 0.5, "none": 0.0})
    assert stats.prob_best(three, "gdp_share_west")["p_best"].sum() == pytest.approx(1)


#: Means of a 2 x 2 table: strategy -> (scenario s1, scenario s2).
TWO_BY_TWO = {"x": (0.60, 0.50), "y": (0.55, 0.54)}


def two_by_two(name: str) -> pd.DataFrame:
    def effect(sc, st, p, rep, v):
        mean = TWO_BY_TWO[st][0 if sc == "s1" else 1]
        return {name: mean + (0.01 if rep % 2 else -0.01)}  # spread around the mean, same for both
    return make_outcomes(strategies=("x", "y"), scenarios=("s1", "s2"), reps=4, effect=effect)


def test_robustness_on_a_two_by_two_table_maximised():
    rob = stats.robustness(two_by_two("gdp_share_west"), "gdp_share_west").set_index("strategy")
    # best: x in s1 (0.60), y in s2 (0.54); regrets x: (0, 0.04), y: (0.05, 0)
    assert rob.loc["x", "max_regret"] == pytest.approx(0.04) and rob.loc["x", "regret_scenario"] == "s2"
    assert rob.loc["y", "max_regret"] == pytest.approx(0.05) and rob.loc["y", "regret_scenario"] == "s1"
    assert rob["worst_case"].to_dict() == pytest.approx({"x": 0.50, "y": 0.54})
    assert rob.loc["x", "mean_s1"] == pytest.approx(0.60)
    assert rob.loc["x", "rank"] == 1 and rob.loc["y", "rank"] == 2  # minimax regret, not maximin


def test_robustness_on_a_two_by_two_table_minimised():
    rob = stats.robustness(two_by_two("gdp_share_sco"), "gdp_share_sco").set_index("strategy")
    # less is better: best y in s1 (0.55), x in s2 (0.50); regrets x: (0.05, 0), y: (0, 0.04)
    assert rob.loc["x", "max_regret"] == pytest.approx(0.05)
    assert rob.loc["y", "max_regret"] == pytest.approx(0.04)
    assert rob["worst_case"].to_dict() == pytest.approx({"x": 0.60, "y": 0.55})
    assert rob.loc["y", "rank"] == 1


def test_equal_regret_is_broken_by_the_worst_case():
    table = {"x": (0.60, 0.50), "y": (0.56, 0.54), "z": (0.60, 0.52)}  # regrets 0.04, 0.04, 0.02

    def effect(sc, st, p, rep, v):
        return {"gdp_share_west": table[st][0 if sc == "s1" else 1]}
    o = make_outcomes(strategies=tuple(table), scenarios=("s1", "s2"), reps=2, effect=effect)
    rob = stats.robustness(o, "gdp_share_west").set_index("strategy")
    assert rob["rank"].to_dict() == {"z": 1, "y": 2, "x": 3}


def test_failed_runs_are_left_out_and_pairing_drops_the_unmatched_replication():
    o = make_outcomes(effect=shift("boost", "gdp_share_west", 0.02), failed=[("base", "boost", 0, 2)])
    d = stats.paired_differences(o, ["gdp_share_west"], "none").iloc[0]
    assert d["n_pairs"] == 5 and d["mean_diff"] == pytest.approx(0.02)
    s = stats.summary(o, ["gdp_share_west"]).set_index("strategy")
    assert s.loc["boost", "n"] == 5 and s.loc["none", "n"] == 6
    expected = np.mean([base_values(r)["gdp_share_west"] for r in range(6)])
    assert s.loc["none", "mean"] == pytest.approx(expected)
    pb = stats.prob_best(o, "gdp_share_west")
    assert set(pb["n"]) == {5} and pb.set_index("strategy").loc["boost", "p_best"] == 1


def test_summary_gives_the_spread_across_replications():
    o = make_outcomes(reps=21)
    s = stats.summary(o, ["gdp_share_west"]).iloc[0]
    values = np.array([base_values(r)["gdp_share_west"] for r in range(21)])
    assert s["n"] == 21 and s["median"] == pytest.approx(np.median(values))
    assert s["p5"] == pytest.approx(np.quantile(values, 0.05))
    assert s["sd"] == pytest.approx(values.std(ddof=1))
    assert list(stats.summary(o, ["sco_members", "gdp_share_west"])["outcome"][:2]) == [
        "sco_members", "gdp_share_west"]


def noisy(seed: int, reps: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.01, 0.02, reps)
    return make_outcomes(reps=reps, effect=lambda sc, st, p, rep, v: (
        {"gdp_share_west": v["gdp_share_west"] + noise[rep]} if st == "boost" else {}))


def test_bootstrap_is_deterministic_with_a_seed():
    o = noisy(3, 30)
    a = stats.paired_differences(o, ["gdp_share_west"], "none", seed=7)
    b = stats.paired_differences(o, ["gdp_share_west"], "none", seed=7)
    c = stats.paired_differences(o, ["gdp_share_west"], "none", seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert a.iloc[0]["ci_low"] != c.iloc[0]["ci_low"]
    assert a.iloc[0]["ci_low"] < a.iloc[0]["mean_diff"] < a.iloc[0]["ci_high"]


def test_bootstrap_interval_matches_the_normal_one_for_many_pairs():
    o = noisy(5, 400)
    d = stats.paired_differences(o, ["gdp_share_west"], "none").iloc[0]
    diffs = o[o["strategy"] == "boost"]["gdp_share_west"].to_numpy() - o[o["strategy"] == "none"][
        "gdp_share_west"].to_numpy()
    half = 1.96 * diffs.std(ddof=1) / np.sqrt(len(diffs))
    assert (d["ci_high"] - d["ci_low"]) / 2 == pytest.approx(half, rel=0.15)


def test_unknown_reference_or_undirected_primary_is_a_user_error():
    o = make_outcomes()
    with pytest.raises(ScenarioError, match="unknown reference strategy 'nope'; known: boost, none"):
        stats.paired_differences(o, ["gdp_share_west"], "nope")
    with pytest.raises(ScenarioError, match="has no better direction"):
        stats.prob_best(o, "gdp_share_nonaligned")
    with pytest.raises(ScenarioError, match="unknown outcome 'gdp'"):
        stats.summary(o, ["gdp"])


def test_ranking_verdict_reads_the_numbers():
    o = make_outcomes(effect=shift("boost", "gdp_share_west", 0.02))
    r = stats.ranking(o, "gdp_share_west", "none", n_boot=200).set_index("strategy")
    assert r.loc["boost", "rank"] == 1 and r.loc["none", "rank"] == 2
    assert r.loc["boost", "p_best"] == 1 and r.loc["boost", "max_regret"] == 0
    assert r.loc["boost", "verdict"] == ("best in the scenario; +2.0 pp West GDP share vs none "
                                         "(95% CI +2.0 to +2.0: better); no regret")
    assert r.loc["none", "verdict"] == "reference; not best in the scenario; max regret 2.0 pp"
    two = make_outcomes(scenarios=("s1", "s2"), effect=shift("boost", "gdp_share_west", 0.02))
    r = stats.ranking(two, "gdp_share_west", "none", n_boot=200).set_index("strategy")
    v = r.loc["boost", "verdict"]
    assert v.startswith("best in 2 of 2 scenarios; +2.0 pp West GDP share vs none (mean over scenarios")
    assert "better in 2 of 2 scenarios (95% interval clear of zero)" in v


def test_formatting_of_differences():
    assert labels.format_diff("gdp_share_west", 0.018) == "+1.8 pp"
    assert labels.format_diff("gdp_share_west", 0.0012) == "+0.12 pp"
    assert labels.format_diff("gdp_share_west", 0.0) == "0.0 pp"
    assert labels.format_diff("sco_members", -2.0) == "−2.0 states"
    assert labels.format_diff("mean_alignment", -0.0123) == "−0.012"
    assert labels.format_ci("gdp_share_west", 0.0007, 0.0002, 0.0013) == ("+0.07 pp", "+0.02 to +0.13")
    assert labels.format_value("gdp_share_west", 0.6071) == "60.71%"


def test_end_camp_probabilities_count_camps_per_strategy():
    o = make_outcomes(reps=4, failed=[("base", "boost", 0, 1)])
    p = stats.end_camp_probabilities(make_states(o), o).set_index(["strategy", "iso3"])
    assert p.loc[("none", "AAA"), ["p_sco", "p_nonaligned", "p_west"]].tolist() == [0, 1, 0]
    assert p.loc[("boost", "AAA"), "p_west"] == 1 and p.loc[("boost", "AAA"), "n"] == 3
    assert p.loc[("none", "DDD"), "p_west"] == pytest.approx(0.5)
    assert p.loc[("boost", "DDD"), "p_west"] == pytest.approx(1 / 3)  # reps 0, 2, 3 succeeded
    assert np.allclose(p[["p_sco", "p_nonaligned", "p_west"]].sum(axis=1), 1)


# --- sensitivity on functions with known answers --------------------------------------------------

def sweep_outcomes(x: np.ndarray, names: list[str], f, reps: int = 2) -> pd.DataFrame:
    """One strategy run at each row of ``x`` (a sweep point), ``gdp_share_west = f(row)``."""
    points = [dict(zip(names, row, strict=True)) for row in x]
    return make_outcomes(strategies=("none",), reps=reps, points=points,
                         effect=lambda sc, st, p, rep, v: {"gdp_share_west": f(x[p])})


def test_morris_ranks_the_parameter_of_a_linear_function_first():
    from SALib.sample import morris

    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 2.0], [10.0, 20.0]]}
    x = morris.sample(problem, 10, num_levels=4, seed=3)
    o = sweep_outcomes(x, ["x1", "x2"], lambda row: 3 * row[0])
    manifest = {"design": "morris", "swept_parameters": ["x1", "x2"], "morris_levels": 4,
                "sweep_ranges": {"x1": [0.0, 2.0], "x2": [10.0, 20.0]}}
    s = sensitivity.sensitivity(o, manifest, "gdp_share_west")
    mu = s[s["index"] == "mu_star"].set_index("parameter")
    assert mu.loc["x1", "value"] == pytest.approx(3 * 2.0) and mu.loc["x2", "value"] == pytest.approx(0)
    assert mu.loc["x1", "rank"] == 1 and mu.loc["x1", "n"] == 10
    assert set(s["index"]) == {"mu_star", "sigma", "mu"}


def test_morris_leaves_out_a_trajectory_whose_point_failed():
    from SALib.sample import morris

    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    x = morris.sample(problem, 5, num_levels=4, seed=1)
    o = sweep_outcomes(x, ["x1", "x2"], lambda row: row[0] - 2 * row[1], reps=1)
    o.loc[o["point"] == 4, "status"] = "failed"  # point 4 is in the second trajectory (points 3-5)
    manifest = {"design": "morris", "swept_parameters": ["x1", "x2"], "morris_levels": 4,
                "sweep_ranges": {"x1": [0, 1], "x2": [0, 1]}}
    mu = (sensitivity.sensitivity(o, manifest, "gdp_share_west").query("index == 'mu_star'")
          .set_index("parameter"))
    assert mu.loc["x2", "value"] == pytest.approx(2) and mu.loc["x2", "rank"] == 1 and mu.loc["x1", "n"] == 4


def test_sobol_gives_all_the_variance_to_the_only_parameter_that_matters():
    from SALib.sample import sobol

    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    x = sobol.sample(problem, 64, calc_second_order=False, seed=2)
    o = sweep_outcomes(x, ["x1", "x2"], lambda row: 3 * row[0], reps=1)
    manifest = {"design": "sobol", "swept_parameters": ["x1", "x2"],
                "sweep_ranges": {"x1": [0, 1], "x2": [0, 1]}}
    s = sensitivity.sensitivity(o, manifest, "gdp_share_west")
    st = s[s["index"] == "ST"].set_index("parameter")
    assert st.loc["x1", "value"] == pytest.approx(1, abs=0.15) and st.loc["x2", "value"] == pytest.approx(0)
    assert st.loc["x1", "rank"] == 1


def test_factorial_sweep_gives_regression_coefficients_and_a_response_table():
    grid = np.array([(a, b) for a in (0.0, 0.5, 1.0) for b in (1.0, 2.0, 3.0)])
    o = sweep_outcomes(grid, ["a", "b"], lambda row: 0.5 + 0.1 * row[0] - 0.01 * row[1])
    manifest = {"design": "factorial", "swept_parameters": ["a", "b"]}
    s = sensitivity.sensitivity(o, manifest, "gdp_share_west")
    src = s[s["index"] == "src"].set_index("parameter")
    assert src.loc["a", "value"] > 0 > src.loc["b", "value"] and src.loc["a", "rank"] == 1
    assert s.query("index == 'r2'")["value"].iloc[0] == pytest.approx(1)
    resp = sensitivity.response_table(o, ["a", "b"], "gdp_share_west").set_index(["parameter", "bin"])
    assert resp.loc[("a", "1"), "mean"] == pytest.approx(0.5 + 0.1 - 0.02) and resp.loc[("a", "1"), "n"] == 6


def test_latin_hypercube_sweep_is_binned_into_intervals_of_equal_counts():
    x = np.column_stack([np.linspace(0, 1, 30), np.random.default_rng(0).permutation(np.linspace(0, 1, 30))])
    o = sweep_outcomes(x, ["a", "b"], lambda row: 0.5 + 0.1 * row[0], reps=1)
    s = sensitivity.sensitivity(o, {"design": "lhs", "swept_parameters": ["a", "b"]}, "gdp_share_west")
    src = s[s["index"] == "src"].set_index("parameter")["value"]
    assert src["a"] == pytest.approx(1) and src["b"] == pytest.approx(0, abs=1e-9)
    resp = sensitivity.response_table(o, ["a"], "gdp_share_west", bins=5)
    assert len(resp) == 5 and set(resp["n"]) == {6} and resp["mean"].is_monotonic_increasing


def test_no_sweep_means_no_sensitivity():
    s = sensitivity.sensitivity(make_outcomes(), {"design": "none"}, "gdp_share_west")
    assert s.empty and list(s.columns) == sensitivity.SENSITIVITY_COLUMNS


# --- plots: data helpers and figures ----------------------------------------------------------------

def test_strategy_colours_are_fixed_by_name_with_the_reference_grey():
    c = compare_plots.strategy_colours(["b", "none", "a"], "none")
    assert list(c) == ["none", "a", "b"] and c["none"] == compare_plots.REFERENCE_COLOUR
    assert c["a"] == compare_plots.STRATEGY_PALETTE[0] and c["b"] == compare_plots.STRATEGY_PALETTE[1]
    assert compare_plots.strategy_colours(["a", "b", "none"], "none") == c
    assert not {"#c0392b", "#2166ac"} & set(compare_plots.STRATEGY_PALETTE)  # the camps' red and blue


def test_fan_table_gives_quantiles_per_strategy_and_year():
    o = make_outcomes(reps=5, effect=shift("boost", "gdp_share_west", 0.02))
    blocs = make_blocs(o)
    t = compare_plots.fan_table(blocs, o, "gdp_share_west")
    first = t[t["year"] == 2024]
    assert set(first["median"]) == {0.55} and set(first["n"]) == {5}
    last = t[(t["year"] == 2026)].set_index("strategy")
    assert last.loc["boost", "median"] - last.loc["none", "median"] == pytest.approx(0.02)
    rel = compare_plots.fan_table(blocs, o, "gdp_share_west", reference="none", relative=True)
    assert set(rel["strategy"]) == {"boost"}
    assert rel.set_index("year").loc[2026, ["p5", "median", "p95"]].tolist() == pytest.approx([0.02] * 3)


def test_camp_heatmap_table_keeps_the_states_where_strategies_differ():
    o = make_outcomes(reps=4)
    probs = stats.end_camp_probabilities(make_states(o), o)
    t = compare_plots.camp_heatmap_table(probs, camp="west", reference="none")
    assert list(t.index) == ["AAA"] and list(t.columns) == ["none", "boost", "spread"]
    assert t.loc["AAA", "spread"] == 1


def test_forest_table_leaves_a_heading_row_between_scenarios():
    o = make_outcomes(strategies=("none", "a", "b"), scenarios=("s1", "s2"))
    d = stats.paired_differences(o, ["gdp_share_west"], "none", n_boot=50)
    assert compare_plots.forest_table(d, "gdp_share_west")["y"].tolist() == [1, 2, 4, 5]
    one = stats.paired_differences(make_outcomes(strategies=("none", "a", "b")), ["gdp_share_west"], "none",
                                     n_boot=50)
    assert compare_plots.forest_table(one, "gdp_share_west")["y"].tolist() == [0, 1]


def _titled(fig) -> str:
    texts = [ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text() if fig._suptitle else ""]
    texts += [t.get_text() for ax in fig.axes for t in ax.texts]
    return " ".join(texts)


def test_every_plot_returns_a_labelled_figure_and_accepts_ax():
    o = make_outcomes(strategies=("none", "a", "b"), scenarios=("s1", "s2"), reps=4,
                      effect=shift("a", "gdp_share_west", 0.01))
    blocs, probs = make_blocs(o), stats.end_camp_probabilities(make_states(o), o)
    diffs = stats.paired_differences(o, ["gdp_share_west", "sco_members"], "none", n_boot=50)
    figs = {
        "fan": compare_plots.plot_fan(blocs, o, reference="none"),
        "fan_grid": compare_plots.plot_fan_grid(blocs, o, reference="none", relative=True),
        "dist": compare_plots.plot_outcome_distributions(o, "gdp_share_west", reference="none"),
        "heat": compare_plots.plot_camp_heatmap(probs, reference="none"),
        "forest": compare_plots.plot_paired_differences(diffs, "gdp_share_west"),
        "forest_grid": compare_plots.plot_paired_differences_grid(diffs, ["gdp_share_west", "sco_members"]),
    }
    for name, fig in figs.items():
        assert isinstance(fig, Figure), name
        assert _titled(fig).strip(), name
        assert any(ax.get_xlabel() for ax in fig.axes), name
        assert compare_plots.png_bytes(fig).startswith(b"\x89PNG"), name
    assert "West GDP share" in _titled(figs["fan"]) and "% of" not in figs["fan"].axes[0].get_ylabel()
    ax = Figure().add_subplot()
    assert compare_plots.plot_outcome_distributions(o, "gdp_share_west", ax=ax) is ax.figure
    assert compare_plots.png_bytes(figs["dist"]) == compare_plots.png_bytes(
        compare_plots.plot_outcome_distributions(o, "gdp_share_west", reference="none"))


def test_sensitivity_and_response_plots():
    grid = np.array([(a, b) for a in (0.0, 0.5, 1.0) for b in (1.0, 2.0)])
    o = sweep_outcomes(grid, ["a", "b"], lambda row: 0.5 + 0.1 * row[0] - 0.01 * row[1])
    s = sensitivity.sensitivity(o, {"design": "factorial", "swept_parameters": ["a", "b"]}, "gdp_share_west")
    main, bars = compare_plots.sensitivity_bars(s)
    assert main == "src" and list(bars["parameter"]) == ["a", "b"]
    for fig in (compare_plots.plot_sensitivity(s, reference="none"),
                compare_plots.plot_response(o, "a", "gdp_share_west", reference="none"),
                compare_plots.plot_response_grid(o, ["a", "b"], "gdp_share_west", reference="none")):
        assert isinstance(fig, Figure) and _titled(fig).strip()


# --- the report ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report_batch(tmp_path_factory):
    o = make_outcomes(strategies=("none", "alliances", "trade"), scenarios=("baseline", "expansion"), reps=8,
                      effect=shift("alliances", "gdp_share_west", 0.01),
                      failed=[("expansion", "trade", 0, 3)])
    folder = make_batch_dir(tmp_path_factory.mktemp("report"), o,
                            description="Which strategy keeps the most GDP?")
    report_html.write_report(folder)
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_write_report_writes_one_self_contained_html_and_the_tables(report_batch):
    out = report_batch / "report"
    text = (out / "report.html").read_text(encoding="utf-8")
    for heading in ("Question", "Design", "Ranking", "Paired differences", "Probability of being best",
                    "Robustness", "Summaries", "Plots", "Failures", "Provenance"):
        assert f"<h2>{heading}" in text, heading
    assert text.index("<h2>Ranking") < text.index("<h2>Paired differences")
    assert "Which strategy keeps the most GDP?" in text and "best in 2 of 2 scenarios" in text
    assert text.count("data:image/png;base64,") == len(list((out / "plots").glob("*.png"))) >= 5
    assert "1 of 48 runs failed" in text and "RuntimeError: boom" in text
    assert "<link" not in text and "<script" not in text and 'src="http' not in text
    for table in ("ranking", "paired_differences", "summary", "prob_best", "robustness"):
        assert (out / f"{table}.csv").is_file() and (out / f"{table}.md").read_text().startswith("| ")
    assert not (out / "sensitivity.csv").exists()
    ranking = pd.read_csv(out / "ranking.csv")
    assert ranking.iloc[0]["strategy"] == "alliances" and ranking.iloc[0]["rank"] == 1
    assert not list(out.rglob("*.tmp"))


def test_write_report_is_byte_identical_when_written_again(report_batch, tmp_path):
    path = report_html.write_report(report_batch, tmp_path / "again")
    assert path == tmp_path / "again" / "report.html"
    one, two = _files(report_batch / "report"), _files(tmp_path / "again")
    assert list(one) == list(two) and "report.html" in one
    for name in one:
        assert one[name] == two[name], name


def test_report_of_a_sweep_has_a_sensitivity_section(tmp_path):
    grid = [{"peer_weight": a} for a in (0.1, 0.2, 0.3)]
    o = make_outcomes(points=grid, reps=3, effect=lambda sc, st, p, rep, v: {
        "gdp_share_west": 0.5 + 0.1 * grid[p]["peer_weight"] + (0.01 if st == "boost" else 0)})
    folder = make_batch_dir(tmp_path, o)
    text = report_html.write_report(folder).read_text(encoding="utf-8")
    assert "<h2>Sensitivity to the swept parameters" in text and "peer_weight" in text
    sens = pd.read_csv(folder / "report" / "sensitivity.csv")
    assert set(sens["strategy"]) == {"none", "boost"} and (folder / "report" / "response.md").is_file()


def test_compare_command_prints_the_ranking_and_checks_names(report_batch, tmp_path, capsys):
    def parse(argv):  # the real command line's parser, sub-command 'compare'
        return build_parser().parse_args(["compare", *argv])

    args = parse([str(report_batch), "--out", str(tmp_path / "r"), "--reference", "trade"])
    assert compare_command.run_compare_command(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Bottom line.** ") and f"Report: {tmp_path / 'r' / 'report.html'}" in out
    assert "\n| rank | strategy |" in out
    assert "vs trade" in out and "--reference trade" in (tmp_path / "r" / "report.html").read_text()
    bad = parse([str(report_batch), "--reference", "nope", "--quiet"])
    known = "known: alliances, none, trade"
    with pytest.raises(ScenarioError, match=f"unknown reference strategy 'nope'; {known}"):
        compare_command.run_compare_command(bad)
    bad = parse([str(report_batch), "--primary", "gdp"])
    with pytest.raises(ScenarioError, match="unknown outcome 'gdp'; known: gdp_share_west"):
        compare_command.run_compare_command(bad)


def test_compare_command_quiet_prints_nothing(tmp_path, capsys):
    folder = make_batch_dir(tmp_path, make_outcomes(reps=3))
    args = argparse.Namespace(batch_dir=folder, out=None, reference=None, primary=None, quiet=True)
    assert compare_command.run_compare_command(args) == 0 and capsys.readouterr().out == ""
    assert (folder / "report" / "report.html").is_file()


def test_cli_turns_a_missing_batch_into_exit_status_2(tmp_path, capsys):
    from model.apps.cli import main

    assert main(["compare", str(tmp_path / "missing")]) == 2
    assert "batch folder not found" in capsys.readouterr().err


def test_prob_best_separates_ties_from_sole_wins():
    o = make_outcomes(effect=shift("boost", "gdp_share_west", 0.0))  # every replication ties
    pb = stats.prob_best(o, "gdp_share_west").set_index("strategy")
    assert (pb["p_all_tied"] == 1).all() and (pb["p_sole_best"] == 0).all()
    assert pb["p_best"].sum() == pytest.approx(1.0)
    o = make_outcomes(effect=shift("boost", "gdp_share_west", 0.02))
    pb = stats.prob_best(o, "gdp_share_west").set_index("strategy")
    assert pb.loc["boost", "p_sole_best"] == 1 and (pb["p_all_tied"] == 0).all()
