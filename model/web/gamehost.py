"""One classroom game served to a class: the saved session, its lock, its codes and signing key.

``GameHost.open`` starts the game of a game file in a save folder, or resumes the one saved
there (``game.store.Session``: every action logged, then the save rewritten atomically, so a
server restart resumes where it was). The cookie signing key, the join codes and the turn's
clock live beside the save in ``web.json``, readable by its owner only (0600), so a restart keeps
every team's session valid. Every action goes through ``GameHost.act`` under one lock: two teams
submitting at the same instant are carried out one after the other and both count. The web adds
no rules: a team's move is the engine's move with the team taken from the session, never from
the form. Imports base, config, game and web.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path

from ..base.errors import ScenarioError
from ..game.moves import MoveSpec, Verdict, move_cost, parse_move
from ..game.spec import load_game
from ..game.store import SAVE, Session
from .board import Board
from .security import Codes

WEB_FILE = "web.json"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to a file only its owner may read (0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp makes it 0600
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ScenarioError(f"cannot write ({exc.strerror})", file=str(path)) from None
    os.chmod(path, 0o600)


def load_keys(folder: Path, teams: list[str]) -> dict:
    """The folder's signing key, codes and clock; made (and written, 0600) if missing."""
    path = folder / WEB_FILE
    keys = None
    if path.exists():
        try:
            keys = json.loads(path.read_text(encoding="utf-8"))
            if sorted(keys["teams"]) != sorted(teams) or not keys["secret"]:
                keys = None  # another game's codes: issue fresh ones
        except (OSError, ValueError, KeyError, TypeError):
            raise ScenarioError("damaged web keys file (delete it to issue new codes; every "
                                "team then joins again)", file=str(path)) from None
    if keys is None:
        codes = Codes.issue(teams)
        keys = {"secret": secrets.token_urlsafe(32), "facilitator": codes.facilitator,
                "teams": codes.teams, "opened_at": None}
        write_private(path, json.dumps(keys, indent=1))
    return keys


class GameHost:
    """A served game: its session, the lock that serialises actions, codes, key and clock."""

    def __init__(self, session: Session, keys: dict, *, resumed: bool = False) -> None:
        self.session, self.keys, self.resumed = session, keys, resumed
        self.lock = threading.RLock()
        self.board = Board()
        self.codes = Codes(keys["facilitator"], dict(keys["teams"]))
        self._debrief: tuple[int, str] | None = None
        #: called under the lock after every action (the pages' views are made again)
        self.listeners: list = []

    @classmethod
    def open(cls, game_file: Path | str, folder: Path | str) -> GameHost:
        """The game of ``game_file`` started in ``folder``, or resumed from the save there."""
        game_file, folder = Path(game_file), Path(folder)
        spec, _, _ = load_game(game_file)
        if (folder / SAVE).exists():
            session = Session.resume(folder)
            if session.game.spec.name != spec.name:
                raise ScenarioError(f"holds the game '{session.game.spec.name}', not "
                                    f"'{spec.name}'", file=str(folder))
            resumed = True
        else:
            session, resumed = Session.start(game_file, folder), False
        return cls(session, load_keys(folder, session.game.team_ids), resumed=resumed)

    @property
    def game(self):
        """The engine's ``Game``."""
        return self.session.game

    @property
    def folder(self) -> Path:
        """The save folder."""
        return self.session.folder

    @property
    def version(self) -> int:
        """Actions carried out so far (the log's length): pages cache their views by it."""
        return len(self.game.log)

    def act(self, action: dict):
        """One action, logged and saved, under the lock; the board is told afterwards."""
        with self.lock:
            phase = self.game.phase
            result = self.session.act(action)
            if self.game.phase == "open" and phase != "open":
                self._set_clock(time.time())
            elif self.game.phase != "open" and phase == "open":
                self._set_clock(None)
            for listener in self.listeners:
                listener()
        self.board.publish()
        return result

    def _set_clock(self, when: float | None) -> None:
        self.keys["opened_at"] = when
        write_private(self.folder / WEB_FILE, json.dumps(self.keys, indent=1))

    @property
    def opened_at(self) -> float | None:
        """When the open turn was opened (seconds since the epoch), or None."""
        return self.keys.get("opened_at")

    # --- a team's moves: the team comes from the session ---------------------------------------

    def submit(self, team: str, move: dict, replacing: str | None = None) -> Verdict:
        """A team's move (new, or revising its move ``replacing``), as the engine judges it."""
        move = {**move, "team": team}
        action = {"do": "revise", "id": replacing, "move": move} if replacing else {
            "do": "submit", "move": move}
        return self.act(action)

    def withdraw(self, team: str, move_id: str) -> Verdict:
        """Take back one of the team's own moves (another team's id is refused as unknown)."""
        return self.act({"do": "withdraw", "team": team, "id": move_id})

    def cost(self, team: str, move: dict) -> float | None:
        """What a spend move would cost (the engine's ``move_cost``), or None if not a move."""
        parsed = parse_move({**move, "team": team})
        if not isinstance(parsed, MoveSpec) or parsed.kind != "spend":
            return None
        item = self.game.spec.teams[team].menu.get(parsed.move)
        if item is None:
            return None
        try:
            return move_cost(item, parsed, self.game.world)
        except (KeyError, ValueError):
            return None

    def debrief(self, runs: int) -> str:
        """The debrief's HTML (``game.debrief.render``), made once per state of the game."""
        from ..game.debrief import render
        with self.lock:
            if self._debrief is None or self._debrief[0] != self.version:
                self._debrief = (self.version, render(self.game, runs=runs))
            return self._debrief[1]
