"""Turn accounts: every sentence's number is the ledger's, every team's numbers its effects."""

from __future__ import annotations

import re

import numpy as np
import pytest

from model.game.narrate import (
    TOL,
    amount,
    direction,
    effect_sentences,
    headlines,
    refusal_notes,
    team_numbers,
    turn_report,
    turn_text,
)
from model.game.script import resolve_game

from .conftest import GAMES


@pytest.fixture(scope="module")
def lesson():
    """The shipped lesson played from its moves file."""
    game, _ = resolve_game(GAMES / "lesson_50min.yaml", GAMES / "lesson_50min.moves.yaml")
    return game, game.history()


def test_each_sentence_reports_the_ledger_number_and_the_strongest_push_back(lesson):
    game, results = lesson
    seen = 0
    for turn, r in enumerate(results, start=1):
        for team in game.team_ids:
            for e in effect_sentences(game.spec, game.world, results, turn, team):
                seen += 1
                i = game.world.index[e.state]
                assert e.value == r.by_owner[r.owners.index(e.owner), i]
                assert r.owner_team(e.owner) == team and abs(e.value) >= TOL
                assert f"moved it {amount(e.value)} {direction(e.value)}" in e.text
                assert str(game.world.name[i]) in e.text
                pushes = [r.by_owner[k, i] for k, o in enumerate(r.owners)
                          if r.owner_team(o) != team and r.by_owner[k, i] * e.value < 0]
                if e.counter is None:
                    assert not pushes or max(map(abs, pushes)) < TOL
                else:
                    assert abs(e.counter_value) == pytest.approx(max(map(abs, pushes)), abs=0)
                    assert f"moved it {amount(e.counter_value)} back" in e.text
    assert seen > 10


def test_sentences_speak_to_the_team_or_about_it(lesson):
    game, results = lesson
    mine = effect_sentences(game.spec, game.world, results, 1, "west")
    about = effect_sentences(game.spec, game.world, results, 1, "west", to_team=False)
    assert mine[0].text.startswith("Your ")
    assert about[0].text.startswith(game.spec.teams["west"].name + "'s ")
    assert [e.value for e in mine] == [e.value for e in about]


def test_team_numbers_are_its_attributed_effects(lesson):
    game, results = lesson
    for r in results:
        for team in game.team_ids:
            eff = r.team_effects(team)
            numbers = team_numbers(game.world, r, team)
            assert {c for c, _ in numbers} == {str(game.world.iso3[i])
                                               for i in np.flatnonzero(np.abs(eff) >= TOL)}
            for code, v in numbers:
                assert v == eff[game.world.index[code]]


def test_report_prints_the_numbers_the_score_and_a_refusal(lesson):
    game, results = lesson
    lines = turn_report(game, results, 2, "sco")
    text = "\n".join(lines)
    eff = results[1].team_effects("sco")
    printed = dict(re.findall(r"([A-Z]{3}) ([+-]\d\.\d{3})", text.split("\n")[3]))
    for code, v in printed.items():
        assert float(v) == pytest.approx(eff[game.world.index[code]], abs=5e-4)
    assert f"score {results[1].scores['sco']['total']:+.2f}" in text
    # turn 2 of the moves file: the middle powers refuse the SCO's arms deal in Turkey
    assert "Turkey refused your arms deal: it did not act there." in refusal_notes(
        game.spec, game.world, results[1], "sco")


def test_three_headlines_and_a_summary_naming_every_team(lesson):
    game, results = lesson
    for turn in range(1, len(results) + 1):
        assert len(headlines(game, results, turn)) == 3
        text = turn_text(game, results, turn)
        assert f"Turn {turn} resolved" in text
        for t in game.team_ids:
            assert game.spec.teams[t].name in text
