"""Each team's causal effect: the same game replayed without its moves, with the same random numbers.

Leaving a team's moves out (``drop_team``) or every team's (``drop_team=ALL``: the
*no-player world*) replays the game's log without them (``store.without_teams``); leaving one
inject out (``drop_inject=(turn, k)``) replays the game's resolved turns (``Game.history()``:
the moves as resolved, the injects played, skipped turns) without it. Either way the model's
generator and the chance cards come from the game's seed whatever the moves, so the difference
from the class's game is what those moves (or that inject) caused, peers and membership
included. A move of another team that the counterfactual refuses (a decision on an application
that was never made) is left out and listed in ``Replay.dropped``.

How the effects add up (``decomposition``): with ``class`` the class's world, ``none`` the
no-player world and ``effect_t = class - without_t``,
``class = none + sum_t effect_t + interaction``, where ``interaction`` is what the teams' moves
did together beyond the sum of their separate effects (zero when only one team moved; small
when the moves act on different states). It is reported, not hidden.

Imports numpy, core and the game's own modules only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .engine import Game
from .moves import Verdict
from .store import without_teams
from .turns import TurnResult

ALL = "*"  # drop_team: every team's moves (the no-player world)


@dataclass
class Replay:
    """A counterfactual game and the moves it could not replay."""

    game: Game
    dropped: list[dict] = field(default_factory=list)


def fresh_copy(game: Game) -> Game:
    """A new game of the same file, seed and world, at its start."""
    new = Game(game.spec, game.scenario, game.world)
    new.world_dir = game.world_dir
    return new


def replay_without(game: Game, *, drop_team: str | None = None,
                   drop_inject: tuple[int, int] | None = None) -> Replay:
    """The game played again without ``drop_team``'s moves (``ALL``: every team's) or one inject.

    ``drop_inject`` is (turn, index in that turn's injects); a chance card cannot be dropped
    (its draw comes from the seed) and raises ValueError.
    """
    if drop_inject is None:
        teams = game.team_ids if drop_team == ALL else [drop_team] if drop_team else []
        out = Replay(fresh_copy(game))
        for entry in without_teams(game.log, teams):
            action = entry["action"]
            result = out.game.act(action)
            if entry["ok"] and isinstance(result, Verdict) and not result.ok and "move" in action:
                out.dropped.append({"turn": out.game.turn + 1, "team": action["move"].get("team"),
                                    "move": action["move"], "reason": result.reason})
        return out
    return _replay_turns(game, drop_inject)


def _replay_turns(game: Game, drop_inject: tuple[int, int]) -> Replay:
    """The game's resolved turns played again on a fresh game, without one inject."""
    results = game.history()
    new = fresh_copy(game)
    extra = len(results) - new.state["turns_total"]
    if extra > 0:
        new.extend(extra)
    out = Replay(new)
    for r in results:
        new.open_turn()
        for k, inj in enumerate(r.injects):
            source = inj["source"]
            if (r.turn, k) == drop_inject:
                if source.startswith("chance:"):
                    raise ValueError(f"a chance card cannot be left out ({source})")
                continue
            if source.startswith("chance:"):
                continue  # drawn again from the seed when the turn is resolved
            verdict = (new.inject(card=source) if source in game.spec.deck
                       else new.inject(event=inj["event"]))
            if not verdict.ok:
                raise ValueError(f"turn {r.turn}: inject {source} refused: {verdict.reason}")
        for m in r.moves:
            verdict = new.submit(m["move"])
            if not verdict.ok:
                out.dropped.append({"turn": r.turn, **m, "reason": verdict.reason})
        result = new.skip_turn() if r.skipped else new.close_turn()
        if isinstance(result, Verdict):
            raise ValueError(f"turn {r.turn} could not be resolved again: {result.reason}")
    return out


def world_now(game: Game) -> dict:
    """The measures compared: alignment per state and the run outcomes, now."""
    m = game.moment()
    return {"alignment": m["alignment"], "outcomes": m["outcomes"]}


@dataclass
class Decomposition:
    """The class's world split into the no-player world, each team's effect and the interaction.

    Arrays are alignment per state; ``outcomes`` holds the same split of each run outcome.
    """

    actual: np.ndarray
    none: np.ndarray
    effects: dict[str, np.ndarray]
    interaction: np.ndarray
    outcomes: dict[str, dict[str, float]]  # outcome -> {actual, none, <team>..., interaction}
    dropped: dict[str, list[dict]]


def decomposition(game: Game) -> Decomposition:
    """Replay without each team and without all; split the class's world as the module says."""
    actual = world_now(game)
    base = replay_without(game, drop_team=ALL)
    none = world_now(base.game)
    effects, outs, dropped = {}, {}, {ALL: base.dropped}
    for team in game.team_ids:
        rep = replay_without(game, drop_team=team)
        dropped[team] = rep.dropped
        w = world_now(rep.game)
        effects[team] = actual["alignment"] - w["alignment"]
        outs[team] = {k: actual["outcomes"][k] - w["outcomes"][k] for k in actual["outcomes"]}
    inter = actual["alignment"] - none["alignment"] - sum(effects.values())
    outcomes = {}
    for k in actual["outcomes"]:
        row = {"actual": actual["outcomes"][k], "none": none["outcomes"][k]}
        row.update({t: outs[t][k] for t in game.team_ids})
        row["interaction"] = row["actual"] - row["none"] - sum(outs[t][k] for t in game.team_ids)
        outcomes[k] = row
    return Decomposition(actual["alignment"], none["alignment"], effects, inter, outcomes,
                         dropped)


def inject_effects(game: Game) -> list[dict]:
    """Each injected card or event played by the facilitator: the game replayed without it.

    One entry per inject: turn, source, the change of alignment it caused by the end
    (``effect``, per state) and the same for the run outcomes.
    """
    actual = world_now(game)
    out = []
    for r in game.history():
        for k, inj in enumerate(r.injects):
            if inj["source"].startswith("chance:"):
                continue
            w = world_now(replay_without(game, drop_inject=(r.turn, k)).game)
            out.append({"turn": r.turn, "source": inj["source"], "event": inj["event"],
                        "effect": actual["alignment"] - w["alignment"],
                        "outcomes": {o: actual["outcomes"][o] - w["outcomes"][o]
                                     for o in actual["outcomes"]}})
    return out


def attributed_totals(results: list[TurnResult], team: str) -> np.ndarray:
    """A team's attributed change of alignment summed over every turn (the ledger's view)."""
    return sum((r.team_effects(team) for r in results), np.zeros(len(results[0].alignment_after)))
