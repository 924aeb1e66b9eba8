"""A game on disk: the save file, the action log, resuming and replaying.

The save file (``save.json``) is one JSON document holding everything: the game and its
scenario as validated (so a save resumes even if the files change), the game's state, the
model's snapshot, the attribution ledger, the undo stack and the log of actions. Arrays are
stored as raw bytes (zlib, base64) with dtype and shape, and JSON floats by ``repr``: nothing is
rounded, and the same game always gives the same bytes (no clock, no zip timestamps). A
``Session`` appends each action to ``log.jsonl`` and rewrites the save atomically after it;
``resume`` reads the save and replays any actions the log holds beyond it (a crash between
the two writes loses nothing). ``replay`` plays a log from the start on a fresh game. A save is
loaded by replaying its own log on its own game and scenario, and must come out the same: a save
edited by hand or damaged is refused in one line, and its stored arrays are never decoded.

Imports base, data, config and the game's own modules.
"""

from __future__ import annotations

import base64
import json
import weakref
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
#: Bounds on a log (a replay's time): a 70-turn game of five busy teams logs a few thousand
#: actions and resolves each turn once, plus the facilitator's undos.
MAX_ACTIONS, MAX_RESOLUTIONS = 50_000, 500


def encode_array(a: np.ndarray) -> dict:
    """An array as JSON: dtype, shape and its bytes (zlib, base64)."""
    a = np.ascontiguousarray(a)
    return {"dtype": a.dtype.str, "shape": list(a.shape),
            "data": base64.b64encode(zlib.compress(a.tobytes(), 6)).decode("ascii")}


def _encode_snapshot(snap: Snapshot) -> dict:
    return {"header": snap.header, "arrays": {k: encode_array(v) for k, v in snap.arrays.items()}}


def _checkpoint_dict(cp: tuple) -> dict:
    state, snap, owners, arrays = cp
    return {"state": state, "model": _encode_snapshot(snap), "owners": owners,
            "arrays": {k: encode_array(v) for k, v in arrays.items()}}


#: Each game's undo checkpoints as encoded, keyed by the checkpoint's id (the checkpoint is
#: kept with its encoding, so the id cannot be reused while the entry lives). A checkpoint on
#: the stack never changes (its state is a deep copy, the model and ledger arrays are copies),
#: so its encoding is made once, not at every save: most of a save's time otherwise.
_UNDO_CACHE: weakref.WeakKeyDictionary[Game, dict[int, tuple[tuple, dict]]] = \
    weakref.WeakKeyDictionary()


def _undo_dicts(game: Game) -> list[dict]:
    """The undo stack encoded (``_checkpoint_dict``), from the cache where it can be."""
    cache = _UNDO_CACHE.setdefault(game, {})
    out, kept = [], {}
    for cp in game.undo_stack:
        hit = cache.get(id(cp))
        encoded = hit[1] if hit is not None and hit[0] is cp else _checkpoint_dict(cp)
        kept[id(cp)] = (cp, encoded)
        out.append(encoded)
    _UNDO_CACHE[game] = kept  # undone checkpoints are dropped
    return out


def game_to_dict(game: Game) -> dict:
    """The whole game as JSON-able data (see the module docstring)."""
    return {"format": FORMAT, "version": VERSION,
            # as JSON text, so the save's sorted keys do not reorder teams, menus and the deck
            "game": json.dumps(game.spec.model_dump(mode="json"), allow_nan=False),
            "scenario": json.dumps(game.scenario.model_dump(mode="json"), allow_nan=False),
            "world_dir": game.world_dir, "history": game.state["history"],
            "now": _checkpoint_dict(game.checkpoint()),
            "undo": _undo_dicts(game), "log": game.log}


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
    game.world_dir = world_dir(scenario)
    return game


def world_dir(scenario: Scenario) -> str:
    """Where a save looks for the scenario's world file.

    "." for the built-in world, so the save's bytes do not depend on how the game file's path
    was typed; else the scenario's folder as an absolute path, so the game resumes from any
    working directory.
    """
    return "." if scenario.world == "builtin" else str(Path(scenario._source).parent.resolve())


def game_from_dict(d: dict, label: str = "<save>") -> Game:
    """A game exactly as saved (``game_to_dict``), rebuilt by replaying the actions it logs.

    The save's game, scenario and log are read, the log is played on a fresh game and the
    result must be the save, to the value: a save edited by hand, damaged or written by another
    version is refused with one line, and nothing the save holds is decoded or trusted beyond
    that (its arrays are compared as text, never decompressed).
    """
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ScenarioError("not a blocsim game save file", file=label)
    if d.get("version") != VERSION:
        raise ScenarioError(f"save file version {d.get('version')} is not supported (this "
                            f"blocsim reads version {VERSION})", file=label)
    try:
        log = check_log(d["log"], label)
        spec = parse(json.loads(d["game"]), GameSpec, {}, label)
        scenario = parse(json.loads(d["scenario"]), Scenario, {}, label)
        if not isinstance(d["world_dir"], str):
            raise TypeError("world_dir is not text")
        world = prepare_world(scenario, Path(d["world_dir"]))
        game = Game(spec, scenario, world)
        game.world_dir = d["world_dir"]
        replay(game, log)
    except ScenarioError as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise ScenarioError(f"damaged save file ({where}{exc.detail})", file=label) from None
    except _DAMAGE as exc:
        raise ScenarioError(f"damaged save file ({type(exc).__name__}: {exc})",
                            file=label) from None
    if json.loads(save_bytes(game)) != d:
        raise ScenarioError("damaged save file: it does not match the actions it logs (edited "
                            "by hand, or written by another version of blocsim)", file=label)
    return game


