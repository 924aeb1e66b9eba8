"""``blocsim serve``: options checked before anything starts, and what it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.apps import cli, serve_command


@pytest.fixture
def served(monkeypatch):
    """Stands in for uvicorn.run: records what would have been served."""
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


@pytest.mark.parametrize(("host", "local"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                             ("0.0.0.0", False), ("192.168.1.5", False),
                                             ("example.org", False)])
def test_is_loopback(host, local):
    assert serve_command.is_loopback(host) is local


def test_default_is_loopback_and_says_where(served, capsys):
    assert cli.main(["serve"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/whatif" in out and "NETWORK" not in out
    assert served[0][1] == {"host": "127.0.0.1", "port": 8000, "log_level": "warning"}


def test_open_host_says_so(served, capsys):
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert "OPEN TO THE NETWORK" in out and served[0][1]["host"] == "0.0.0.0"


def test_a_game_prints_codes_and_resumes_from_its_folder(served, capsys, tmp_path):
    game = Path(__file__).resolve().parents[2] / "scenarios" / "games" / "lesson_50min.yaml"
    folder = tmp_path / "class"
    assert cli.main(["serve", str(game), "--save", str(folder)]) == 0
    out = capsys.readouterr().out
    keys = json.loads((folder / "web.json").read_text(encoding="utf-8"))
    assert "(new game)" in out and f"code {keys['facilitator']}" in out
    assert all(f"team {t:<16} code {c}" in out for t, c in keys["teams"].items())
    assert (folder / "save.json").exists()
    assert cli.main(["serve", str(game), "--save", str(folder)]) == 0  # a restart
    out = capsys.readouterr().out
    assert "resumed: 0 of 4 turns played" in out and f"code {keys['facilitator']}" in out


def test_a_folder_holding_another_game_is_refused(served, capsys, tmp_path):
    games = Path(__file__).resolve().parents[2] / "scenarios" / "games"
    folder = tmp_path / "class"
    assert cli.main(["serve", str(games / "lesson_50min.yaml"), "--save", str(folder)]) == 0
    capsys.readouterr()
    assert cli.main(["serve", str(games / "exercise_90min.yaml"), "--save", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "holds the game 'lesson_50min'" in err and err.count("\n") == 1


@pytest.mark.parametrize(("argv", "match"), [(["serve", "nosuch.yaml"], "game file not found"),
                                             (["serve", "--port", "70000"], "between 1 and 65535")])
def test_bad_options_are_one_line_exit_2(served, capsys, argv, match):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and not served
