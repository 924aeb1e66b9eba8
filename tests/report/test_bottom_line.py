"""The bottom line is written from the comparison's tables: it names the winner the tables name,
with their numbers, changes when they change, adds the cost when the ranking has one, and flags
outcomes that never vary and intervals that print as one number. Plus the command line around it:
``compare`` prints it first and writes it into the report; ``discover`` refuses a bad condition
with one line and exit status 2."""

import json

import numpy as np
import pandas as pd
import pytest

from model.analysis.costs import cost_effect, cost_table
from model.analysis.discovery import Discovery
from model.analysis.labels import format_diff
from model.analysis.results import Batch
from model.apps.cli import main
from model.core.outcomes import OUTCOMES
from model.report.bottom_line import bottom_line, bottom_line_markdown, opening, table_notes
from model.report.tables import compare_tables


def outcomes(effects: dict[str, float], scenarios=("base", "exp"), reps=20, members=None) -> pd.DataFrame:
    """Every outcome for each strategy; ``effects`` shifts gdp_share_sco (noise shared by the pair,
    plus a little of each run's own); swing_mean_alignment moves by exactly 10 x the effect."""
    rows, run = [], 0
    for s, sc in enumerate(scenarios):
        for st, eff in effects.items():
            for r in range(reps):
                rng = np.random.default_rng([r, s])
                own = np.random.default_rng([r, s, len(st)]).normal(0, 0.001)
                v = {n: 0.2 for n in OUTCOMES}
                v["gdp_share_sco"] = 0.3 + 0.02 * rng.random() + eff + own
                v["gdp_share_west"] = 0.6 - 0.02 * rng.random()
                v["swing_mean_alignment"] = 0.15 + 0.05 * rng.random() + 10 * eff
                v["sco_members"] = float(members[sc] if members else 10.0)
                rows.append({"run_id": run, "scenario": sc, "strategy": st, "point": 0, "replication": r,
                             "status": "ok", **v})
                run += 1
    return pd.DataFrame(rows)


def tables(o: pd.DataFrame, **manifest):
    doc = {"reference": "none", "primary": "gdp_share_sco",
           "outcomes": ["gdp_share_sco", "gdp_share_west", "sco_members", "swing_mean_alignment"]}
    doc.update(manifest)
    batch = Batch(o, pd.DataFrame(columns=["run_id", "iso3", "end_alignment", "end_camp"]),
                  pd.DataFrame(columns=["run_id", "year"]), doc)
    return compare_tables(batch, n_boot=300)


def test_the_bottom_line_names_the_winner_of_the_tables_with_their_numbers():
    o = outcomes({"none": 0.0, "alpha": -0.02, "beta": -0.01})
    t = tables(o)
    sentences, notes, _ = opening(o, t, year=2035, n_boot=300)
    text = " ".join(sentences)
    assert 2 <= len(sentences) <= 3
    assert text.startswith("Of the 3 strategies, alpha does best on the SCO GDP share by 2035")
    assert "lowers it by 2.0 pp against none" in text or "lowers it by 2.0 to 2.0 pp" not in text
    assert "runner-up, beta, is 1.0 pp" in text
    p_best = t.ranking.set_index("strategy").loc["alpha", "p_best"]
    assert f"alpha did best in {p_best:.0%} of the paired replications" in text
    assert "It is best in every scenario (base and exp)." in text


def test_swapping_the_winner_in_the_tables_swaps_the_bottom_line():
    t = tables(outcomes({"none": 0.0, "alpha": -0.02, "beta": -0.01}))
    before = " ".join(bottom_line(t))
    t.ranking = t.ranking.assign(rank=t.ranking["rank"].map({1: 2, 2: 1}).fillna(t.ranking["rank"]))
    after = " ".join(bottom_line(t))
    assert "alpha does best" in before and "beta does best" in after
    assert "The runner-up is alpha" in after  # no paired lead was given: no interval is made up
    # a new batch with the effects swapped gives the swapped numbers too
    t2 = tables(outcomes({"none": 0.0, "alpha": -0.01, "beta": -0.03}))
    assert "beta does best" in " ".join(bottom_line(t2)) and "3.0 pp" in " ".join(bottom_line(t2))


