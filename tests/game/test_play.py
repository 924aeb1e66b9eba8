"""The teacher's walk, through a pseudo-terminal: play, a mistake undone, quit, resume, finish,
briefs, debrief (``blocsim game play``, ``game brief``, ``game report``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from model.game.play import parse_line
from model.game.store import new_game

from .conftest import GAMES, ROOT

pexpect = pytest.importorskip("pexpect")
GAME = GAMES / "lesson_4teams.yaml"


def spawn(*args: str, cwd: Path):
    """``python -m model ARGS`` in a pseudo-terminal."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return pexpect.spawn(sys.executable, ["-m", "model", *args], cwd=str(cwd), env=env,
                         encoding="utf-8", timeout=60, dimensions=(50, 200))


def moves(child, team: str, *lines: str) -> None:
    """At ``team``'s prompt, type each move (each must be accepted), then hand over."""
    child.expect_exact(f"{team}> ")
    for line in lines:
        child.sendline(line)
        child.expect(r"accepted \(t\d+:")
        child.expect_exact(f"{team}> ")
    child.sendline("")


def resolve(child, turn: int) -> None:
    """The facilitator resolves the turn; its summary is printed."""
    child.expect_exact("facilitator> ")
    child.sendline("next")
    child.expect_exact(f"Turn {turn} resolved ({2024 + turn})")


def finish(child, prompt: str) -> None:
    """Type ``quit`` at ``prompt``; the program ends with status 0."""
    child.expect_exact(prompt)
    child.sendline("quit")
    child.expect_exact("Game saved in")
    child.expect_exact("Resume with: blocsim game play")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_parse_line_reads_moves_answers_and_applications():
    game = new_game(GAME)
    assert parse_line(game, "west", "trade_deal kaz uzb 0.5") == {
        "team": "west", "move": "trade_deal", "targets": ["KAZ", "UZB"], "intensity": 0.5}
    assert parse_line(game, "west", "1 KAZ") == {"team": "west", "move": "trade_deal",
                                                 "targets": ["KAZ"]}
    assert parse_line(game, "middle_powers", "refuse sco arms_transfers TUR") == {
        "team": "middle_powers", "respond": "refuse", "to": "sco", "lever": "arms_transfers",
        "states": ["TUR"]}
    assert parse_line(game, "south_asia", "apply west ind") == {
        "team": "south_asia", "apply": "west", "state": "IND"}
    assert parse_line(game, "west", "admit TUR") == {"team": "west", "decide": "admit",
                                                     "state": "TUR"}
    assert "not on your menu" in parse_line(game, "west", "rail_corridor KAZ")
    assert "needs targets" in parse_line(game, "west", "trade_deal")


