"""Experiments (``config.experiment``, ``run.design``): design expansion, seeds, chunks, sweeps,
errors, the digest.

Experiment files are written in ``tmp_path`` and point at the shipped scenarios and strategies by
absolute path; nothing here runs a simulation.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from model.base.errors import ScenarioError
from model.config.experiment import load_experiment, parse_sweep_option
from model.config.scenario import load_strategy
from model.core.seeds import replication_seeds
from model.run.design import expand

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"
BASELINE = SCEN / "baseline.yaml"
CLASSROOM = SCEN / "classroom.yaml"
STRATS = SCEN / "strategies"


def write(folder: Path, name: str = "exp.yaml", **fields) -> Path:
    """An experiment file in ``folder`` (horizon 3 and two replications unless given)."""
    doc = {"name": "t", "scenarios": [str(BASELINE)], "replications": 2, "horizon": 3, **fields}
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def design(folder: Path, **fields):
    return expand(load_experiment(write(folder, **fields)))


def error(folder: Path, **fields) -> str:
    """The message of the one ScenarioError the experiment raises (file, field, problem)."""
    path = write(folder, **fields)
    with pytest.raises(ScenarioError) as info:
        expand(load_experiment(path))
    msg = str(info.value)
    assert "\n" not in msg, msg
    return msg


# --- expansion ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """2 scenarios x 3 strategies x 6 sweep points x 5 replications, chunks of 2."""
    folder = tmp_path_factory.mktemp("big")
    return design(folder, scenarios=[str(BASELINE), str(CLASSROOM)],
                  strategies=[str(STRATS / "none.yaml"), str(STRATS / "trade_agreements.yaml"),
                              {"name": "inline_cyber", "west": {"cybersecurity_cooperation":
                                                                {"intensity": 0.3, "targets": ["KAZ"]}}}],
                  replications=5, seed=99, chunk_size=2,
                  sweep={"parameters": {"peer_weight": [0.1, 0.2], "inertia": [0.3, 0.4, 0.5]}})


def test_cells_are_scenarios_x_strategies_x_points_in_order(big):
    scenarios = ["baseline", "classroom"]
    strategies = ["none", "trade_agreements", "inline_cyber"]
    points = list(itertools.product([0.1, 0.2], [0.3, 0.4, 0.5]))
    assert len(big.cells) == 2 * 3 * 6
    assert big.runs == 2 * 3 * 6 * 5
    assert big.swept == ["peer_weight", "inertia"]
    expected = list(itertools.product(scenarios, strategies, range(6)))
    assert [(c.scenario, c.strategy, c.point) for c in big.cells] == expected
    trade = load_strategy(STRATS / "trade_agreements.yaml").model_dump(mode="json")["west"]
    for c in big.cells:
        pw, inertia = points[c.point]
        assert c.params == {"peer_weight": pw, "inertia": inertia}
        assert c.resolved["parameters"]["peer_weight"] == pw
        assert c.resolved["parameters"]["inertia"] == inertia
        assert c.resolved["horizon"] == 3 and c.resolved["replications"] == 5
        assert c.resolved["name"] == c.scenario
        if c.strategy == "none":
            assert not any(c.resolved["west"].values())
        elif c.strategy == "trade_agreements":
            assert c.resolved["west"] == trade
        else:
            assert c.resolved["west"]["cybersecurity_cooperation"]["intensity"] == 0.3
        # the SCO side comes from the scenario, whatever the West does
    assert big.cells[0].resolved["sco"] == big.cells[17].resolved["sco"]
    assert big.cells[0].resolved["sco"] != big.cells[18].resolved["sco"]


def test_seeds_are_common_random_numbers(big):
    assert big.seeds == replication_seeds(99, 5)
    assert len(set(big.seeds)) == 5
    seed_of: dict[int, set[int]] = {}
    for ch in big.chunks:
        for rep, seed in zip(ch.replications, ch.seeds, strict=True):
            seed_of.setdefault(rep, set()).add(seed)
    # replication k has one seed, the same in every cell
    assert seed_of == {k: {big.seeds[k]} for k in range(5)}


def test_run_ids_contiguous_and_chunks_cover_every_run_once(big):
    R = 5
    assert [c.chunk_id for c in big.chunks] == list(range(len(big.chunks)))
    assert len(big.chunks) == len(big.cells) * 3  # 5 replications in chunks of 2: 2 + 2 + 1
    all_ids = [r for ch in big.chunks for r in ch.run_ids]
    assert all_ids == list(range(big.runs))  # each exactly once, in order
    for ch in big.chunks:
        assert 1 <= len(ch.run_ids) <= 2
        assert list(ch.run_ids) == list(range(ch.run_ids[0], ch.run_ids[-1] + 1))
        for run_id, rep in zip(ch.run_ids, ch.replications, strict=True):
            assert run_id == ch.cell * R + rep  # all of a cell's runs are one block


def test_chunk_size_larger_than_replications(tmp_path):
    d = design(tmp_path, replications=3, chunk_size=50, strategies=[str(STRATS / "none.yaml"),
                                                                  str(STRATS / "cybersecurity.yaml")])
    assert [c.run_ids for c in d.chunks] == [(0, 1, 2), (3, 4, 5)]
    assert [c.cell for c in d.chunks] == [0, 1]


def test_no_strategies_means_as_in_scenario(tmp_path):
    d = design(tmp_path, replications=1)
    assert [(c.scenario, c.strategy, c.point, c.params) for c in d.cells] == [
        ("baseline", "as_in_scenario", 0, {})]
    assert d.swept == []


def test_swing_group(tmp_path):
    d = design(tmp_path, swing_group=["KAZ", "central_asia"])
    swing = next(iter(d.swing.values()))
    assert "KAZ" in swing and "UZB" in swing and "USA" not in swing


# --- sweeps --------------------------------------------------------------------------------------

def test_factorial_sweep_is_the_product(tmp_path):
    d = design(tmp_path, sweep={"parameters": {"peer_weight": [0.1, 0.2, 0.3], "inertia": [0.2, 0.4],
                                               "shock_sd": [0.0, 0.01]}})
    pts = [c.params for c in d.cells]
    assert len(pts) == 12
    assert pts == [{"peer_weight": a, "inertia": b, "shock_sd": s}
                   for a, b, s in itertools.product([0.1, 0.2, 0.3], [0.2, 0.4], [0.0, 0.01])]


def lhs(folder: Path, seed: int = 3, samples: int = 7):
    return design(folder, seed=seed, replications=1,
                  sweep={"design": "lhs", "samples": samples,
                         "parameters": {"peer_weight": [0.05, 0.4], "inertia": [0.1, 0.6]}})


def test_lhs_points_inside_ranges_and_stratified(tmp_path):
    d = lhs(tmp_path)
    x = np.array([[c.params["peer_weight"], c.params["inertia"]] for c in d.cells])
    assert x.shape == (7, 2)
    lo, hi = np.array([0.05, 0.1]), np.array([0.4, 0.6])
    assert ((x >= lo) & (x <= hi)).all()
    # Latin hypercube: each of the 7 strata of each range holds exactly one point
    strata = np.floor((x - lo) / (hi - lo) * 7).astype(int)
    for j in range(2):
        assert sorted(strata[:, j]) == list(range(7))
    for c in d.cells:
        assert c.resolved["parameters"]["peer_weight"] == c.params["peer_weight"]


def test_lhs_is_deterministic_for_a_seed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    a = [c.params for c in lhs(tmp_path / "a", seed=3).cells]
    b = [c.params for c in lhs(tmp_path / "b", seed=3).cells]
    c = [c.params for c in lhs(tmp_path / "c", seed=4).cells]
    assert a == b
    assert a != c


def test_morris_and_sobol_sizes(tmp_path):
    params = {"peer_weight": [0.05, 0.4], "inertia": [0.1, 0.6], "shock_sd": [0.0, 0.05]}
    k = len(params)
    m = design(tmp_path, replications=1,
               sweep={"design": "morris", "samples": 3, "levels": 4, "parameters": params})
    assert len(m.cells) == (k + 1) * 3
    s = design(tmp_path, replications=1, sweep={"design": "sobol", "samples": 8, "parameters": params})
    assert len(s.cells) == 8 * (k + 2)
    for d in (m, s):
        assert d.swept == list(params)
        assert [c.point for c in d.cells] == list(range(len(d.cells)))
        for c in d.cells:
            for name, (low, high) in params.items():
                assert low <= c.params[name] <= high
    # morris moves one parameter at a time along a trajectory
    x = np.array([[c.params[n] for n in params] for c in m.cells[: k + 1]])
    assert ((np.diff(x, axis=0) != 0).sum(axis=1) == 1).all()


def test_sobol_needs_power_of_two(tmp_path):
    msg = error(tmp_path, sweep={"design": "sobol", "samples": 6,
                                 "parameters": {"peer_weight": [0.1, 0.3]}})
    assert "exp.yaml" in msg and "sweep.samples" in msg and "power of two" in msg


@pytest.mark.parametrize(("text", "name", "values"), [
    ("parameters.peer_weight=0.1:0.5:5", "peer_weight", [0.1, 0.2, 0.3, 0.4, 0.5]),
    ("peer_weight=0.1,0.2", "peer_weight", [0.1, 0.2]),
    ("x=0.1:0.5", "x", [0.1, 0.5]),
    ("inertia=0.3", "inertia", [0.3]),
    ("inertia=0.2:0.4:1", "inertia", [0.2]),
    (" parameters.shock_sd = 0:0.02:3", "shock_sd", [0.0, 0.01, 0.02]),
])
def test_parse_sweep_option(text, name, values):
    got_name, got = parse_sweep_option(text)
    assert got_name == name
    assert got == pytest.approx(values, abs=1e-12)
    assert all(isinstance(v, float) for v in got)


@pytest.mark.parametrize("text", [
    "peer_weight", "peer_weight=", "=0.1:0.5", "parameters.=0.1", "peer_weight=a:b",
    "peer_weight=0.1:0.5:0", "peer_weight=0.1:0.5:-2", "peer_weight=0.1:0.5:2.5",
    "peer_weight=0.1:0.2:3:4", "peer_weight=0.1,,0.2", "peer_weight=0.1:", "peer_weight=one,two",
])
def test_parse_sweep_option_bad(text):
    with pytest.raises(ScenarioError) as info:
        parse_sweep_option(text)
    msg = str(info.value)
    assert "--sweep" in msg and "\n" not in msg


# --- mistakes: one ScenarioError naming the file and the field ------------------------------------

def test_unknown_parameter_in_sweep(tmp_path):
    msg = error(tmp_path, sweep={"parameters": {"peer_wieght": [0.1, 0.2]}})
    assert "exp.yaml:" in msg
    assert "sweep.parameters.peer_wieght" in msg
    assert "unknown parameter" in msg and "did you mean 'peer_weight'" in msg


@pytest.mark.parametrize("values", [[0.3, 0.3], [0.4, 0.1]])
def test_empty_or_inverted_range_for_lhs(tmp_path, values):
    msg = error(tmp_path, sweep={"design": "lhs", "parameters": {"inertia": values}})
    assert "exp.yaml:" in msg and "sweep.parameters.inertia" in msg
    assert "empty or inverted range" in msg


def test_lhs_needs_two_values(tmp_path):
    msg = error(tmp_path, sweep={"design": "lhs", "parameters": {"inertia": [0.1, 0.2, 0.3]}})
    assert "sweep.parameters.inertia" in msg and "range [low, high]" in msg


def test_empty_list_of_values(tmp_path):
    msg = error(tmp_path, sweep={"parameters": {"inertia": []}})
    assert "sweep.parameters.inertia" in msg and "empty" in msg


@pytest.mark.parametrize(("design_", "values", "bad"), [
    ("factorial", [0.1, 3.0], "3.0"),       # peer_weight <= 2
    ("lhs", [-0.5, 0.5], "-0.5"),           # peer_weight >= 0
])
def test_value_outside_allowed_range(tmp_path, design_, values, bad):
    msg = error(tmp_path, sweep={"design": design_, "parameters": {"peer_weight": values}})
    assert "exp.yaml:" in msg and "sweep.parameters.peer_weight" in msg
    assert f"value {bad} is not allowed" in msg


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_sweep_value_must_be_finite(tmp_path, value):
    msg = error(tmp_path, sweep={"parameters": {"peer_weight": [value]}})
    assert "sweep.parameters.peer_weight.0: Input should be a finite number" in msg


def test_sweep_combination_that_breaks_a_scenario(tmp_path):
    # each value is allowed alone (with the other defaults), but partner 0.45 > observer 0.4
    msg = error(tmp_path, sweep={"parameters": {"partner_threshold": [0.3, 0.45],
                                                "observer_threshold": [0.4, 0.6]}})
    assert "exp.yaml" in msg and "sweep" in msg
    assert "baseline x as_in_scenario x point 2" in msg
    assert "partner_threshold <= observer_threshold" in msg


def test_unknown_outcome(tmp_path):
    msg = error(tmp_path, outcomes=["gdp_share_west", "gdp_share_wset"])
    assert "exp.yaml" in msg and "unknown outcome 'gdp_share_wset'" in msg
    assert "did you mean 'gdp_share_west'" in msg
    # it points at the outcomes field, on its line (line 5 of the file written above)
    assert "outcomes" in msg.split("unknown outcome")[0]
    lines = (tmp_path / "exp.yaml").read_text().splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.startswith("outcomes:"))
    assert msg.startswith(f"{tmp_path / 'exp.yaml'}:{line}")


def test_unknown_primary_outcome(tmp_path):
    msg = error(tmp_path, primary="gdp_west")
    assert "exp.yaml" in msg and "primary" in msg and "unknown outcome 'gdp_west'" in msg


def test_strategy_file_listed_under_scenarios(tmp_path):
    msg = error(tmp_path, scenarios=[str(BASELINE), str(STRATS / "trade_agreements.yaml")])
    assert "exp.yaml:" in msg and "scenarios.1" in msg
    assert "is a strategy" in msg and "list it under strategies" in msg


def test_a_folder_listed_under_scenarios_is_not_a_regular_file(tmp_path):
    """As for a search spec: the same check (config.checks.load_listed_scenario) names the entry."""
    (tmp_path / "folder.yaml").mkdir()
    msg = error(tmp_path, scenarios=[str(BASELINE), str(tmp_path / "folder.yaml")])
    assert "scenarios.1" in msg and "not a regular file" in msg


def test_scenario_file_given_as_strategy(tmp_path):
    msg = error(tmp_path, strategies=[str(STRATS / "none.yaml"), str(CLASSROOM)])
    assert "classroom.yaml" in msg and "looks like a scenario" in msg


def test_missing_scenario_file(tmp_path):
    msg = error(tmp_path, scenarios=[str(BASELINE), "no_such_scenario.yaml"])
    assert "exp.yaml:" in msg and "scenarios.1" in msg
    assert "not found" in msg and "no_such_scenario.yaml" in msg


def test_missing_strategy_file(tmp_path):
    msg = error(tmp_path, strategies=["nope.yaml"])
    assert "exp.yaml:" in msg and "strategies.0" in msg and "not found" in msg


def test_relative_paths_are_relative_to_the_experiment_file(tmp_path):
    (tmp_path / "sub").mkdir()
    strat = tmp_path / "mine.yaml"
    strat.write_text("name: mine\nwest: {}\n")
    path = write(tmp_path / "sub", scenarios=[str(BASELINE)], strategies=["../mine.yaml"])
    d = expand(load_experiment(path))
    assert [c.strategy for c in d.cells] == ["mine"]


def test_unknown_reference_strategy(tmp_path):
    msg = error(tmp_path, strategies=[str(STRATS / "none.yaml"), str(STRATS / "civil_society.yaml")],
                reference="nonee")
    assert "exp.yaml:" in msg and "reference" in msg and "'nonee'" in msg
    assert "none, civil_society" in msg


def test_unknown_swing_group(tmp_path):
    msg = error(tmp_path, swing_group=["swing_statez"])
    assert "exp.yaml:" in msg and "swing_group" in msg and "swing_statez" in msg


def test_duplicate_strategy_names(tmp_path):
    msg = error(tmp_path, strategies=[str(STRATS / "none.yaml"), {"name": "none", "west": {}}])
    assert "exp.yaml" in msg and "strategies" in msg and "none" in msg


def test_horizon_too_short_for_a_scenario_event(tmp_path):
    msg = error(tmp_path, scenarios=[str(SCEN / "sco_expansion.yaml")], horizon=2)
    assert "sco_expansion.yaml" in msg and "horizon" in msg


def test_bad_top_level_field(tmp_path):
    msg = error(tmp_path, replicatons=3)
    assert "exp.yaml:" in msg and "replicatons" in msg and "did you mean 'replications'" in msg


# --- the digest: what decides the results, and only that ----------------------------------------------

def _digest(folder: Path, strategy_west: dict | None = None, **fields) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    strat = folder / "strat.yaml"
    west = strategy_west if strategy_west is not None else {
        "trade_agreements": {"intensity": 0.5, "targets": ["swing_states"]}}
    strat.write_text(yaml.safe_dump({"name": "mine", "description": "a strategy", "west": west}))
    base = {"strategies": [str(STRATS / "none.yaml"), "strat.yaml"], "seed": 1, "replications": 3,
            "sweep": {"parameters": {"peer_weight": [0.1, 0.2]}}, "description": "first words"}
    return design(folder, **{**base, **fields}).digest


def test_digest_changes_with_what_decides_results(tmp_path):
    ref = _digest(tmp_path / "ref")
    assert _digest(tmp_path / "same") == ref  # same inputs elsewhere: same digest
    assert _digest(tmp_path / "desc", description="other words entirely") == ref
    # what is reported, not what is run: a finished batch can be re-reported another way
    assert _digest(tmp_path / "primary", primary="sco_members", outcomes=["sco_members"]) == ref
    changed = {
        "seed": _digest(tmp_path / "seed", seed=2),
        "replications": _digest(tmp_path / "reps", replications=4),
        "sweep value": _digest(tmp_path / "sweep", sweep={"parameters": {"peer_weight": [0.1, 0.25]}}),
        "lever": _digest(tmp_path / "lever", strategy_west={
            "trade_agreements": {"intensity": 0.6, "targets": ["swing_states"]}}),
        "lever targets": _digest(tmp_path / "targets", strategy_west={
            "trade_agreements": {"intensity": 0.5, "targets": ["central_asia"]}}),
        "horizon": _digest(tmp_path / "horizon", horizon=4),
        "swing group": _digest(tmp_path / "swing", swing_group=["central_asia"]),
    }
    for what, d in changed.items():
        assert d != ref, what
    assert len(set(changed.values())) == len(changed)


def test_digest_ignores_the_strategy_description(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    ref = _digest(a)
    (a / "strat.yaml").write_text(yaml.safe_dump({
        "name": "mine", "description": "reworded",
        "west": {"trade_agreements": {"intensity": 0.5, "targets": ["swing_states"]}}}))
    assert expand(load_experiment(a / "exp.yaml")).digest == ref


@pytest.mark.parametrize("text", ["inertia=0.6:0.1", "inertia=0.6:0.1:5", "inertia=0.3:0.3"])
def test_reversed_or_empty_sweep_range_on_the_command_line(text):
    from model.config.experiment import parse_sweep_option
    with pytest.raises(ScenarioError) as info:
        parse_sweep_option(text)
    low, high = text.split("=")[1].split(":")[:2]
    assert str(info.value) == (f"--sweep {text!r}: LOW ({float(low):g}) must be below HIGH "
                               f"({float(high):g}); write NAME=LOW:HIGH[:N]")


@pytest.mark.parametrize("name", ["..", ".", "a/b", ".x"])
def test_experiment_and_batch_names_follow_the_name_rule(tmp_path, name, capsys):
    from model.apps.cli import main
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({"name": name, "scenarios": [str(BASELINE)]}), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert str(info.value).startswith(f"{path}:1: name: a name")
    code = main(["batch", "--scenario", str(ROOT / "scenarios" / "baseline.yaml"), "--name", name,
                 "--runs", "1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("blocsim: error: name: a name") and "\n" not in err
    assert not (tmp_path / "o").exists()
