"""Game files: the strict schema of a classroom wargame and how a file is read and checked.

A game file names the scenario it starts from (a path relative to the game file), the teams
(side, budget per turn, menu of moves, objectives), the number of turns and years per turn,
whether moves stay secret, the deck of injects, how applications for SCO status or a Western
partnership are decided, and a teaching noise level. It is read by the same bounded YAML reader
and reported with the same one-line errors (file, field, line) as scenarios; the format is
documented in ``docs/game.md``.

Imports base, core and config only (and pydantic).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from ..base.errors import ScenarioError
from ..config.checks import check_scenario, prepare_world, state_hint
from ..config.scenario import (
    Event,
    Located,
    Name,
    Scenario,
    Strict,
    _explain,
    _resolve_extends,
    load_scenario,
    parse,
)
from ..core.dynamics import CHANNELS
from ..core.levers import LEVERS
from ..core.outcomes import OUTCOMES
from ..data.world import SCO_STATUSES, World

SIDES = ("sco", "west", "swing")
OWN = "own"  # in a swing team's menu: the team's own states


class MenuItem(Strict):
    """One move on a team's menu: a lever, what it costs, where and how often it may be used."""

    lever: str
    description: str = ""
    cost: float = Field(1.0, ge=0, le=1e6, description="points per unit of intensity per state")
    cost_per_target: float = Field(0.0, ge=0, le=1e6, description="fixed points per state")
    targets: list[str] = Field(default_factory=lambda: [OWN], min_length=1)
    max_targets: int = Field(3, ge=1, le=200, description="states one use may aim at")
    max_intensity: float = Field(1.0, gt=0, le=1)
    per_turn: int = Field(1, ge=1, le=20, description="times the move may be used in one turn")
    efficiency: float = Field(1.0, ge=0, le=5, description="multiplies the effort, as a "
                                                          "scenario lever's efficiency")

    @model_validator(mode="after")
    def _lever(self) -> MenuItem:
        if self.lever not in LEVERS:
            raise ValueError(f"unknown lever {self.lever!r}; known: {', '.join(LEVERS)}")
        return self


class Objective(Strict):
    """How a team scores, from the world as it stands after a turn (``scoring.score``).

    Exactly one kind: ``outcome`` (with ``better``): weight x change of a run outcome since
    the start; ``below``/``above`` on the mean alignment of ``state``/``states``: weight if it
    holds; ``towards`` (sco or west): weight x the mean alignment's move that way since the
    start; ``channel`` (with ``better``): weight x change of a structure channel.
    """

    name: str = ""
    weight: float = Field(1.0, ge=-1e6, le=1e6)
    outcome: str | None = None
    state: str | None = None
    states: list[str] | None = None
    below: float | None = Field(None, ge=-1, le=1)
    above: float | None = Field(None, ge=-1, le=1)
    towards: Literal["sco", "west"] | None = None
    channel: Literal[CHANNELS] | None = None
    better: Literal["higher", "lower"] | None = None

    @model_validator(mode="after")
    def _kind(self) -> Objective:
        threshold = self.below is not None or self.above is not None
        kinds = [k for k, on in (("outcome", self.outcome is not None), ("threshold", threshold),
                                 ("towards", self.towards is not None),
                                 ("channel", self.channel is not None)) if on]
        if len(kinds) != 1:
            raise ValueError("give exactly one of outcome, below/above, towards or channel "
                             f"(got {', '.join(kinds) or 'none'})")
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; known: {', '.join(OUTCOMES)}")
        if kinds[0] in ("outcome", "channel") and self.better is None:
            raise ValueError(f"an {kinds[0]} objective needs better: higher or lower")
        if kinds[0] != "outcome" and (self.state is None) == (self.states is None):
            raise ValueError("give exactly one of state or states")
        if kinds[0] == "outcome" and (self.state or self.states):
            raise ValueError("an outcome objective is about the whole world: no state(s)")
        return self

    @property
    def kind(self) -> str:
        """``outcome``, ``threshold``, ``towards`` or ``channel``."""
        if self.outcome is not None:
            return "outcome"
        if self.towards is not None:
            return "towards"
        return "channel" if self.channel is not None else "threshold"

    def targets(self) -> list[str]:
        """The states (codes) the objective is about; empty for an outcome."""
        return [self.state] if self.state else list(self.states or [])


class Team(Strict):
    """A team: its side, budget per turn, menu and objectives; a swing team plays ``states``."""

    name: str = ""
    side: Literal[SIDES]
    states: list[str] = Field(default_factory=list)
    budget: float = Field(ge=0, le=1e6, description="points per turn")
    menu: dict[Name, MenuItem] = Field(default_factory=dict)
    objectives: list[Objective] = Field(default_factory=list)

    @model_validator(mode="after")
    def _swing(self) -> Team:
        if self.side == "swing" and not self.states:
            raise ValueError("a swing team plays named states: give states")
        if self.side != "swing" and self.states:
            raise ValueError("only a swing team plays states (side: swing)")
        for mid, item in self.menu.items():
            bloc = LEVERS[item.lever].bloc
            if self.side != "swing" and bloc != self.side:
                raise ValueError(f"menu.{mid}: {item.lever} is a {bloc.upper()} lever; a "
                                 f"{self.side.upper()} team's moves use its own bloc's levers")
        return self


