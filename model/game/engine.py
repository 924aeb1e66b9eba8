"""The game engine: turns, moves, injects and the model steered between them.

``Game`` holds a ``BlocModel`` built from the game's scenario for every turn the game may have,
and a small JSON-able state (turn, phase, budgets, moves of the open turn, pending applications,
the events the game added, the history of turn results). Every change goes through
``Game.act(action)``, which appends the action to ``Game.log``; the named methods (``open_turn``,
``submit``, ``close_turn``, ...) build the action and call it. So a game is a pure function of
its game file and its log: ``replay`` gives the same state to the byte.

Resolution of a turn, in a fixed order that does not depend on the order moves came in: the
chance cards are drawn (one draw per chance card, from a generator of the game's seed and the
turn's number), applications decided, the accepted moves sorted by team (file order) and
content, swing teams' refusals and welcomes applied to the offers aimed at their states, then
the model advances year by year: each year's plan is the scenario's levers plus every move's
effort on its lever for the turn's years, and the events so far (``BlocModel.set_plan``). The
model's own generator comes from the game's seed: ``SeedSequence(seed, spawn_key=(0,))`` for
the model, ``spawn_key=(1, turn)`` for chance cards.

Imports base, data, core, config and the game's own modules.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict

import numpy as np

from ..base.errors import ScenarioError
from ..config.build import event_action, params_from_scenario, plan_from_scenario
from ..config.scenario import Scenario
from ..core.plan import EventAction, Plan
from ..core.record import DRIVERS
from ..core.simulation import BlocModel
from ..core.snapshot import Snapshot
from ..data.world import World
from .ledger import Ledger
from .moves import (
    MoveSpec,
    Verdict,
    check_spend,
    check_swing,
    move_cost,
    parse_move,
    refuse,
)
from .plans import offers_of, year_plan
from .scoring import outcomes_now, scores
from .spec import OWN, GameSpec, check_event, next_status
from .turns import TurnResult

ACTIONS = ("open", "submit", "revise", "withdraw", "close", "skip", "inject", "undo", "extend",
           "end")
PHASES = ("ready", "open", "over")  # ready: between turns (or before the first)


def model_seed(seed: int) -> np.random.Generator:
    """The model's generator for a game seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))