def test_a_winner_that_is_not_best_everywhere_and_a_tie_with_the_runner_up_are_said():
    rows = outcomes({"none": 0.0, "alpha": -0.02, "beta": -0.0199})
    flip = (rows["scenario"] == "exp") & (rows["strategy"] == "beta")
    rows.loc[flip, "gdp_share_sco"] -= 0.0005
    t = tables(rows)
    sentences, _, _ = opening(rows, t, n_boot=300)
    text = " ".join(sentences)
    assert "not clear of the noise" in text and "treat the two as tied" in text
    assert "It is not best everywhere: in exp, beta does better by" in text


def test_no_strategy_beating_the_reference_is_said_plainly():
    t = tables(outcomes({"none": 0.0, "alpha": 0.01}))
    assert bottom_line(t)[0].startswith("Of the 2 strategies, none beats none")


def costed(t, per_year: dict[str, float], years: int = 10, scenarios=("base", "exp")):
    """The cost-effect table of ``t`` for strategies costing ``per_year`` US$ bn a year."""
    rows = [{"scenario": sc, "strategy": st, "cost_bn_per_year": c, "cost_bn_total": c * years}
            for sc in scenarios for st, c in per_year.items()]
    return cost_effect(t.paired_differences, cost_table({"costs": rows}), t.primary, t.reference)


def test_recorded_costs_add_the_cost_the_effect_per_billion_and_the_frontier():
    o = outcomes({"none": 0.0, "alpha": -0.02, "beta": -0.01})
    t = tables(o)
    assert "US$" not in " ".join(bottom_line(t))
    assert any("Costs are not compared" in n for n in table_notes(t))
    costs = costed(t, {"none": 0.0, "alpha": 8.0, "beta": 2.0})
    text = bottom_line(t, costs=costs)
    per = costs.set_index("strategy").loc["alpha", "effect_per_bn"].abs().mean()
    assert f"at a cost of US$ 8.0 bn a year ({format_diff(t.primary, per, signed=False)} per US$ bn " \
           f"spent over the horizon)" in text[0]
    assert per == pytest.approx(0.02 / 80, rel=0.05)
    assert text[1].startswith("It is also on the cost-effect frontier: no strategy that costs as "
                              "little does as well in any scenario")
    # beta, a quarter of alpha's cost for half its effect, does more per US$ bn: said
    cheap = bottom_line(t, costs=costed(t, {"none": 0.0, "alpha": 8.0, "beta": 2.0}))[1]
    per_bn = costs.groupby("strategy")["effect_per_bn"].mean().abs()
    assert cheap.endswith(f"; but for each US$ bn, beta does more "
                          f"({format_diff(t.primary, per_bn['beta'], signed=False)} against "
                          f"{format_diff(t.primary, per_bn['alpha'], signed=False)}).")
    notes = table_notes(t, costs)
    assert not any("Costs are not compared" in n for n in notes)
    assert any("do not cost the same (US$ 2.0 to 8.0 bn a year" in n for n in notes)
    # beta cheaper and better (the ranking forced to alpha first): alpha is off the frontier,
    # and the sentence says why
    t2 = tables(outcomes({"none": 0.0, "alpha": -0.02, "beta": -0.03}))
    t2.ranking = t2.ranking.assign(rank=t2.ranking["strategy"].map({"alpha": 1, "beta": 2, "none": 3}))
    off = bottom_line(t2, costs=costed(t2, {"none": 0.0, "alpha": 8.0, "beta": 6.0}))[1]
    assert off == ("It is not on the cost-effect frontier: in base and exp, beta (US$ 6.0 bn a "
                   "year) costs no more and does at least as well.")
    # equal costs: no note on unequal money, nothing does more per US$ bn
    even = costed(t, {"none": 0.0, "alpha": 5.0, "beta": 5.0})
    assert bottom_line(t, costs=even)[1] == ("It is also on the cost-effect frontier: no strategy "
                                             "that costs as little does as well in any scenario.")
    assert not any("do not cost the same" in n
                   for n in table_notes(t, costed(t, {"none": 0.0, "alpha": 5.0, "beta": 5.0})))


