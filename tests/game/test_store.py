"""Saves, logs and replay: resume from the save and replay from the log give the same bytes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from model.base.errors import ScenarioError
from model.game.script import load_moves, play_script
from model.game.store import (
    LOG,
    SAVE,
    Session,
    load_save,
    new_game,
    read_log,
    replay,
    save_bytes,
)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The lesson played straight through in a session folder: (folder, save bytes)."""
    from pathlib import Path

    games = Path(__file__).resolve().parents[2] / "scenarios" / "games"
    folder = tmp_path_factory.mktemp("straight") / "lesson"
    session = Session.start(games / "lesson_50min.yaml", folder)
    play_script(session.game, load_moves(games / "lesson_50min.moves.yaml"), act=session.act)
    return folder, games, (folder / SAVE).read_bytes()


def test_the_session_saves_what_the_game_holds(straight):
    folder, _, saved = straight
    game = load_save(folder / SAVE)
    assert save_bytes(game) == saved
    assert game.phase == "over" and len(game.history()) == 4
    assert len(read_log(folder / LOG)) == len(game.log) > 20


def test_replay_from_the_log_gives_the_same_bytes(straight):
    folder, games, saved = straight
    game = replay(new_game(games / "lesson_50min.yaml"), read_log(folder / LOG))
    assert save_bytes(game) == saved


def test_resume_halfway_gives_the_same_bytes(straight, tmp_path):
    _, games, saved = straight
    script = load_moves(games / "lesson_50min.moves.yaml")
    first = script.model_copy(update={"turns": script.turns[:2]})
    folder = tmp_path / "halfway"
    session = Session.start(games / "lesson_50min.yaml", folder)
    n_turns = len(first.turns)
    for t in range(n_turns):
        turn = first.turns[t]
        session.act({"do": "open"})
        for card in turn.injects:
            session.act({"do": "inject", "card": card})
        for move in turn.moves:
            assert session.act({"do": "submit", "move": move}).ok
        session.act({"do": "close"})
    del session  # the class quits
    resumed = Session.resume(folder)
    assert resumed.game.turn == 2
    rest = script.model_copy(update={"turns": script.turns[2:]})
    for turn in rest.turns:
        resumed.act({"do": "open"})
        for card in turn.injects:
            resumed.act({"do": "inject", "card": card})
        for move in turn.moves:
            assert resumed.act({"do": "submit", "move": move}).ok
        resumed.act({"do": "close"})
    got = json.loads((folder / SAVE).read_bytes())
    want = json.loads(saved)
    for key in want:
        assert got[key] == want[key], key
    assert (folder / SAVE).read_bytes() == saved


def test_resume_replays_actions_the_save_missed(straight, tmp_path):
    folder, games, saved = straight
    copy = tmp_path / "crash"
    shutil.copytree(folder, copy)
    # the last action reached the log but not the save: put back the save from one action before
    game = replay(new_game(games / "lesson_50min.yaml"), read_log(folder / LOG)[:-1])
    (copy / SAVE).write_bytes(save_bytes(game))
    assert Session.resume(copy).game.log == load_save(folder / SAVE).log
    assert save_bytes(Session.resume(copy).game) == saved


def test_a_folder_with_a_game_is_not_started_again(straight, games_dir):
    folder, _, _ = straight
    with pytest.raises(ScenarioError, match="already holds a game"):
        Session.start(games_dir / "lesson_50min.yaml", folder)


@pytest.mark.parametrize(("content", "words"), [
    (b"", "not a blocsim game save"),
    (b"\xff\xfe", "not a blocsim game save"),
    (b'{"format": "something"}', "not a blocsim game save"),
    (b'{"format": "blocsim-game-save", "version": 99}', "version 99"),
    (b'{"format": "blocsim-game-save", "version": 1}', "damaged save file"),
])
def test_bad_save_files_are_one_line_errors(tmp_path, content, words):
    path = tmp_path / SAVE
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match=words) as err:
        load_save(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_save_of_a_game_in_progress_resumes_mid_turn(game, tmp_path):
    game.open_turn()
    game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 0.5})
    data = save_bytes(game)
    path = tmp_path / SAVE
    path.write_bytes(data)
    back = load_save(path)
    assert back.phase == "open" and back.moves() == game.moves()
    assert back.budget_left("sco") == game.budget_left("sco")
    r1, r2 = game.close_turn(), back.close_turn()
    assert json.dumps(r1.to_dict(), sort_keys=True) == json.dumps(r2.to_dict(), sort_keys=True)
    assert back.undo().ok and game.undo().ok
    assert save_bytes(back) == save_bytes(game)


