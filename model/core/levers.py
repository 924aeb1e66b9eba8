"""Levers: what the SCO and the West can spend effort on, as small declarative classes.

Each lever is one class with a name, the bloc it serves, a docstring saying what it models and
where the idea comes from, its default targets and its rates (how fast full effort changes each
channel of a target state, as a share of the room left in that channel per year). Adding a lever
is one class here, one line in ``LEVERS`` and one parametrised case in ``tests/core/test_levers.py``
(the shared contract test covers the rest).

Every channel rate is measured, not judged (issue 10, item 3): ``units`` names, per channel, the
observable of ``model/data/lever_units.csv`` (written by ``tools/lever_units.py`` from the years up
to 2014) and the factor applied to its rate at the 90th percentile of historical 5-year rises, so
full effective effort changes the observable as much as one state-window in ten did. A factor
other than 1 is a judgement (a secondary effect kept at its former ratio to the primary);
``tests/core/test_levers.py`` checks every rate against the table to three decimals. Sources for
the programmes: the MERICS article in ``../shared/seeds`` and the design card's table of Western
counter-strategies.

Effort in a target is ``intensity`` (0..1) or, from a budget in USD bn per target per year,
``1 - exp(-budget / half_budget_bn)``; it is then scaled by the target's receptiveness (small
states move more per unit of effort) and the lever's ``efficiency``.

Part of the core: imports numpy and ``dynamics`` only.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .dynamics import CHANNELS, GOV, saturate


class Lever:
    """Base class: turns effective effort per state into changes of structure and a direct push.

    Class attributes:
        name: identifier used in scenario files.
        bloc: ``"sco"`` or ``"west"``, the bloc the lever serves.
        family: ``"trade"``, ``"security"`` or ``"influence"``, for grouping in plots.
        default_targets: states or groups aimed at when a scenario names none.
        rates: per channel (see ``dynamics.CHANNELS``), the share of the room left that full
            effective effort fills per year; a negative rate takes that share of the current value.
        units: per channel of ``rates``, ``(observable, factor)``: the rate is ``factor`` times
            the observable's ``rate_q90`` in ``model/data/lever_units.csv``, rounded to 3 decimals.
        direct: direct alignment push per year at full effective effort, towards ``bloc``.
        half_budget_bn: budget (USD bn per target per year) that buys 63% of full effort.
    """

    name: ClassVar[str] = ""
    bloc: ClassVar[str] = ""
    family: ClassVar[str] = ""
    default_targets: ClassVar[tuple[str, ...]] = ()
    rates: ClassVar[dict[str, float]] = {}
    units: ClassVar[dict[str, tuple[str, float]]] = {}
    direct: ClassVar[float] = 0.0
    half_budget_bn: ClassVar[float] = 1.0

    @property
    def sign(self) -> float:
        """+1 for an SCO lever (pushes towards +1), -1 for a Western one."""
        return 1.0 if self.bloc == "sco" else -1.0

    def effort(self, intensity: float | None, budget_bn: float | None) -> float:
        """Effort in [0, 1) from an intensity, or from a budget with diminishing returns."""
        if intensity is not None:
            return float(intensity)
        return float(saturate(budget_bn or 0.0, self.half_budget_bn))

    def effects(self, eff: np.ndarray, values: np.ndarray, room: np.ndarray,
                params: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Changes per year from effective effort ``eff`` (n,).

        Args:
            eff: effective effort per state, 0 where the lever is not aimed.
            values: (channels, n) current structure.
            room: (channels, n) room left for an increase (``dynamics.channel_room``).
            params: the model parameters (some levers read theirs from here).

        Returns:
            Increments per year (channels, n) and a direct push per year (n,).
        """
        inc = np.zeros_like(values)
        for channel, rate in self.rates.items():
            c = CHANNELS.index(channel)
            inc[c] = rate * eff * (room[c] if rate > 0 else values[c])
        return inc, self.sign * self.direct * eff


# --- SCO trade programmes -------------------------------------------------------------------

class TradeFacilitation(Lever):
    """SCO Trade Facilitation Agreement and Economic and Trade Cooperation Plan (2022).

    Customs simplification among members raises their trade with China and Russia.
    """

    name = "trade_facilitation"
    bloc = "sco"
    family = "trade"
    default_targets = ("sco_members",)
    rates = {"e_sco": 0.037}
    units = {"e_sco": ("trade_sco", 1.0)}