class DeckCard(Strict):
    """An inject: a scenario event without a year (it acts in the turn it is played)."""

    description: str = ""
    event: dict
    played_by: Literal["facilitator", "chance"] = "facilitator"
    probability: float = Field(0.0, ge=0, le=1, description="chance per turn (played_by: chance)")
    once: bool = True


class Decider(Strict):
    """Who decides applications to one bloc: a team (by name) or ``rule``."""

    decided_by: str = "rule"
    threshold: float = Field(0.0, ge=-1, le=1,
                             description="rule: admit if alignment is at least (sco) or at most "
                                         "(west) this")


class Applications(Strict):
    """How applications for SCO status and for a Western partnership are decided."""

    sco: Decider = Field(default_factory=Decider)
    west: Decider = Field(default_factory=Decider)


def _default_partnership() -> list[dict]:
    return [{"type": "alignment_shock", "delta": -0.05},
            {"type": "economic_shock", "bloc": "west", "delta": 0.02}]


class GameSpec(Located):
    """A complete game file (``docs/game.md`` documents every field)."""

    name: Name
    description: str = ""
    scenario: str
    seed: int = Field(2024, ge=0, le=2**63 - 1)
    turns: int = Field(4, ge=1, le=50)
    years_per_turn: int = Field(1, ge=1, le=10)
    extra_turns: int = Field(2, ge=0, le=20, description="turns the facilitator may add")
    minutes_per_turn: float = Field(10, gt=0, le=600, description="for the facilitator's clock")
    noise: float = Field(0.2, ge=0, le=2,
                         description="scales the scenario's shock_sd, drift_sd and leader-change rate")
    secret_moves: bool = True
    carry_over: bool = False
    welcome_bonus: float = Field(1.25, ge=1, le=3)
    apply_cost: float = Field(0.0, ge=0, le=1e6)
    key_states: list[str] | None = None
    teams: dict[Name, Team] = Field(min_length=1)
    applications: Applications = Field(default_factory=Applications)
    partnership: list[dict] = Field(default_factory=_default_partnership)
    deck: dict[Name, DeckCard] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross(self) -> GameSpec:
        if self.horizon > 100:
            raise ValueError(f"(turns + extra_turns) x years_per_turn is {self.horizon} years; "
                             f"the model runs at most 100")
        shown = [team.name or tid for tid, team in self.teams.items()]
        twice = sorted({n for n in shown if shown.count(n) > 1})
        if twice:  # summaries, scores and the debrief name teams by these
            raise ValueError(f"two teams are shown as {', '.join(map(repr, twice))}: give each "
                             f"team its own name")
        for bloc in ("sco", "west"):
            who = getattr(self.applications, bloc).decided_by
            if who != "rule" and who not in self.teams:
                raise ValueError(f"applications.{bloc}.decided_by: {who!r} is neither 'rule' nor "
                                 f"a team ({', '.join(self.teams)})")
        return self

    @property
    def horizon(self) -> int:
        """Years the model is built for: every turn the game may have, extensions included."""
        return (self.turns + self.extra_turns) * self.years_per_turn


class _Inject(Strict):
    """One event, checked as a scenario's ``events`` list is."""

    events: list[Event]


def check_event(data: object, year: int, world: World, label: str, where: dict,
                path: tuple) -> object:
    """An inject's event, validated like a scenario event and against the world, for ``year``.

    Raises:
        ScenarioError: naming ``label`` and ``path``; an event given with its own year is refused.
    """
    if not isinstance(data, dict):
        raise ScenarioError("an event is a mapping (type, state or states, ...)", file=label,
                            path=".".join(map(str, path)), line=where.get(path, (None, None))[1])
    if "year" in data:
        raise ScenarioError("an inject acts in the turn it is played: leave out year", file=label,
                            path=".".join(map(str, (*path, "year"))),
                            line=where.get((*path, "year"), (None, None))[1])
    try:  # validated as a scenario's events are, so the messages are the same
        ev = _Inject.model_validate({"events": [{**data, "year": year}]}).events[0]
    except ValidationError as exc:
        inner = {("events", 0, *p[len(path):]): v for p, v in where.items()
                 if p[:len(path)] == path}
        err = _explain(exc, _Inject, inner, label)
        rest = (err.path or "").split(".")[2:]
        raise ScenarioError(err.detail, file=err.file, line=err.line,
                            path=".".join(map(str, (*path, *rest)))) from None
    groups = world.groups()
    for t in ev.targets():
        if t not in world.index and t not in groups:
            raise ScenarioError(f"unknown state code or group '{t}'{state_hint(t, world, groups)}",
                                file=label, path=".".join(map(str, path)),
                                line=where.get(path, (None, None))[1])
    return ev


