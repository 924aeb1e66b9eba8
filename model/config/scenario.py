"""Scenario and strategy files: the strict schema, loading with line numbers, and ``extends``.

A *scenario* says what the world does (start year, parameters, SCO programmes, events); a
*strategy* says what the West chooses (its counter-strategy levers). A scenario may carry a
``west`` block of its own, which a strategy replaces when the two are combined.

Files are plain YAML read with ``yaml.safe_load``; every mistake becomes one ``ScenarioError``
naming the file, the field path and the line. The schema is documented field by field in
``scenarios/README.md``.

Imports base, core and config only (and pydantic).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from ..base.errors import ScenarioError
from ..core.levers import LEVERS, SCO_LEVERS, WEST_LEVERS
from ..core.plan import TIE_CHANNELS
from .yamlfile import MAX_YAML_BYTES, LineMap, read_bounded, read_yaml  # noqa: F401 - read_yaml is part of this module's API

MIN_YEAR, MAX_YEAR = 2000, 2024


class Strict(BaseModel):
    """Base: unknown keys are errors, values are checked on assignment too.

    Types are strict: a boolean or a quoted string is not a number, an integer field takes only
    integers, and a number must be finite (``.inf`` and ``.nan`` are refused).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True,
                              allow_inf_nan=False)


MAX_NAME_LENGTH = 64
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def check_name(name: str) -> str:
    """A scenario, strategy, experiment or batch name must be a plain file name; return it.

    It names an output folder (``out/<name>``), so: 1 to 64 characters among letters, digits,
    ``_``, ``.`` and ``-``, not starting with a dot (so never ``.`` or ``..``). Raises ValueError.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("a name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"a name has at most {MAX_NAME_LENGTH} characters (this one has "
                         f"{len(name)})")
    bad = sorted(set(name) - _NAME_CHARS)
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise ValueError(f"a name is a plain file name: letters, digits, _ . - only (not {shown})")
    if name.startswith("."):
        raise ValueError("a name must not start with a dot (it names the output folder)")
    return name


Name = Annotated[str, AfterValidator(check_name)]


class Located(Strict):
    """A top-level document that remembers its file and the line of each field, for errors."""

    _source: str = PrivateAttr(default="<scenario>")
    _where: dict = PrivateAttr(default_factory=dict)

    def error(self, message: str, path: tuple) -> ScenarioError:
        """A ScenarioError pointing at ``path`` (a tuple of keys) in the file it came from."""
        file, line = locate(self._where, path)
        return ScenarioError(message, file=file or self._source,
                             path=".".join(map(str, path)) or None, line=line)


def locate(where: dict, path: tuple) -> tuple[str | None, int | None]:
    """File and line of ``path``, or of the nearest enclosing field that has one."""
    for n in range(len(path), -1, -1):
        if path[:n] in where:
            return where[path[:n]]
    return None, None


class Parameters(Strict):
    """Parameters of the dynamics (``docs/model.md`` gives the rationale and ranges)."""

    peer_weight: float = Field(0.15, ge=0, le=2, description="w: peer influence rate, 1/yr")
    inertia: float = Field(0.0, ge=0, le=2, description="k: pull back to the start alignment, 1/yr")
    econ_weight: float = Field(0.001, ge=0, le=5, description="push per unit change of trade share")
    security_weight: float = Field(0.01, ge=0, le=5, description="push per unit change of security ties")
    regime_weight: float = Field(0.05, ge=0, le=5,
                                 description="push per unit change of regime's natural alignment")
    econ_decay: float = Field(0.10, ge=0, le=2, description="fade of trade changes, 1/yr")
    security_decay: float = Field(0.05, ge=0, le=2, description="fade of security changes, 1/yr")
    governance_decay: float = Field(0.05, ge=0, le=2, description="fade of regime changes, 1/yr")
    shock_sd: float = Field(0.12, ge=0, le=1, description="sd of random shocks per sqrt(year)")
    shock_tail: float = Field(0.15, ge=0, le=0.5,
                              description="Tukey's h: heavier tails of the shocks, median kept (0: normal)")
    shock_persistence: float = Field(
        0.0, ge=0, lt=1, description="lag-1 autocorrelation of yearly shocks (0: independent)")
    leader_change_rate: float = Field(
        0.178, ge=0, le=2, description="leader changes per state-year (REIGN, 2000-2014)")
    leader_change_effect: float = Field(
        -0.021, ge=-0.5, le=0.5, description="alignment shift of a leader change (panel estimate)")
    leader_change_draws: float = Field(
        1.0, ge=0, le=1, description="share of leader changes drawn at random (0: scripted only)")
    shock_heterogeneity: float = Field(
        1.0, ge=0, le=1,
        description="exponent of each state's own shock scale, estimated from its past (0: pooled)")
    drift_sd: float = Field(
        0.01035, ge=0, le=0.2,
        description="sd of each state's drift per year, drawn once a run (0: none)")
    size_elasticity: float = Field(0.0, ge=0, le=2, description="receptiveness falls with GDP")
    gdp_ref_usd: float = Field(1e11, gt=0, description="GDP at which receptiveness is 2**-elasticity")
    lean_threshold: float = Field(0.25, gt=0, lt=1, description="|a| above which a state leans to a camp")
    partner_threshold: float = Field(0.35, ge=-1, le=1, description="alignment to become dialogue partner")
    observer_threshold: float = Field(0.50, ge=-1, le=1, description="alignment to become observer")
    member_threshold: float = Field(0.65, ge=-1, le=1, description="alignment to become member")
    leave_drop: float = Field(0.3, ge=0, le=2,
                              description="fall since gaining a status that makes a state step down")
    membership_years: float = Field(3.0, ge=0, le=20, description="years above a threshold before applying")
    decision_smoothing: float = Field(3.0, ge=0, le=20,
                                      description="years over which membership decisions average alignment")
    admission_rate: float = Field(0.2, ge=0, le=1,
                                  description="yearly chance the SCO admits a qualified applicant")
    membership_rule: Literal["threshold", "hazard"] = Field(
        "threshold", description="how states rise in SCO status: alignment thresholds with an "
        "admission draw, or the yearly hazard fitted on 2002-2014 (docs/model.md 4.11)")
    rise_hazard_intercept: float = Field(
        -3.73, ge=-20, le=20, description="hazard rule: logit of the yearly chance of a rise at "
        "alignment 0 (tools/estimate_sco_rule.py)")
    rise_hazard_alignment: float = Field(
        1.44, ge=-20, le=20, description="hazard rule: slope of that logit per unit of the "
        "year-before alignment")
    member_security_bump: float = Field(0.25, ge=0, le=1,
                                        description="share of room in SCO security ties a new member gains")
    observer_security_bump: float = Field(0.10, ge=0, le=1, description="same for a new observer")
    partner_security_bump: float = Field(0.05, ge=0, le=1, description="same for a new dialogue partner")
    member_trade_bump: float = Field(0.05, ge=0, le=1,
                                     description="share of trade room a new member gains with China+Russia")
    closed_regime_threshold: float = Field(0.35, gt=0, le=1,
                                           description="governance below which civil-society aid backfires")
    civil_society_backlash: float = Field(0.006, ge=0, le=1,
                                          description="push to the SCO per unit effort, most closed regime")

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> Parameters:
        if not (self.partner_threshold <= self.observer_threshold <= self.member_threshold):
            raise ValueError("partner_threshold <= observer_threshold <= member_threshold must hold")
        return self


class LeverConfig(Strict):
    """One lever's use: how hard, where, when."""

    intensity: float | None = Field(None, ge=0, le=1)
    budget: float | None = Field(None, ge=0, le=1000, description="USD bn per target per year")
    targets: list[str] | dict[str, Annotated[float, Field(ge=0, le=1)]] | None = None
    start: int | None = Field(None, ge=MIN_YEAR, le=2200)
    end: int | None = Field(None, ge=MIN_YEAR, le=2200)
    efficiency: float = Field(1.0, ge=0, le=5)

    @model_validator(mode="after")
    def _check(self) -> LeverConfig:
        if self.intensity is not None and self.budget is not None:
            raise ValueError("give intensity or budget, not both")
        if isinstance(self.targets, dict) and (self.intensity is not None or self.budget is not None):
            raise ValueError("targets given as a mapping carry their own intensities; "
                             "drop intensity and budget, or give targets as a list")
        if self.intensity is None and self.budget is None and not isinstance(self.targets, dict):
            raise ValueError("give intensity (0..1) or budget (USD bn per target per year), "
                             "or targets as a mapping of state or group to intensity")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


