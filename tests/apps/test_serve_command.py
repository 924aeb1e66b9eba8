"""``blocsim serve``: options checked before anything starts, and what it prints."""

from __future__ import annotations

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


def test_game_file_is_named_as_not_yet_served(served, capsys, tmp_path):
    game = tmp_path / "game.yaml"
    game.write_text("name: g\n", encoding="utf-8")
    assert cli.main(["serve", str(game)]) == 0
    assert "game pages not yet available" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "match"), [(["serve", "nosuch.yaml"], "game file not found"),
                                             (["serve", "--port", "70000"], "between 1 and 65535")])
def test_bad_options_are_one_line_exit_2(served, capsys, argv, match):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and not served
