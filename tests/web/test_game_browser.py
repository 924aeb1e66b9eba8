"""A classroom game in a real browser: a facilitator and two teams play three turns.

Three browser contexts (three devices: the facilitator's laptop, a team's laptop, a team's
phone) and a fourth page for the projector's board. Checks that the board updates by itself
after each resolution, that a team's session cannot act for the other team nor open the
facilitator's page, that a server restart in the middle of a turn loses no submitted move, and
writes a screenshot of every page (``out/test-artifacts/web/game-*.png``).
"""

from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

from .conftest import ROOT, free_port, serving, shot

pytestmark = pytest.mark.slow

GAME = ROOT / "scenarios" / "games" / "lesson_50min.yaml"
DESKTOP, PHONE, PROJECTOR = ({"width": 1280, "height": 900}, {"width": 390, "height": 844},
                            {"width": 1600, "height": 900})


def app_on(folder: Path):
    from model.web.app import create_app
    from model.web.gamehost import GameHost

    host = GameHost.open(GAME, folder)
    return host, create_app(host=host, game_file=GAME)


def join(page, base: str, code: str, where: str) -> None:
    page.goto(f"{base}/join")
    page.fill("#code", code)
    page.click("form.join button")
    page.wait_for_url(f"**/{where}")


def facilitator_does(page, label: str) -> None:
    page.click(f"form[action='/facilitator/act'] button:has-text('{label}')")
    page.wait_for_load_state()


def add_move(page, menu: str, targets: list[str], intensity: str) -> None:
    form = page.locator(f"form[data-form='menu-{menu}']")
    for t in targets:
        form.locator(f"input[name=targets][value={t}]").check()
    form.locator("input[name=intensity]").fill(intensity)
    form.locator("input[name=intensity]").dispatch_event("change")
    form.locator("button").click()
    page.wait_for_load_state()
    if not page.url.endswith("/team#moves"):
        shot(page, f"game-failed-{menu}")
        raise AssertionError(page.locator(".status").first.inner_text())


