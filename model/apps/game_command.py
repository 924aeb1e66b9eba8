"""``blocsim game ...``: the classroom wargame's commands (``docs/game.md``).

``game resolve GAME.yaml --moves MOVES.yaml [--out DIR]`` plays a whole game from scripted
moves, without prompts, and writes the save file, the action log, the plain per-turn summary
and the turn results to the output folder (default ``out/game/<game name>``).
``game play GAME.yaml [--save DIR]`` plays it at the keyboard (hot seat), resuming the game
saved in DIR if there is one; ``game brief GAME.yaml [--out DIR]`` writes the team briefs;
``game report SAVE [--out FILE]`` writes the debrief. Commands parse and make one call into
``model.game``; mistakes are one line with exit status 2 (``cli``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

GAME_COMMANDS = ("resolve", "play", "brief", "report")


def add_game_arguments(p: argparse.ArgumentParser) -> None:
    """The ``game`` sub-commands and their arguments."""
    sub = p.add_subparsers(dest="game_command", metavar="GAME_COMMAND")
    res = sub.add_parser("resolve", help="play a whole game from a moves file, no prompts",
                         description="Play GAME.yaml turn by turn with the moves of MOVES.yaml "
                                     "and write save.json, log.jsonl, summary.txt and turns.json.")
    res.add_argument("game", type=Path, help="game YAML file")
    res.add_argument("--moves", type=Path, required=True, help="moves YAML file")
    res.add_argument("--out", type=Path, help="output folder (default: out/game/<game name>)")
    res.add_argument("--quiet", "-q", action="store_true", help="print only the folder")
    add_front_arguments(sub)


def add_front_arguments(sub) -> None:
    """``game play``, ``game brief`` and ``game report``."""
    play = sub.add_parser("play", help="play at the keyboard, hot seat (resumes a saved game)",
                          description="Play GAME.yaml turn by turn at one keyboard: each team "
                                      "types its moves, the facilitator resolves the turn. The "
                                      "game is saved after every action; run the same command "
                                      "again to resume.")
    play.add_argument("game", type=Path, help="game YAML file")
    play.add_argument("--save", type=Path, help="game folder (default: out/play/<game name>); "
                                                "resumed if it holds a game")
    play.add_argument("--no-plots", action="store_true", help="do not refresh the PNGs after "
                                                              "each turn")
    brief = sub.add_parser("brief", help="write one printable page per team",
                           description="Write briefs.html (every team, one printed page each) "
                                       "and brief_<team>.html into the folder.")
    brief.add_argument("game", type=Path, help="game YAML file")
    brief.add_argument("--out", type=Path, help="folder (default: out/play/<game name>/briefs)")
    rep = sub.add_parser("report", help="write the debrief of a saved game (one HTML file)",
                         description="Write the debrief of a game: its path, each team's moves "
                                     "and effects, the scoreboard, decisive moments, each team's "
                                     "causal effect and the class's world among model runs.")
    rep.add_argument("save", type=Path, help="a game folder or its save.json")
    rep.add_argument("--out", type=Path, help="HTML file (default: debrief.html beside the save)")
    rep.add_argument("--runs", type=int, default=500, help="model runs to compare with "
                                                           "(default 500)")


def run_game_command(args: argparse.Namespace) -> int:
    """Dispatch ``blocsim game <command>``."""
    if args.game_command is None:
        from ..base.errors import ScenarioError
        raise ScenarioError(f"give a game command: {', '.join(GAME_COMMANDS)} (blocsim game "
                            f"--help)")
    from . import game_front
    handlers = {"resolve": cmd_resolve, "play": game_front.cmd_play,
                "brief": game_front.cmd_brief, "report": game_front.cmd_report}
    return handlers[args.game_command](args)


def cmd_resolve(args: argparse.Namespace) -> int:
    """Play the scripted game in memory, then write its folder."""
    from ..base.files import check_output_dir, default_out_dir
    from ..game.script import GAME_FILES, SAVE, resolve_game, summary, write_game_folder

    if args.out is not None:  # a bad --out is refused before the game is played
        check_output_dir(args.out, SAVE,
                         replace_only=lambda d: all(p.name in GAME_FILES for p in d.iterdir()))
    game, results = resolve_game(args.game, args.moves)
    out = write_game_folder(game, results, args.out or default_out_dir("game", game.spec.name))
    if not args.quiet:
        print(summary(game, results))
    print(f"Game folder: {out}/ (save.json, log.jsonl, summary.txt, turns.json)")
    return 0
