"""The shipped games' teaching noise: the scripted class's choices, not the dice, decide."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from model.game.script import load_moves, play_script
from model.game.store import new_game


def _end(path, script, key_states):
    game = new_game(path)
    play_script(game, script)
    return game.model.a[[game.world.index[k] for k in key_states]]


@pytest.mark.parametrize("name", ["lesson_50min", "exercise_90min"])
def test_moves_shift_key_states_more_than_the_dice(games_dir, tmp_path, name):
    source = games_dir / f"{name}.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["scenario"] = str((games_dir / data["scenario"]).resolve())
    script = load_moves(games_dir / f"{name}.moves.yaml").model_copy(update={"game": None})
    idle = script.model_copy(update={"turns": []})
    with_moves, without = [], []
    for seed in range(4):
        path = tmp_path / f"{name}_{seed}.yaml"
        path.write_text(yaml.safe_dump({**data, "seed": seed}, sort_keys=False), encoding="utf-8")
        with_moves.append(_end(path, script, data["key_states"]))
        without.append(_end(path, idle, data["key_states"]))
    effect = np.mean(np.array(with_moves) - np.array(without), axis=0)
    dice = np.array(without).std(axis=0)
    top = int(np.argmax(np.abs(effect)))
    assert abs(effect[top]) > 3 * dice[top], (data["key_states"][top], effect[top], dice[top])
    assert abs(effect[top]) > 0.02