def test_three_turns_with_a_facilitator_two_teams_and_the_board(browser, tmp_path):
    folder = tmp_path / "game"
    host, app = app_on(folder)
    port = free_port()
    devices = {name: browser.new_context(viewport=v, accept_downloads=True)
               for name, v in (("boss", DESKTOP), ("west", DESKTOP), ("sco", PHONE),
                               ("room", PROJECTOR))}
    pages = {name: c.new_page() for name, c in devices.items()}
    boss, west, sco, room = (pages[k] for k in ("boss", "west", "sco", "room"))
    server = serving(app, port)
    base = server.__enter__()
    try:
        join(boss, base, host.codes.facilitator, "facilitator")
        join(west, base, host.codes.teams["west"].lower(), "team")  # typed in lower case
        join(sco, base, host.codes.teams["sco"][:4] + "-" + host.codes.teams["sco"][4:], "team")
        room.goto(f"{base}/board")
        shot(room, "game-board-start")
        boss.goto(f"{base}/facilitator/codes")
        shot(boss, "game-codes")
        boss.goto(f"{base}/facilitator")
        shot(boss, "game-facilitator-start")

        # neither team's session opens the facilitator's page or acts for the other team
        assert west.goto(f"{base}/facilitator").status == 403
        assert sco.request.post(f"{base}/facilitator/act", form={"do": "open"}).status == 403
        west.goto(f"{base}/team")

        plans = {1: {"west": ("trade_deal", ["KAZ"], "0.5"), "sco": ("rail_corridor", ["UZB"], "0.5")},
                 2: {"west": ("summit_diplomacy", ["TUR"], "1"), "sco": ("arms_deal", ["TUR"], "0.5")},
                 3: {"west": ("public_diplomacy", ["KAZ", "UZB"], "0.5"),
                     "sco": ("media_and_scholarships", ["KAZ"], "1")}}
        for turn in (1, 2, 3):
            facilitator_does(boss, f"Open turn {turn}")
            room.wait_for_selector(f".turnline:has-text('Turn {turn} of 4 is open')",
                                   timeout=15_000)  # the board reloaded by itself
            if turn == 2:  # the west's page (a refused form's answer) went back to /team by
                west.wait_for_url("**/team", timeout=15_000)  # itself, posting nothing again
                assert [m["team"] for m in host.game.moves()] == []
            for team, page in (("west", west), ("sco", sco)):
                # the team's page shows the open turn by itself (it watches /game/stamp)
                page.wait_for_selector(f".turnline:has-text('Turn {turn} of 4 is open')",
                                       timeout=15_000)
                page.wait_for_load_state()
                menu, targets, intensity = plans[turn][team]
                add_move(page, menu, targets, intensity)
                assert f"t{turn}:{team}:" in page.content()
            if turn == 1:
                shot(west, "game-team-west")
                shot(sco, "game-team-sco-phone")
                # a refusal, shown beside its field and at the top
                form = west.locator("form[data-form='menu-summit_diplomacy']")
                form.locator("input[name=targets][value=KAZ]").check()
                form.locator("input[name=targets][value=TUR]").check()
                form.locator("input[name=intensity]").fill("1")
                form.locator("input[name=intensity]").dispatch_event("change")
                west.wait_for_selector("form[data-form='menu-summit_diplomacy'] .cost:has-text('costs 8')")
                form.locator("button").click()
                west.wait_for_selector("#err-menu-summit_diplomacy-move:has-text('costs 8 points')")
                shot(west, "game-team-refused")
                # the west's session posting sco's move with sco's name: the session's team is used
                token = west.get_attribute("input[name=csrf]", "value")
                r = west.request.post(f"{base}/team/move", form={
                    "csrf": token, "team": "sco", "kind": "spend", "move": "rail_corridor",
                    "targets": "KAZ", "intensity": "0.5"})
                assert r.status == 422 and "not on west's menu" in unescape(r.text())
                assert sorted(m["team"] for m in host.game.moves()) == ["sco", "west"]
                assert "rail corridor" not in west.content()  # sco's secret move is not shown
            if turn == 2:  # the server restarts in the middle of the turn
                before = [m["id"] for m in host.game.moves()]
                server.__exit__(None, None, None)
                host, app = app_on(folder)
                server = serving(app, port)
                base = server.__enter__()
                assert [m["id"] for m in host.game.moves()] == before
                west.goto(f"{base}/team")  # the same cookie still holds the west's session
                assert all(i in west.content() for i in before if ":west:" in i)
            # the facilitator's page shows who has submitted by itself
            expect(boss.locator("td:has-text('\u2713')")).to_have_count(2, timeout=15_000)
            if turn == 1:
                shot(boss, "game-facilitator-open")
            facilitator_does(boss, f"Close and resolve turn {turn}")
            room.wait_for_selector(f".turnline:has-text('{turn} of 4 turns played')",
                                   timeout=15_000)
            assert room.locator(".headlines li").count() == 3
            shot(room, f"game-board-turn{turn}")
            assert host.game.turn == turn
            assert len(host.game.history()[-1].moves) == 2  # both teams' moves counted
        for page in (west, sco):  # the teams' pages show the results by themselves
            page.wait_for_selector("h2:has-text('What your moves did') >> xpath=.. >> "
                                   "h3:has-text('Turn 3')", timeout=15_000)
        shot(west, "game-team-west-results")
        shot(sco, "game-team-sco-results-phone")
        shot(boss, "game-facilitator-after")
        with boss.expect_download(timeout=120_000) as dl:
            boss.click("a[href='/facilitator/debrief']")
        debrief = tmp_path / "debrief.html"
        dl.value.save_as(debrief)
        text = debrief.read_text(encoding="utf-8")
        assert all(name in text for name in ("The West", "SCO (China", "Middle powers"))
    finally:
        server.__exit__(None, None, None)
        for c in devices.values():
            c.close()
