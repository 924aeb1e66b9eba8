"""Game files: the shipped ones load; every mistake is one line naming file, field and line."""

from __future__ import annotations

import copy

import pytest
import yaml

from model.base.errors import ScenarioError
from model.game.spec import load_game

from .conftest import CLASSROOM


@pytest.mark.parametrize("name", ["lesson_50min", "exercise_90min"])
def test_shipped_games_load(games_dir, name):
    spec, scenario, world = load_game(games_dir / f"{name}.yaml")
    assert spec.name == name
    assert scenario.horizon == spec.horizon == (spec.turns + spec.extra_turns) * spec.years_per_turn
    sides = [t.side for t in spec.teams.values()]
    assert "swing" in sides and "sco" in sides and "west" in sides


def test_shipped_game_sizes(games_dir):
    lesson, _, _ = load_game(games_dir / "lesson_50min.yaml")
    exercise, _, _ = load_game(games_dir / "exercise_90min.yaml")
    assert (len(lesson.teams), lesson.turns) == (3, 4)
    assert (len(exercise.teams), exercise.turns) == (5, 6)
    assert {"china", "russia", "usa", "eu"} <= set(exercise.teams)


def test_teaching_noise_scales_the_scenarios_shocks(make_game_file):
    _, quiet, _ = load_game(make_game_file(noise=0.5))
    _, none, _ = load_game(make_game_file(noise=0.0))
    assert quiet.parameters.shock_sd == pytest.approx(0.03 * 0.5)  # classroom.yaml: 0.03
    assert none.parameters.shock_sd == 0.0


def test_extends_a_game_file(tmp_path, game_file):
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {game_file.name}\nname: child\nturns: 2\n", encoding="utf-8")
    spec, _, _ = load_game(child)
    assert (spec.name, spec.turns, list(spec.teams)) == ("child", 2, ["sco", "west", "mid"])


def test_a_relative_scenario_set_in_an_extended_file_says_where_it_is_read_from(tmp_path):
    from .conftest import GAMES

    (tmp_path / "mine").mkdir()
    child = tmp_path / "mine" / "child.yaml"
    child.write_text(f"extends: {GAMES / 'lesson_50min.yaml'}\nname: child\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="scenario file not found") as err:
        load_game(child)
    assert f"read from the folder of {child}, the game file named" in str(err.value)
    assert err.value.file == str(GAMES / "lesson_50min.yaml") and err.value.path == "scenario"


def test_a_game_longer_than_the_model_runs_is_refused(make_game_file):
    with pytest.raises(ScenarioError, match="at most 100"):
        load_game(make_game_file(turns=20, years_per_turn=10))


def _set(data: dict, path: str, value) -> dict:
    data = copy.deepcopy(data)
    *head, last = path.split(".")
    node = data
    for key in head:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


_DELETE = object()

BAD = [
    ("turnz", 3, "turnz", "unknown field 'turnz' (did you mean 'turns'?)"),
    ("turns", 0, "turns", "greater than or equal to 1"),
    ("scenario", "nowhere.yaml", "scenario", "scenario file not found"),
    ("scenario", "/dev/null", "scenario", "not a regular file"),
    ("scenario", ".", "scenario", "not a regular file"),
    ("teams.sco.menu.rail.lever", "railway", "teams.sco.menu.rail", "unknown lever 'railway'"),
    ("teams.sco.menu.rail.targets", ["KAZZ"], "teams.sco.menu.rail.targets",
     "unknown state code or group 'KAZZ'"),
    ("teams.sco.menu.rail.targets", ["own"], "teams.sco.menu.rail.targets",
     "'own' targets are for swing teams"),
    ("teams.mid.menu.hedge_west.targets", ["UZB"], "teams.mid.menu.hedge_west.targets",
     "its own states"),
    ("teams.west.menu.talk.lever", "cultural_exchange", "teams.west",
     "menu.talk: cultural_exchange is a SCO lever; a WEST team's moves use its own bloc's levers"),
    ("teams.mid.states", _DELETE, "teams.mid", "a swing team plays named states"),
    ("teams.mid.states", ["central_asia"], "teams.mid.states", "is a group"),
    ("teams.sco.side", "east", "teams.sco.side", "Input should be 'sco', 'west' or 'swing'"),
    ("teams.sco.budget", "ten", "teams.sco.budget", "valid number"),
    ("teams.sco.objectives.0.outcome", "gdp_share_sco", "teams.sco.objectives.0",
     "exactly one of outcome, below/above"),
    ("teams.sco.objectives.1.better", _DELETE, "teams.sco.objectives.1", "needs better"),
    ("teams.west.objectives.0.state", "Kazakstan", "teams.west.objectives.0.state",
     "unknown state code"),
    ("applications.sco.decided_by", "nato", None, "neither 'rule' nor a team"),
    ("deck.quake.event.year", 2025, "deck.quake.event.year", "leave out year"),
    ("deck.quake.event.type", "earthquake", "deck.quake.event.type", "unknown event type"),
    ("deck.quake.event.delta", 5, "deck.quake.event.delta", "less than or equal to 2"),
    ("deck.quake.event.state", "Turkey", "deck.quake.event", "did you mean 'TUR'"),
    ("partnership", [{"type": "alignment_shock", "delta": -0.1, "state": "TUR"}],
     "partnership.0", "leave out state"),
    ("key_states", ["asean"], "key_states", "is a group"),
    ("teams.west.name", "sco", None, "two teams are shown as 'sco'"),  # the SCO's id, shown
]


@pytest.mark.parametrize(("path", "value", "field", "words"), BAD,
                         ids=[b[0] + ":" + str(b[1]) for b in BAD])
def test_bad_game_files_are_one_line_errors(tmp_path, game_data, path, value, field, words):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_set(game_data, path, value), sort_keys=False),
                   encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_game(bad)
    exc = err.value
    assert words in exc.detail, str(exc)
    assert "\n" not in str(exc)
    if field is not None:
        assert exc.path == field, str(exc)
    if path != "scenario":
        assert exc.file == str(bad) and exc.line is not None, str(exc)


def test_noise_that_lifts_a_parameter_past_its_limit_is_refused_at_load(tmp_path, make_game_file):
    """noise scales shock_sd, drift_sd and the leader-change rate: a scaled value past its
    schema limit is refused with one line at load, not written into a save that cannot be read
    back (``game_from_dict`` validates the saved scenario again)."""
    scenario = tmp_path / "noisy.yaml"
    scenario.write_text(f"extends: {CLASSROOM}\nparameters: {{drift_sd: 0.15}}\n",
                        encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"noise: .*drift_sd") as info:
        load_game(make_game_file(scenario=str(scenario), noise=2))
    assert "\n" not in str(info.value)
    _, ok, _ = load_game(make_game_file(scenario=str(scenario), noise=1))  # within the limit
    assert ok.parameters.drift_sd == pytest.approx(0.15)
