"""Shared pieces for the game's tests: a small game file written on the spot, and the shipped ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GAMES = ROOT / "scenarios" / "games"
CLASSROOM = ROOT / "scenarios" / "classroom.yaml"


def small_game(**over) -> dict:
    """A three-team game on the classroom scenario, as data (tests change what they need)."""
    game = {
        "name": "small", "scenario": str(CLASSROOM), "seed": 3, "turns": 3, "years_per_turn": 1,
        "extra_turns": 1, "noise": 0.2,
        "teams": {
            "sco": {"side": "sco", "budget": 10, "menu": {
                "rail": {"lever": "eurasian_railway", "cost": 4, "cost_per_target": 1,
                         "targets": ["central_asia"], "max_targets": 2},
                "media": {"lever": "cultural_exchange", "cost": 2, "targets": ["KAZ", "TUR"],
                          "per_turn": 2}},
                "objectives": [{"state": "KAZ", "above": 0.25, "weight": 2},
                               {"outcome": "gdp_share_sco", "better": "higher", "weight": 10}]},
            "west": {"side": "west", "budget": 10, "menu": {
                "trade": {"lever": "trade_agreements", "cost": 4, "cost_per_target": 1,
                          "targets": ["KAZ", "TUR", "UZB"], "max_targets": 2},
                "talk": {"lever": "public_diplomacy", "cost": 2, "targets": ["KAZ", "TUR"]}},
                "objectives": [{"state": "KAZ", "towards": "west", "weight": 10}]},
            "mid": {"side": "swing", "states": ["KAZ", "TUR"], "budget": 4, "menu": {
                "hedge_west": {"lever": "trade_agreements", "cost": 2, "targets": ["own"]},
                "hedge_east": {"lever": "trade_facilitation", "cost": 2, "targets": ["own"]}},
                "objectives": [{"states": ["KAZ", "TUR"], "channel": "e_west",
                                "better": "higher", "weight": 100}]},
        },
        "applications": {"sco": {"decided_by": "sco"}, "west": {"decided_by": "rule"}},
        "deck": {
            "quake": {"event": {"type": "alignment_shock", "delta": -0.05, "state": "TUR"}},
            "clash": {"event": {"type": "alignment_shock", "delta": 0.04, "state": "KAZ"},
                      "played_by": "chance", "probability": 0.5},
        },
    }
    game.update(over)
    return game


def write(path: Path, data: dict) -> Path:
    """Write ``data`` as YAML to ``path``."""
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def make_game_file(tmp_path):
    """A factory: the small game with fields replaced, written to a file; returns its path."""
    count = iter(range(10**6))

    def make(**over) -> Path:
        return write(tmp_path / f"game{next(count)}.yaml", small_game(**over))

    return make


@pytest.fixture
def game_data() -> dict:
    """The small game as data."""
    return small_game()


@pytest.fixture
def games_dir() -> Path:
    """The shipped games' folder."""
    return GAMES


@pytest.fixture
def game_file(tmp_path) -> Path:
    """The small game as a file."""
    return write(tmp_path / "small.yaml", small_game())


@pytest.fixture
def game(game_file):
    """A new small game."""
    from model.game.store import new_game

    return new_game(game_file)