def test_a_log_without_a_teams_moves_replays_with_the_same_dice(game_file):
    from model.game.store import without_teams

    game = new_game(game_file)
    game.open_turn()
    w = game.submit({"team": "west", "move": "trade", "targets": ["KAZ"], "intensity": 0.5})
    s = game.submit({"team": "sco", "move": "media", "targets": ["KAZ"]})
    game.revise(w.move_id, {"team": "west", "move": "trade", "targets": ["TUR"]})
    game.withdraw("sco", s.move_id)
    game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 0.5})
    game.close_turn()
    game.open_turn()
    game.submit({"team": "mid", "respond": "refuse", "to": "west"})
    game.close_turn()
    alone = replay(new_game(game_file), without_teams(game.log, ["sco"]))
    full, cut = game.history(), alone.history()
    assert [r.chance for r in full] == [r.chance for r in cut]
    assert [m for m in cut[0].moves] == [m for m in full[0].moves if m["team"] != "sco"]
    assert all(np.all(r.team_effects("sco") == 0) for r in cut)
    assert all(e["ok"] for e in alone.log)
    kaz = game.world.index["KAZ"]
    assert full[0].team_effects("sco")[kaz] > 0
    assert alone.model.a[kaz] < game.model.a[kaz]  # without the SCO's railway, KAZ sits further West


def _edited(saved: bytes, edit) -> bytes:
    data = json.loads(saved)
    edit(data)
    return json.dumps(data).encode()


def _budget(d):
    d["now"]["state"]["left"]["sco"] = 99.0


def _array(d):
    d["now"]["model"]["arrays"]["a"]["data"] = "Z2FyYmFnZQ=="


def _history(d):
    d["history"] = [{"turn": 1}]


def _header(d):
    d["now"]["model"]["header"] = 5