def _check_world(spec: GameSpec, world: World) -> None:
    """Every state and group the game names exists; swing menus aim at the team's own states."""
    groups = world.groups()

    def known(name: str, path: tuple, *, state_only: bool = False) -> None:
        if name in world.index or (name in groups and not state_only):
            return
        what = "state code" if state_only else "state code or group"
        if state_only and name in groups:
            raise spec.error(f"'{name}' is a group; give state codes here", path)
        raise spec.error(f"unknown {what} '{name}'{state_hint(name, world, groups)}", path)

    for tid, team in spec.teams.items():
        for s in team.states:
            known(s, ("teams", tid, "states"), state_only=True)
        own = set(team.states)
        for mid, item in team.menu.items():
            for t in item.targets:
                path = ("teams", tid, "menu", mid, "targets")
                if t == OWN:
                    if team.side != "swing":
                        raise spec.error("'own' targets are for swing teams", path)
                    continue
                known(t, path)
                if team.side == "swing" and not set(world.iso3[world.mask([t])]) <= own:
                    raise spec.error(f"a swing team's moves act on its own states "
                                     f"({', '.join(team.states)}); '{t}' is not one", path)
        for i, obj in enumerate(team.objectives):
            for s in obj.targets():
                known(s, ("teams", tid, "objectives", i, "state" if obj.state else "states"),
                      state_only=True)
    for s in spec.key_states or []:
        known(s, ("key_states",), state_only=True)
    year = world.year + 1
    for cid, card in spec.deck.items():
        check_event(card.event, year, world, spec._source, spec._where, ("deck", cid, "event"))
    for i, ev in enumerate(spec.partnership):
        probe = {**ev, "state": world.iso3[0]}
        if "state" in ev or "states" in ev:
            raise spec.error("a partnership event applies to the applicant: leave out state(s)",
                             ("partnership", i))
        check_event(probe, year, world, spec._source, spec._where, ("partnership", i))


def load_game(path: str | Path) -> tuple[GameSpec, Scenario, World]:
    """Read, merge (``extends``) and validate a game file, its scenario and its world.

    Returns the game, its scenario (with the game's horizon and teaching noise applied) and the
    world. Raises ``ScenarioError`` (one line: file, field, line) on the first problem.
    """
    path = Path(path)
    data, where = _resolve_extends(path)
    spec = parse(data, GameSpec, where, str(path))
    spec._source, spec._where = str(path), where
    return spec, *scenario_of(spec, path.parent)


def scenario_of(spec: GameSpec, base_dir: Path) -> tuple[Scenario, World]:
    """The game's scenario, lengthened to the game's horizon with its noise applied, and world."""
    spath = Path(spec.scenario)
    spath = spath if spath.is_absolute() else base_dir / spath
    if not spath.exists():
        set_in = spec._where.get(("scenario",), (spec._source, None))[0]
        hint = "" if Path(spec.scenario).is_absolute() or set_in == spec._source else (
            f"; a relative path is read from the folder of {spec._source}, the game file "
            f"named on the command line, not of {set_in}, which set it")
        raise spec.error(f"scenario file not found: {spec.scenario} (looked in "
                         f"{spath.parent}){hint}", ("scenario",))
    if not spath.is_file():
        raise spec.error(f"{spec.scenario} is not a regular file (a folder or a device): give "
                         f"the scenario's YAML file", ("scenario",))
    scenario = load_scenario(spath)
    world = prepare_world(scenario, spath.parent)
    # Teaching noise scales all the dice: the shocks' size, the runs' drift and the rate of random
    # leader changes (the estimated model draws them; at full rate they would outweigh the class).
    base = scenario.parameters
    noisy = {"shock_sd": base.shock_sd * spec.noise, "drift_sd": base.drift_sd * spec.noise,
             "leader_change_rate": base.leader_change_rate * spec.noise}
    try:  # validated, as the save's scenario is read back (store.game_from_dict)
        params = type(base).model_validate({**base.model_dump(), **noisy})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise spec.error(f"noise {spec.noise:g} scales parameters.{err['loc'][0]} of "
                         f"{spath.name} to {err['input']:g}: {err['msg']}", ("noise",)) from None
    scenario = scenario.model_copy(update={"horizon": spec.horizon, "parameters": params})
    scenario._source = str(spath)
    check_scenario(scenario, world)
    _check_world(spec, world)
    return scenario, world


def next_status(status: int) -> str:
    """The SCO status one rung up from ``status`` (members stay members)."""
    return SCO_STATUSES[min(int(status) + 1, len(SCO_STATUSES) - 1)]
