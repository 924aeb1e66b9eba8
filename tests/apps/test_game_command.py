"""``blocsim game resolve``: a scripted game written to its folder; mistakes one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.apps.cli import main

ROOT = Path(__file__).resolve().parents[2]
GAMES = ROOT / "scenarios" / "games"
LESSON, LESSON_MOVES = GAMES / "lesson_50min.yaml", GAMES / "lesson_50min.moves.yaml"


def test_resolve_writes_the_game_folder(tmp_path, capsys):
    out = tmp_path / "lesson"
    assert main(["game", "resolve", str(LESSON), "--moves", str(LESSON_MOVES), "--out",
                 str(out)]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["log.jsonl", "save.json", "summary.txt",
                                                     "turns.json"]
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert summary in printed
    for turn in range(1, 5):
        assert f"Turn {turn} (" in summary
    for team in ("sco", "west", "middle_powers"):
        assert f"    {team}: " in summary
    assert "Final scores: sco " in summary
    turns = json.loads((out / "turns.json").read_text(encoding="utf-8"))
    assert [t["turn"] for t in turns] == [1, 2, 3, 4]
    first = (out / "save.json").read_bytes()
    # the same command again replaces its own folder, to the byte
    assert main(["game", "resolve", str(LESSON), "--moves", str(LESSON_MOVES), "--out",
                 str(out), "-q"]) == 0
    assert (out / "save.json").read_bytes() == first


def _moves(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "moves.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "words"), [
    ("turns:\n  - moves:\n      - {team: sco, move: rail_corridor, targets: [KAZ, UZB]}\n"
     "      - {team: sco, move: arms_deal, targets: [TUR]}\n",
     "moves.yaml:4: turns.0.moves.1: refused (over_budget): 'arms_deal' costs 5 points; sco has "
     "0 left this turn"),
    ("turns:\n  - moves:\n      - {team: west, move: rail_corridor, targets: [KAZ]}\n",
     "moves.yaml:3: turns.0.moves.0: refused (not_on_menu)"),
    ("turns:\n  - moves: []\n  - injects: [meteor]\n", "moves.yaml:3: turns.1.injects.0: "
     "refused (not_on_menu): no card 'meteor' in the deck"),
    ("game: exercise_90min\n", "moves.yaml:1: game: this moves file is for the game "
     "'exercise_90min'"),
    ("turns: [{}, {}, {}, {}, {}, {}, {}]\n", "turns: 7 turns scripted; the game has 4"),
    ("turns:\n  - movez: []\n", "moves.yaml:2: turns.0.movez: unknown field 'movez'"),
    ("turns: 3\n", "moves.yaml:1: turns: Input should be a valid list"),
])
def test_mistakes_in_a_moves_file_are_one_line_exit_2(tmp_path, capsys, text, words):
    out = tmp_path / "out"
    code = main(["game", "resolve", str(LESSON), "--moves", str(_moves(tmp_path, text)),
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert not out.exists()  # nothing half-written


def test_other_mistakes_are_one_line_exit_2(tmp_path, capsys):
    moves = _moves(tmp_path, "turns: []\n")
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    cases = [
        (["game", "resolve", str(tmp_path / "nope.yaml"), "--moves", str(moves)], "not found"),
        (["game", "resolve", str(LESSON), "--moves", str(tmp_path / "nope.yaml")], "not found"),
        (["game", "resolve", str(LESSON), "--moves", str(moves), "--out", str(a_file)],
         "is a file, not a folder"),
        (["game", "resolve", str(LESSON_MOVES), "--moves", str(moves)], "name: Field required"),
        (["game"], "give a game command: resolve"),
    ]
    for argv, words in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, (argv, err)


def test_a_bad_game_file_in_a_real_process_shows_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nscenario: ../x.yaml\nteams: {}\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "game", "resolve", str(bad),
                           "--moves", str(_moves(tmp_path, "turns: []\n"))],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "bad.yaml:3: teams:" in proc.stderr and "Traceback" not in proc.stderr
