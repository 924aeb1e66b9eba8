"""The engine: whole scripted games, the model steered exactly, attribution, undo, order, skip, end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.base.errors import ScenarioError
from model.config.build import run_scenario
from model.core.levers import LEVERS
from model.game.engine import model_seed
from model.game.script import resolve_game
from model.game.store import game_to_dict, new_game


@pytest.mark.parametrize("name", ["lesson_50min", "exercise_90min"])
def test_shipped_game_plays_to_the_end_from_its_moves_file(name, games_dir):
    game, results = resolve_game(games_dir / f"{name}.yaml", games_dir / f"{name}.moves.yaml")
    assert game.phase == "over" and game.turn == game.spec.turns == len(results)
    assert [r.turn for r in results] == list(range(1, game.spec.turns + 1))
    assert set(results[-1].scores) == set(game.spec.teams)
    first, last = results[0].years[0], results[-1].years[1]
    assert (first, last) == (game.scenario.start_year + 1,
                             game.scenario.start_year + game.spec.turns)
    a = game.model.rec_alignment[: game.model.k + 1]
    assert np.isfinite(a).all() and (np.abs(a) <= 1).all()
    for r in results:  # every team that spent had an attributed effect somewhere
        for team in {m["team"] for m in r.moves if "move" in m["move"]}:
            assert np.abs(r.team_effects(team)).max() > 0
    assert all(e["ok"] for e in game.log)


@pytest.mark.parametrize("step", ["year", "quarter"])
def test_a_game_without_moves_is_the_scenario_itself(make_game_file, games_dir, tmp_path, step):
    classroom = games_dir.parent / "classroom.yaml"
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(f"extends: {classroom}\nname: s\nstep: {step}\n", encoding="utf-8")
    game = new_game(make_game_file(deck={}, scenario=str(scenario)))  # no chance cards either
    for _ in range(game.spec.turns):
        game.open_turn()
        game.close_turn()
    direct = run_scenario(game.scenario, rng=model_seed(game.spec.seed), world=game.world)
    k = game.model.k
    assert k == game.spec.turns * (4 if step == "quarter" else 1)
    assert np.array_equal(game.model.rec_alignment[: k + 1], direct.alignment[: k + 1])
    assert np.array_equal(game.model.rec_contrib[: k + 1], direct.contributions[: k + 1])


def test_attribution_splits_the_lever_rows_among_owners(game):
    game.open_turn()
    game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 1.0})
    game.submit({"team": "west", "move": "trade", "targets": ["KAZ"], "intensity": 1.0})
    game.submit({"team": "mid", "move": "hedge_west", "targets": ["KAZ"], "intensity": 1.0})
    r1 = game.close_turn()
    game.open_turn()
    r2 = game.close_turn()  # no moves: last turn's moves keep their share of what fades
    for r in (r1, r2):
        levers = r.drivers[: len(LEVERS)].sum(axis=0)
        assert np.allclose(r.by_owner.sum(axis=0), levers, atol=1e-15)
    kaz = game.world.index["KAZ"]
    assert r1.team_effects("sco")[kaz] > 0 > r1.team_effects("west")[kaz]
    assert r1.team_effects("mid")[kaz] < 0  # trade with the West pulls West
    assert r2.team_effects("west")[kaz] < 0  # what the trade deal built is still working
    assert r2.team_effects("west", made_in=2)[kaz] == 0.0  # no move of its own in turn 2
    assert r1.team_effects("west", made_in=1)[kaz] == r1.team_effects("west")[kaz]
    west = r1.team_effects("west")
    assert set(np.flatnonzero(west)) == {kaz}  # a lever acts on its targets only
    owner = next(o for o in r1.owners if ":west:" in o)
    assert r1.move_effects(owner, game.world) == {"KAZ": float(west[kaz])}


def _one_turn(game, moves):
    game.open_turn()
    for m in moves:
        assert game.submit(m).ok
    return game.close_turn()


def test_a_refused_offer_does_not_act_and_a_welcomed_one_acts_more(game_file):
    offer = {"team": "west", "move": "trade", "targets": ["KAZ", "TUR"], "intensity": 1.0}
    plain = _one_turn(new_game(game_file), [offer])
    refused = _one_turn(new_game(game_file), [
        offer, {"team": "mid", "respond": "refuse", "to": "west", "states": ["KAZ"]}])
    welcomed = _one_turn(new_game(game_file), [
        offer, {"team": "mid", "respond": "welcome", "lever": "trade_agreements"}])
    g = new_game(game_file)
    kaz, tur = g.world.index["KAZ"], g.world.index["TUR"]
    assert refused.team_effects("west")[kaz] == 0.0
    assert refused.team_effects("west")[tur] == plain.team_effects("west")[tur]
    assert refused.moves[0]["factors"] == {"KAZ": 0.0}
    assert welcomed.moves[0]["factors"] == {"KAZ": 1.25, "TUR": 1.25}
    assert welcomed.team_effects("west")[kaz] < plain.team_effects("west")[kaz] < 0
    # refusal wins over a welcome of the same offer
    both = _one_turn(new_game(game_file), [
        offer, {"team": "mid", "respond": "welcome"}, {"team": "mid", "respond": "refuse"}])
    assert both.moves[0]["factors"] == {"KAZ": 0.0, "TUR": 0.0}


def test_results_do_not_depend_on_the_order_moves_came_in(game_file):
    moves = [{"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 0.5},
             {"team": "west", "move": "trade", "targets": ["KAZ"], "intensity": 1.0},
             {"team": "sco", "move": "media", "targets": ["KAZ"]},
             {"team": "mid", "move": "hedge_east", "targets": ["own"], "intensity": 0.5}]
    a = _one_turn(new_game(game_file), moves)
    b = _one_turn(new_game(game_file), moves[::-1])
    assert np.array_equal(a.alignment_after, b.alignment_after)
    assert a.scores == b.scores
    assert np.array_equal(a.by_owner.sum(axis=0), b.by_owner.sum(axis=0))


def _state_bytes(game) -> str:
    d = game_to_dict(game)
    d.pop("log")
    return json.dumps(d, sort_keys=True)


def test_undo_restores_the_exact_previous_state_and_replays_the_same(game):
    game.open_turn()
    game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 1.0})
    game.close_turn()
    game.open_turn()
    game.submit({"team": "west", "move": "trade", "targets": ["KAZ"], "intensity": 1.0})
    game.submit({"team": "mid", "apply": "west", "state": "TUR"})
    game.inject(card="quake")
    before = _state_bytes(game)
    first = game.close_turn()
    game.open_turn()
    game.submit({"team": "sco", "move": "media", "targets": ["KAZ"]})
    assert game.undo().ok
    assert _state_bytes(game) == before
    assert game.phase == "open" and game.turn == 1 and len(game.history()) == 1
    again = game.close_turn()
    assert json.dumps(again.to_dict()) == json.dumps(first.to_dict())
    assert again.applications[0]["state"] == "TUR" and again.injects[0]["source"] == "quake"
    assert game.undo().ok and game.undo().ok  # back to turn 1, open
    assert game.turn == 0 and game.phase == "open" and game.history() == []
    assert game.undo().code == "limit"


def test_chance_cards_follow_the_seed_not_the_history(game_file):
    a, b = new_game(game_file), new_game(game_file)
    ra = [_one_turn(a, []) for _ in range(3)]
    b.open_turn()
    b.close_turn()
    b.undo()
    b.close_turn()
    rb = [_one_turn(b, []) for _ in range(2)]
    assert [r.chance for r in ra[1:]] == [r.chance for r in rb]
    draws = [c["draw"] for r in ra for c in r.chance]
    assert len(draws) == 3 and len(set(draws)) == 3
    fired = [r for r in ra if r.injects]
    assert len(fired) <= 1  # 'clash' plays once


def test_skip_extend_and_end(game):
    game.open_turn()
    game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 1.0})
    r = game.skip_turn()
    assert r.skipped and r.moves == [] and r.spent == {"sco": 0.0, "west": 0.0, "mid": 0.0}
    for _ in range(2):
        _one_turn(game, [])
    assert game.phase == "over" and game.turn == 3
    assert game.open_turn().code == "turn_closed"
    assert game.extend(1).ok and game.phase == "ready"
    _one_turn(game, [])
    assert game.turn == 4 and game.phase == "over"
    assert game.extend(1).code == "limit"


def test_end_drops_the_open_turn_and_carry_over_keeps_points(game_file, make_game_file):
    game = new_game(game_file)
    game.open_turn()
    game.submit({"team": "sco", "move": "media", "targets": ["KAZ"]})
    assert game.end().ok and game.phase == "over" and game.moves() == []
    assert game.end().code == "turn_closed"
    carry = new_game(make_game_file(carry_over=True))
    _one_turn(carry, [{"team": "sco", "move": "media", "targets": ["KAZ"]}])
    carry.open_turn()
    assert carry.budget_left("sco") == pytest.approx(18)
    assert carry.budget_left("west") == pytest.approx(20)


def test_an_admission_changes_sco_status_through_the_model(game):
    game.open_turn()
    game.submit({"team": "mid", "apply": "sco", "state": "TUR"})
    game.close_turn()
    game.open_turn()
    game.submit({"team": "sco", "decide": "admit", "state": "TUR"})
    r = game.close_turn()
    tur = game.world.index["TUR"]
    assert r.applications[0]["admitted"] and int(game.model.status[tur]) == 2  # partner->observer
    assert ("TUR", "dialogue_partner", "observer", "events") in [
        e[1:] for e in game.model.status_log]


def test_a_failed_resolution_changes_nothing(game, monkeypatch):
    game.open_turn()
    game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 1.0})
    before = _state_bytes(game)

    def broken():
        raise ArithmeticError("the model went non-finite")

    monkeypatch.setattr(game.model, "step", broken)
    with pytest.raises(ArithmeticError):
        game.close_turn()
    assert _state_bytes(game) == before and game.undo_stack == []


def test_status_shows_what_the_facilitator_needs(game):
    st = game.status()
    assert (st["turn"], st["phase"], st["next_years"], st["can_undo"]) == (0, "ready",
                                                                         (2025, 2025), False)
    game.open_turn()
    game.submit({"team": "west", "move": "talk", "targets": ["KAZ"], "intensity": 0.5})
    st = game.status()
    assert st["budgets"]["west"] == pytest.approx(9) and st["moves"] == 1
    assert set(st["scores"]) == {"sco", "west", "mid"}


def test_a_skipped_turn_with_moves_is_a_mistake_in_the_moves_file(tmp_path):
    """Its moves would be accepted, then not played: the file is refused, naming the turn."""
    from model.game.script import load_moves

    path = tmp_path / "moves.yaml"
    path.write_text("turns:\n  - moves: []\n  - skip: true\n    moves:\n"
                    "      - {team: sco, move: rail, targets: [KAZ]}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="a skipped turn is resolved without") as err:
        load_moves(path)
    assert err.value.path == "turns.1" and err.value.line == 3
