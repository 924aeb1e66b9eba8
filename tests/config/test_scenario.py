"""Scenario files: the table of invalid scenarios, ``extends``, shipped files, strategies, round trips.

The invalid scenarios live in ``tests/bad_scenarios/`` with the error each must give in
``tests/bad_scenarios/expected.yaml`` (a new case is one file there plus one entry in the table).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from model.base.errors import ScenarioError
from model.config.checks import prepare_world
from model.config.scenario import Scenario, load_scenario, load_strategy
from model.core.seeds import replication_seeds
from model.run.tables import resolved_yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
BAD_DIR = Path(__file__).resolve().parents[1] / "bad_scenarios"
EXPECTED: dict[str, list[str]] = yaml.safe_load((BAD_DIR / "expected.yaml").read_text(encoding="utf-8"))
BAD = sorted(p.name for p in BAD_DIR.glob("*.yaml") if p.name != "expected.yaml")
CANARY = "blocsim_yaml_tag_executed"  # what python_tag.yaml's payload would create if it ran


def load_and_check(path: Path) -> Scenario:
    """What ``blocsim validate`` does: the schema, then the world (state codes, groups, CSV)."""
    scenario = load_scenario(path)
    prepare_world(scenario, path.parent)
    return scenario


def test_every_bad_file_has_an_expected_error_and_vice_versa():
    assert len(BAD) >= 20
    assert sorted(EXPECTED) == BAD
    for name, parts in EXPECTED.items():
        assert parts and all(isinstance(p, str) and p for p in parts), name
        assert any(".yaml" in p for p in parts), f"{name}: the error must name the file"


@pytest.mark.parametrize("name", BAD)
def test_bad_scenario_gives_its_one_line_error(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # python_tag.yaml's payload would write here
    with pytest.raises(ScenarioError) as info:
        load_and_check(BAD_DIR / name)
    message = str(info.value)
    assert "\n" not in message
    missing = [part for part in EXPECTED[name] if part not in message]
    assert not missing, f"{message!r} lacks {missing}"
    assert not (tmp_path / CANARY).exists()


def test_python_tag_payload_is_refused_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match=r"python_tag\.yaml:4: [a-z_.0-9]+: YAML tag not allowed"):
        load_scenario(BAD_DIR / "python_tag.yaml")
    assert not (tmp_path / CANARY).exists()
    # The canary is real: an unsafe loader would run the payload and create the file.
    yaml.unsafe_load((BAD_DIR / "python_tag.yaml").read_text(encoding="utf-8"))
    assert (tmp_path / CANARY).exists()


# --- extends ------------------------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_child_overrides_one_lever_field_and_inherits_the_rest(tmp_path):
    write(tmp_path / "parent.yaml", """\
name: parent
horizon: 6
seed: 11
parameters: {peer_weight: 0.3, inertia: 0.1}
sco:
  cpec: {intensity: 0.5, targets: [PAK]}
west:
  trade_agreements:
    intensity: 0.6
    targets: [central_asia, MNG]
    start: 2026
""")
    child = load_scenario(write(tmp_path / "child.yaml", """\
extends: parent.yaml
name: child
parameters: {inertia: 0.2}
west:
  trade_agreements:
    intensity: 0.2
