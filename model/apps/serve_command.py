"""``blocsim serve``: the web pages on one machine, for a class or for anyone's what-ifs.

Listens on loopback unless ``--host`` opens it; then a line says that the network can reach it.
Without a game file it serves the what-if page alone; the game pages are not built yet, so a
game file is checked to exist and then named as not served, in one line. Imports the web layer
and uvicorn inside the function, so ``blocsim --help`` stays fast.
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
                   help="game YAML file (the game pages are not yet available; without it, the "
                        "what-if page alone is served)")
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

    app = create_app(game_file=args.game)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"blocsim: what-if page at http://{shown}:{args.port}/whatif")
    if args.game is not None:
        print(f"blocsim: note: {args.game}: game pages not yet available (they come with the "
              f"wargame engine); serving the what-if page only")
    if not is_loopback(args.host):
        print(f"blocsim: note: listening on {args.host}: OPEN TO THE NETWORK (other machines can "
              f"reach port {args.port}); use the default --host 127.0.0.1 to keep it local")
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