@pytest.mark.parametrize(("edit", "words"), [
    (_budget, "does not match the actions it logs"),
    (_array, "does not match the actions it logs"),
    (_history, "does not match the actions it logs"),
    (_header, "does not match the actions it logs"),
    (lambda d: d.update(log=5), "the log is not a list"),
    (lambda d: d.update(log=[5]), "not a logged action"),
])
def test_a_save_edited_by_hand_is_refused_in_one_line(straight, tmp_path, edit, words):
    _, _, saved = straight
    path = tmp_path / SAVE
    path.write_bytes(_edited(saved, edit))
    with pytest.raises(ScenarioError, match=words) as err:
        load_save(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("content", [
    lambda saved: saved[: len(saved) // 2],  # truncated
    lambda saved: b"[" * 100_000 + b"]" * 100_000,  # nested past the parser's recursion
    lambda saved: b'{"format": "blocsim-game-save", "version": 1, "x": ' + b"1" * 5000 + b"}",
])
def test_a_damaged_save_is_one_line(straight, tmp_path, content):
    path = tmp_path / SAVE
    path.write_bytes(content(straight[2]))
    with pytest.raises(ScenarioError) as err:
        load_save(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_a_save_is_never_decompressed(straight, monkeypatch):
    """Its arrays are compared as text: a zlib bomb in a save cannot fill the memory."""
    import zlib

    def bomb(*args, **kwargs):
        raise AssertionError("a save's arrays were decompressed")

    monkeypatch.setattr(zlib, "decompress", bomb)
    folder, _, saved = straight
    assert save_bytes(load_save(folder / SAVE)) == saved


@pytest.mark.parametrize(("line", "words"), [
    (b"not json", "not a JSON line"),
    (b"5", "not a logged action"),
    (b'{"action": null}', "not a logged action"),
    (b"[" * 100_000 + b"]" * 100_000, "not a JSON line"),
    (b'{"action": {"do": "\xff"}}', "not UTF-8"),
])
def test_a_garbage_line_in_the_log_is_one_line(straight, tmp_path, line, words):
    folder, _, _ = straight
    copy = tmp_path / "game"
    shutil.copytree(folder, copy)
    with open(copy / LOG, "ab") as fh:
        fh.write(line + b"\n")
    with pytest.raises(ScenarioError, match=words) as err:
        Session.resume(copy)
    assert "\n" not in str(err.value) and LOG in str(err.value)


def test_a_log_too_long_to_replay_is_refused(straight, tmp_path, monkeypatch):
    from model.game import store

    folder, _, _ = straight
    copy = tmp_path / "game"
    shutil.copytree(folder, copy)
    with open(copy / LOG, "a", encoding="utf-8") as fh:
        fh.write('{"action": {"do": "close"}}\n' * 3)
    monkeypatch.setattr(store, "MAX_RESOLUTIONS", 5)  # the lesson resolves 4 turns
    with pytest.raises(ScenarioError, match="turn resolutions"):
        Session.resume(copy)


def test_a_game_is_not_started_in_a_users_folder(games_dir, tmp_path):
    """The game folder gets summary.txt, PNGs and debrief.html: a user's files there would go."""
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "summary.txt").write_text("my notes", encoding="utf-8")
    with pytest.raises(ScenarioError, match="holds files and no game") as err:
        Session.start(games_dir / "lesson_50min.yaml", mine)
    assert str(mine) in str(err.value)
    assert sorted(p.name for p in mine.iterdir()) == ["summary.txt"]
    assert (mine / "summary.txt").read_text(encoding="utf-8") == "my notes"
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(ScenarioError, match="is a file, not a folder"):
        Session.start(games_dir / "lesson_50min.yaml", a_file)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert Session.start(games_dir / "lesson_50min.yaml", empty).game.turn == 0
    briefed = tmp_path / "briefed"  # game brief's default folder lies in game play's
    (briefed / "briefs").mkdir(parents=True)
    (briefed / "briefs" / "briefs.html").write_text("<html>", encoding="utf-8")
    assert Session.start(games_dir / "lesson_50min.yaml", briefed).game.turn == 0


def test_the_save_does_not_depend_on_how_the_game_files_path_is_written(games_dir, tmp_path,
                                                                       monkeypatch):
    """Same game, moves and seed, from another working directory: the same bytes."""
    from model.game.script import resolve_game

    moves = games_dir / "lesson_50min.moves.yaml"
    absolute, _ = resolve_game(games_dir / "lesson_50min.yaml", moves)
    monkeypatch.chdir(games_dir.parent)
    relative, _ = resolve_game("games/../games/lesson_50min.yaml", moves)
    assert save_bytes(relative) == save_bytes(absolute)


def test_a_log_line_cut_short_is_left_out_and_the_game_goes_on(straight, tmp_path):
    """A full disk or a kill mid-append: the save is whole, the torn line is dropped, and the
    next action starts on a line of its own."""
    folder, _, saved = straight
    copy = tmp_path / "torn"
    shutil.copytree(folder, copy)
    whole = (copy / LOG).read_bytes()
    with open(copy / LOG, "ab") as fh:
        fh.write(b'{"action": {"do": "und')
    session = Session.resume(copy)
    assert save_bytes(session.game) == saved
    assert (copy / LOG).read_bytes() == whole + b'{"action": {"do": "und'  # reading writes nothing
    session.act({"do": "undo"})
    assert read_log(copy / LOG) == session.game.log
    assert (copy / LOG).read_bytes().startswith(whole)


def _uncached_bytes(game) -> bytes:
    """The save as encoded without the undo cache (every checkpoint encoded afresh)."""
    from model.game import store

    d = {**store.game_to_dict(game), "undo": [store._checkpoint_dict(cp) for cp in game.undo_stack]}
    return json.dumps(d, sort_keys=True, allow_nan=False, separators=(",", ":")).encode("utf-8")


def test_the_undo_cache_keeps_the_save_bytes_and_encodes_each_checkpoint_once(game, monkeypatch):
    from model.game import store

    calls = []
    real = store.encode_array
    monkeypatch.setattr(store, "encode_array", lambda a: calls.append(1) or real(a))
    seen = []
    for _ in range(3):
        game.open_turn()
        game.submit({"team": "sco", "move": "rail", "targets": ["KAZ"], "intensity": 0.5})
        game.close_turn()
        seen.append(save_bytes(game))
        assert seen[-1] == _uncached_bytes(game)
    assert len(game.undo_stack) == 3
    calls.clear()
    assert save_bytes(game) == seen[-1]
    now_only = len(calls)
    assert now_only == len(store._checkpoint_dict(game.checkpoint())["arrays"]) + len(
        game.checkpoint()[1].arrays)  # the three undo checkpoints came from the cache
    assert game.undo().ok and save_bytes(game) == _uncached_bytes(game)
    game.open_turn()
    game.submit({"team": "west", "move": "talk", "targets": ["KAZ"], "intensity": 1.0})
    game.close_turn()
    assert save_bytes(game) == _uncached_bytes(game)
