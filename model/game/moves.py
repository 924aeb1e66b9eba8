"""Moves: what a team submits in a turn, and the check that accepts it or says why not.

Four kinds, told apart by their key: ``move`` (spend: a menu item on targets at an intensity),
``respond`` (a swing team refuses or welcomes offers aimed at its states), ``apply`` (a swing
team applies for SCO status or a Western partnership for one of its states) and ``decide`` (the
deciding team admits or rejects a pending application). ``check_move`` returns a ``Verdict``
with a refusal code and a reason a student can read; the codes are listed in ``REFUSALS``.

Imports base, core, config and the game's own modules only (and pydantic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from ..config.scenario import Strict
from ..core.levers import LEVERS
from ..data.world import World
from .spec import OWN, GameSpec, MenuItem

#: Every refusal code, with what it means.
REFUSALS = {
    "malformed": "the move is not written as a move (a missing or unknown field)",
    "unknown_team": "no such team in this game",
    "turn_closed": "no turn is open (before the first, between turns, or after the end)",
    "not_on_menu": "the move is not on the team's menu",
    "wrong_target": "a target is not allowed for this move",
    "too_many_targets": "more targets than the move allows",
    "intensity": "the intensity is above what the move allows",
    "limit": "the move has been used as often as a turn allows",
    "over_budget": "the move costs more than the team has left this turn",
    "not_swing": "only a swing team may respond to offers or apply",
    "not_your_state": "the state is not one the team plays",
    "already_applied": "the state already has an application pending",
    "not_decider": "the team does not decide this bloc's applications",
    "no_application": "no application of that state is pending",
    "unknown_move": "no move of this team has that id in the open turn",
}


class MoveSpec(Strict):
    """A move as written in a moves file or typed at the keyboard (one of four kinds)."""

    team: str
    move: str | None = None
    targets: list[str] | None = None
    intensity: float = Field(1.0, ge=0, le=1)
    respond: Literal["refuse", "welcome"] | None = None
    to: str | None = None
    lever: str | None = None
    states: list[str] | None = None
    apply: Literal["sco", "west"] | None = None
    decide: Literal["admit", "reject"] | None = None
    state: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> MoveSpec:
        kinds = [k for k in ("move", "respond", "apply", "decide") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of move, respond, apply or decide (got "
                             f"{', '.join(kinds) or 'none'})")
        allowed = {"move": {"targets", "intensity"}, "respond": {"to", "lever", "states"},
                   "apply": {"state"}, "decide": {"state"}}[kinds[0]]
        extra = sorted(k for k in ("targets", "to", "lever", "states", "state")
                       if getattr(self, k) is not None and k not in allowed)
        if extra:
            raise ValueError(f"a {kinds[0]} move takes no {', '.join(extra)}")
        if self.lever is not None and self.lever not in LEVERS:  # it would match no offer
            raise ValueError(f"unknown lever {self.lever!r}; known: {', '.join(LEVERS)}")
        if kinds[0] == "move" and not self.targets:
            raise ValueError("a move needs targets (a list of states or groups)")
        if kinds[0] in ("apply", "decide") and self.state is None:
            raise ValueError(f"{kinds[0]} needs the state")
        return self

    @property
    def kind(self) -> str:
        """``spend``, ``respond``, ``apply`` or ``decide``."""
        if self.move is not None:
            return "spend"
        return next(k for k in ("respond", "apply", "decide") if getattr(self, k) is not None)

    def to_dict(self) -> dict:
        """The fields that were given (defaults filled), JSON-able, in a fixed order."""
        return self.model_dump(exclude_none=True)


@dataclass(frozen=True)
class Verdict:
    """The answer to an action: accepted or refused, with a code and a reason to show."""

    ok: bool
    code: str = "ok"
    reason: str = ""
    move_id: str | None = None

    def to_dict(self) -> dict:
        """JSON-able."""
        return {"ok": self.ok, "code": self.code, "reason": self.reason, "move_id": self.move_id}


def refuse(code: str, reason: str) -> Verdict:
    """A refusal with its code (one of ``REFUSALS``) and a reason."""
    return Verdict(False, code, reason)


def parse_move(data: object) -> MoveSpec | Verdict:
    """A ``MoveSpec`` from a mapping, or a ``malformed`` refusal naming the first problem."""
    if isinstance(data, MoveSpec):
        return data
    if not isinstance(data, dict):
        return refuse("malformed", "a move is a mapping such as {team: usa, move: trade_deal, "
                                   "targets: [KAZ], intensity: 0.5}")
    try:
        return MoveSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(map(str, err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        return refuse("malformed", f"{where}: {msg}" if where else msg)


def allowed_states(item: MenuItem, own: list[str], world: World) -> np.ndarray:
    """Mask of the states a menu item may aim at (``own`` stands for the team's states)."""
    names = [s for t in item.targets for s in (own if t == OWN else [t])]
    return world.mask(names)


def target_mask(targets: list[str], world: World) -> np.ndarray:
    """Mask of the states named by a move's targets (codes or groups)."""
    return world.mask(targets)


def move_cost(item: MenuItem, move: MoveSpec, world: World) -> float:
    """Points a spend move costs: per state it aims at, ``cost x intensity + cost_per_target``.

    A group counts as the states in it, so aiming at many states costs as much as naming them.
    """
    n = int(target_mask(move.targets or [], world).sum())
    return n * (item.cost * move.intensity + item.cost_per_target)


def check_spend(spec: GameSpec, world: World, move: MoveSpec, *, left: float,
                used: int) -> Verdict:
    """Check a spend move against the team's menu, targets, limits and what it has left."""
    team = spec.teams[move.team]
    item = team.menu.get(move.move)
    if item is None:
        menu = ", ".join(team.menu) or "nothing"
        return refuse("not_on_menu", f"'{move.move}' is not on {move.team}'s menu ({menu})")
    targets = move.targets or []
    if len(set(targets)) != len(targets):
        return refuse("wrong_target", "a target is named twice")
    allowed = allowed_states(item, team.states, world)
    groups = world.groups()
    for t in targets:
        if t not in world.index and t not in groups:
            return refuse("wrong_target", f"'{t}' is not a state code or group")
        named = set(item.targets) | ({OWN} if team.side == "swing" else set())
        if t in groups and t not in named:
            return refuse("wrong_target", f"the group '{t}' is not a target of '{move.move}' "
                                          f"(allowed: {', '.join(item.targets)})")
        if not allowed[world.mask([t])].all():
            return refuse("wrong_target", f"'{t}' is not a target of '{move.move}' (allowed: "
                                          f"{', '.join(item.targets)})")
    n = int(target_mask(targets, world).sum())
    if n > item.max_targets:
        return refuse("too_many_targets", f"'{move.move}' aims at {item.max_targets} states at "
                                          f"most ({n} given)")
    if move.intensity > item.max_intensity:
        return refuse("intensity", f"'{move.move}' goes up to intensity {item.max_intensity:g} "
                                   f"({move.intensity:g} given)")
    if used >= item.per_turn:
        return refuse("limit", f"'{move.move}' may be used {item.per_turn} time(s) a turn")
    cost = move_cost(item, move, world)
    if cost > left + 1e-9:
        return refuse("over_budget", f"'{move.move}' costs {cost:g} points; {move.team} has "
                                     f"{left:g} left this turn")
    return Verdict(True)


def check_swing(spec: GameSpec, move: MoveSpec) -> Verdict:
    """Check a respond or apply move: a swing team, about its own states."""
    team = spec.teams[move.team]
    if team.side != "swing":
        return refuse("not_swing", f"{move.team} is not a swing team: only swing teams "
                                   f"{move.kind} ")
    named = [move.state] if move.state else list(move.states or [])
    for s in named:
        if s not in team.states:
            return refuse("not_your_state", f"{move.team} plays {', '.join(team.states)}, "
                                            f"not '{s}'")
    if move.kind == "respond" and move.to is not None and move.to not in spec.teams:
        return refuse("unknown_team", f"no team '{move.to}' to respond to")
    return Verdict(True)
