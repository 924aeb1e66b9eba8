"""The debrief, the team briefs, the plots and the class's world among model runs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from model.base.errors import ScenarioError
from model.game.benchmark import class_measures, compare, sentence
from model.game.brief import ALL_BRIEFS, write_briefs
from model.game.debrief import render, write_debrief
from model.game.script import resolve_game
from model.game.store import new_game
from model.game.tiles import PLOTS, tile_layout, write_game_plots

from .conftest import GAMES


@pytest.fixture(scope="module")
def lesson():
    """The shipped lesson played from its moves file."""
    return resolve_game(GAMES / "lesson_50min.yaml", GAMES / "lesson_50min.moves.yaml")[0]


@pytest.mark.slow
def test_debrief_is_one_file_naming_every_team_and_turn(lesson, tmp_path):
    out = write_debrief(lesson, tmp_path / "debrief.html", runs=20)
    text = out.read_text(encoding="utf-8")
    for t, team in lesson.spec.teams.items():
        assert team.name.replace("'", "&#x27;") in text, t
    for turn in range(1, lesson.turn + 1):
        assert f"<h3>Turn {turn} (" in text
    for t in lesson.team_ids:  # each team's own account of the game
        name = lesson.spec.teams[t].name.replace("'", "&#x27;")
        assert re.search(re.escape(name) + r" made \d+ move\(s\) and spent [\d.]+ points", text)
    for section in ("Scoreboard", "The world's path", "Decisive moments",
                    "Each team's causal effect", "Your world among the model's worlds"):
        assert section in text
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", text)  # stands alone
    assert text.count("data:image/png;base64,") == 3


def test_debrief_of_a_game_with_no_turn_is_refused(game):
    with pytest.raises(ScenarioError, match="nothing to debrief"):
        render(game, runs=5)


def test_one_brief_page_per_team(tmp_path):
    game = new_game(GAMES / "exercise_90min.yaml")
    out = write_briefs(game, tmp_path / "briefs")
    whole = (out / ALL_BRIEFS).read_text(encoding="utf-8")
    assert whole.count("<div class=page>") == len(game.team_ids)
    assert "page-break-after:always" in whole
    for t, team in game.spec.teams.items():
        page = (out / f"brief_{t}.html").read_text(encoding="utf-8")
        assert page.count("<div class=page>") == 1
        assert team.name in page and f"{team.budget:g} points a turn" in page
        for move in team.menu:
            assert f"<code>{move}</code>" in page
        for code in team.states:
            a = game.moment()["alignment"][game.world.index[code]]
            assert f"{a:+.3f}" in page


def test_tiles_put_every_state_in_its_own_square():
    game = new_game(GAMES / "lesson_50min.yaml")
    x, y, labels = tile_layout(game.world)
    assert len(set(zip(x.tolist(), y.tolist(), strict=True))) == game.world.n
    assert len(labels) == len(set(game.world.subregion.tolist()))


@pytest.mark.slow
def test_plots_are_refreshed_in_the_game_folder(lesson, tmp_path):
    paths = write_game_plots(lesson, tmp_path)
    assert [p.name for p in paths] == list(PLOTS)
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)


def test_sentence_says_above_below_or_within():
    runs = np.linspace(0.50, 0.60, 101)
    above, *_ = sentence("gdp_share_west", 0.65, runs, "scenario")
    below, *_ = sentence("gdp_share_west", 0.40, runs, "scenario")
    within, rank, p10, _, p90 = sentence("gdp_share_west", 0.55, runs, "scenario")
    assert above.startswith("Your class kept 6.0 points more of world GDP in the Western camp "
                            "than 90% of the 101 model runs")
    assert "11.0 points less" in below and "at least 51.0%" in below
    assert "within the usual range" in within and rank == pytest.approx(0.5)
    assert (p10, p90) == pytest.approx((0.51, 0.59))
    west, *_ = sentence("key_states_alignment", -0.2, np.linspace(0, 0.1, 11), "nothing")
    assert "further towards the West" in west


def test_class_measures_are_the_games_outcomes_and_runs_are_reproducible(lesson):
    mine = class_measures(lesson)
    assert mine["gdp_share_west"] == lesson.moment()["outcomes"]["gdp_share_west"]
    a, b = compare(lesson, runs=8), compare(lesson, runs=8)
    assert [c.text for c in a] == [c.text for c in b]
    assert {c.ensemble for c in a} == {"scenario", "nothing"}
    assert all(len(c.runs) == 8 for c in a)


def test_the_debrief_never_replaces_a_users_file(lesson, tmp_path, monkeypatch):
    """--out naming a user's file, or the game's own save.json, is refused before any work."""
    import model.game.debrief as debrief

    def render_stub(game, runs):
        return debrief.HEAD + "stub</title></head><body></body></html>\n"

    monkeypatch.setattr(debrief, "render", render_stub)
    mine = tmp_path / "notes.html"
    mine.write_text("<p>my notes</p>", encoding="utf-8")
    save = tmp_path / "save.json"
    save.write_text('{"format": "blocsim-game-save"}', encoding="utf-8")
    for path in (mine, save):
        before = path.read_bytes()
        with pytest.raises(ScenarioError, match="is not a debrief") as err:
            write_debrief(lesson, path, runs=5)
        assert str(path) in str(err.value) and path.read_bytes() == before
    with pytest.raises(ScenarioError, match="is not a file"):
        write_debrief(lesson, tmp_path, runs=5)
    out = tmp_path / "debrief.html"
    write_debrief(lesson, out, runs=5)  # new, then an earlier debrief: replaced
    assert write_debrief(lesson, out, runs=5) == out
    assert out.read_text(encoding="utf-8").startswith(debrief.HEAD)


def test_team_names_with_dollars_or_underscores_draw_as_written(make_game_file):
    """'$' starts matplotlib's mathtext (a lone one raised on drawing); '_x' hid the legend."""
    from model.game.tiles import game_figures, plain_label, png_bytes

    path = make_game_file()
    text = path.read_text(encoding="utf-8").replace(
        "  sco:\n", "  sco:\n    name: SCO $\\frac{1 cost\n", 1).replace(
        "  west:\n", "  west:\n    name: _west\n", 1)
    path.write_text(text, encoding="utf-8")
    game = new_game(path)
    game.open_turn()
    game.close_turn()
    fig = game_figures(game)[PLOTS[2]]
    assert png_bytes(fig)[:4] == b"\x89PNG"
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert plain_label("SCO $\\frac{1 cost") in labels and " _west" in labels