"""))
    lever = child.west.trade_agreements
    assert child.name == "child"
    assert lever.intensity == 0.2
    assert lever.targets == ["central_asia", "MNG"] and lever.start == 2026
    assert child.horizon == 6 and child.seed == 11
    assert child.parameters.inertia == 0.2 and child.parameters.peer_weight == 0.3
    assert child.sco.cpec.intensity == 0.5 and child.sco.cpec.targets == ["PAK"]


def test_extends_replaces_lists_whole(tmp_path):
    write(tmp_path / "parent.yaml", "name: parent\nhorizon: 5\nkey_states: [KAZ, IND, TUR]\n")
    child = load_scenario(write(tmp_path / "child.yaml",
                                "extends: parent.yaml\nname: child\nkey_states: [UZB]\n"))
    assert child.key_states == ["UZB"]


def test_extends_a_shipped_scenario_by_absolute_path(tmp_path):
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    child = load_scenario(write(tmp_path / "short.yaml",
                                f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\n"
                                "name: short\nhorizon: 3\nreplications: 2\n"))
    assert (child.horizon, child.replications) == (3, 2)
    assert child.sco == base.sco and child.key_states == base.key_states
    assert child.seed == base.seed


def test_error_in_an_inherited_field_names_the_parent_file_and_line(tmp_path):
    write(tmp_path / "parent.yaml", "name: parent\nhorizon: 5\nsco:\n  cpec:\n    intensity: 3\n")
    write(tmp_path / "child.yaml", "extends: parent.yaml\nname: child\n")
    with pytest.raises(ScenarioError, match=r"parent\.yaml:5: sco\.cpec\.intensity: "):
        load_scenario(tmp_path / "child.yaml")


def test_a_file_extending_itself_is_a_cycle(tmp_path):
    write(tmp_path / "self.yaml", "name: self\nextends: self.yaml\n")
    cycle = r"self\.yaml:2: extends: extends cycle: self\.yaml -> self\.yaml"
    with pytest.raises(ScenarioError, match=cycle):
        load_scenario(tmp_path / "self.yaml")


# --- shipped scenarios ----------------------------------------------------------------------------

def test_scenarios_are_shipped():
    assert {"baseline.yaml", "classroom.yaml", "hindcast_2014.yaml"} <= {p.name for p in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates(path):
    scenario = load_and_check(path)
    assert scenario.name == path.stem
    assert scenario.description.strip(), "a shipped scenario says what question it asks"
    assert scenario.lever_configs() or scenario.events


# --- strategies -----------------------------------------------------------------------------------

def test_load_strategy_refuses_a_scenario_file():
    with pytest.raises(ScenarioError, match=r"baseline\.yaml:\d+: .*looks like a scenario, not a strategy"):
        load_strategy(ROOT / "scenarios" / "baseline.yaml")


def test_load_strategy_accepts_a_strategy_file_and_replaces_the_west(tmp_path):
    strategy = load_strategy(write(tmp_path / "trade_first.yaml", """\
name: trade_first
description: Trade agreements with Central Asia, nothing else.
west:
  trade_agreements: {intensity: 0.8, targets: [central_asia]}
