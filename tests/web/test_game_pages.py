"""The game's pages through Starlette's TestClient: roles, CSRF, moves, restart and concurrency."""

from __future__ import annotations

import re
import stat
import threading
import warnings
from html import unescape
from pathlib import Path

import pytest

from model.web.gamehost import WEB_FILE, GameHost

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from model.web.app import create_app

GAME = Path(__file__).resolve().parents[2] / "scenarios" / "games" / "lesson_50min.yaml"


def token(html: str) -> str:
    return re.search(r'"X-CSRF-Token": "([^"]+)"', html).group(1)  # every page sets it


def client(app) -> TestClient:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(app, follow_redirects=False)


def joined(app, code: str) -> tuple[TestClient, str]:
    """A client whose session entered ``code``; and its CSRF token."""
    c = client(app)
    r = c.post("/join", data={"csrf": token(c.get("/join").text), "code": code},
               follow_redirects=True)
    assert r.status_code == 200, r.text
    return c, token(r.text)


@pytest.fixture
def served(tmp_path):
    host = GameHost.open(GAME, tmp_path / "game")
    app = create_app(host=host, game_file=GAME)
    return host, app


def facilitator(host, app):
    return joined(app, host.codes.facilitator)


def act(c, csrf, do, **extra):
    return c.post("/facilitator/act", data={"csrf": csrf, "do": do, **extra})


def trade(csrf, targets=("KAZ",), intensity="0.5"):
    return {"csrf": csrf, "kind": "spend", "move": "trade_deal", "form": "menu-trade_deal",
            "targets": list(targets), "intensity": intensity}


def test_a_team_plays_a_turn_and_reads_what_it_did(served):
    host, app = served
    boss, bt = facilitator(host, app)
    assert act(boss, bt, "open").status_code == 303
    west, wt = joined(app, host.codes.teams["west"])
    page = west.get("/team").text
    assert "trade deal" in page and "10</b> points left" in page
    r = west.post("/team/move", data=trade(wt))
    assert r.status_code == 303
    page = west.get("/team").text
    assert "t1:west:1" in page and "points left of 10" in page
    assert west.post("/team/cost", data=trade(wt, ("KAZ", "TUR"), "1")).text.startswith(
        "costs 10 points")  # 2 states x (4 x 1 + 1)
    assert act(boss, bt, "close").status_code == 303
    assert host.game.turn == 1
    page = unescape(west.get("/team").text)
    assert "What your moves did" in page and "Turn 1" in page
    assert "Headlines of turn 1" in unescape(client(app).get("/board").text)


def test_refusal_reasons_sit_beside_their_field(served):
    host, app = served
    boss, bt = facilitator(host, app)
    act(boss, bt, "open")
    west, wt = joined(app, host.codes.teams["west"])
    r = west.post("/team/move", data=trade(wt, ("PAK",)))
    assert r.status_code == 422
    err = re.search(r'id="err-menu-trade_deal-targets">([^<]*)<', unescape(r.text)).group(1)
    assert "'PAK' is not a target of 'trade_deal'" in err
    r = west.post("/team/move", data=trade(wt, intensity="2"))
    assert "intensity" in re.search(r'id="err-menu-trade_deal-intensity">([^<]*)<',
                                    unescape(r.text)).group(1)
    r = west.post("/team/move", data=trade(wt, intensity="lots"))
    assert r.status_code == 422 and host.game.moves() == []


def test_a_team_session_cannot_act_for_another_team(served):
    host, app = served
    boss, bt = facilitator(host, app)
    act(boss, bt, "open")
    sco, st = joined(app, host.codes.teams["sco"])
    # a team named in the form is ignored: the session's team is used, and the menu is its own
    r = sco.post("/team/move", data={**trade(st), "team": "west"})
    assert r.status_code == 422 and "not on sco's menu" in unescape(r.text)
    west, wt = joined(app, host.codes.teams["west"])
    assert west.post("/team/move", data=trade(wt)).status_code == 303
    west_id = host.game.moves()[0]["id"]
    # sco can neither withdraw nor revise west's move, nor see it
    assert sco.post("/team/withdraw", data={"csrf": st, "id": west_id}).status_code == 422
    r = sco.post("/team/move", data={**trade(st), "move": "rail_corridor", "id": west_id,
                                     "targets": ["KAZ"]})
    assert r.status_code == 422
    assert [m["team"] for m in host.game.moves()] == ["west"]
    assert west_id not in sco.get("/team").text and "trade deal" not in sco.get("/team").text
    assert west_id not in client(app).get("/board").text


