"""Random sequences of moves and facilitator actions keep the game's invariants.

Budgets never go below zero, alignment stays in [-1, 1], the game's phase and turn stay
consistent, and the log replays on a fresh game to the same save bytes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from model.game.store import new_game, replay, save_bytes

TEAMS = {"sco": {"rail": ["central_asia", "KAZ", "UZB", "KGZ"], "media": ["KAZ", "TUR"]},
         "west": {"trade": ["KAZ", "TUR", "UZB"], "talk": ["KAZ", "TUR"]},
         "mid": {"hedge_west": ["KAZ", "TUR", "own"], "hedge_east": ["KAZ", "TUR", "own"]}}


@st.composite
def spend(draw):
    team = draw(st.sampled_from(sorted(TEAMS)))
    item = draw(st.sampled_from(sorted(TEAMS[team])))
    targets = draw(st.lists(st.sampled_from(TEAMS[team][item]), min_size=1, max_size=2,
                            unique=True))
    intensity = draw(st.sampled_from([0.1, 0.25, 0.5, 0.8, 1.0]))
    return {"do": "submit", "move": {"team": team, "move": item, "targets": targets,
                                     "intensity": intensity}}


swing = st.one_of(
    st.builds(lambda a, to, s: {"do": "submit", "move": {"team": "mid", "respond": a, "to": to,
                                                         "states": [s]}},
              st.sampled_from(["refuse", "welcome"]), st.sampled_from(["sco", "west"]),
              st.sampled_from(["KAZ", "TUR"])),
    st.builds(lambda b, s: {"do": "submit", "move": {"team": "mid", "apply": b, "state": s}},
              st.sampled_from(["sco", "west"]), st.sampled_from(["KAZ", "TUR"])),
    st.builds(lambda a, s: {"do": "submit", "move": {"team": "sco", "decide": a, "state": s}},
              st.sampled_from(["admit", "reject"]), st.sampled_from(["KAZ", "TUR"])),
)
in_turn = st.one_of(
    spend(), spend(), spend(), swing,
    st.just({"do": "inject", "card": "quake"}),
    st.just({"do": "inject", "event": {"type": "economic_shock", "bloc": "west", "delta": 0.05,
                                       "state": "KAZ"}}),
    st.just({"do": "extend", "turns": 1}), st.just({"do": "open"}),
    st.builds(lambda t, k: {"do": "withdraw", "team": t, "id": f"t1:{t}:{k}"},
              st.sampled_from(sorted(TEAMS)), st.integers(1, 6)),
)
endings = st.sampled_from([["close"], ["close"], ["skip"], ["close", "undo"],
                           ["close", "undo", "close"], ["undo"], ["end"]])
turns = st.lists(st.tuples(st.lists(in_turn, max_size=8), endings), min_size=1, max_size=5)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(plays=turns)
def test_random_play_keeps_the_invariants_and_replays(game_file, plays):
    game = new_game(game_file)
    steps = [a for moves, ending in plays
             for a in [{"do": "open"}, *moves, *({"do": e} for e in ending)]]
    for action in steps:
        game.act(action)
        assert all(v >= 0.0 for v in game.state["left"].values())
        assert all(m["cost"] >= 0 for m in game.state["moves"])
        a = game.model.rec_alignment[: game.model.k + 1]
        assert np.isfinite(a).all() and (np.abs(a) <= 1.0).all()
        assert game.model.k == game.turn * game.spec.years_per_turn
        assert len(game.history()) == game.turn
        assert game.phase in ("ready", "open", "over")
        for r in game.history():
            spent = r.spent
            assert all(0 <= v <= game.spec.teams[t].budget + 1e-9 for t, v in spent.items())
    event(f"turns resolved: {game.turn}; moves accepted: "
          f"{sum(1 for e in game.log if e['ok'] and e['action']['do'] == 'submit') > 0}")
    again = replay(new_game(game_file), game.log)
    assert save_bytes(again) == save_bytes(game)
