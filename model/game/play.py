"""Terminal play: a hot-seat game at one keyboard (``blocsim game play GAME.yaml``).

Each turn opens by itself; every team in turn sees its menu and the points it has left and
types its moves; then the facilitator resolves the turn (``next``), and the room reads what
happened (``narrate.turn_text``) while the plots in the game folder are refreshed. Every action
goes through a ``store.Session``: it is appended to the log and the game saved at once, so
``quit`` (or a closed terminal) loses nothing and the same command resumes. What a line may say
is in ``HELP``; a refused move prints the engine's reason and changes nothing. ``summary.txt``
in the game folder holds every resolved turn's summary.

Input and output are two functions (``input``, ``print`` by default) so tests can drive it.
Imports base, data, config and the game's own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..base.errors import ScenarioError
from ..base.files import write_file_atomic
from ..config.yamlfile import parse_yaml
from .debrief import DEBRIEF, write_debrief
from .moves import Verdict
from .narrate import move_label, team_name, turn_text
from .spec import OWN, load_game
from .store import SAVE, Session, save_game
from .tiles import write_game_plots

SCROLL = 40  # blank lines printed when a team hands on in a game with secret moves
SUMMARY = "summary.txt"  # every resolved turn's summary, rewritten after each turn
FACILITATOR = ("next", "inject", "undo", "save", "status", "report", "quit", "skip", "extend",
               "end", "team", "help")
HELP = """\
A team's moves (at its prompt):
  MOVE TARGET... [INTENSITY]    a move from the menu, by name or number, e.g.  trade_deal KAZ 0.5
                                (targets: state codes or groups; intensity 0..1, default 1)
  refuse [TEAM] [LEVER] [STATES]  a swing team turns down offers (of TEAM, of LEVER) to its states
  welcome [TEAM] [LEVER] [STATES] a swing team welcomes them (they act harder)
  apply sco|west STATE          a swing team applies for SCO status / a Western partnership
  admit STATE | reject STATE    the deciding team answers a pending application
  drop N                        take back your move number N (its points come back)
  done  (or an empty line)      hand the keyboard to the next team
The facilitator (at any prompt):
  next          resolve the turn now        skip       resolve it without the teams' moves
  inject        list the deck               inject CARD   play a card
  inject {type: alignment_shock, delta: 0.03, state: KAZ}   an event written on the spot
  undo          undo the last resolution (back to that turn, with its moves)
  team NAME     give the keyboard to a team again      extend [N]   add turns
  status        budgets, moves, scores, key states     report       write the debrief
  save          save now (the game is saved after every action anyway)
  end           end the game now            quit       stop; the same command resumes
