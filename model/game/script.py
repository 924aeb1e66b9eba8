"""Scripted games: a moves file played through a game without prompts (``blocsim game resolve``).

A moves file lists, turn by turn, the teams' moves and the facilitator's injects (``docs/game.md``,
"Moves files"). ``resolve_game`` plays it on a new game in memory: every move must be accepted
(a refused one is a mistake in the file, reported as one line with its file, field, line and
the reason), turns the file leaves out are resolved without moves. ``write_game_folder`` then
writes the save file, the action log, the per-turn summary and the turn results atomically.

Imports base, config and the game's own modules (and pydantic).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, model_validator

from ..base.errors import ScenarioError
from ..base.files import write_atomic_dir
from ..config.scenario import Located, Strict, _resolve_extends, locate, parse
from .engine import Game
from .moves import Verdict
from .store import LOG, SAVE, log_line, new_game, save_bytes
from .turns import TurnResult, summary_text

SUMMARY, TURNS = "summary.txt", "turns.json"
GAME_FILES = frozenset({SAVE, LOG, SUMMARY, TURNS})


class ScriptTurn(Strict):
    """One turn of a moves file: the moves, the injects, or a skipped turn."""

    moves: list[dict] = Field(default_factory=list)
    injects: list[str | dict] = Field(default_factory=list)
    skip: bool = False

    @model_validator(mode="after")
    def _skip(self) -> ScriptTurn:
        if self.skip and self.moves:  # they would be accepted, then silently not played
            raise ValueError("a skipped turn is resolved without the teams' moves: leave out "
                             "its moves, or skip: false")
        return self


class MovesFile(Located):
    """A moves file: the game it is for (optional check), turns added, and the turns."""

    game: str | None = None
    extend: int = Field(0, ge=0, le=20)
    turns: list[ScriptTurn] = Field(default_factory=list)


def load_moves(path: Path | str) -> MovesFile:
    """Read and validate a moves file (the schema only; moves are checked as they are played)."""
    path = Path(path)
    data, where = _resolve_extends(path)
    moves = parse(data, MovesFile, where, str(path))
    moves._source, moves._where = str(path), where
    return moves


def _refused(script: MovesFile, verdict: Verdict, path: tuple) -> ScenarioError:
    file, line = locate(script._where, path)
    return ScenarioError(f"refused ({verdict.code}): {verdict.reason}", file=file or script._source,
                         path=".".join(map(str, path)), line=line)


def play_script(game: Game, script: MovesFile, act=None) -> list[TurnResult]:
    """Play ``script`` on ``game`` to the end; the turn results. Raises on a refused action.

    ``act`` carries out each action (default ``game.act``; a ``store.Session``'s ``act`` logs
    and saves after each).
    """
    act = act or game.act
    if script.game is not None and script.game != game.spec.name:
        raise script.error(f"this moves file is for the game '{script.game}', not "
                           f"'{game.spec.name}'", ("game",))

    def do(action: dict, path: tuple):
        result = act(action)
        if isinstance(result, Verdict) and not result.ok:
            raise _refused(script, result, path)
        return result

    if script.extend:
        do({"do": "extend", "turns": script.extend}, ("extend",))
    if len(script.turns) > game.state["turns_total"]:
        raise script.error(f"{len(script.turns)} turns scripted; the game has "
                           f"{game.state['turns_total']}", ("turns",))
    results = []
    for t in range(game.state["turns_total"]):
        turn = script.turns[t] if t < len(script.turns) else ScriptTurn()
        do({"do": "open"}, ("turns", t))
        for i, card in enumerate(turn.injects):
            key = "card" if isinstance(card, str) else "event"
            do({"do": "inject", key: card}, ("turns", t, "injects", i))
        for j, move in enumerate(turn.moves):
            do({"do": "submit", "move": move}, ("turns", t, "moves", j))
        results.append(do({"do": "skip" if turn.skip else "close"}, ("turns", t)))
    return results


def resolve_game(game_file: Path | str, moves_file: Path | str) -> tuple[Game, list[TurnResult]]:
    """A new game from ``game_file`` played through ``moves_file``, in memory."""
    script = load_moves(moves_file)
    game = new_game(game_file)
    return game, play_script(game, script)


def summary(game: Game, results: list[TurnResult]) -> str:
    """The plain per-turn summary of a whole game, with the final scores."""
    keys = game.spec.key_states or list(game.scenario.key_states)
    parts = [f"{game.spec.name}: {len(results)} turns of {game.spec.years_per_turn} year(s), "
             f"seed {game.spec.seed}, noise {game.spec.noise:g}"]
    parts += [summary_text(r, game.world, keys, game.team_ids) for r in results]
    final = game.scores()
    parts.append("Final scores: " + ", ".join(f"{t} {final[t]['total']:+.2f}"
                                              for t in game.team_ids))
    return "\n\n".join(parts) + "\n"


def write_game_folder(game: Game, results: list[TurnResult], out: Path | str) -> Path:
    """Write save.json, log.jsonl, summary.txt and turns.json into ``out``, atomically."""

    def fill(tmp: Path) -> None:
        (tmp / SAVE).write_bytes(save_bytes(game))
        (tmp / LOG).write_text("".join(log_line(e) for e in game.log), encoding="utf-8")
        (tmp / SUMMARY).write_text(summary(game, results), encoding="utf-8")
        (tmp / TURNS).write_text(json.dumps([r.to_dict() for r in results], sort_keys=True,
                                            allow_nan=False), encoding="utf-8")

    return write_atomic_dir(Path(out), fill, marker=SAVE,
                            replace_only=lambda d: all(p.name in GAME_FILES for p in d.iterdir()))
