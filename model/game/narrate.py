"""What a turn did, in numbers and in sentences built from the model's attribution.

Every number here is read from a ``TurnResult``: a move's effect on a state is its row of
``by_owner`` (the ledger's share of the levers' contributions, ``ledger``), a team's effect the
sum of its moves' rows, a state's change ``alignment_after - alignment_before``. Sentences are
``Effect`` records (owner, state, value, the strongest push the other way) with their text, so
a test can check each printed number against the ledger. ``turn_report`` gives the per-team
account (moves, sentences, score) and ``headlines`` three lines for the room.

Alignment runs from -1 (West) to +1 (SCO): a negative change is a move towards the West.
Imports numpy, core, data and the game's own modules only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.blocs import CAMPS, camp_of
from ..data.world import World
from .ledger import SCENARIO
from .scoring import scores
from .spec import GameSpec
from .turns import TurnResult

#: Smallest attributed change a sentence reports (it prints as at least 0.001).
TOL = 5e-4
#: At most this many sentences per team and turn (the largest effects first).
MAX_SENTENCES = 6
CAMP_NAMES = {"sco": "in the SCO camp", "west": "in the Western camp", "nonaligned": "non-aligned"}


@dataclass(frozen=True)
class Effect:
    """One attributed effect: ``owner`` moved ``state`` by ``value`` this turn (``text`` says so).

    ``counter``/``counter_value``: the other owner that pushed the state hardest the other way
    this turn (None if nothing measurable did).
    """

    owner: str
    state: str
    value: float
    text: str
    counter: str | None = None
    counter_value: float = 0.0


def direction(value: float) -> str:
    """'towards the West' for a negative change of alignment, 'towards the SCO' otherwise."""
    return "towards the West" if value < 0 else "towards the SCO"


def amount(value: float) -> str:
    """An alignment change as the sentences print it (three decimals, no sign)."""
    return f"{abs(value):.3f}"


def move_records(results: list[TurnResult]) -> dict[str, dict]:
    """Every resolved move by its id (owner), with the turn it was played in."""
    return {m["id"]: {**m, "turn": r.turn} for r in results for m in r.moves}


def team_name(spec: GameSpec, team: str) -> str:
    """A team's shown name (its id when the file gives none)."""
    return spec.teams[team].name or team


def move_label(record: dict) -> str:
    """A move as words: 'trade deal', 'application for a Western partnership', ..."""
    mv = record["move"]
    if "move" in mv:
        return mv["move"].replace("_", " ")
    if "apply" in mv:
        return "application for SCO status" if mv["apply"] == "sco" else \
            "application for a Western partnership"
    if "respond" in mv:
        return "refusal of offers" if mv["respond"] == "refuse" else "welcome to offers"
    return f"decision to {mv['decide']} {mv['state']}"


def owner_phrase(owner: str, records: dict[str, dict], spec: GameSpec, *,
                 viewer: str | None = None) -> str:
    """Who did it, as words: 'your trade deal', "the SCO's rail corridor", 'the scenario's ...'."""
    if owner == SCENARIO:
        return "the programmes already under way in the scenario"
    rec = records[owner]
    label = move_label(rec)
    whose = "your" if rec["team"] == viewer else f"{team_name(spec, rec['team'])}'s"
    return f"{whose} {label}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def effect_sentences(spec: GameSpec, world: World, results: list[TurnResult], turn: int,
                     team: str, *, tol: float = TOL, limit: int = MAX_SENTENCES,
                     to_team: bool = True) -> list[Effect]:
    """What ``team``'s moves (this turn's and earlier ones still acting) did in turn ``turn``.

    One ``Effect`` per (move, state) with an attributed change of at least ``tol``, largest
    first, each naming the strongest push the other way by another owner on that state.
    ``to_team``: written to the team ('your ...'), else about it ("China's ...").
    """
    result = results[turn - 1]
    records = move_records(results[:turn])
    rows = [k for k, o in enumerate(result.owners) if result.owner_team(o) == team]
    if not rows:
        return []
    mine = result.by_owner[rows]
    ks, states = np.nonzero(np.abs(mine) >= tol)
    order = np.lexsort((states, ks, -np.abs(mine[ks, states])))[:limit]
    out = []
    for j in order:
        k, i = rows[ks[j]], int(states[j])
        owner, value = result.owners[k], float(result.by_owner[k, i])
        rec = records[owner]
        where = str(world.name[i])
        later = "" if rec["turn"] == turn else f" (played in turn {rec['turn']}) still"
        who = owner_phrase(owner, records, spec, viewer=team if to_team else None)
        text = f"{_capital(who)} in {where}{later} moved it {amount(value)} {direction(value)}"
        others = [m for m, o in enumerate(result.owners)
                  if result.owner_team(o) != team and result.by_owner[m, i] * value < 0]
        counter, cvalue = None, 0.0
        if others:
            m = max(others, key=lambda m: (abs(result.by_owner[m, i]), -m))
            if abs(result.by_owner[m, i]) >= tol:
                counter, cvalue = result.owners[m], float(result.by_owner[m, i])
                text += (f"; {owner_phrase(counter, records, spec)} moved it {amount(cvalue)} "
                         f"back")
        out.append(Effect(owner, str(world.iso3[i]), value, text + ".", counter, cvalue))
    return out


