"""A turn's moves as the model's plan: offers after swing teams' answers, and each year's plan.

Pure functions of the game, the world and the moves (no model): ``offers_of`` turns the turn's
spend moves into effort per state, after the factors that swing teams' refusals and welcomes put
on offers aimed at their states; ``year_plan`` makes one year's ``Plan`` (the scenario's levers,
unchanged where no move uses them, plus the moves' effort) and the effort per owner, lever and
state that the attribution ledger splits by.

Imports numpy, data, core and the game's own modules only.
"""

from __future__ import annotations

import numpy as np

from ..core.levers import LEVERS
from ..core.plan import EventAction, LeverAction, Plan
from ..data.world import World
from .ledger import SCENARIO
from .moves import target_mask
from .spec import GameSpec


def offers_of(spec: GameSpec, world: World, moves: list[dict]) -> tuple[list[dict], dict]:
    """Spend moves as owners (id, lever, effort per state) and the answers' factors by move id."""
    responses = [m for m in moves if "respond" in m["move"]]
    offers, factors = [], {}
    for m in moves:
        mv = m["move"]
        if "move" not in mv:
            continue
        item = spec.teams[m["team"]].menu[mv["move"]]
        effort = target_mask(mv["targets"], world) * (mv["intensity"] * item.efficiency)
        f = answer_factors(spec, world, m, item.lever, effort > 0, responses)
        factors[m["id"]] = {str(world.iso3[i]): float(f[i]) for i in np.flatnonzero(f != 1.0)}
        offers.append({"id": m["id"], "lever": item.lever, "effort": effort * f})
    return offers, factors


def answer_factors(spec: GameSpec, world: World, offer: dict, lever: str, aimed: np.ndarray,
                   responses: list[dict]) -> np.ndarray:
    """Factor per state for one offer: 0 refused, ``welcome_bonus`` welcomed, else 1.

    A response applies to offers from its ``to`` team (any other team if none) on its ``lever``
    (any if none) aimed at its ``states`` (all the swing team's if none); refusal wins.
    """
    f = np.ones(world.n)
    refused = np.zeros(world.n, dtype=bool)
    for r in responses:
        rv = r["move"]
        if r["team"] == offer["team"] or rv.get("to", offer["team"]) != offer["team"]:
            continue
        if rv.get("lever", lever) != lever:
            continue
        mask = world.mask(rv.get("states") or spec.teams[r["team"]].states) & aimed
        if rv["respond"] == "refuse":
            refused |= mask
        else:
            f[mask] = spec.welcome_bonus
    f[refused] = 0.0
    return f


def year_plan(year: int, offers: list[dict], background: Plan, owners: list[str],
              events: list[dict], n: int) -> tuple[Plan, np.ndarray]:
    """One year's plan and the effort per owner, lever and state (for the ledger).

    A lever no move uses that year is the scenario's action unchanged (so a game without moves
    is its scenario to the byte); otherwise its effort is the scenario's effort times its
    efficiency plus every move's effort, for that year alone. Events: the scenario's, then the
    game's in the order they were added (``BlocModel.set_plan`` keeps past events fixed).
    """
    names = list(LEVERS)
    effort = np.zeros((len(owners), len(names), n))
    owner = {o: k for k, o in enumerate(owners)}
    active = {lv.name: lv for lv in background.levers if lv.first_year <= year <= lv.last_year}
    levers = []
    for j, name in enumerate(names):
        mine = [o for o in offers if o["lever"] == name]
        base = active.get(name)
        if base is not None:
            effort[owner[SCENARIO], j] = np.asarray(base.effort) * base.efficiency
        for o in mine:
            effort[owner[o["id"]], j] = o["effort"]
        if not mine:
            if base is not None:
                levers.append(base)
            continue
        total = effort[:, j].sum(axis=0)
        levers.append(LeverAction(name=name, effort=tuple(total.tolist()), first_year=year,
                                  last_year=year))
    game_events = (EventAction(**e) for e in events)
    return Plan(levers=tuple(levers), events=(*background.events, *game_events)), effort
