"""What the model is given to run: typed parameters and a plan of lever actions and events.

Plain frozen dataclasses of numbers, names and state indices: no pydantic, no YAML, no files.
``config.build.plan_from_scenario`` turns a scenario file's contents into these; a classroom game will
make them turn by turn and hand them to ``BlocModel.set_plan``. ``to_dict``/``from_dict`` give
plain JSON-able data (floats written by ``repr`` read back to the same float64).

Part of the core: imports the standard library only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

#: The kinds of event the model carries out (``BlocModel._apply_event``).
EVENT_KINDS = ("join", "leave", "sanctions", "alignment_shock", "economic_shock",
               "government_change", "ties")
#: The channels a ``ties`` event may set to a level (``core.dynamics.level_changes``).
TIE_CHANNELS = ("e_sco", "e_west", "s_sco", "s_west")


#: The SCO membership rules (docs/model.md 4.11).
MEMBERSHIP_RULES = ("threshold", "hazard")


@dataclass(frozen=True)
class Params:
    """The parameters of the dynamics, by name (``docs/model.md`` gives meanings and ranges)."""

    peer_weight: float
    inertia: float
    econ_weight: float
    security_weight: float
    regime_weight: float
    econ_decay: float
    security_decay: float
    governance_decay: float
    shock_sd: float
    size_elasticity: float
    gdp_ref_usd: float
    partner_threshold: float
    observer_threshold: float
    member_threshold: float
    leave_drop: float
    membership_years: float
    decision_smoothing: float
    admission_rate: float
    member_security_bump: float
    observer_security_bump: float
    partner_security_bump: float
    member_trade_bump: float
    closed_regime_threshold: float
    civil_society_backlash: float
    shock_tail: float = 0.0  # Tukey's h of the shocks (0: normal); last, so that it may default
    shock_persistence: float = 0.0  # lag-1 autocorrelation of the shocks (0: independent)
    leader_change_rate: float = 0.0  # random leader changes per state-year
    leader_change_effect: float = 0.0  # alignment shift of one
    leader_change_draws: float = 1.0  # share of the rate drawn at random (0: scripted only)
    #: how states rise in SCO status: "threshold" (streak above a rung's threshold, then an
    #: admission draw) or "hazard" (a yearly logistic hazard of alignment; docs/model.md 4.11).
    #: Its default is the old rule, so that a snapshot saved before the field existed restores
    #: the rule it ran with; the scenario schema carries the shipped default.
    membership_rule: str = "threshold"
    rise_hazard_intercept: float = -3.73  # logit of the yearly chance of a rise at alignment 0
    rise_hazard_alignment: float = 1.44   # its slope per unit of alignment the year before
    shock_heterogeneity: float = 0.0  # exponent of the world's per-state shock scale (0: pooled)
    drift_sd: float = 0.0  # sd of each state's drift per year, drawn once a run (0: none)

    def __post_init__(self) -> None:
        if self.membership_rule not in MEMBERSHIP_RULES:
            raise ValueError(f"membership_rule must be one of {', '.join(MEMBERSHIP_RULES)}, "
                             f"not {self.membership_rule!r}")

    def to_dict(self) -> dict[str, float | str]:
        """The parameters by name."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Params:
        """From a mapping holding every field (other keys are ignored).

        The fields after ``civil_society_backlash`` may be missing, as in snapshots taken before
        they existed: they then take their defaults.
        """
        def value(f):
            v = d[f.name] if f.name in d else f.default
            return str(v) if f.type == "str" else float(v)

        return cls(**{f.name: value(f) for f in fields(cls)})


@dataclass(frozen=True)
class LeverAction:
    """One lever in use: effort per state (0 where not aimed) over a window of whole years.

    ``effort`` has one entry per state of the world, in the world's order: the effort spent
    (0..1, from an intensity or a budget). The model scales it by each state's receptiveness
    and by ``efficiency``. The lever acts in every step whose year ``y`` (``ceil(t + dt)``)
    has ``first_year <= y <= last_year``.
    """

    name: str
    effort: tuple[float, ...]
    first_year: int
    last_year: int
    efficiency: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "effort", tuple(float(x) for x in self.effort))


@dataclass(frozen=True)
class EventAction:
    """One timeline event on the states ``targets`` (indices into the world), in year ``year``.

    It acts in the first step of its year. Fields other than ``kind``, ``year`` and ``targets``
    are used by some kinds only: ``org`` (join, leave), ``status`` (join SCO), ``bloc`` (whose
    trade: the sanctioning bloc, or the bloc of an economic shock), ``intensity`` and
    ``duration`` (sanctions), ``delta`` (alignment and economic shocks), ``regime`` (government
    change), ``levels`` (ties: ``(channel, level)`` pairs, channels among ``TIE_CHANNELS``).
    """

    kind: str
    year: int
    targets: tuple[int, ...]
    org: str | None = None
    status: str | None = None
    bloc: str | None = None
    intensity: float | None = None
    duration: int | None = None
    delta: float | None = None
    regime: float | None = None
    levels: tuple[tuple[str, float], ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; expected one of {EVENT_KINDS}")
        object.__setattr__(self, "targets", tuple(int(i) for i in self.targets))
        if self.levels is not None:  # pairs (or a mapping) as JSON gives them back
            pairs = self.levels.items() if isinstance(self.levels, dict) else self.levels
            levels = tuple((str(c), float(x)) for c, x in pairs)
            bad = [c for c, _ in levels if c not in TIE_CHANNELS]
            if bad:
                raise ValueError(f"ties event: unknown channel {bad[0]!r}; expected one of "
                                 f"{TIE_CHANNELS}")
            object.__setattr__(self, "levels", levels)


@dataclass(frozen=True)
class Plan:
    """Levers (in attribution order, at most one action per lever) and events (in order)."""

    levers: tuple[LeverAction, ...] = ()
    events: tuple[EventAction, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "levers", tuple(self.levers))
        object.__setattr__(self, "events", tuple(self.events))
        names = [lv.name for lv in self.levers]
        if len(set(names)) != len(names):
            raise ValueError(f"a lever appears more than once in the plan: {names}")

    def to_dict(self) -> dict:
        """Plain JSON-able data (lists, numbers, strings)."""
        return {"levers": [asdict(lv) for lv in self.levers],
                "events": [asdict(ev) for ev in self.events]}

    @classmethod
    def from_dict(cls, d: dict) -> Plan:
        """What ``to_dict`` gave, back as a ``Plan``."""
        return cls(levers=tuple(LeverAction(**lv) for lv in d.get("levers", ())),
                   events=tuple(EventAction(**ev) for ev in d.get("events", ())))