def refusal_notes(spec: GameSpec, world: World, result: TurnResult, team: str, *,
                  to_team: bool = True) -> list[str]:
    """Sentences on the team's offers that swing teams refused or welcomed this turn."""
    out = []
    whose = "your" if to_team else f"{team_name(spec, team)}'s"
    for m in result.moves:
        if m["team"] != team:
            continue
        for code, f in m.get("factors", {}).items():
            name = str(world.name[world.index[code]])
            label = move_label(m)
            out.append(f"{name} refused {whose} {label}: it did not act there." if f == 0 else
                       f"{name} welcomed {whose} {label}: it acted {f:g} times as hard there.")
    return out


def inject_text(spec: GameSpec, inj: dict) -> str:
    """An inject in words: its card's description, or its event's type and states."""
    card = spec.deck.get(inj["source"].removeprefix("chance:"))
    if card is not None and card.description:
        return card.description
    ev = inj["event"]
    where = ev.get("state") or ", ".join(ev.get("states") or [])
    return f"{str(ev.get('type', 'event')).replace('_', ' ')} on {where}"


def start_scores(game) -> dict[str, dict]:
    """Each team's score at the start of the game (threshold objectives may already hold)."""
    return scores(game.spec, game.start, game.start, game.world)


def team_numbers(world: World, result: TurnResult, team: str, *, tol: float = TOL,
                 ) -> list[tuple[str, float]]:
    """(state code, attributed change this turn) of the team's moves, largest first."""
    eff = result.team_effects(team)
    idx = np.flatnonzero(np.abs(eff) >= tol)
    idx = idx[np.argsort(-np.abs(eff[idx]), kind="stable")]
    return [(str(world.iso3[i]), float(eff[i])) for i in idx]


def turn_report(game, results: list[TurnResult], turn: int, team: str) -> list[str]:
    """The account of one team's turn: moves and points, effects in numbers and sentences, score."""
    spec, world = game.spec, game.world
    result = results[turn - 1]
    prev = results[turn - 2].scores if turn > 1 else start_scores(game)
    t = spec.teams[team]
    moves = [m for m in result.moves if m["team"] == team]
    lines = [f"{team_name(spec, team)}: spent {result.spent.get(team, 0.0):g} of {t.budget:g} "
             f"points on {len(moves)} move(s)"]
    for m in moves:
        mv = m["move"]
        where = mv.get("targets") or mv.get("states") or ([mv["state"]] if "state" in mv
                                                          else t.states)
        lines.append(f"  - {move_label(m)} ({', '.join(where)}; {m['cost']:g} points)")
    numbers = team_numbers(world, result, team)
    if numbers:
        lines.append("  attributed change of alignment this turn: " + ", ".join(
            f"{code} {v:+.3f}" for code, v in numbers[:8]))
    sentences = effect_sentences(spec, world, results, turn, team)
    lines += [f"  {e.text}" for e in sentences]
    lines += [f"  {s}" for s in refusal_notes(spec, world, result, team)]
    if not sentences:
        lines.append("  Your moves had no measurable effect this turn." if moves or turn > 1
                     else "  No moves this turn.")
    now, before = result.scores[team]["total"], prev[team]["total"]
    lines.append(f"  score {now:+.2f} ({now - before:+.2f} this turn)")
    return lines