def test_outcomes_that_never_vary_are_flagged():
    t = tables(outcomes({"none": 0.0, "alpha": -0.02}))
    notes = table_notes(t)
    assert any(n.startswith("SCO full members never varies: 10.0 in every run") for n in notes)
    t = tables(outcomes({"none": 0.0, "alpha": -0.02}, members={"base": 10, "exp": 11}))
    notes = table_notes(t)
    assert any("never varies with the strategy or the replication (10.0 in base, 11.0 in exp)" in n
               for n in notes)
    assert not any("never varies" in n and "GDP" in n for n in notes)


def test_intervals_that_print_as_one_number_are_explained():
    t = tables(outcomes({"none": 0.0, "alpha": -0.02}))
    notes = [n for n in table_notes(t) if n.startswith("Some 95% intervals print as one number")]
    assert len(notes) == 1 and "swing states' alignment (2 of 2" in notes[0]
    assert "common random numbers" in notes[0]
    assert "SCO GDP share (" not in notes[0]  # its intervals have width


def test_a_discovery_adds_where_the_condition_concentrates():
    t = tables(outcomes({"none": 0.0, "alpha": -0.02, "beta": -0.01}))
    d = Discovery("winner loses to beta", True, ["alpha", "beta"], 200, 40, ["peer_weight"],
                  phrase="alpha loses to beta on the SCO GDP share")
    d.boxes = pd.DataFrame([{"box": 1, "step": 3, "coverage": 0.9, "density": 0.75, "mass": 0.24,
                             "n": 48, "k": 36, "res_dim": 1, "meets_density": False}])
    d.limits = pd.DataFrame([{"box": 1, "input": "peer_weight", "kind": "range", "low": 0.3, "high": 0.4,
                              "values": "", "data_low": 0.05, "data_high": 0.4, "qp_low": 1e-9,
                              "qp_high": np.nan}])
    third = bottom_line(t, discovery=d)[-1]
    assert third == ("In 20% of the paired runs, alpha loses to beta on the SCO GDP share; 90% of those "
                     "cases lie where peer_weight ≥ 0.3, and there it happens in 75% of the cases "
                     "(PRIM, see Scenario discovery).")
    # no box, and nothing but the scenario varies: the sentence says so and what to do
    bare = Discovery("winner loses to beta", True, ["alpha", "beta"], 200, 40, ["scenario"],
                     phrase="alpha loses to beta on the SCO GDP share")
    assert bottom_line(t, discovery=bare)[-1] == (
        "In 20% of the paired runs, alpha loses to beta on the SCO GDP share: no scenario stands "
        "out (PRIM finds no box that chance would not explain), and the batch varies nothing "
        "else; sweep parameters to look further.")
    bare.inputs = ["scenario", "peer_weight"]
    assert "no region of the inputs stands out" in bottom_line(t, discovery=bare)[-1]
    md = bottom_line_markdown(bottom_line(t, discovery=d), ["a note"])
    assert md.startswith("**Bottom line.** Of the 3") and md.endswith("- a note\n")


@pytest.fixture
def batch_dir(tmp_path):
    o = outcomes({"none": 0.0, "alpha": -0.02, "beta": -0.01}, reps=6)
    folder = tmp_path / "batch"
    for name in ("outcomes", "states", "blocs"):
        (folder / name).mkdir(parents=True)
    o.to_parquet(folder / "outcomes" / "part-000000.parquet", index=False)
    doc = {"experiment": "t", "reference": "none", "primary": "gdp_share_sco", "design": "none",
           "outcomes": ["gdp_share_sco", "sco_members"], "runs": len(o)}
    (folder / "manifest.json").write_text(json.dumps(doc))
    return folder