"""


class Terminal:
    """One game at one keyboard: prompts, commands, summaries."""

    def __init__(self, session: Session, game_file: Path, *, ask: Callable[[str], str] = input,
                 say: Callable[..., None] = print, plots: bool = True) -> None:
        self.session, self.game_file = session, Path(game_file)
        self.ask, self.say, self.plots = ask, say, plots
        self.done: set[str] = set()
        self.stop = False

    @property
    def game(self):
        """The game being played."""
        return self.session.game

    @property
    def folder(self) -> Path:
        """The game folder (save, log, plots, debrief)."""
        return self.session.folder

    # --- the loop ------------------------------------------------------------------------------

    def run(self) -> int:
        """Play until ``quit`` (or the end of input); the exit status."""
        while not self.stop:
            g = self.game
            if g.phase == "ready":
                self.act({"do": "open"})
                self.done = set()
                self.say(self.turn_header())
                continue
            team = next((t for t in g.team_ids if t not in self.done), None)
            if g.phase == "open" and team is not None:
                self.team_prompt(team)
            else:
                self.facilitator_prompt()
        return 0

    def read(self, prompt: str) -> str | None:
        """A line from the keyboard; None at the end of input."""
        try:
            return self.ask(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            self.say("")
            return None

    def act(self, action: dict):
        """One action through the session (logged and saved)."""
        return self.session.act(action)

    def turn_header(self) -> str:
        """The line that opens a turn."""
        g = self.game
        first, last = g.years_of(g.turn + 1)
        span = f"{first}" if first == last else f"{first}-{last}"
        return (f"\n##### Turn {g.turn + 1} of {g.state['turns_total']} ({span}) is open, about "
                f"{g.spec.minutes_per_turn:g} minutes. Teams move in turn; type 'help' for what "
                f"you may type. #####")

    # --- a team's prompt -----------------------------------------------------------------------

    def team_panel(self, team: str) -> str:
        """What a team sees: its budget left, its menu, its moves so far, what awaits it."""
        g, t = self.game, self.game.spec.teams[team]
        lines = [f"\n--- {team_name(g.spec, team)} ({team}, side {t.side}"
                 + (f", plays {', '.join(t.states)}" if t.states else "")
                 + f") - {g.budget_left(team):g} of {t.budget:g} points left ---"]
        for k, (name, item) in enumerate(t.menu.items(), start=1):
            one = item.cost + item.cost_per_target
            targets = ", ".join(", ".join(t.states) if x == OWN else x for x in item.targets)
            lines.append(f"  {k}. {name:<24} {one:g} pts per target at full intensity; "
                         f"targets: {targets} (at most {item.max_targets})"
                         + (f" - {item.description}" if item.description else ""))
        if t.side == "swing":
            lines.append("  also: refuse/welcome offers, apply sco|west STATE")
        for p in g.pending_applications():
            bloc = getattr(g.spec.applications, p["bloc"]).decided_by
            if bloc == team:
                lines.append(f"  waiting for your answer: {p['state']} applies to the "
                             f"{p['bloc'].upper() if p['bloc'] == 'sco' else 'West'} "
                             f"(admit {p['state']} / reject {p['state']})")
        mine = g.moves(team)
        if mine:
            lines.append("  your moves this turn:")
            lines += [f"    [{k}] {move_label(m)} ({', '.join(_where(m))}) - {m['cost']:g} pts"
                      for k, m in enumerate(mine, start=1)]
        return "\n".join(lines)

    def team_prompt(self, team: str) -> None:
        """Read one line for ``team`` and carry it out."""
        self.say(self.team_panel(team))
        while not self.stop and self.game.phase == "open" and team not in self.done:
            line = self.read(f"{team}> ")
            if line is None:
                return self.quit()
            word = line.split()[0].lower() if line else "done"
            if word in ("done", "ok", "pass"):
                self.done.add(team)
                if self.game.spec.secret_moves:  # scroll the team's moves off the screen
                    self.say("\n" * SCROLL + f"(moves are secret: {team} has handed on)")
            elif word in FACILITATOR:
                self.command(line)
                if word in ("next", "skip", "undo", "team", "end"):
                    return None
            elif word == "drop":
                self.drop(team, line)
            else:
                self.submit(team, line)
        return None

    def submit(self, team: str, line: str) -> None:
        """Parse a move line and submit it; say whether it was accepted and why not."""
        move = parse_line(self.game, team, line)
        if isinstance(move, str):
            self.say(f"  ? {move} (type 'help')")
            return
        verdict = self.act({"do": "submit", "move": move})
        if verdict.ok:
            self.say(f"  accepted ({verdict.move_id}); {self.game.budget_left(team):g} points "
                     f"left")
        else:
            self.say(f"  refused ({verdict.code}): {verdict.reason}")

    def drop(self, team: str, line: str) -> None:
        """``drop N``: withdraw the team's N-th move of the turn."""
        mine = self.game.moves(team)
        parts = line.split()
        if len(parts) != 2 or not 1 <= _count(parts[1], 0) <= len(mine):
            self.say(f"  ? drop N, with N from 1 to {len(mine)}" if mine else
                     "  ? you have no move to drop")
            return
        verdict = self.act({"do": "withdraw", "team": team, "id": mine[int(parts[1]) - 1]["id"]})
        self.say(f"  dropped; {self.game.budget_left(team):g} points left" if verdict.ok
                 else f"  refused ({verdict.code}): {verdict.reason}")

    # --- the facilitator -------------------------------------------------------------------

    def facilitator_prompt(self) -> None:
        """Read one facilitator command."""
        g = self.game
        if g.phase == "over":
            self.say("The game is over: 'report' writes the debrief, 'undo' takes back the last "
                     "turn, 'extend' adds one, 'quit' stops.")
        else:
            self.say(f"All teams have moved in turn {g.turn + 1}: 'next' resolves it "
                     f"(or inject, status, team NAME, undo, save, quit).")
        line = self.read("facilitator> ")
        if line is None:
            self.quit()
        elif line:
            self.command(line)

    def command(self, line: str) -> None:
        """Carry out a facilitator command."""
        word, _, rest = line.partition(" ")
        word, rest = word.lower(), rest.strip()
        if word in ("next", "skip"):
            self.resolve(skip=word == "skip")
        elif word == "inject":
            self.inject(rest)
        elif word == "undo":
            verdict = self.act({"do": "undo"})
            self.done = set(self.game.team_ids)
            self.say(f"Undone: turn {self.game.turn + 1} is open again with its moves "
                     f"('team NAME' to change a team's, 'next' to resolve)." if verdict.ok
                     else f"refused ({verdict.code}): {verdict.reason}")
        elif word == "team":
            if rest in self.game.team_ids and self.game.phase == "open":
                self.done.discard(rest)
            else:
                self.say(f"? team NAME, one of {', '.join(self.game.team_ids)}, while a turn is "
                         f"open")
        elif word == "extend":
            n = _count(rest, 0) if rest else 1
            if n < 1:
                self.say("? extend N, with N a whole number of turns (extend alone adds one)")
                return
            v = self.act({"do": "extend", "turns": n})
            self.say(f"The game now has {self.game.state['turns_total']} turns." if v.ok
                     else f"refused ({v.code}): {v.reason}")
        elif word == "end":
            v = self.act({"do": "end"})
            self.say("The game is over." if v.ok else f"refused ({v.code}): {v.reason}")
        elif word == "save":
            path = save_game(self.game, self.folder / SAVE)
            self.say(f"Saved to {path} (the game is also saved after every action).")
        elif word == "status":
            self.say(self.status())
        elif word == "report":
            self.report()
        elif word == "quit":
            self.quit()
        else:
            self.say(HELP)

    def resolve(self, *, skip: bool) -> None:
        """Close the turn, print what happened, refresh the plots."""
        result = self.act({"do": "skip" if skip else "close"})
        if isinstance(result, Verdict):
            self.say(f"refused ({result.code}): {result.reason}")
            return
        results = self.game.history()
        self.say(turn_text(self.game, results, result.turn))
        write_file_atomic(self.folder / SUMMARY, "\n\n".join(
            turn_text(self.game, results, k) for k in range(1, len(results) + 1)) + "\n")
        if self.plots:
            paths = write_game_plots(self.game, self.folder)
            self.say(f"(plots refreshed: {', '.join(p.name for p in paths)} in {self.folder})")
        if self.game.phase == "over":
            scores = self.game.scores()
            self.say("\nThe game is over. Final scores: " + ", ".join(
                f"{team_name(self.game.spec, t)} {scores[t]['total']:+.2f}"
                for t in self.game.team_ids))

    def inject(self, rest: str) -> None:
        """``inject`` lists the deck; ``inject CARD`` plays a card; ``inject {...}`` an event."""
        g = self.game
        if not rest:
            fired = set(g.state["fired"])
            for name, card in g.spec.deck.items():
                if card.played_by == "facilitator":
                    self.say(f"  {name}{' (played)' if name in fired else ''}: "
                             f"{card.description}")
            return
        if rest.startswith("{"):
            try:  # the bounded reader: no anchors (a typed line could expand to gigabytes)
                event, _ = parse_yaml(rest, "inject")
            except ScenarioError as exc:
                self.say(f"? not an event: {exc.detail}")
                return
            verdict = self.act({"do": "inject", "event": event})
        else:
            verdict = self.act({"do": "inject", "card": rest})
        self.say("  injected: it acts in this turn's first year" if verdict.ok
                 else f"  refused ({verdict.code}): {verdict.reason}")

    def status(self) -> str:
        """Budgets, moves submitted (how many: moves may be secret), scores, key states."""
        g = self.game
        st = g.status()
        lines = [f"{st['game']}: {st['turn']} of {st['turns_total']} turns resolved (the world "
                 f"stands in {st['year']}); phase {st['phase']}; {st['moves']} move(s) in"
                 f"{'' if st['can_undo'] else ' (nothing to undo)'}"]
        for t in g.team_ids:
            lines.append(f"  {team_name(g.spec, t)}: {st['budgets'][t]:g} points left, "
                         f"{len(g.moves(t))} move(s) this turn, score "
                         f"{st['scores'][t]['total']:+.2f}")
        lines += [f"  inject waiting: {i['source']}" for i in st["injects"]]
        lines += [f"  application waiting: {p['state']} to the {p['bloc']}" for p in st["pending"]]
        a = g.moment()["alignment"]
        keys = g.spec.key_states or list(g.scenario.key_states)
        lines.append("  key states: " + ", ".join(f"{k} {a[g.world.index[k]]:+.3f}" for k in keys))
        return "\n".join(lines)

    def report(self) -> None:
        """Write the debrief of the game so far into the game folder."""
        if not self.game.history():
            self.say("No turn has been resolved yet: nothing to debrief.")
            return
        self.say("Writing the debrief (the game replayed without each team, and the model's "
                 "runs)...")
        path = write_debrief(self.game, self.folder / DEBRIEF)
        self.say(f"Debrief written: {path}")

    def quit(self) -> None:
        """Stop; the game is already saved."""
        self.stop = True
        self.say(f"Game saved in {self.folder}. Resume with: blocsim game play {self.game_file} "
                 f"--save {self.folder}")