class DevelopmentBank(Lever):
    """The proposed SCO Development Bank: infrastructure finance that binds borrowers' trade."""

    name = "development_bank"
    bloc = "sco"
    family = "trade"
    default_targets = ("sco_members", "sco_observers", "sco_dialogue_partners")
    rates = {"e_sco": 0.037}
    units = {"e_sco": ("trade_sco", 1.0)}
    half_budget_bn = 2.0


class CPEC(Lever):
    """China-Pakistan Economic Corridor: energy and transport investment in Pakistan (BRI flagship).

    Ties Pakistan's economy and, through the security of the corridor, its security to China; the
    security rate keeps its former ratio to the trade rate (a quarter: judgement).
    """

    name = "cpec"
    bloc = "sco"
    family = "trade"
    default_targets = ("PAK",)
    rates = {"e_sco": 0.037, "s_sco": 0.009}
    units = {"e_sco": ("trade_sco", 1.0), "s_sco": ("trade_sco", 0.25)}
    half_budget_bn = 5.0


class EurasianRailway(Lever):
    """The Eurasian railway network (China-Europe rail through Central Asia and Russia)."""

    name = "eurasian_railway"
    bloc = "sco"
    family = "trade"
    default_targets = ("central_asia", "RUS", "BLR", "MNG")
    rates = {"e_sco": 0.037}
    units = {"e_sco": ("trade_sco", 1.0)}
    half_budget_bn = 3.0


# --- SCO security cooperation ---------------------------------------------------------------

class JointExercises(Lever):
    """SCO 'Peace Mission' joint military exercises: interoperability and habits of cooperation."""

    name = "joint_exercises"
    bloc = "sco"
    family = "security"
    default_targets = ("sco_members",)
    rates = {"s_sco": 0.051}
    units = {"s_sco": ("arms_sco", 1.0)}


class ArmsTransfers(Lever):
    """Russian and Chinese arms sales and training: dependence on spare parts makes ties sticky."""

    name = "arms_transfers"
    bloc = "sco"
    family = "security"
    default_targets = ("sco_members", "sco_observers")
    rates = {"s_sco": 0.051}
    units = {"s_sco": ("arms_sco", 1.0)}
    half_budget_bn = 2.0


class CounterTerrorism(Lever):
    """The SCO Regional Anti-Terrorist Structure (RATS) against the 'three evils'.

    Intelligence sharing ties security services together and, in the literature on authoritarian
    cooperation (Cooley 2012, *Great Games, Local Rules*), strengthens regimes against their
    opponents: a small negative rate on governance (a third of the security rate, its former
    ratio: judgement).
    """

    name = "counter_terrorism"
    bloc = "sco"
    family = "security"
    default_targets = ("sco_members",)
    rates = {"s_sco": 0.051, "governance": -0.017}
    units = {"s_sco": ("arms_sco", 1.0), "governance": ("arms_sco", -1 / 3)}


class CulturalExchange(Lever):
    """SCO cultural and media exchange, scholarships and state media: a direct pull of opinion."""

    name = "cultural_exchange"
    bloc = "sco"
    family = "influence"
    default_targets = ("sco_members", "sco_observers", "sco_dialogue_partners")
    direct = 0.005


# --- Western counter-strategies ---------------------------------------------------------------

class DiplomaticAlliances(Lever):
    """Building coalitions; intended outcome: enhanced global influence (design card).

    Summits, partnerships and coalition diplomacy pull a state's alignment directly and add a
    little to its security ties with the West (0.8 of cybersecurity cooperation's security rate,
    its former ratio: judgement). The direct push has no observable: it is bounded by the
    leader-change estimate (docs/model.md section 7).
    """

    name = "diplomatic_alliances"
    bloc = "west"
    family = "influence"
    default_targets = ("swing_states",)
    rates = {"s_west": 0.033}
    units = {"s_west": ("arms_west", 0.8)}
    direct = 0.008


class TradeAgreements(Lever):
    """Economic resilience; intended outcome: reduced dependency on SCO trade (design card).

    Free-trade and supply-chain agreements raise trade with the West and divert some trade away
    from China and Russia (0.6 of the Western rate, its former ratio: judgement).
    """

    name = "trade_agreements"
    bloc = "west"
    family = "trade"
    default_targets = ("swing_states",)
    rates = {"e_west": 0.041, "e_sco": -0.025}
    units = {"e_west": ("trade_west", 1.0), "e_sco": ("trade_west", -0.6)}
    half_budget_bn = 2.0