def test_compare_prints_the_bottom_line_first_and_writes_it_into_the_report(batch_dir, capsys):
    assert main(["compare", str(batch_dir), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Bottom line.** Of the 3 strategies, alpha does best")
    page = (batch_dir / "report" / "report.html").read_text()
    assert page.index("Bottom line.") < page.index("<h2>Question</h2>")
    assert (batch_dir / "report" / "bottom_line.md").read_text() in out
    # a batch written before costs were recorded: no cost in the bottom line, a note says why
    assert "US$" not in out.split("\n")[0]
    assert "- Costs are not compared: this batch recorded none (it predates costs)." in out
    assert not (batch_dir / "report" / "cost_effect.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["--when", "alpha loses to"], "--when: expected a strategy at the end"),
    (["--when", "gdp_share_sco > 30"], "write 30%"),
    (["--when", "alpha loses to none", "--primary", "nope"], "unknown outcome 'nope'"),
    (["--when", "alpha loses to none", "--reference", "nope"], "unknown reference strategy 'nope'"),
])
def test_discover_refuses_bad_input_with_one_line_and_status_2(batch_dir, tmp_path, capsys, args, message):
    out = tmp_path / "disc"
    assert main(["discover", str(batch_dir), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("blocsim: error: ")
    assert not out.exists()


@pytest.mark.slow
def test_compare_when_adds_discovery_to_the_report_and_the_bottom_line(tmp_path, capsys):
    """A sweep where alpha loses to beta exactly where peer_weight > 0.5: the report finds it."""
    rows, run = [], 0
    for sc in ("base", "exp"):
        for st, eff in (("none", 0.0), ("alpha", -0.02), ("beta", -0.01)):
            for p in range(6):
                w = p / 5
                for r in range(4):
                    v = {n: 0.2 for n in OUTCOMES}
                    v["gdp_share_sco"] = 0.3 + 0.001 * r + (eff if not (st == "alpha" and w > 0.5) else 0.0)
                    rows.append({"run_id": run, "scenario": sc, "strategy": st, "point": p,
                                 "replication": r, "status": "ok", "param_peer_weight": w, **v})
                    run += 1
    o = pd.DataFrame(rows)
    folder = tmp_path / "sweep"
    for name in ("outcomes", "states", "blocs"):
        (folder / name).mkdir(parents=True)
    o.to_parquet(folder / "outcomes" / "part-000000.parquet", index=False)
    doc = {"experiment": "s", "reference": "none", "primary": "gdp_share_sco", "design": "factorial",
           "swept_parameters": ["peer_weight"], "sweep_ranges": {"peer_weight": [0.0, 1.0]},
           "outcomes": ["gdp_share_sco"], "runs": len(o)}
    (folder / "manifest.json").write_text(json.dumps(doc))
    assert main(["compare", str(folder), "--when", "alpha loses to beta", "--min-density", "0.95"]) == 0
    out = capsys.readouterr().out
    assert "it lowers it by 1.0 pp against none in each of the 2 scenarios" in out
    assert "In 50% of the paired runs, alpha loses to beta on the SCO GDP share; 100% of those cases lie " \
           "where peer_weight ≥ 0.5, and there it happens in 100% of the cases" in out
    report = folder / "report"
    page = (report / "report.html").read_text()
    assert "<h2>Scenario discovery</h2>" in page
    assert "--when &#x27;alpha loses to beta&#x27; --min-density 0.95" in page
    boxes = pd.read_csv(report / "discovery_boxes.csv")
    assert boxes.loc[0, ["coverage", "density"]].tolist() == [1.0, 1.0]
    assert (report / "plots" / "discovery_trajectory.png").stat().st_size > 10_000
    assert (report / "plots" / "discovery_box_1.png").is_file()
    # the same command again gives the same files, byte for byte
    before = {f.name: f.read_bytes() for f in report.glob("*.*")}
    assert main(["compare", str(folder), "--when", "alpha loses to beta", "--min-density", "0.95"]) == 0
    assert {f.name: f.read_bytes() for f in report.glob("*.*")} == before