def test_facilitator_actions_refuse_a_team_session_and_strangers(served):
    host, app = served
    west, wt = joined(app, host.codes.teams["west"])
    for path in ("/facilitator", "/facilitator/codes", "/facilitator/debrief"):
        assert west.get(path).status_code == 403
    assert west.post("/facilitator/act", data={"csrf": wt, "do": "open"}).status_code == 403
    stranger = client(app)
    assert stranger.get("/team").status_code == 403
    assert stranger.post("/facilitator/act", data={"do": "open"}).status_code == 403
    assert host.game.phase == "ready" and host.game.log == []


def test_forms_without_the_sessions_csrf_token_are_refused(served):
    host, app = served
    boss, bt = facilitator(host, app)
    west, wt = joined(app, host.codes.teams["west"])
    assert act(boss, "forged", "open").status_code == 403
    assert act(boss, wt, "open").status_code == 403  # another session's token
    assert act(boss, bt, "open").status_code == 303
    assert west.post("/team/move", data=trade("forged")).status_code == 403
    assert west.post("/team/move", data=trade(bt)).status_code == 403
    assert host.game.moves() == []


def test_restart_keeps_moves_sessions_and_codes(served):
    host, app = served
    boss, bt = facilitator(host, app)
    act(boss, bt, "open")
    west, wt = joined(app, host.codes.teams["west"])
    assert west.post("/team/move", data=trade(wt)).status_code == 303
    folder = host.folder
    assert stat.S_IMODE((folder / WEB_FILE).stat().st_mode) == 0o600
    again = GameHost.open(GAME, folder)  # a new server on the same save folder
    app2 = create_app(host=again, game_file=GAME)
    assert again.codes.teams == host.codes.teams and again.resumed
    west2 = client(app2)
    west2.cookies = west.cookies  # the same browser
    page = west2.get("/team")
    assert page.status_code == 200 and "t1:west:1" in page.text
    assert [m["id"] for m in again.game.moves()] == ["t1:west:1"]
    summit = {**trade(wt, ("TUR",)), "move": "summit_diplomacy"}
    assert west2.post("/team/move", data=summit).status_code == 303
    boss2 = client(app2)
    boss2.cookies = boss.cookies
    assert act(boss2, bt, "close").status_code == 303
    assert len(again.game.history()[0].moves) == 2


def test_two_teams_submitting_at_once_both_count(served):
    host, app = served
    boss, bt = facilitator(host, app)
    act(boss, bt, "open")
    teams = {t: joined(app, host.codes.teams[t]) for t in ("west", "sco")}
    forms = {"west": lambda t: trade(t),
             "sco": lambda t: {"csrf": t, "kind": "spend", "move": "rail_corridor",
                               "targets": ["UZB"], "intensity": "0.5"}}
    start = threading.Barrier(len(teams))
    codes = {}

    def go(name):
        c, t = teams[name]
        start.wait()
        codes[name] = c.post("/team/move", data=forms[name](t)).status_code

    threads = [threading.Thread(target=go, args=(n,)) for n in teams]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert codes == {"west": 303, "sco": 303}
    assert sorted(m["team"] for m in host.game.moves()) == ["sco", "west"]
    log = (host.folder / "log.jsonl").read_text().splitlines()
    assert len(log) == 3  # open and both submissions, each logged once