def headlines(game, results: list[TurnResult], turn: int, *, n: int = 3) -> list[str]:
    """Three headlines for the room, in this order of preference.

    Key states that changed camp, the key state that moved most, the strongest move, decisions
    on applications, injects, other states that changed camp, the score leader.
    """
    spec, world = game.spec, game.world
    result = results[turn - 1]
    thr = game.threshold
    change = result.alignment_after - result.alignment_before
    after = camp_of(result.alignment_after, thr)
    crossed = np.flatnonzero(camp_of(result.alignment_before, thr) != after)
    keys = set(spec.key_states or game.scenario.key_states)
    camps = [f"{world.name[i]} is now {CAMP_NAMES[CAMPS[after[i]]]} "
             f"({result.alignment_after[i]:+.3f})." for i in crossed]
    key_first = [c for c, i in zip(camps, crossed, strict=True) if world.iso3[i] in keys]
    out = list(key_first)
    key_idx = np.array([world.index[k] for k in sorted(keys)], dtype=int)
    big = int(key_idx[np.argmax(np.abs(change[key_idx]))]) if len(key_idx) else \
        int(np.argmax(np.abs(change)))
    out.append(f"{world.name[big]} moved most of the key states: {amount(change[big])} "
               f"{direction(change[big])} (now {result.alignment_after[big]:+.3f}).")
    records = move_records(results[:turn])
    moved = [(abs(result.by_owner[k, i]), o, i) for k, o in enumerate(result.owners)
             if o != SCENARIO for i in [int(np.argmax(np.abs(result.by_owner[k])))]]
    if moved:
        size, owner, i = max(moved, key=lambda x: (x[0], x[1]))
        if size >= TOL:
            value = float(result.by_owner[result.owners.index(owner), i])
            out.append(f"{_capital(owner_phrase(owner, records, spec))} did most: "
                       f"{amount(value)} {direction(value)} in {world.name[i]}.")
    for app in result.applications:
        bloc = "SCO status" if app["bloc"] == "sco" else "a Western partnership"
        out.append(f"{world.name[world.index[app['state']]]} "
                   f"{'admitted to' if app['admitted'] else 'turned down for'} {bloc}.")
    out += [f"News: {inject_text(spec, inj)}." for inj in result.injects]
    out += [c for c in camps if c not in key_first]
    lead = max(game.team_ids, key=lambda t: (result.scores[t]["total"], t))
    out.append(f"{team_name(spec, lead)} leads with {result.scores[lead]['total']:+.2f} points.")
    return out[:n]


def turn_text(game, results: list[TurnResult], turn: int) -> str:
    """The readable summary of one turn for the room: key states, every team, three headlines."""
    result = results[turn - 1]
    first, last = result.years
    span = f"{first}" if first == last else f"{first}-{last}"
    keys = game.spec.key_states or list(game.scenario.key_states)
    lines = [f"=== Turn {result.turn} resolved ({span})"
             + (": skipped, no team moves" if result.skipped else "") + " ==="]
    lines.append("Headlines:")
    lines += [f"  * {h}" for h in headlines(game, results, turn)]
    lines.append("Key states (alignment: -1 West .. +1 SCO):")
    for code in keys:
        i = game.world.index[code]
        a0, a1 = result.alignment_before[i], result.alignment_after[i]
        lines.append(f"  {code} {str(game.world.name[i])[:22]:<22} {a0:+.3f} -> {a1:+.3f} "
                     f"({a1 - a0:+.3f})")
    for team in game.team_ids:
        lines.append("")
        lines += turn_report(game, results, turn, team)
    return "\n".join(lines)
