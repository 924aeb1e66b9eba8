"""``blocsim game brief`` and ``game report`` (``game play`` is driven in tests/game/test_play.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.apps.cli import main

ROOT = Path(__file__).resolve().parents[2]
GAMES = ROOT / "scenarios" / "games"
LESSON, LESSON_MOVES = GAMES / "lesson_50min.yaml", GAMES / "lesson_50min.moves.yaml"


def test_brief_writes_a_page_per_team_and_replaces_its_own_folder(tmp_path, capsys):
    out = tmp_path / "briefs"
    assert main(["game", "brief", str(LESSON), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["brief_middle_powers.html", "brief_sco.html", "brief_west.html",
                     "briefs.html"]
    assert "briefs.html" in capsys.readouterr().out
    assert main(["game", "brief", str(LESSON), "--out", str(out)]) == 0  # again: replaced
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["game", "brief", str(LESSON), "--out", str(out)]) == 2  # a user's file: kept
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(("args", "words"), [
    (["missing"], "no such game folder or save file"),
    (["empty"], "holds no saved game (save.json)"),
    (["bad.json"], "not a blocsim game save file"),
    (["empty", "--runs", "0"], "--runs must be between 1 and 100000"),
])
def test_report_mistakes_are_one_line(tmp_path, capsys, args, words):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    args = [str(tmp_path / args[0]), *args[1:]]
    assert main(["game", "report", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


@pytest.mark.slow
def test_report_of_a_resolved_game(tmp_path, capsys):
    folder = tmp_path / "lesson"
    assert main(["game", "resolve", str(LESSON), "--moves", str(LESSON_MOVES), "--out",
                 str(folder), "-q"]) == 0
    assert main(["game", "report", str(folder / "save.json"), "--out", str(tmp_path / "d.html"),
                 "--runs", "10"]) == 0
    text = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert "Debrief: lesson_50min" in text and "10 model runs" in text