class CybersecurityCooperation(Lever):
    """Protecting infrastructure; intended outcome: greater security (design card).

    Capacity building and trusted networks raise security ties with the West and displace some
    dependence on Chinese and Russian security technology (0.4 of the Western rate, its former
    ratio: judgement). Full effort raises security ties with the West as much as a 90th-percentile
    rise of the Western arms-import share did; its former half-of-joint-exercises rate was set
    when the security weight was 60 times the estimate, to keep a decade of it from pulling
    CSTO members out of the Russian camp.
    """

    name = "cybersecurity_cooperation"
    bloc = "west"
    family = "security"
    default_targets = ("swing_states",)
    rates = {"s_west": 0.042, "s_sco": -0.017}
    units = {"s_west": ("arms_west", 1.0), "s_sco": ("arms_west", -0.4)}
    half_budget_bn = 0.5


class CivilSociety(Lever):
    """Support for civil society: empowering locals; intended outcome: strengthened democracy.

    Raises governance (which pulls alignment West through the regime channel), but closed regimes
    answer foreign funding with restrictions and move away from the funder (Carothers and
    Brechenmacher 2014; Dupuy, Ron and Prakash 2016). Where governance g is below
    ``closed_regime_threshold``, with ``gap = (closed - g) / closed``: the governance gain is
    cut by the factor ``(1 - gap)**2`` (the restrictions work: nothing opens in the most closed
    regimes), and a direct push towards the SCO of ``civil_society_backlash * eff * gap`` lasts
    as long as the funding does. Over a decade the most closed regimes (g below about 0.14 at
    the defaults; 0.2 at the former governance rate 0.02) end nearer the SCO the more they are
    funded; regimes near the threshold still open up and move West.
    """

    name = "civil_society"
    bloc = "west"
    family = "influence"
    default_targets = ("swing_states",)
    rates = {"governance": 0.03}
    units = {"governance": ("regime", 1.0)}
    half_budget_bn = 0.3

    def effects(self, eff, values, room, params):
        """Governance gain in open regimes; restriction and backlash in closed ones."""
        inc, direct = super().effects(eff, values, room, params)
        closed = params["closed_regime_threshold"]
        gap = np.clip((closed - values[GOV]) / closed, 0.0, 1.0)
        inc[GOV] *= (1.0 - gap) ** 2
        return inc, direct + params["civil_society_backlash"] * eff * gap


class PublicDiplomacy(Lever):
    """Public diplomacy arguing for a rules-based order (climate, terrorism): a direct pull."""

    name = "public_diplomacy"
    bloc = "west"
    family = "influence"
    default_targets = ("swing_states",)
    direct = 0.005
    half_budget_bn = 0.3


def rate_table(levers: list[Lever]) -> tuple[np.ndarray, np.ndarray]:
    """The levers' rates as a (levers, channels) matrix and their signed direct pushes."""
    rates = np.zeros((len(levers), len(CHANNELS)))
    for i, lever in enumerate(levers):
        for channel, rate in lever.rates.items():
            rates[i, CHANNELS.index(channel)] = rate
    return rates, np.array([lv.sign * lv.direct for lv in levers])


def stacked_effects(rates: np.ndarray, direct: np.ndarray, eff: np.ndarray, values: np.ndarray,
                    room: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Lever.effects`` of several plain levers at once (one numpy expression, no loop).

    Args:
        rates, direct: from ``rate_table`` for the levers in use.
        eff: (levers, n) effective effort.
        values, room: (channels, n) as for ``Lever.effects``.

    Returns:
        Increments per year (levers, channels, n) and direct pushes per year (levers, n).
    """
    scale = np.where(rates[:, :, None] > 0, room[None], values[None])
    return rates[:, :, None] * eff[:, None, :] * scale, direct[:, None] * eff


def is_plain(lever: Lever) -> bool:
    """True if the lever uses the base rule (no ``effects`` of its own): it can be stacked."""
    return type(lever).effects is Lever.effects


#: The explicit registry, in a fixed order (the order of attribution columns in outputs).
LEVERS: dict[str, Lever] = {cls.name: cls() for cls in (
    TradeFacilitation, DevelopmentBank, CPEC, EurasianRailway,
    JointExercises, ArmsTransfers, CounterTerrorism, CulturalExchange,
    DiplomaticAlliances, TradeAgreements, CybersecurityCooperation, CivilSociety, PublicDiplomacy,
)}

SCO_LEVERS = tuple(n for n, lv in LEVERS.items() if lv.bloc == "sco")
WEST_LEVERS = tuple(n for n, lv in LEVERS.items() if lv.bloc == "west")