#: What a damaged save or log may raise while it is read and replayed (ArithmeticError: a
#: hand-made scenario the model fails on).
_DAMAGE = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError,
           ArithmeticError)


def check_log(entries: object, label: str, *, lines: list[int] | None = None,
              before: list[dict] = ()) -> list[dict]:
    """``entries`` if it is a log a game may replay, else a one-line ``ScenarioError``.

    Each entry is a mapping whose ``action`` is a mapping; together with ``before`` (entries
    already played) a log holds at most ``MAX_ACTIONS`` actions and ``MAX_RESOLUTIONS`` turn
    resolutions, so a replay is bounded in time (``lines`` gives each entry's line for errors).
    """
    if not isinstance(entries, list):
        raise ScenarioError("the log is not a list of actions", file=label)
    for k, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("action"), dict):
            raise ScenarioError("not a logged action (a mapping with an 'action' mapping)",
                                file=label, line=lines[k] if lines else None,
                                path=None if lines else f"log.{k}")
    every = [*before, *entries]
    resolutions = sum(1 for e in every if e["action"].get("do") in ("close", "skip"))
    if len(every) > MAX_ACTIONS or resolutions > MAX_RESOLUTIONS:
        raise ScenarioError(f"the log holds {len(every)} actions and {resolutions} turn "
                            f"resolutions; a game has at most {MAX_ACTIONS} and "
                            f"{MAX_RESOLUTIONS}", file=label)
    return entries


def load_save(path: Path | str) -> Game:
    """Read a save file written by ``save_game``."""
    path = Path(path)
    raw = read_bounded(path, MAX_SAVE_BYTES, what="save file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, nested too deep
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


def read_log(path: Path | str, *, before: list[dict] = (), cut_short: bool = False) -> list[dict]:
    """The entries of a ``log.jsonl`` file, one JSON object a line (checked by ``check_log``).

    With ``cut_short``, a last line that is not JSON and has no line end (a write cut short by
    a full disk or a kill) is left out instead of refused.
    """
    path = Path(path)
    try:
        text = read_bounded(path, MAX_SAVE_BYTES, what="log file").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    out, lines = [], []
    rows = text.splitlines()
    for n, line in enumerate(rows, start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except (ValueError, RecursionError) as exc:  # not JSON, or nested too deep
                if cut_short and n == len(rows) and not text.endswith("\n"):
                    break
                raise ScenarioError(f"not a JSON line ({getattr(exc, 'msg', exc)})",
                                    file=str(path), line=n) from None
            lines.append(n)
    return check_log(out, str(path), lines=lines, before=before)


class Session:
    """A game bound to a folder: every action is logged, then the game saved atomically."""

    def __init__(self, game: Game, folder: Path | str) -> None:
        self.game, self.folder = game, Path(folder)
        self.stale_log = False  # the log is written again whole before the next append

    @classmethod
    def start(cls, game_file: Path | str, folder: Path | str) -> Session:
        """A new game in ``folder``, which must be new, empty or hold only the team briefs.

        A folder holding a game, or a user's files, is refused: the summary, plots and debrief
        written there later must never replace a user's file. The briefs (``game brief``'s
        default folder is ``briefs`` in the game's default folder) are written first.
        """
        folder = Path(folder)
        if (folder / SAVE).exists() or (folder / LOG).exists():
            raise ScenarioError("already holds a game: resume it, or choose another folder",
                                file=str(folder))
        if folder.exists() and not folder.is_dir():
            raise ScenarioError("is a file, not a folder: give a folder for the game",
                                file=str(folder))
        if folder.is_dir() and any(not _briefs(p) for p in folder.iterdir()):  # a user's files
            raise ScenarioError("holds files and no game (save.json); nothing was written: "
                                "choose a new or empty folder", file=str(folder))
        game = new_game(game_file)
        session = cls(game, folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_file_atomic(folder / LOG, "")
        save_game(game, folder / SAVE)
        return session

    @classmethod
    def resume(cls, folder: Path | str) -> Session:
        """The game saved in ``folder``, with any logged actions the save missed replayed.

        A log cut short (its last line torn) or shorter than the save's is written again from
        the game before the next action is appended (reading a game writes nothing).
        """
        folder = Path(folder)
        game = load_save(folder / SAVE)
        entries = read_log(folder / LOG, cut_short=True) if (folder / LOG).exists() else []
        extra = check_log(entries[len(game.log):], str(folder / LOG), before=game.log)
        try:
            replay(game, extra)
        except _DAMAGE as exc:
            raise ScenarioError(f"damaged log ({type(exc).__name__}: {exc})",
                                file=str(folder / LOG)) from None
        session = cls(game, folder)
        log = folder / LOG
        whole = "".join(log_line(e) for e in game.log).encode("utf-8")
        session.stale_log = not log.is_file() or log.read_bytes() != whole
        return session

    def act(self, action: dict):
        """``Game.act``, then one line appended to the log and the save rewritten."""
        result = self.game.act(action)
        if self.stale_log:  # cut short or shorter than the save (``resume``): whole again
            write_file_atomic(self.folder / LOG, "".join(log_line(e) for e in self.game.log[:-1]))
            self.stale_log = False
        with open(self.folder / LOG, "a", encoding="utf-8") as fh:
            fh.write(log_line(self.game.log[-1]))
        save_game(self.game, self.folder / SAVE)
        return result


def _briefs(path: Path) -> bool:
    """``path`` is the team briefs' folder (``game brief``) inside a game folder."""
    return path.name == "briefs" and path.is_dir() and (path / "briefs.html").is_file()


def log_line(entry: dict) -> str:
    """One entry of ``log.jsonl``, with its line end."""
    return json.dumps(entry, sort_keys=True, allow_nan=False) + "\n"
