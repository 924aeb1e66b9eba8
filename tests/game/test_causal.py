"""Counterfactual replays: the same game without a team's moves, and how the effects add up."""

from __future__ import annotations

import numpy as np
import pytest

from model.game.causal import ALL, decomposition, inject_effects, replay_without
from model.game.script import resolve_game
from model.game.store import new_game

from .conftest import GAMES


@pytest.fixture(scope="module")
def lesson():
    """The shipped lesson played from its moves file (two facilitator injects, a chance card)."""
    return resolve_game(GAMES / "lesson_50min.yaml", GAMES / "lesson_50min.moves.yaml")[0]


@pytest.mark.parametrize("how", ["log", "turns"])
def test_replaying_with_nothing_left_out_gives_the_same_world(lesson, how):
    # the log path (teams left out) and the turns path (an inject left out: none here)
    again = replay_without(lesson, **({"drop_inject": (0, 0)} if how == "turns" else {}))
    assert again.dropped == []
    assert np.array_equal(again.game.moment()["alignment"], lesson.moment()["alignment"])
    for a, b in zip(again.game.history(), lesson.history(), strict=True):
        assert np.array_equal(a.alignment_after, b.alignment_after)
        assert a.chance == b.chance


def test_the_no_player_world_is_the_game_with_every_turn_skipped(lesson):
    none = replay_without(lesson, drop_team=ALL).game
    skipped = new_game(GAMES / "lesson_50min.yaml")
    for r in lesson.history():
        skipped.open_turn()
        for inj in r.injects:
            if not inj["source"].startswith("chance:"):
                assert skipped.inject(card=inj["source"]).ok
        skipped.skip_turn()
    assert np.array_equal(none.moment()["alignment"], skipped.moment()["alignment"])


def test_effects_and_the_no_player_world_add_up_to_the_class_world(lesson):
    dec = decomposition(lesson)
    total = dec.none + sum(dec.effects.values()) + dec.interaction
    assert np.allclose(total, dec.actual, atol=1e-12)
    for name, row in dec.outcomes.items():
        parts = row["none"] + sum(row[t] for t in lesson.team_ids) + row["interaction"]
        assert parts == pytest.approx(row["actual"], abs=1e-12), name
    assert all(np.abs(e).sum() > 0 for e in dec.effects.values())  # every team moved something


def test_one_team_alone_has_no_interaction_and_an_idle_team_no_effect(game):
    game.open_turn()
    assert game.submit({"team": "west", "move": "trade", "targets": ["KAZ"]}).ok
    game.close_turn()
    game.open_turn()
    assert game.submit({"team": "west", "move": "talk", "targets": ["TUR"]}).ok
    game.close_turn()
    dec = decomposition(game)
    assert np.array_equal(dec.interaction, np.zeros_like(dec.interaction))
    assert np.array_equal(dec.effects["sco"], np.zeros_like(dec.actual))
    assert np.array_equal(dec.effects["west"], dec.actual - dec.none)
    assert np.abs(dec.effects["west"]).sum() > 0


def test_an_injects_effect_is_the_game_replayed_without_it(lesson):
    effects = {e["source"]: e for e in inject_effects(lesson)}
    assert set(effects) == {"pipeline_deal", "earthquake_aid"}  # chance cards are not left out
    tur = lesson.world.index["TUR"]
    assert effects["earthquake_aid"]["effect"][tur] < 0  # a shock of -0.05 towards the West
    with pytest.raises(ValueError, match="chance card"):
        chance = next((r.turn, k) for r in lesson.history()
                      for k, i in enumerate(r.injects) if i["source"].startswith("chance:"))
        replay_without(lesson, drop_inject=chance)