@pytest.mark.slow
def test_the_teachers_walk(tmp_path):
    save = tmp_path / "class"
    child = spawn("game", "play", str(GAME), "--save", str(save), "--no-plots", cwd=tmp_path)
    child.expect_exact("4 teams")
    # turn 1
    moves(child, "sco", "rail_corridor KAZ")
    child.expect_exact("west> ")
    child.sendline("trade_deal CHN")  # not a target of the trade deal: refused with the reason
    child.expect(r"refused \(wrong_target\): 'CHN' is not a target")
    child.sendline("trade_deal KAZ")
    child.expect_exact("accepted")
    child.sendline("")
    moves(child, "middle_powers", "diversify_west own")
    moves(child, "south_asia", "diversify_east IND")
    resolve(child, 1)
    # turn 2: the West aims its public diplomacy at Pakistan by mistake; the turn is resolved
    moves(child, "sco", "arms_deal TUR")
    moves(child, "west", "public_diplomacy PAK")
    moves(child, "middle_powers")
    moves(child, "south_asia")
    resolve(child, 2)
    # ... and undone: back to turn 2 with its moves; the West takes its move back and redoes it
    child.expect_exact("sco> ")
    child.sendline("undo")
    child.expect_exact("Undone: turn 2 is open again")
    child.expect_exact("facilitator> ")
    child.sendline("team west")
    child.expect_exact("[1] public diplomacy (PAK)")
    child.expect_exact("west> ")
    child.sendline("drop 1")
    child.expect_exact("dropped; 10 points left")
    moves(child, "west", "public_diplomacy KAZ")
    child.expect_exact("facilitator> ")
    child.sendline("status")
    child.expect_exact("European Union): 8 points left, 1 move(s) this turn")
    resolve(child, 2)
    # turn 3 opens; the bell rings: quit halfway
    finish(child, "sco> ")
    # next lesson: the same command resumes
    child = spawn("game", "play", str(GAME), "--save", str(save), "--no-plots", cwd=tmp_path)
    child.expect_exact("Resuming lesson_4teams")
    child.expect_exact("2 of 4 turns resolved, turn 3 open")
    moves(child, "sco", "media_and_scholarships KAZ UZB")
    moves(child, "west", "cyber_partnership KAZ TUR 0.5")
    moves(child, "middle_powers", "welcome west KAZ")
    moves(child, "south_asia", "host_western_training own")
    child.expect_exact("facilitator> ")
    child.sendline("inject earthquake_aid")
    child.expect_exact("injected")
    resolve(child, 3)
    for team in ("sco", "west", "middle_powers", "south_asia"):
        moves(child, team)
    resolve(child, 4)
    child.expect_exact("The game is over. Final scores")
    finish(child, "facilitator> ")

    saved = json.loads((save / "save.json").read_text(encoding="utf-8"))
    history = saved["history"]
    assert [h["turn"] for h in history] == [1, 2, 3, 4]
    turn2 = [m["move"] for m in history[1]["moves"] if m["team"] == "west"]
    assert turn2 == [{"team": "west", "move": "public_diplomacy", "targets": ["KAZ"],
                      "intensity": 1.0}]  # the mistake is gone

    child = spawn("game", "brief", str(GAME), "--out", str(tmp_path / "briefs"), cwd=tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    for team in ("sco", "west", "middle_powers", "south_asia"):
        assert (tmp_path / "briefs" / f"brief_{team}.html").exists()

    child = spawn("game", "report", str(save), "--runs", "50", cwd=tmp_path)
    child.expect_exact("Debrief:")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    text = (save / "debrief.html").read_text(encoding="utf-8")
    for name in ("SCO (China and Russia)", "The West", "Middle powers", "South Asia"):
        assert name in text
    for turn in range(1, 5):
        assert f"<h3>Turn {turn} (" in text


def run_lines(folder: Path, lines: list[str]) -> str:
    """``play`` the four-team lesson in ``folder`` with ``lines`` typed; everything printed."""
    from model.game.play import play

    typed, out = iter(lines), []

    def ask(prompt: str) -> str:
        out.append(prompt)
        return next(typed)  # StopIteration never: every script ends with quit

    assert play(GAME, folder, ask=ask, say=lambda *a: out.append(" ".join(map(str, a))),
                plots=False) == 0
    return "\n".join(out)


def test_undo_quit_and_resume_in_process(tmp_path):
    folder = tmp_path / "g"
    text = run_lines(folder, ["arms_deal TUR IND PAK", "rail_corridor KAZ", "", "", "", "",
                              "next", "undo", "team sco", "drop 1", "", "next", "quit"])
    assert "refused (too_many_targets)" in text  # the arms deal takes two targets at most
    assert "Undone: turn 1 is open again" in text and "dropped; 10 points left" in text
    assert text.count("Turn 1 resolved (2025)") == 2
    first = (folder / "summary.txt").read_text(encoding="utf-8")
    assert first.startswith("=== Turn 1 resolved (2025)") and "Turn 2" not in first
    text = run_lines(folder, ["status", "quit"])
    assert "Resuming lesson_4teams" in text and "1 of 4 turns resolved, turn 2 open" in text
    assert "SCO (China and Russia): 10 points left, 0 move(s) this turn" in text
    from model.game.store import load_save
    game = load_save(folder / "save.json")
    assert game.history()[0].moves == []  # the SCO's rail corridor was dropped after the undo


def test_odd_digits_typed_are_mistakes_not_crashes(tmp_path):
    """'²' and '٣' pass str.isdigit but are not numbers int() reads in ASCII: one '?' line each."""
    text = run_lines(tmp_path / "g", ["²", "drop ²", "", "", "", "", "extend ٣", "quit"])
    assert "'²' is not on your menu" in text
    assert "you have no move to drop" in text
    assert "? extend N" in text


@pytest.mark.parametrize("event", [
    "{a: &a [x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a]}",  # expands
    "{a: " + "[" * 3000 + "]" * 3000 + "}",  # nested past Python's recursion limit
])
def test_an_inject_typed_on_the_spot_is_read_with_bounds(tmp_path, event):
    text = run_lines(tmp_path / "g", [f"inject {event}", "quit"])
    assert "? not an event:" in text