def test_facilitator_injects_undoes_and_ends(served):
    host, app = served
    boss, bt = facilitator(host, app)
    page = boss.get("/facilitator").text
    assert "Open turn 1" in page and "pipeline deal" in page
    act(boss, bt, "open")
    assert act(boss, bt, "inject_card", card="pipeline_deal").status_code == 303
    r = act(boss, bt, "inject_event", event="{type: alignment_shock, delta: 7, state: TUR}")
    assert r.status_code == 422 and "delta" in unescape(r.text)
    r = act(boss, bt, "inject_event", event="{type: alignment_shock, delta: -0.05, state: TUR}")
    assert r.status_code == 303 and len(host.game.state["injects"]) == 2
    act(boss, bt, "close")
    assert "Download the debrief" in boss.get("/facilitator").text
    assert act(boss, bt, "undo").status_code == 303 and host.game.turn == 0
    assert host.game.phase == "open"
    assert act(boss, bt, "end").status_code == 303 and host.game.phase == "over"
    assert act(boss, bt, "open").status_code == 422
    codes = boss.get("/facilitator/codes").text
    assert all(f"{c[:4]}-{c[4:]}" in codes for c in host.codes.teams.values())
    assert codes.count('class="qr"') == 3
    assert host.codes.facilitator not in codes


def test_team_pages_watch_the_world_not_other_teams_moves(served):
    host, app = served
    boss, bt = facilitator(host, app)
    viewer = client(app)
    before = viewer.get("/game/stamp").text
    act(boss, bt, "open")
    opened = viewer.get("/game/stamp").text
    assert opened != before
    west, wt = joined(app, host.codes.teams["west"])
    version = int(viewer.get("/board/version").text)
    assert west.post("/team/move", data=trade(wt)).status_code == 303
    assert int(viewer.get("/board/version").text) == version + 1  # the board hears of it
    assert viewer.get("/game/stamp").text == opened  # the other teams' pages do not reload
    assert f'data-version="{opened}"' in west.get("/team").text
    act(boss, bt, "close")
    assert viewer.get("/game/stamp").text not in (before, opened)


def test_a_swing_team_answers_offers_and_applies_and_the_deciding_team_decides(served):
    host, app = served
    boss, bt = facilitator(host, app)
    act(boss, bt, "open")
    swing, st = joined(app, host.codes.teams["middle_powers"])
    page = unescape(swing.get("/team").text)
    assert "Refuse or welcome offers" in page and "KAZ Kazakhstan" in page
    r = swing.post("/team/move", data={"csrf": st, "kind": "respond", "form": "respond",
                                       "respond": "refuse", "to": "sco", "lever": "",
                                       "states": ["KAZ"]})
    assert r.status_code == 303
    r = swing.post("/team/move", data={"csrf": st, "kind": "apply", "form": "apply",
                                       "apply": "sco", "state": "PAK"})
    assert r.status_code == 422 and "plays KAZ, TUR, not 'PAK'" in unescape(r.text)
    r = swing.post("/team/move", data={"csrf": st, "kind": "apply", "form": "apply",
                                       "apply": "sco", "state": "TUR"})
    assert r.status_code == 303
    act(boss, bt, "close")
    act(boss, bt, "open")
    sco, ct = joined(app, host.codes.teams["sco"])
    page = unescape(sco.get("/team").text)
    assert "Applications you decide" in page and "TUR applies (sco)" in page
    west, wt = joined(app, host.codes.teams["west"])
    assert "Applications you decide" not in west.get("/team").text
    r = west.post("/team/move", data={"csrf": wt, "kind": "decide", "decide": "admit",
                                      "state": "TUR"})
    assert r.status_code == 422 and "decided by sco, not west" in unescape(r.text)
    r = sco.post("/team/move", data={"csrf": ct, "kind": "decide", "decide": "admit",
                                     "state": "TUR", "form": "decide-TUR"})
    assert r.status_code == 303
    act(boss, bt, "close")
    decided = host.game.history()[-1].applications
    assert decided == [{"state": "TUR", "bloc": "sco", "team": "middle_powers", "turn": 1,
                        "admitted": True, "by": "sco"}]