def _lever_block(names: tuple[str, ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {n: (LeverConfig | None, None) for n in names}
    return create_model("Levers", __base__=Strict, **fields)


ScoLevers = _lever_block(SCO_LEVERS)
WestLevers = _lever_block(WEST_LEVERS)

ORGS = ("SCO", "NATO", "EU", "CSTO", "BRICS")


class _Event(Strict):
    year: int = Field(ge=MIN_YEAR, le=2200)
    state: str | None = None
    states: list[str] | None = None

    @model_validator(mode="after")
    def _one_target(self):
        if (self.state is None) == (self.states is None):
            raise ValueError("give exactly one of state or states")
        return self

    def targets(self) -> list[str]:
        """The codes or groups the event applies to."""
        return [self.state] if self.state is not None else list(self.states or [])


class JoinEvent(_Event):
    """A state joins an organisation (for the SCO, at a given status)."""

    type: Literal["join"]
    org: Literal[ORGS]
    status: Literal["dialogue_partner", "observer", "member"] = "member"


class LeaveEvent(_Event):
    """A state leaves an organisation."""

    type: Literal["leave"]
    org: Literal[ORGS]


class SanctionsEvent(_Event):
    """A bloc cuts trade with a state for ``duration`` years.

    Each year the state's trade with that bloc falls by ``intensity`` of what is left;
    afterwards it recovers at the trade fade rate, as lever effects do.
    """

    type: Literal["sanctions"]
    by: Literal["west", "sco"] = "west"
    intensity: float = Field(0.3, ge=0, le=1)
    duration: int = Field(3, ge=1, le=100)


class AlignmentShockEvent(_Event):
    """A sudden change of alignment (a war, a scandal): ``delta`` > 0 towards the SCO.

    A state at alignment a moves by ``(1 - a)(1 - exp(-delta))`` towards the SCO (or
    ``(1 + a)(1 - exp(delta))`` towards the West for a negative delta): about ``delta`` for a
    non-aligned state and a small shock, never past the end of the scale.
    """

    type: Literal["alignment_shock"]
    delta: float = Field(ge=-2, le=2)


class EconomicShockEvent(_Event):
    """A change in trade share with one bloc (a new pipeline, a lost market)."""

    type: Literal["economic_shock"]
    bloc: Literal["sco", "west"]
    delta: float = Field(ge=-1, le=1)


class LeaderChangeEvent(_Event):
    """A change of leader: alignment shifts by ``leader_change_effect`` (docs/estimates.md)."""

    type: Literal["leader_change"]


class GovernmentChangeEvent(_Event):
    """A change of government: governance jumps to ``regime`` (0 closed .. 1 open)."""

    type: Literal["government_change"]
    regime: float = Field(ge=0, le=1)


class TiesEvent(_Event):
    """Trade shares or security ties jump to observed levels (what a hindcast knows happened).

    Each channel given (``e_sco``, ``e_west``: trade shares with China+Russia and with the West;
    ``s_sco``, ``s_west``: security ties) is set to that level, in [0, 1]; the others keep
    theirs. The two trade shares together cannot pass 1: a share given alone is cut to the room
    the other leaves. The change lasts, as other events' changes do.
    """

    type: Literal["ties"]
    e_sco: float | None = Field(None, ge=0, le=1)
    e_west: float | None = Field(None, ge=0, le=1)
    s_sco: float | None = Field(None, ge=0, le=1)
    s_west: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _some_level(self) -> TiesEvent:
        if not self.levels():
            raise ValueError("give at least one of e_sco, e_west, s_sco, s_west (a level 0..1)")
        if self.e_sco is not None and self.e_west is not None and self.e_sco + self.e_west > 1 + 1e-9:
            raise ValueError(f"e_sco + e_west is {self.e_sco + self.e_west:g}: trade shares "
                             f"together cannot pass 1")
        return self

    def levels(self) -> tuple[tuple[str, float], ...]:
        """The channels given, as ``(channel, level)`` pairs in ``TIE_CHANNELS`` order."""
        return tuple((c, getattr(self, c)) for c in TIE_CHANNELS if getattr(self, c) is not None)


Event = Annotated[
    JoinEvent | LeaveEvent | SanctionsEvent | AlignmentShockEvent | EconomicShockEvent
    | GovernmentChangeEvent | LeaderChangeEvent | TiesEvent,
    Field(discriminator="type"),
]


class Strategy(Located):
    """What the West chooses: a named mix of counter-strategy levers."""

    name: Name
    description: str = ""
    west: WestLevers = Field(default_factory=WestLevers)  # type: ignore[valid-type]


class Scenario(Located):
    """A complete scenario: the world, its parameters, both blocs' levers and the events."""

    name: Name
    description: str = ""
    start_year: int = Field(MAX_YEAR, ge=MIN_YEAR, le=MAX_YEAR)
    horizon: int = Field(11, ge=1, le=100, description="years simulated after start_year")
    step: Literal["year", "quarter"] = "year"
    seed: int = Field(12345, ge=0, le=2**63 - 1)
    replications: int = Field(1, ge=1, le=100_000)
    world: str = "builtin"
    key_states: list[str] = Field(default_factory=lambda: [
        "KAZ", "IND", "TUR", "PAK", "IRN", "SAU", "BRA", "IDN", "EGY", "UZB"])
    parameters: Parameters = Field(default_factory=Parameters)
    sco: ScoLevers = Field(default_factory=ScoLevers)  # type: ignore[valid-type]
    west: WestLevers = Field(default_factory=WestLevers)  # type: ignore[valid-type]
    events: list[Event] = Field(default_factory=list)

    @field_validator("world")
    @classmethod
    def _world(cls, v: str) -> str:
        return v.strip() or "builtin"

    def check_horizon(self) -> None:
        """Every event must fall inside the simulated years (a lever window may outlast them)."""
        for i, ev in enumerate(self.events):
            if not self.start_year < ev.year <= self.end_year:
                raise self.error(f"{ev.year} is outside the horizon ({self.start_year + 1}.."
                                 f"{self.end_year}); events act from the first step on",
                                 ("events", i, "year"))

    @property
    def end_year(self) -> int:
        """Last year simulated."""
        return self.start_year + self.horizon

    @property
    def dt(self) -> float:
        """Step length in years."""
        return 1.0 if self.step == "year" else 0.25

    def with_strategy(self, strategy: Strategy) -> Scenario:
        """This scenario with the West's levers replaced by the strategy's."""
        return self.model_copy(update={"west": strategy.west})

    def lever_window(self, cfg: LeverConfig) -> tuple[int, int]:
        """First and last year a lever acts: its own, or the whole simulated span."""
        return (cfg.start if cfg.start is not None else self.start_year + 1,
                cfg.end if cfg.end is not None else self.end_year)

    def inactive_levers(self) -> list[str]:
        """Levers whose window lies wholly outside the simulated years (they never act)."""
        out = []
        for name, cfg in self.lever_configs():
            first, last = self.lever_window(cfg)
            if first > self.end_year or last <= self.start_year:
                block = "sco" if name in SCO_LEVERS else "west"
                out.append(f"{block}.{name} ({first}-{last}) never acts in "
                           f"{self.start_year + 1}-{self.end_year}")
        return out

    def lever_configs(self) -> list[tuple[str, LeverConfig]]:
        """The levers in use, in registry order."""
        out = []
        for name in LEVERS:
            block = self.sco if name in SCO_LEVERS else self.west
            cfg = getattr(block, name)
            if cfg is not None:
                out.append((name, cfg))
        return out


# --- reading files ----------------------------------------------------------------------------

def _merge(base: dict, over: dict) -> dict:
    """Deep-merge mappings: ``over`` wins; lists and scalars are replaced whole."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


MAX_EXTENDS = 16  # files in one extends chain, the first included


def _resolve_extends(path: Path) -> tuple[dict, dict[tuple, tuple[str, int]]]:
    """Read a file and everything it extends; return merged data and path -> (file, line).

    The chain is followed in a loop (never recursion), at most ``MAX_EXTENDS`` files long;
    a file met twice is a cycle.
    """
    layers: list[tuple[dict, dict]] = []
    chain: list[Path] = []
    while True:
        key = path.resolve()
        data, lines = read_yaml(path)
        where = {p: (str(path), ln) for p, ln in lines.items()}
        layers.append((data, where))
        chain.append(key)
        parent = data.pop("extends", None)
        if parent is None:
            break
        line = lines.get(("extends",))
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError("must be a file name (a string)", file=str(path), path="extends",
                                line=line)
        ppath = (path.parent / parent).resolve()
        top = chain[0]
        if ppath in chain:
            cycle = " -> ".join(p.name for p in (*chain, ppath))
            raise ScenarioError(f"extends cycle: {cycle}", file=str(path), path="extends",
                                line=line)
        if len(chain) >= MAX_EXTENDS:
            raise ScenarioError(f"extends chain longer than {MAX_EXTENDS} files (from "
                                f"{top.name} to {path.name}, which extends {parent})",
                                file=str(path), path="extends", line=line)
        if not ppath.exists():
            raise ScenarioError(f"extended file not found: {parent} (looked in "
                                f"{ppath.parent}{os.sep})", file=str(path), path="extends",
                                line=line)
        try:  # a folder, a device or an oversized file: say so at the extends line
            read_bounded(ppath, MAX_YAML_BYTES)
        except ScenarioError as exc:
            raise ScenarioError(f"{parent}: {exc.detail}", file=str(path), path="extends",
                                line=line) from None
        path = ppath
    data, where = layers.pop()
    while layers:
        over, owhere = layers.pop()
        data, where = _merge(data, over), {**where, **owhere}
    return data, where


def _field_names(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed at ``loc`` in ``model``, for 'did you mean' hints."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        current = next((a for a in getattr(ann, "__args__", (ann,))
                        if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return list(getattr(current, "model_fields", {}) or [])


def _explain(exc: ValidationError, model: type[BaseModel], where: dict, label: str) -> ScenarioError:
    """Turn pydantic's first error into one ScenarioError with path, line and a hint."""
    err = exc.errors()[0]
    # pydantic puts the event's type tag in the path after events.<i>: drop it there only.
    raw = err["loc"]
    loc = tuple(p for k, p in enumerate(raw)
                if not (k == 2 and raw[0] == "events" and isinstance(p, str) and p in _EVENT_TAGS))
    path = ".".join(str(p) for p in loc)
    file, line = locate(where, loc)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc += ("type",)
        path += ".type"
        file, line = where.get(loc, (file, line))
    if err["type"] == "extra_forbidden":
        allowed = _field_names(model, loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        kind = "lever" if loc[:1] in (("sco",), ("west",)) and len(loc) == 2 else "field"
        msg = f"unknown {kind} '{loc[-1]}'" + (f" (did you mean '{guess[0]}'?)" if guess else "")
        if kind == "lever" and loc[-1] in LeverConfig.model_fields:
            above = [k[1] for k, (_, ln) in where.items()
                     if len(k) == 2 and k[0] == loc[0] and k[1] in allowed
                     and line is not None and ln < line]
            under = f"under '{loc[0]}.{above[-1]}'" if above else "under a lever's name"
            msg = (f"unknown lever '{loc[-1]}': it looks like a lever field, probably "
                   f"mis-indented; indent it {under}")
        elif kind == "lever":
            msg += f"; known: {', '.join(allowed)}"
    elif err["type"] == "union_tag_invalid":
        msg = f"unknown event type {err['ctx']['tag']!r}; known: {', '.join(_EVENT_TAGS)}"
    elif err["type"] == "union_tag_not_found":
        msg = f"missing event type; one of: {', '.join(_EVENT_TAGS)}"
    elif "input" in err and not isinstance(err["input"], (dict, list)):
        msg = f"{msg} (got {err['input']!r})"
    return ScenarioError(msg, file=file or label, path=path or None, line=line)


_EVENT_TAGS = tuple(e.model_fields["type"].annotation.__args__[0] for e in (
    JoinEvent, LeaveEvent, SanctionsEvent, AlignmentShockEvent, EconomicShockEvent,
    GovernmentChangeEvent, LeaderChangeEvent, TiesEvent))


def parse(data: dict, model: type[BaseModel], where: dict, label: str):
    """Validate ``data`` against ``model``; raise one ScenarioError on the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, model, where, label) from None


def load_spec(path: str | Path, model: type[BaseModel]):
    """Read one file (no ``extends``) and validate it against ``model``: an experiment or search spec.

    The spec remembers its file and the line of each field (``_source``, ``_where``), so the
    scenario and strategy files it lists can be checked later with errors that point at it.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    where = {p: (str(path), ln) for p, ln in lines.items()}
    spec = parse(data, model, where, str(path))
    spec._source, spec._where = str(path), where
    return spec


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file against the schema and the world."""
    path = Path(path)
    data, where = _resolve_extends(path)
    # A run's scenario.resolved.yaml records its provenance (version, seeds): it is a record, not
    # an input, so that file runs again as it is (the seeds follow from `seed` alone).
    if isinstance(data.get("provenance"), dict):
        del data["provenance"]
    scenario = parse(data, Scenario, where, str(path))
    scenario._source = str(path)
    scenario._where = where
    scenario.check_horizon()
    return scenario


def load_strategy(path: str | Path) -> Strategy:
    """Read and validate a strategy file (a name, a description and ``west`` levers only)."""
    path = Path(path)
    data, where = _resolve_extends(path)
    scenario_keys = sorted(set(data) - {"name", "description", "west"})
    if scenario_keys:
        raise ScenarioError(
            f"this looks like a scenario, not a strategy: a strategy has only name, description "
            f"and west (found {', '.join(scenario_keys)})",
            file=str(path), path=scenario_keys[0], line=where.get((scenario_keys[0],), (None, None))[1])
    strategy = parse(data, Strategy, where, str(path))
    strategy._source = str(path)
    strategy._where = where
    return strategy
