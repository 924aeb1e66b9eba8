"""Every kind of illegal move is refused with its code and a reason; legal ones are accounted for."""

from __future__ import annotations

import pytest

from model.game.moves import REFUSALS


def _open(game):
    assert game.open_turn().ok
    return game


def test_moves_before_the_first_turn_and_after_close_are_refused(game):
    v = game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"]})
    assert (v.ok, v.code) == (False, "turn_closed") and "no turn is open" in v.reason
    _open(game)
    assert game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"]}).ok
    game.close_turn()
    v = game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"]})
    assert (v.ok, v.code) == (False, "turn_closed")
    game.end()
    v = game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"]})
    assert v.code == "turn_closed" and "over" in v.reason


@pytest.mark.parametrize(("move", "code", "words"), [
    ({"team": "sco", "move": "bribe", "targets": ["KAZ"]}, "not_on_menu", "'bribe' is not on"),
    ({"team": "sco", "move": "rail", "targets": ["TUR"]}, "wrong_target", "'TUR' is not a target"),
    ({"team": "sco", "move": "rail", "targets": ["asean"]}, "wrong_target", "group 'asean'"),
    ({"team": "sco", "move": "rail", "targets": ["XXX"]}, "wrong_target", "not a state code"),
    ({"team": "sco", "move": "rail", "targets": ["KAZ", "KAZ"]}, "wrong_target", "named twice"),
    ({"team": "sco", "move": "rail", "targets": ["KAZ", "UZB", "KGZ"]}, "too_many_targets",
     "2 states at most (3 given)"),
    ({"team": "sco", "move": "rail", "targets": ["central_asia"]}, "too_many_targets",
     "2 states at most (5 given)"),
    ({"team": "sco", "move": "rail", "targets": ["KAZ", "UZB"], "intensity": 1.0},
     "over_budget", "costs 10"),
    ({"team": "nobody", "move": "rail", "targets": ["KAZ"]}, "unknown_team", "no team"),
    ({"team": "sco", "targets": ["KAZ"]}, "malformed", "exactly one of"),
    ({"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 2}, "malformed",
     "intensity"),
    ({"team": "sco", "move": "rail", "targets": ["KAZ"], "colour": "red"}, "malformed",
     "colour"),
    ({"team": "sco", "respond": "refuse"}, "not_swing", "not a swing team"),
    ({"team": "mid", "respond": "refuse", "states": ["UZB"]}, "not_your_state", "not 'UZB'"),
    ({"team": "mid", "apply": "sco", "state": "IND"}, "not_your_state", "not 'IND'"),
    ({"team": "mid", "respond": "refuse", "lever": "bribes"}, "malformed",  # would match nothing
     "unknown lever 'bribes'"),
    ({"team": "mid", "move": "hedge_west", "targets": ["UZB"]}, "wrong_target", "'UZB'"),
    ({"team": "sco", "decide": "admit", "state": "KAZ"}, "no_application", "no application"),
])
def test_each_illegal_move_is_refused_with_its_reason(game, move, code, words):
    _open(game)
    before = game.budget_left(move["team"]) if move["team"] in game.team_ids else None
    if code == "over_budget":
        assert game.submit({"team": "sco", "move": "media", "targets": ["KAZ"]}).ok  # 2 points
    v = game.submit(move)
    assert not v.ok and v.code == code and words in v.reason, v
    assert code in REFUSALS
    if before is not None and code != "over_budget":
        assert game.budget_left(move["team"]) == before  # a refusal costs nothing


def test_a_group_costs_what_its_states_cost(make_game_file):
    from model.game.store import new_game

    game = new_game(make_game_file(turns=1))
    game.spec.teams["sco"].menu["rail"].max_targets = 5
    game.spec.teams["sco"].budget = 100
    _open(game)
    v = game.submit({"team": "sco", "move": "rail", "targets": ["central_asia"],
                     "intensity": 0.5})
    assert v.ok and game.moves()[0]["cost"] == pytest.approx(5 * (4 * 0.5 + 1))


def test_per_turn_limit(game):
    _open(game)
    assert game.submit({"team": "sco", "move": "media", "targets": ["KAZ"]}).ok
    assert game.submit({"team": "sco", "move": "media", "targets": ["TUR"]}).ok
    v = game.submit({"team": "sco", "move": "media", "targets": ["KAZ"]})
    assert v.code == "limit" and "2 time(s)" in v.reason


def test_applications_refused_twice_and_by_the_wrong_decider(game):
    _open(game)
    assert game.submit({"team": "mid", "apply": "sco", "state": "KAZ"}).ok
    v = game.submit({"team": "mid", "apply": "west", "state": "KAZ"})
    assert v.code == "already_applied"
    game.close_turn()
    assert [p["state"] for p in game.pending_applications()] == ["KAZ"]
    _open(game)
    v = game.submit({"team": "west", "decide": "admit", "state": "KAZ"})
    assert v.code == "not_decider" and "decided by sco" in v.reason
    assert game.submit({"team": "sco", "decide": "reject", "state": "KAZ"}).ok
    assert game.submit({"team": "sco", "decide": "admit", "state": "KAZ"}).code == "limit"
    result = game.close_turn()
    assert result.applications == [{"state": "KAZ", "bloc": "sco", "team": "mid", "turn": 1,
                                    "admitted": False, "by": "sco"}]
    assert game.pending_applications() == []


def test_revise_and_withdraw_keep_the_budget_exact(game):
    _open(game)
    v = game.submit({"team": "west", "move": "trade", "targets": ["KAZ"], "intensity": 0.5})
    assert v.ok and game.budget_left("west") == pytest.approx(10 - 3)
    r = game.revise(v.move_id, {"team": "west", "move": "trade", "targets": ["KAZ", "TUR"],
                                "intensity": 1.0})
    assert r.ok and r.move_id == v.move_id and game.budget_left("west") == pytest.approx(0)
    over = game.revise(v.move_id, {"team": "west", "move": "trade", "targets": ["KAZ", "TUR"],
                                   "intensity": 1.0})
    assert over.ok  # replacing a move by itself fits the same budget
    assert game.withdraw("west", "t1:west:99").code == "unknown_move"
    assert game.withdraw("sco", v.move_id).code == "unknown_move"  # not sco's move
    assert game.withdraw("west", v.move_id).ok and game.budget_left("west") == pytest.approx(10)
    assert game.moves() == []


def test_secret_moves_are_hidden_from_other_teams(game):
    _open(game)
    game.submit({"team": "sco", "move": "media", "targets": ["KAZ"]})
    game.submit({"team": "west", "move": "talk", "targets": ["KAZ"]})
    assert [m["team"] for m in game.moves("west")] == ["west"]
    assert [m["team"] for m in game.moves()] == ["sco", "west"]


def test_facilitator_actions_refused_with_reasons(game):
    assert game.undo().code == "limit"
    assert game.inject(card="meteor").code == "not_on_menu"
    v = game.inject(event={"type": "alignment_shock", "delta": 0.1, "state": "KAZ", "year": 2025})
    assert v.code == "malformed" and "leave out year" in v.reason
    v = game.inject(event={"type": "alignment_shock", "delta": 0.1, "state": "Kazakstan"})
    assert v.code == "malformed" and "unknown state code" in v.reason
    v = game.inject(event={"type": "earthquake", "state": "KAZ"})
    assert v.code == "malformed" and "unknown event type" in v.reason
    assert game.inject(card="quake").ok
    assert game.inject(card="quake").code == "limit"
    assert game.extend(2).code == "limit" and game.extend(1).ok
    assert game.act({"do": "dance"}).code == "malformed"
    assert game.close_turn().code == "turn_closed"
    assert [e["ok"] for e in game.log].count(True) == 2  # refusals are logged too


def test_actions_are_logged_as_plain_data_and_replay_the_same(game, game_file):
    from model.game.store import new_game, replay, save_bytes

    _open(game)
    assert game.submit({"team": "sco", "move": "media", "targets": ("KAZ",)}).ok  # a tuple
    v = game.submit({"team": "sco", "move": "media", "targets": ["TUR"],
                     "intensity": float("nan")})
    assert v.code == "malformed" and "not plain data" in v.reason
    assert game.act("open").code == "malformed"
    assert game.log[1]["action"]["move"]["targets"] == ["KAZ"]
    again = replay(new_game(game_file), game.log)
    assert save_bytes(again) == save_bytes(game)
