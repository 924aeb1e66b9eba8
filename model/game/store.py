"""A game on disk: the save file, the action log, resuming and replaying.

The save file (``save.json``) is one JSON document holding everything: the game and its
scenario as validated (so a save resumes even if the files change), the game's state, the
model's snapshot, the attribution ledger, the undo stack and the log of actions. Arrays are
stored as raw bytes (zlib, base64) with dtype and shape, and JSON floats by ``repr``: nothing is
rounded, and the same game always gives the same bytes (no clock, no zip timestamps). A
``Session`` appends each action to ``log.jsonl`` and rewrites the save atomically after it;
``resume`` reads the save and replays any actions the log holds beyond it (a crash between
the two writes loses nothing). ``replay`` plays a log from the start on a fresh game.

Imports base, data, config and the game's own modules.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import numpy as np

from ..base.errors import ScenarioError
from ..base.files import read_bounded, write_file_atomic
from ..config.checks import prepare_world
from ..config.scenario import Scenario, parse
from ..core.snapshot import Snapshot
from .engine import Game
from .spec import GameSpec, load_game

FORMAT, VERSION = "blocsim-game-save", 1
SAVE, LOG = "save.json", "log.jsonl"
MAX_SAVE_BYTES = 256 << 20


def encode_array(a: np.ndarray) -> dict:
    """An array as JSON: dtype, shape and its bytes (zlib, base64)."""
    a = np.ascontiguousarray(a)
    return {"dtype": a.dtype.str, "shape": list(a.shape),
            "data": base64.b64encode(zlib.compress(a.tobytes(), 6)).decode("ascii")}


def decode_array(d: dict) -> np.ndarray:
    """What ``encode_array`` gave, back as an array."""
    raw = zlib.decompress(base64.b64decode(d["data"]))
    return np.frombuffer(raw, dtype=np.dtype(d["dtype"])).reshape(d["shape"]).copy()


def _encode_snapshot(snap: Snapshot) -> dict:
    return {"header": snap.header, "arrays": {k: encode_array(v) for k, v in snap.arrays.items()}}


def _decode_snapshot(d: dict) -> Snapshot:
    return Snapshot(d["header"], {k: decode_array(v) for k, v in d["arrays"].items()})


def _checkpoint_dict(cp: tuple) -> dict:
    state, snap, owners, arrays = cp
    return {"state": state, "model": _encode_snapshot(snap), "owners": owners,
            "arrays": {k: encode_array(v) for k, v in arrays.items()}}


def game_to_dict(game: Game) -> dict:
    """The whole game as JSON-able data (see the module docstring)."""
    return {"format": FORMAT, "version": VERSION,
            # as JSON text, so the save's sorted keys do not reorder teams, menus and the deck
            "game": json.dumps(game.spec.model_dump(mode="json"), allow_nan=False),
            "scenario": json.dumps(game.scenario.model_dump(mode="json"), allow_nan=False),
            "world_dir": game.world_dir, "history": game.state["history"],
            "now": _checkpoint_dict(game.checkpoint()),
            "undo": [_checkpoint_dict(cp) for cp in game.undo_stack], "log": game.log}


def save_bytes(game: Game) -> bytes:
    """The save file's bytes: the same game gives the same bytes."""
    return json.dumps(game_to_dict(game), sort_keys=True, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")


def save_game(game: Game, path: Path | str) -> Path:
    """Write the save file atomically (a crash leaves the previous save whole)."""
    path = Path(path)
    write_file_atomic(path, save_bytes(game))
    return path


def new_game(path: Path | str) -> Game:
    """A new game from a game file (validated with its scenario and world)."""
    spec, scenario, world = load_game(path)
    game = Game(spec, scenario, world)
    game.world_dir = str(Path(scenario._source).parent)
    return game


def game_from_dict(d: dict, label: str = "<save>") -> Game:
    """A game exactly as saved (``game_to_dict``)."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ScenarioError("not a blocsim game save file", file=label)
    if d.get("version") != VERSION:
        raise ScenarioError(f"save file version {d.get('version')} is not supported (this "
                            f"blocsim reads version {VERSION})", file=label)
    try:
        spec = parse(json.loads(d["game"]), GameSpec, {}, label)
        scenario = parse(json.loads(d["scenario"]), Scenario, {}, label)
        world = prepare_world(scenario, Path(d["world_dir"]))
        game = Game(spec, scenario, world)
        game.world_dir = d["world_dir"]
        game.restore_checkpoint(_restore_cp(d["now"]), history=d["history"])
        game.undo_stack = [_restore_cp(cp) for cp in d["undo"]]
        game.log = d["log"]
    except (KeyError, TypeError, ValueError, ScenarioError) as exc:
        raise ScenarioError(f"damaged save file ({type(exc).__name__}: {exc})",
                            file=label) from None
    return game


def _restore_cp(d: dict) -> tuple:
    return (d["state"], _decode_snapshot(d["model"]), d["owners"],
            {k: decode_array(v) for k, v in d["arrays"].items()})


def load_save(path: Path | str) -> Game:
    """Read a save file written by ``save_game``."""
    path = Path(path)
    raw = read_bounded(path, MAX_SAVE_BYTES, what="save file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"not a blocsim game save file ({exc})", file=str(path)) from None
    return game_from_dict(data, str(path))


def replay(game: Game, actions: list[dict]) -> Game:
    """Play ``actions`` (log entries or bare actions) on ``game`` in order; return it."""
    for entry in actions:
        game.act(entry["action"] if "action" in entry else entry)
    return game


def without_teams(entries: list[dict], teams: set[str] | list[str]) -> list[dict]:
    """The log with every move of ``teams`` left out (submitted, revised or withdrawn).

    Replayed on a fresh game (``replay``), it gives the game those teams would have had by
    doing nothing, with the same random numbers: the model draws the same numbers every step
    whatever the plan, the chance cards come from the seed and the turn, and move ids count per
    team, so the other teams' revisions and withdrawals still find their moves.
    """
    teams = set(teams)

    def team_of(action: dict) -> object:
        move = action.get("move")
        return move.get("team") if isinstance(move, dict) else action.get("team")

    out = []
    for entry in entries:
        action = entry["action"] if "action" in entry else entry
        if action.get("do") in ("submit", "revise", "withdraw") and team_of(action) in teams:
            continue
        out.append(entry)
    return out


def read_log(path: Path | str) -> list[dict]:
    """The entries of a ``log.jsonl`` file, one JSON object a line."""
    path = Path(path)
    text = read_bounded(path, MAX_SAVE_BYTES, what="log file").decode("utf-8")
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ScenarioError(f"not a JSON line ({exc.msg})", file=str(path),
                                    line=n) from None
    return out


class Session:
    """A game bound to a folder: every action is logged, then the game saved atomically."""

    def __init__(self, game: Game, folder: Path | str) -> None:
        self.game, self.folder = game, Path(folder)

    @classmethod
    def start(cls, game_file: Path | str, folder: Path | str) -> Session:
        """A new game in ``folder`` (refused if the folder already holds a game)."""
        folder = Path(folder)
        if (folder / SAVE).exists() or (folder / LOG).exists():
            raise ScenarioError("already holds a game: resume it, or choose another folder",
                                file=str(folder))
        game = new_game(game_file)
        session = cls(game, folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_file_atomic(folder / LOG, "")
        save_game(game, folder / SAVE)
        return session

    @classmethod
    def resume(cls, folder: Path | str) -> Session:
        """The game saved in ``folder``, with any logged actions the save missed replayed."""
        folder = Path(folder)
        game = load_save(folder / SAVE)
        entries = read_log(folder / LOG) if (folder / LOG).exists() else []
        replay(game, entries[len(game.log):])
        return cls(game, folder)

    def act(self, action: dict):
        """``Game.act``, then one line appended to the log and the save rewritten."""
        result = self.game.act(action)
        entry = json.dumps(self.game.log[-1], sort_keys=True, allow_nan=False)
        with open(self.folder / LOG, "a", encoding="utf-8") as fh:
            fh.write(entry + "\n")
        save_game(self.game, self.folder / SAVE)
        return result
