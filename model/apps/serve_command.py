"""``blocsim serve``: the web pages on one machine, for a class or for anyone's what-ifs.

Listens on loopback unless ``--host`` opens it; then a line says that the network can reach it.
Without a game file it serves the what-if page alone; with one it starts the game in its save
folder, or resumes the game saved there, and prints the facilitator's address and code and one
join code per team. Imports the web layer and uvicorn inside the function, so ``blocsim --help``
stays fast.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys

from ..base.errors import ScenarioError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``blocsim serve``."""
    from pathlib import Path

    p.add_argument("game", type=Path, nargs="?",
                   help="game YAML file: serve its game (without it, the what-if page alone)")
    p.add_argument("--save", type=Path,
                   help="game folder: the save, its log and the join codes (default: "
                        "out/play/<game name>, as 'blocsim game play'); a game saved there "
                        "resumes")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; "
                        "0.0.0.0 opens it to the network, e.g. a classroom)")


def run_serve_command(args: argparse.Namespace) -> int:
    """Check the options, print where to go, and serve until interrupted."""
    if not 1 <= args.port <= 65535:
        raise ScenarioError(f"--port {args.port}: must be between 1 and 65535")
    if args.game is not None and not args.game.is_file():
        raise ScenarioError(f"{args.game}: game file not found")
    import uvicorn

    from ..web.app import create_app

    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    host = public = None
    if args.game is not None:
        host, public = open_game(args, shown)
    app = create_app(game_file=args.game, host=host, public_url=public)
    print(f"blocsim: what-if page at http://{shown}:{args.port}/whatif")
    if not is_loopback(args.host):
        print(f"blocsim: note: listening on {args.host}: OPEN TO THE NETWORK (other machines can "
              f"reach port {args.port}); use the default --host 127.0.0.1 to keep it local")
    if host is not None:
        print_codes(host, f"http://{shown}:{args.port}", public)
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def lan_address() -> str | None:
    """This machine's address on its network (the route a packet would take; nothing is sent)."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # UDP connect: chooses a route, sends nothing
            return s.getsockname()[0]
    except OSError:
        return None


def open_game(args: argparse.Namespace, shown: str):
    """The served game (started or resumed in its folder) and the address for join codes."""
    from ..base.files import default_out_dir
    from ..game.spec import load_game
    from ..web.gamehost import GameHost

    spec, _, _ = load_game(args.game)
    folder = args.save or default_out_dir("play", spec.name)
    host = GameHost.open(args.game, folder)
    public = None
    if not is_loopback(args.host):
        lan = lan_address() if args.host in ("0.0.0.0", "::") else args.host
        public = f"http://{lan or shown}:{args.port}"
    return host, public


def print_codes(host, local: str, public: str | None) -> None:
    """The facilitator's address and code, and each team's join code."""
    g = host.game
    state = (f"resumed: {g.turn} of {g.state['turns_total']} turns played"
             + (f", turn {g.turn + 1} open" if g.phase == "open" else "")) if host.resumed \
        else "new game"
    print(f"blocsim: game {g.spec.name} ({state}), saved after every action in {host.folder}/")
    print(f"blocsim: facilitator: {local}/join  code {host.codes.facilitator}  (keep it to "
          f"yourself)")
    for team, code in host.codes.teams.items():
        print(f"blocsim:   team {team:<16} code {code}")
    print(f"blocsim: students join at {public or local}/join; the board is {local}/board; "
          f"printable codes at {local}/facilitator/codes")
    print(f"blocsim: codes and the cookie key are kept in {host.folder}/web.json (private): a "
          f"restart keeps everyone's session")