def _where(m: dict) -> list[str]:
    mv = m["move"]
    return mv.get("targets") or mv.get("states") or ([mv["state"]] if "state" in mv else [])


def _count(token: str, default: int) -> int:
    """A whole number typed in ASCII digits (not '²' or '٣'), else ``default``."""
    return int(token) if token.isascii() and token.isdigit() and len(token) < 10 else default


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def parse_line(game, team: str, line: str) -> dict | str:
    """A typed line as a move mapping, or what is wrong with it."""
    from ..core.levers import LEVERS

    spec, world = game.spec, game.world
    words = line.split()
    head, args = words[0], words[1:]
    codes = [a.upper() if a.upper() in world.index else a for a in args]
    if head.lower() in ("refuse", "welcome"):
        move: dict = {"team": team, "respond": head.lower()}
        states = []
        for a, c in zip(args, codes, strict=True):
            if a in spec.teams:
                move["to"] = a
            elif a in LEVERS:
                move["lever"] = a
            else:
                states.append(c)
        if states:
            move["states"] = states
        return move
    if head.lower() == "apply":
        if len(args) != 2 or args[0].lower() not in ("sco", "west"):
            return "apply sco STATE or apply west STATE"
        return {"team": team, "apply": args[0].lower(), "state": codes[1]}
    if head.lower() in ("admit", "reject"):
        if len(args) != 1:
            return f"{head.lower()} STATE"
        return {"team": team, "decide": head.lower(), "state": codes[0]}
    menu = list(spec.teams[team].menu)
    name = menu[_count(head, 0) - 1] if 1 <= _count(head, 0) <= len(menu) else head
    if name not in menu:
        return f"'{head}' is not on your menu ({', '.join(menu) or 'nothing'})"
    intensity = _number(codes[-1]) if codes else None
    targets = codes[:-1] if intensity is not None else codes
    if not targets:
        return f"{name} needs targets, e.g. {name} {spec.teams[team].menu[name].targets[0]}"
    move = {"team": team, "move": name, "targets": targets}
    if intensity is not None:
        move["intensity"] = intensity
    return move


def play(game_file: Path | str, folder: Path | str, *, ask=input, say=print,
         plots: bool = True) -> int:
    """Start the game of ``game_file`` in ``folder``, or resume the one saved there; play it."""
    game_file, folder = Path(game_file), Path(folder)
    spec, _, _ = load_game(game_file)
    if (folder / SAVE).exists():
        session = Session.resume(folder)
        if session.game.spec.name != spec.name:
            raise ScenarioError(f"holds the game '{session.game.spec.name}', not "
                                f"'{spec.name}'", file=str(folder))
        g = session.game
        say(f"Resuming {spec.name} from {folder}: {g.turn} of {g.state['turns_total']} turns "
            f"resolved" + (f", turn {g.turn + 1} open" if g.phase == "open" else "") + ".")
    else:
        session = Session.start(game_file, folder)
        g = session.game
        say(f"{spec.name}: {spec.description}\n{len(g.team_ids)} teams "
            f"({', '.join(team_name(spec, t) for t in g.team_ids)}), {spec.turns} turns of "
            f"{spec.years_per_turn} year(s) from {g.year}. Saved in {folder} after every action."
            f"\nType 'help' at any prompt for what you may type.")
    return Terminal(session, game_file, ask=ask, say=say, plots=plots).run()
