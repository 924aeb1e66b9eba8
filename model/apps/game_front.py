"""``blocsim game play``, ``game brief`` and ``game report``: the classroom's front end.

Each parses nothing itself (``game_command`` does) and makes one call into ``model.game``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..base.errors import ScenarioError
from ..base.files import default_out_dir


def cmd_play(args: argparse.Namespace) -> int:
    """Play at the keyboard, or resume the game saved in the folder."""
    from ..game.play import play
    from ..game.spec import load_game

    folder = args.save
    if folder is None:
        folder = default_out_dir("play", load_game(args.game)[0].name)
    return play(args.game, folder, plots=not args.no_plots)


def cmd_brief(args: argparse.Namespace) -> int:
    """Write the team briefs of a game file (the world at its start)."""
    from ..game.brief import ALL_BRIEFS, write_briefs
    from ..game.store import new_game

    game = new_game(args.game)
    out = write_briefs(game, args.out or default_out_dir("play", game.spec.name, "briefs"))
    print(f"Team briefs: {out / ALL_BRIEFS} (every team, one page each) and "
          f"{', '.join(f'brief_{t}.html' for t in game.team_ids)} in {out}/")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the debrief of a saved game."""
    from ..game.debrief import DEBRIEF, write_debrief
    from ..game.store import SAVE, Session, load_save

    path = Path(args.save)
    if not 1 <= args.runs <= 100_000:
        raise ScenarioError("--runs must be between 1 and 100000")
    if path.is_dir():
        if not (path / SAVE).exists():
            raise ScenarioError("holds no saved game (save.json)", file=str(path))
        game, folder = Session.resume(path).game, path
    elif path.exists():
        game, folder = load_save(path), path.parent
    else:
        raise ScenarioError("no such game folder or save file", file=str(path))
    out = write_debrief(game, args.out or folder / DEBRIEF, runs=args.runs)
    print(f"Debrief: {out}")
    return 0