def chance_seed(seed: int, turn: int) -> np.random.Generator:
    """The generator of turn ``turn``'s chance cards (the same whatever happened before)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, turn)))


class Game:
    """A classroom game in progress: the model, the teams' moves and the facilitator's powers.

    Build it with ``Game(spec, scenario, world)`` from ``spec.load_game`` (or
    ``store.new_game(path)``). Methods that change the game return a ``Verdict`` (accepted or
    refused with a code and a reason) or, for ``close_turn``/``skip_turn``, a ``TurnResult``
    (or a refusal ``Verdict``).
    """

    def __init__(self, spec: GameSpec, scenario: Scenario, world: World) -> None:
        self.spec, self.scenario, self.world = spec, scenario, world
        self.team_ids = list(spec.teams)
        self.background = plan_from_scenario(scenario, world)
        params = params_from_scenario(scenario)
        self.steps_per_year = int(round(1.0 / scenario.dt))
        self.model = BlocModel(world, params, Plan(levers=(), events=self.background.events),
                               rng=model_seed(spec.seed), start_year=scenario.start_year,
                               horizon=spec.horizon, dt=scenario.dt)
        self.ledger = Ledger(params, world.n, scenario.dt)
        self.threshold = scenario.parameters.lean_threshold
        self.log: list[dict] = []
        self.world_dir = "."  # where the scenario's world is found (``store`` sets it)
        self.undo_stack: list[tuple[dict, Snapshot, list[str], dict]] = []
        self.state = {
            "turn": 0, "phase": "ready", "turns_total": spec.turns,
            "seq": {t: 0 for t in self.team_ids},
            "moves": [], "left": {t: 0.0 for t in self.team_ids},
            "carry": {t: 0.0 for t in self.team_ids}, "injects": [], "fired": [],
            "pending": [], "events": [], "history": []}
        self.start = self.moment()

    # --- what the game shows ---------------------------------------------------------------

    @property
    def turn(self) -> int:
        """Turns resolved so far (the open turn, if any, is ``turn + 1``)."""
        return self.state["turn"]

    @property
    def phase(self) -> str:
        """``ready`` (between turns), ``open`` (moves accepted) or ``over``."""
        return self.state["phase"]

    @property
    def year(self) -> int:
        """The year the world now describes (its last simulated year)."""
        return self.scenario.start_year + self.turn * self.spec.years_per_turn

    def years_of(self, turn: int) -> tuple[int, int]:
        """First and last year simulated in turn ``turn`` (1-based)."""
        first = self.scenario.start_year + (turn - 1) * self.spec.years_per_turn + 1
        return first, first + self.spec.years_per_turn - 1

    def budget_left(self, team: str) -> float:
        """Points ``team`` has left in the open turn (0 between turns)."""
        return float(self.state["left"][team])

    def moves(self, viewer: str | None = None) -> list[dict]:
        """The open turn's accepted moves; with ``secret_moves``, a team sees only its own."""
        out = self.state["moves"]
        if viewer is not None and self.spec.secret_moves:
            out = [m for m in out if m["team"] == viewer]
        return copy.deepcopy(out)

    def pending_applications(self) -> list[dict]:
        """Applications waiting for the deciding team's answer."""
        return copy.deepcopy(self.state["pending"])

    def history(self) -> list[TurnResult]:
        """The results of every resolved turn, in order."""
        return [TurnResult.from_dict(h) for h in self.state["history"]]

    def status(self) -> dict:
        """What a facilitator's ``status`` shows: turn, phase, years, budgets, pending, scores."""
        nxt = self.turn + 1
        return {"game": self.spec.name, "turn": self.turn, "phase": self.phase,
                "turns_total": self.state["turns_total"], "year": self.year,
                "next_years": self.years_of(nxt) if self.phase != "over" else None,
                "budgets": {t: self.budget_left(t) for t in self.team_ids},
                "moves": len(self.state["moves"]), "injects": copy.deepcopy(self.state["injects"]),
                "pending": self.pending_applications(), "scores": self.scores(),
                "can_undo": bool(self.undo_stack)}

    def scores(self) -> dict[str, dict]:
        """Each team's score now (``scoring.scores``)."""
        return scores(self.spec, self.moment(), self.start, self.world)

    def moment(self) -> dict:
        """The world now: alignment, structure, SCO statuses and the run outcomes."""
        k = self.model.k
        return {"alignment": self.model.rec_alignment[k].copy(),
                "structure": self.model.rec_structure[k].copy(),
                "status": self.model.rec_status[k].copy(),
                "outcomes": outcomes_now(self.model.rec_alignment[k], self.model.rec_status[k],
                                         self.world, self.threshold)}

    # --- the actions ---------------------------------------------------------------------------

    def act(self, action: dict):
        """Carry out one action (a mapping with ``do``), log it, return its verdict or result.

        The action is first made plain JSON data (tuples become lists), so that what is logged
        is what was acted on and a replay of the log acts the same; an action that is not
        plain data (a NaN, an object) is logged as ``unreadable`` and refused.
        """
        try:
            action = json.loads(json.dumps(action, allow_nan=False))
        except (TypeError, ValueError):
            action = {"do": "unreadable", "text": repr(action)[:500]}
        kind = action.get("do") if isinstance(action, dict) else None
        if kind == "unreadable":
            result = refuse("malformed", "the action is not plain data (text, numbers, true/"
                                         "false, lists and mappings)")
        elif kind not in ACTIONS:
            result = refuse("malformed", f"unknown action {kind!r}; one of {', '.join(ACTIONS)}")
        else:
            result = getattr(self, f"_do_{kind}")(action)
        verdict = result if isinstance(result, Verdict) else Verdict(True)
        self.log.append({"action": action, **verdict.to_dict()})
        return result

    def open_turn(self) -> Verdict:
        """Open the next turn: teams may submit moves; budgets are filled."""
        return self.act({"do": "open"})

    def submit(self, move: dict) -> Verdict:
        """A team's move (``moves.MoveSpec`` as a mapping, with ``team``); its id if accepted."""
        return self.act({"do": "submit", "move": move})

    def revise(self, move_id: str, move: dict) -> Verdict:
        """Replace an accepted move of the open turn (same team), checked as if new."""
        return self.act({"do": "revise", "id": move_id, "move": move})

    def withdraw(self, team: str, move_id: str) -> Verdict:
        """Take back an accepted move of the open turn; its points return to the budget."""
        return self.act({"do": "withdraw", "team": team, "id": move_id})

    def close_turn(self):
        """Close the open turn and resolve it: a ``TurnResult``, or a refusal ``Verdict``."""
        return self.act({"do": "close"})

    def skip_turn(self):
        """Resolve the open turn without the teams' moves (the world runs on)."""
        return self.act({"do": "skip"})

    def inject(self, card: str | None = None, event: dict | None = None) -> Verdict:
        """Play a deck card by name, or an event written on the spot (no year: this turn)."""
        action = {"do": "inject", "card": card} if card is not None else {
            "do": "inject", "event": event}
        return self.act(action)

    def undo(self) -> Verdict:
        """Undo the last resolution: back to that turn, open, with its moves, exactly."""
        return self.act({"do": "undo"})

    def extend(self, turns: int = 1) -> Verdict:
        """Add turns to the game (at most ``extra_turns`` in all)."""
        return self.act({"do": "extend", "turns": turns})

    def end(self) -> Verdict:
        """End the game now (an open turn's moves are dropped)."""
        return self.act({"do": "end"})

    # --- action handlers -------------------------------------------------------------------

    def _do_open(self, action: dict) -> Verdict:
        s = self.state
        if s["phase"] != "ready":
            return refuse("turn_closed", "a turn is already open" if s["phase"] == "open"
                          else "the game is over")
        s["phase"] = "open"
        s["moves"] = []
        for t, team in self.spec.teams.items():
            s["left"][t] = team.budget + s["carry"][t]
        return Verdict(True)

    def _check(self, move: MoveSpec, *, replacing: str | None = None) -> Verdict:
        """Whether ``move`` may join the open turn (``replacing`` an accepted one)."""
        s = self.state
        if move.team not in self.spec.teams:
            return refuse("unknown_team", f"no team '{move.team}' (teams: "
                                          f"{', '.join(self.team_ids)})")
        if s["phase"] != "open":
            return refuse("turn_closed", "no turn is open: moves wait for the next turn"
                          if s["phase"] == "ready" else "the game is over")
        others = [m for m in s["moves"] if m["id"] != replacing]
        if move.kind == "spend":
            left = s["left"][move.team] + sum(m["cost"] for m in s["moves"]
                                             if m["id"] == replacing)
            used = sum(1 for m in others if m["team"] == move.team
                       and m["move"].get("move") == move.move)
            return check_spend(self.spec, self.world, move, left=left, used=used)
        if move.kind in ("respond", "apply"):
            verdict = check_swing(self.spec, move)
            if not verdict.ok or move.kind == "respond":
                return verdict
            if any(p["state"] == move.state for p in s["pending"]) or any(
                    m["move"].get("state") == move.state and "apply" in m["move"] for m in others):
                return refuse("already_applied", f"{move.state} already has an application "
                                                 f"pending")
            if self.spec.apply_cost > s["left"][move.team] + 1e-9:
                return refuse("over_budget", f"applying costs {self.spec.apply_cost:g} points; "
                                             f"{move.team} has {s['left'][move.team]:g} left")
            return verdict
        pending = [p for p in s["pending"] if p["state"] == move.state]  # decide
        if any(m["move"].get("decide") and m["move"].get("state") == move.state for m in others):
            return refuse("limit", f"the application of '{move.state}' is already decided this "
                                   f"turn")
        if not pending:
            return refuse("no_application", f"no application of '{move.state}' is pending")
        decider = getattr(self.spec.applications, pending[0]["bloc"]).decided_by
        if decider != move.team:
            return refuse("not_decider", f"{pending[0]['bloc']} applications are decided by "
                                         f"{decider}, not {move.team}")
        return Verdict(True)

    def _cost(self, move: MoveSpec) -> float:
        if move.kind == "spend":
            return move_cost(self.spec.teams[move.team].menu[move.move], move, self.world)
        return self.spec.apply_cost if move.kind == "apply" else 0.0

    def _parse(self, data: object) -> MoveSpec | Verdict:
        """The move, with a swing team's ``own`` target written out as its states."""
        move = parse_move(data)
        if isinstance(move, Verdict) or move.kind != "spend" or OWN not in (move.targets or []):
            return move
        team = self.spec.teams.get(move.team)
        if team is None or team.side != "swing":
            return move
        targets = [t for t in move.targets if t != OWN]
        targets += [s for s in team.states if s not in targets]
        return move.model_copy(update={"targets": targets})

    def _do_submit(self, action: dict) -> Verdict:
        move = self._parse(action.get("move"))
        if isinstance(move, Verdict):
            return move
        verdict = self._check(move)
        if not verdict.ok:
            return verdict
        s = self.state
        s["seq"][move.team] += 1  # per team: one team's moves never shift another's ids
        move_id = f"t{self.turn + 1}:{move.team}:{s['seq'][move.team]}"
        cost = self._cost(move)
        s["moves"].append({"id": move_id, "team": move.team, "move": move.to_dict(),
                           "cost": cost})
        s["left"][move.team] = max(0.0, s["left"][move.team] - cost)  # never below 0
        return Verdict(True, move_id=move_id)

    def _find(self, move_id: object, team: object) -> dict | None:
        return next((m for m in self.state["moves"] if m["id"] == move_id
                     and (team is None or m["team"] == team)), None)

    def _do_revise(self, action: dict) -> Verdict:
        move = self._parse(action.get("move"))
        if isinstance(move, Verdict):
            return move
        if self.phase != "open":
            return self._check(move)
        old = self._find(action.get("id"), move.team)
        if old is None:
            return refuse("unknown_move", f"{move.team} has no move {action.get('id')!r} in "
                                          f"this turn")
        verdict = self._check(move, replacing=old["id"])
        if not verdict.ok:
            return verdict
        cost = self._cost(move)
        self.state["left"][move.team] = max(0.0, self.state["left"][move.team] + old["cost"] - cost)
        old.update(move=move.to_dict(), cost=cost)
        return Verdict(True, move_id=old["id"])

    def _do_withdraw(self, action: dict) -> Verdict:
        if self.phase != "open":
            return refuse("turn_closed", "no turn is open")
        old = self._find(action.get("id"), action.get("team"))
        if old is None:
            return refuse("unknown_move", f"{action.get('team')} has no move "
                                          f"{action.get('id')!r} in this turn")
        self.state["moves"].remove(old)
        self.state["left"][old["team"]] += old["cost"]
        return Verdict(True, move_id=old["id"])

    def _do_inject(self, action: dict) -> Verdict:
        s = self.state
        if s["phase"] == "over":
            return refuse("turn_closed", "the game is over")
        card = action.get("card")
        if card is not None:
            if card not in self.spec.deck:
                return refuse("not_on_menu", f"no card '{card}' in the deck (cards: "
                                             f"{', '.join(self.spec.deck) or 'none'})")
            deck = self.spec.deck[card]
            if deck.once and card in s["fired"]:
                return refuse("limit", f"the card '{card}' has been played (it plays once)")
            event, source = deck.event, card
        else:
            event, source = action.get("event"), "ad hoc"
        first, _ = self.years_of(self.turn + 1)
        try:
            check_event(event, first, self.world, "inject", {}, ("event",))
        except ScenarioError as exc:
            return refuse("malformed", str(exc).removeprefix("inject: "))
        s["injects"].append({"source": source, "event": copy.deepcopy(event)})
        if card is not None:
            s["fired"].append(card)
        return Verdict(True)

    def _do_extend(self, action: dict) -> Verdict:
        n = action.get("turns", 1)
        s = self.state
        room = self.spec.turns + self.spec.extra_turns - s["turns_total"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            return refuse("malformed", "turns must be a whole number of at least 1")
        if n > room:
            return refuse("limit", f"the game may be extended by {room} more turn(s) "
                                   f"(extra_turns: {self.spec.extra_turns})")
        s["turns_total"] += n
        if s["phase"] == "over" and self.turn < s["turns_total"] and not s.get("ended"):
            s["phase"] = "ready"
        return Verdict(True)

    def _do_end(self, action: dict) -> Verdict:
        s = self.state
        if s["phase"] == "over":
            return refuse("turn_closed", "the game is already over")
        for m in s["moves"]:
            s["left"][m["team"]] += m["cost"]
        s.update(phase="over", moves=[], ended=True)
        return Verdict(True)

    def _do_undo(self, action: dict) -> Verdict:
        if not self.undo_stack:
            return refuse("limit", "no resolution to undo")
        cp = self.undo_stack.pop()
        self.restore_checkpoint(cp, history=self.state["history"][:cp[0]["history"]])
        return Verdict(True)

    def _do_close(self, action: dict):
        return self._resolve(skip=False)

    def _do_skip(self, action: dict):
        return self._resolve(skip=True)

    # --- resolution --------------------------------------------------------------------------

    def checkpoint(self) -> tuple[dict, Snapshot, list[str], dict]:
        """Everything needed to come back to this exact moment (``undo``).

        The history is kept as its length only: what follows it is dropped on undo.
        """
        state = {k: copy.deepcopy(v) for k, v in self.state.items() if k != "history"}
        state["history"] = len(self.state["history"])
        return state, self.model.snapshot(), list(self.ledger.owners), self.ledger.to_arrays()

    def restore_checkpoint(self, cp: tuple, *, history: list[dict]) -> None:
        """Come back to a ``checkpoint`` exactly, with ``history`` as the turns resolved."""
        state, snap, owners, arrays = cp
        self.state = {**copy.deepcopy(state), "history": list(history)}
        self.model.restore(snap)
        self.ledger.restore(owners, arrays)

    def _resolve(self, *, skip: bool):
        if self.state["phase"] != "open":
            return refuse("turn_closed", "no turn is open" if self.state["phase"] == "ready"
                          else "the game is over")
        self.undo_stack.append(self.checkpoint())
        try:
            return self._resolve_open(skip=skip)
        except BaseException:  # a failed resolution (the model went non-finite) changes nothing
            cp = self.undo_stack.pop()
            self.restore_checkpoint(cp, history=self.state["history"][:cp[0]["history"]])
            raise

    def _resolve_open(self, *, skip: bool) -> TurnResult:
        s = self.state
        turn = self.turn + 1
        first, last = self.years_of(turn)
        before = self.moment()
        chance = self._draw_chance(turn)
        moves = [] if skip else sorted(s["moves"], key=lambda m: (
            self.team_ids.index(m["team"]), _canonical(m["move"]), m["id"]))
        decided = self._decide(moves, turn, first)
        for inj in s["injects"]:
            ev = check_event(inj["event"], first, self.world, "inject", {}, ("event",))
            s["events"].append(asdict(event_action(ev, self.world)))
        offers, factors = offers_of(self.spec, self.world, moves)
        self.ledger.add_owners([o["id"] for o in offers])
        by_owner = np.zeros((len(self.ledger.owners), self.world.n))
        drivers = np.zeros((len(DRIVERS), self.world.n))
        for year in range(first, last + 1):
            plan, effort = year_plan(year, offers, self.background, self.ledger.owners,
                                     self.state["events"], self.world.n)
            self.model.set_plan(plan)
            for _ in range(self.steps_per_year):
                self.model.step()
                contrib = self.model.rec_contrib[self.model.k]
                by_owner += self.ledger.step(effort, contrib)
                drivers += contrib
        if self.spec.carry_over:
            s["carry"] = {t: (0.0 if skip else s["left"][t]) for t in self.team_ids}
        spent = {t: 0.0 if skip else sum(m["cost"] for m in s["moves"] if m["team"] == t)
                 for t in self.team_ids}
        result = TurnResult(
            turn=turn, years=(first, last), skipped=skip,
            moves=[{**m, "factors": factors.get(m["id"], {})} for m in moves],
            injects=copy.deepcopy(s["injects"]), chance=chance, applications=decided,
            alignment_before=before["alignment"], alignment_after=self.moment()["alignment"],
            owners=list(self.ledger.owners), by_owner=by_owner, drivers=drivers,
            scores=self.scores(), spent=spent, outcomes=self.moment()["outcomes"])
        s["history"].append(result.to_dict())
        s.update(turn=turn, moves=[], injects=[], left={t: 0.0 for t in self.team_ids})
        s["phase"] = "over" if turn >= s["turns_total"] else "ready"
        return result

    def _draw_chance(self, turn: int) -> list[dict]:
        """One draw per chance card (deck order); a card that comes up is injected this turn."""
        rng = chance_seed(self.spec.seed, turn)
        out = []
        for name, card in self.spec.deck.items():
            if card.played_by != "chance":
                continue
            u = float(rng.random())
            fires = u < card.probability and not (card.once and name in self.state["fired"])
            out.append({"card": name, "draw": u, "probability": card.probability, "fired": fires})
            if fires:
                self.state["injects"].append({"source": f"chance:{name}",
                                              "event": copy.deepcopy(card.event)})
                self.state["fired"].append(name)
        return out

    def _decide(self, moves: list[dict], turn: int, first: int) -> list[dict]:
        """New applications (by rule now, or pending for a team) and teams' decisions."""
        s = self.state
        out = []
        for m in moves:
            mv = m["move"]
            if "apply" in mv:
                decider = getattr(self.spec.applications, mv["apply"]).decided_by
                app = {"state": mv["state"], "bloc": mv["apply"], "team": m["team"], "turn": turn}
                if decider == "rule":
                    out.append(self._admit(app, self._rule(app), "rule", first))
                else:
                    s["pending"].append(app)
            elif "decide" in mv:
                app = next(p for p in s["pending"] if p["state"] == mv["state"])
                s["pending"].remove(app)
                out.append(self._admit(app, mv["decide"] == "admit", m["team"], first))
        for app in [p for p in s["pending"] if p["turn"] < turn]:  # a turn unanswered: the rule
            s["pending"].remove(app)
            out.append(self._admit(app, self._rule(app), "rule (no answer)", first))
        return out

    def _rule(self, app: dict) -> bool:
        rule = getattr(self.spec.applications, app["bloc"])
        a = float(self.model.a[self.world.index[app["state"]]])
        return a >= rule.threshold if app["bloc"] == "sco" else a <= rule.threshold

    def _admit(self, app: dict, admitted: bool, by: str, year: int) -> dict:
        """Record a decision; an admission adds its events to the plan for ``year``."""
        i = self.world.index[app["state"]]
        if admitted and app["bloc"] == "sco":
            events = [EventAction(kind="join", year=year, targets=(i,), org="SCO",
                                  status=next_status(self.model.status[i]))]
        elif admitted:
            events = [event_action(check_event({**ev, "state": app["state"]}, year, self.world,
                                               "partnership", {}, ()), self.world)
                      for ev in self.spec.partnership]
        else:
            events = []
        self.state["events"] += [asdict(ev) for ev in events]
        return {**app, "admitted": admitted, "by": by}


def _canonical(move: dict) -> str:
    """A move's content as one sortable string (the order of submission plays no part)."""
    return repr(sorted(move.items()))