"""))
    assert strategy.name == "trade_first"
    assert strategy.west.trade_agreements.intensity == 0.8
    combined = load_scenario(ROOT / "scenarios" / "west_combined.yaml").with_strategy(strategy)
    assert combined.west.trade_agreements.targets == ["central_asia"]
    assert combined.west.civil_society is None  # the scenario's own west block is replaced
    assert combined.sco.cpec is not None  # the scenario's SCO side stays


def test_load_strategy_checks_its_levers(tmp_path):
    path = write(tmp_path / "typo.yaml", "name: typo\nwest:\n  civil_societty: {intensity: 0.5}\n")
    hint = r"typo\.yaml:3: west\.civil_societty: .*did you mean 'civil_society'"
    with pytest.raises(ScenarioError, match=hint):
        load_strategy(path)


# --- the resolved scenario round-trips ----------------------------------------------------------

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_resolved_yaml_round_trips_to_an_equal_scenario(path, tmp_path):
    scenario = load_scenario(path)
    seeds = replication_seeds(scenario.seed, scenario.replications)
    doc = yaml.safe_load(resolved_yaml(scenario, seeds))
    provenance = doc.pop("provenance")
    assert provenance["replication_seeds"] == seeds and provenance["root_seed"] == scenario.seed
    again = load_scenario(write(tmp_path / "resolved.yaml", yaml.safe_dump(doc, sort_keys=False)))
    assert again.model_dump() == scenario.model_dump()
    # Equal as models too, once the private record of where each field came from is set aside.
    assert Scenario.model_validate(again.model_dump()) == Scenario.model_validate(scenario.model_dump())


def test_a_runs_resolved_file_runs_again_as_it_is(tmp_path):
    """A user reruns ``scenario.resolved.yaml`` itself: its ``provenance`` record is set aside."""
    scenario = load_scenario(SHIPPED[0])
    text = resolved_yaml(scenario, replication_seeds(scenario.seed, scenario.replications))
    again = load_scenario(write(tmp_path / "scenario.resolved.yaml", text))
    assert again.model_dump() == scenario.model_dump()
    with pytest.raises(ScenarioError, match="provenance"):  # not a run's record: still refused
        load_scenario(write(tmp_path / "odd.yaml", text.replace("provenance:", "provenance: 3\nx:")))


# --- the one reader: hostile files (issue 6) -------------------------------------------------------

HOSTILE = ["anchors_billion_laughs.yaml", "alias_self_reference.yaml", "deep_nesting.yaml",
           "huge_integer.yaml", "extends_device.yaml", "world_device.yaml", "int_tag_not_integer.yaml",
           "timestamp_tag.yaml", "binary_tag.yaml", "set_tag.yaml"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_fails_fast_and_small(name):
    """Each used to take gigabytes or a traceback; now a one-line error well under 2 s, 200 MB."""
    import time
    import tracemalloc
    tracemalloc.start()
    t = time.perf_counter()
    with pytest.raises(ScenarioError):
        load_and_check(BAD_DIR / name)
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2.0 and peak < 200 * 2**20, (elapsed, peak)


def test_extends_chain_too_long_is_refused_iteratively(tmp_path):
    for i in range(1500):
        write(tmp_path / f"c{i}.yaml", f"extends: c{i + 1}.yaml\n")
    write(tmp_path / "c1500.yaml", "name: chain\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "c0.yaml")
    assert str(info.value) == (f"{tmp_path / 'c15.yaml'}:1: extends: extends chain longer than 16 "
                               f"files (from c0.yaml to c15.yaml, which extends c16.yaml)")


def test_file_over_the_size_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.yaml"
    with path.open("wb") as f:
        f.truncate(200 * 2**20)  # sparse: 200 MiB that cost nothing
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: file is larger than the 1 MiB limit (200 MiB)"


def test_folder_and_fifo_are_not_files(tmp_path):
    import os
    with pytest.raises(ScenarioError, match=r": not a regular file \(a folder\); give a file$"):
        load_scenario(tmp_path)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match=r"pipe\.yaml: not a regular file \(a FIFO\)"):
        load_scenario(fifo)


@pytest.mark.parametrize(("raw", "expected"), [
    (b"name: x\ndescription: caf\xe9\n", "bad.yaml:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    (b"name: x\ndescription: a\x00b\n", "bad.yaml:2: character 0x0000 is not allowed in a YAML file"),
    (b"name: x\n---\nname: y\n", "bad.yaml:2: more than one YAML document ('---'); one per file"),
    (b"name: x\nparameters:\n  inertia: 0.2\n  inertia: 0.3\n",
     "bad.yaml:4: parameters.inertia: duplicate key 'inertia' (first on line 3)"),
    (b"name: x\nseed: 1e999\n", "bad.yaml:2: seed: Input should be a valid integer (got '1e999')"),
    (b"name: x\nparameters: {inertia: .nan}\n",
     "bad.yaml:2: parameters.inertia: Input should be a finite number (got nan)"),
    (b"name: x\nparameters: {inertia: '0.2'}\n",
     "bad.yaml:2: parameters.inertia: Input should be a valid number (got '0.2')"),
    (b"name: x\nhorizon: 10.0\n", "bad.yaml:2: horizon: Input should be a valid integer (got 10.0)"),
    (b"name: x\n<<: {horizon: 3}\n", "bad.yaml:2: <<: unknown field '<<'"),
])
def test_reader_and_strict_types(tmp_path, raw, expected):
    (tmp_path / "bad.yaml").write_bytes(raw)
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "bad.yaml")
    assert str(info.value) == f"{tmp_path}/{expected}"


def test_bom_is_accepted_and_an_unquoted_date_stays_text(tmp_path):
    (tmp_path / "ok.yaml").write_bytes("\ufeffname: x\ndescription: 2024-01-01\n".encode())
    assert load_scenario(tmp_path / "ok.yaml").description == "2024-01-01"


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "a\\b", "a\x00b", "tab\there", "x" * 65, ""])
def test_name_rule_refuses_what_is_not_a_plain_file_name(name):
    from model.config.scenario import check_name
    with pytest.raises(ValueError):
        check_name(name)


@pytest.mark.parametrize("name", ["baseline", "west_combined", "v1.2-x", "x" * 64])
def test_name_rule_accepts_plain_names(name):
    from model.config.scenario import check_name
    assert check_name(name) == name


def test_strategy_name_follows_the_rule(tmp_path):
    write(tmp_path / "s.yaml", "name: ..\nwest: {}\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:1: name: a name must not start with a dot"):
        load_strategy(tmp_path / "s.yaml")


def test_every_parameter_has_a_row_in_the_scenario_files_table():
    """scenarios/README.md documents the file format: each parameter a scenario may set has a
    row there (its default, range and meaning)."""
    text = (Path(__file__).resolve().parents[2] / "scenarios" / "README.md").read_text("utf-8")
    from model.config.scenario import Parameters

    missing = [f for f in Parameters.model_fields if f"| `{f}` |" not in text]
    assert missing == []
