"""``blocsim search`` on the model: reproducible files, resumption, strategy files that run.

Small searches on the classroom scenario (horizon 3, 3 replications, 16 candidates): a second
of runs each.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model.apps.cli import main
from model.config.scenario import load_strategy
from model.report.search_plots import search_png
from model.search.evaluate import Evaluator
from model.search.service import execute_search, prepare

from .conftest import SCEN, write_spec


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("search")
    spec = write_spec(tmp, spend="up_to", compare=[str(SCEN / "strategies" / "diplomatic_alliances.yaml")])
    out = execute_search(spec, out=tmp / "a", plotter=search_png)
    return spec, out


def test_the_same_spec_gives_the_same_files(searched, tmp_path):
    spec, first = searched
    again = execute_search(spec, out=tmp_path / "b", plotter=search_png)
    a, b = files(first.out_dir), files(again.out_dir)
    assert a.keys() == b.keys() and a == b
    assert {"journal.jsonl", "candidates.csv", "pareto.csv", "pareto.png", "report.md",
            "experiment.yaml", "search.json", "comparison.csv"} <= set(a)


def test_a_resumed_search_ends_as_an_uninterrupted_one(searched, tmp_path):
    spec, full = searched
    out = tmp_path / "resumed"
    execute_search(spec, out=out, trials=6, plotter=search_png)  # stopped after 6 (and inside a batch of 4)
    journal = out / "journal.jsonl"
    raw = journal.read_bytes()
    journal.write_bytes(raw[:-7])  # killed while writing the last line
    again = execute_search(spec, out=out, plotter=search_png)
    assert again.run.from_journal == 5 and again.run.scored_now <= 11
    assert files(out) == files(full.out_dir)


def test_a_written_strategy_gives_the_searched_outcome(searched):
    spec, out = searched
    _, problem, _, _, _ = prepare(spec)
    cand = out.tables.candidates
    best = int(cand.loc[cand["rank"] == 1, "trial"].iloc[0])
    strategy = load_strategy(out.out_dir / "strategies" / "t_best1.yaml")
    values = Evaluator(problem)(strategy)
    assert np.array_equal(values, out.run.trials[best].values)
    assert cand.loc[cand["rank"] == 1, "mean"].iloc[0] == pytest.approx(values.mean(), rel=1e-12)


def test_written_strategy_files_validate_and_carry_their_cost(searched, capsys):
    _, out = searched
    paths = sorted((out.out_dir / "strategies").glob("*.yaml"))
    assert len(paths) >= 2
    assert main(["validate", *map(str, paths)]) == 0
    assert "US$ bn a year" in paths[0].read_text().splitlines()[0]


def test_costs_of_candidates_stay_within_the_budget(searched):
    spec, out = searched
    cand = out.tables.candidates
    assert (cand["cost_bn_per_year"] <= 4.0 * (1 + 1e-5)).all()
    money = cand.filter(like="bn_").drop(columns=[], errors="ignore")
    pairs = money[[c for c in money if "@" in c]].sum(axis=1)
    assert np.allclose(pairs, cand["cost_bn_per_year"], rtol=1e-5)


def test_the_front_is_not_dominated(searched):
    _, out = searched
    c = out.tables.candidates
    front = c[c["pareto"]]
    assert len(front) >= 1
    for _, r in front.iterrows():  # mean_alignment: less is better; cost: less is better
        better = ((c["mean"] <= r["mean"]) & (c["cost_bn_per_year"] <= r["cost_bn_per_year"])
                  & (c["worst"] <= r["worst"]) & ((c["mean"] < r["mean"])
                  | (c["cost_bn_per_year"] < r["cost_bn_per_year"]) | (c["worst"] < r["worst"])))
        assert not better.any()


def test_the_comparison_runs_hand_written_strategies_at_the_best_cost(searched):
    _, out = searched
    comp = out.tables.comparison
    assert len(comp) == 2
    assert comp["cost_bn_per_year"].iloc[1] == pytest.approx(comp["scaled_to_bn_per_year"].iloc[0])


@pytest.mark.parametrize("fields,message", [
    ({"levers": ["diplomatic_aliances"]}, "did you mean 'diplomatic_alliances'"),
    ({"targets": ["central_asia", "KAZ"]}, "already in an earlier target group"),
    ({"targets": ["atlantis"]}, "unknown state code or group 'atlantis'"),
    ({"outcome": "gdp_share_nonaligned"}, "no better direction"),
    ({"robustness": "best"}, "robustness"),
    ({"budget": -1}, "budget"),
    ({"budget": 5000, "targets": ["TUR"]}, "schema's limit"),
    ({"compare": ["nowhere.yaml"]}, "strategy file not found"),
    ({"compare": ["/dev/null"]}, "not a regular file (a device); give a strategy file: /dev/null"),
    ({"scenarios": ["/dev/zero"]}, "not a regular file (a device); give a scenario file: /dev/zero"),
    ({"scenarios": [str(SCEN)]}, "not a regular file (a folder); give a scenario file"),
    ({"scenarios": ["nowhere.yaml"]}, "scenario file not found: nowhere.yaml"),
    ({"scenarios": [str(SCEN / "classroom.yaml"), str(SCEN / "hindcast_2014.yaml")], "horizon": 10},
     "hindcast_2014.yaml simulates 2015-2024 but"),
    ({"scenarios": [str(SCEN / "classroom.yaml"), str(SCEN / "baseline.yaml")], "horizon": None},
     "baseline.yaml simulates 2025-2035 but"),
])
def test_a_bad_spec_is_one_line_and_exit_2(tmp_path, capsys, fields, message):
    spec = write_spec(tmp_path, **fields)
    assert main(["search", str(spec), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("blocsim: error:") and message in err
    assert str(spec) in err
    assert not (tmp_path / "o").exists()


def test_a_journal_of_another_search_or_a_foreign_folder_is_refused(searched, tmp_path, capsys):
    spec, out = searched
    other = write_spec(tmp_path, seed=6)
    assert main(["search", str(other), "--out", str(out.out_dir), "-q"]) == 2
    assert "journal of another search" in capsys.readouterr().err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    assert main(["search", str(other), "--out", str(tmp_path / "mine"), "-q"]) == 2
    assert "not a blocsim search's" in capsys.readouterr().err


def test_a_rerun_removes_only_its_own_strategy_files_never_a_users(searched, tmp_path, capsys):
    import shutil

    spec, out = searched
    folder = tmp_path / "again"
    shutil.copytree(out.out_dir, folder)
    strategies = folder / "strategies"
    mine = strategies / "my_variant.yaml"
    mine.write_text("name: my_variant\nwest: {}\n")
    listed = json.loads((folder / "search.json").read_text())["files"]
    assert "strategies/t_best2.yaml" in listed and "strategies/my_variant.yaml" not in listed
    fewer = write_spec(tmp_path, "fewer.yaml", spend="up_to", best=1,
                       compare=[str(SCEN / "strategies" / "diplomatic_alliances.yaml")])
    again = execute_search(fewer, out=folder, plotter=search_png)
    assert again.run.scored_now == 0  # the journal holds every candidate
    assert mine.read_text() == "name: my_variant\nwest: {}\n"  # the user's file is untouched
    assert not (strategies / "t_best2.yaml").exists()  # the search's own extra is gone
    assert (strategies / "t_best1.yaml").is_file()
    assert "strategies/t_best2.yaml" not in json.loads((folder / "search.json").read_text())["files"]
    # a user's file under a name the search writes is refused, and nothing is written
    (strategies / "t_best2.yaml").write_text("mine")
    before = files(folder)
    assert main(["search", str(spec), "--out", str(folder), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "t_best2.yaml is not a file this search wrote" in err
    assert files(folder) == before


@pytest.mark.slow
def test_workers_change_nothing_and_the_experiment_reproduces_the_search(searched, tmp_path):
    spec, out = searched
    two = execute_search(spec, out=tmp_path / "w2", workers=2, plotter=search_png)
    assert files(two.out_dir) == files(out.out_dir)
    from model.analysis.results import load_batch
    assert main(["batch", str(out.out_dir / "experiment.yaml"), "--out", str(tmp_path / "batch"),
                 "--workers", "1", "-q"]) == 0
    runs = load_batch(tmp_path / "batch").outcomes
    best = runs[runs["strategy"] == "t_best1"].sort_values(["scenario", "replication"])
    cand = out.tables.candidates
    trial = int(cand.loc[cand["rank"] == 1, "trial"].iloc[0])
    assert np.array_equal(best["mean_alignment"].to_numpy(), out.run.trials[trial].values.ravel())
    manifest = json.loads((out.out_dir / "search.json").read_text())
    assert manifest["best"][0] == "t_best1"


def test_the_shipped_spec_reads_and_its_candidates_are_strategies():
    from model.search.space import corners, to_strategy

    spec, problem, scenario, world, space = prepare(SCEN / "experiments" / "west_budget_search.yaml")
    assert len(space.units) == 15 and problem.names == ["baseline", "sco_expansion"]
    # central_asia loses KAZ to swing_states, africa loses EGY, NGA and ZAF
    assert {u.group: u.states for u in space.units} == {"swing_states": 16, "central_asia": 4,
                                                         "africa": 51}
    from model.config.costs import cost_summary
    for params in corners(space):
        cost = cost_summary(scenario.with_strategy(to_strategy(space, params, "c")), world)
        assert cost["cost_bn_per_year"] == pytest.approx(spec.budget, rel=1e-5)
