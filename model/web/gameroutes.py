"""The game's pages: team, facilitator, board and the printable codes, over a ``GameHost``.

A team's session acts for its own team only: the team is read from the session's role and
written into every move; the form never names it. Facilitator actions need the facilitator's
session. Every POST carries the session's CSRF token (``checked_form``); every move and action is
judged by the engine, whose refusal reason is shown beside the field it concerns. Accepted forms
answer with a redirect (post, redirect, get), so a refresh never sends a move twice and loses
nothing: the moves live in the saved game, not in the page. Imports config, game and web.
"""

from __future__ import annotations

import io

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..base.errors import ScenarioError
from ..config.yamlfile import parse_yaml
from ..game.moves import Verdict
from . import security as sec
from .gamehost import GameHost
from .gameviews import facilitator_view, public_view, submitted, team_view, world_key

#: Which field of a move's form a refusal belongs beside (others: beside the button).
FIELD_OF = {"wrong_target": "targets", "too_many_targets": "targets",
            "not_your_state": "targets", "intensity": "intensity"}
#: Model runs the downloaded debrief compares the class's world with.
DEBRIEF_RUNS = 200
FACILITATOR_ACTIONS = ("open", "close", "skip", "undo", "end", "extend", "inject_card",
                       "inject_event")


def _text(form, key: str, limit: int = 80) -> str | None:
    value = form.get(key)
    return value.strip()[:limit] or None if isinstance(value, str) else None


def _number(text: str | None) -> float | str | None:
    """A typed number; text that is not one goes to the engine as typed (it says why)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def move_from_form(form) -> dict:
    """The engine's move mapping from a team's form (without the team: the session gives it)."""
    kind = _text(form, "kind")
    listed = {k: [str(v)[:40] for v in form.getlist(k)][:200] for k in ("targets", "states")}
    if kind == "spend":
        move = {"move": _text(form, "move"), "targets": listed["targets"],
                "intensity": _number(_text(form, "intensity"))}
    elif kind == "respond":
        move = {"respond": _text(form, "respond"), "to": _text(form, "to"),
                "lever": _text(form, "lever"), "states": listed["states"] or None}
    elif kind in ("apply", "decide"):
        move = {kind: _text(form, kind), "state": _text(form, "state")}
    else:
        move = {"kind": kind}  # the engine refuses it as not a move
    return {k: v for k, v in move.items() if v is not None}


def field_of(verdict: Verdict) -> str:
    """The form field a refusal is about: ``targets``, ``intensity`` or ``move``."""
    if verdict.code in FIELD_OF:
        return FIELD_OF[verdict.code]
    head = verdict.reason.split(":", 1)[0]
    return head if verdict.code == "malformed" and head in ("targets", "intensity") else "move"


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as inline SVG (segno), or '' if segno is missing."""
    try:
        import segno
    except ImportError:
        return ""
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="svg", scale=5, border=4, xmldecl=False,
                                     svgns=True, svgclass="qr")
    return buf.getvalue().decode("ascii")


class Views:
    """Every page's view of the game, made under the game's lock after each action.

    Pages read the last views without taking the lock, so 40 devices polling never wait behind
    a submission being saved; the public world is made again only when it changes (a turn
    opened, resolved or undone), not on every submission.
    """

    def __init__(self, host: GameHost) -> None:
        self.host = host
        self._public: tuple[tuple, dict] | None = None
        self._views: dict = {}
        with host.lock:
            self.rebuild()
            host.listeners.append(self.rebuild)

    def rebuild(self) -> None:
        """Make every view from the game as it stands (the caller holds the game's lock)."""
        game = self.host.game
        key = world_key(game)
        if self._public is None or self._public[0] != key:
            self._public = (key, public_view(game))
        self._views = {"stamp": "-".join(map(str, key)),
                       "world": {**self._public[1], "submitted": submitted(game)},
                       "teams": {t: team_view(game, t) for t in game.team_ids},
                       "fac": facilitator_view(game, self.host.opened_at)}

    def public(self) -> dict:
        """The world as everyone sees it (``gameviews.public_view``) and who has submitted."""
        return self._views["world"]

    def stamp(self) -> str:
        """``gameviews.world_key`` as text."""
        return self._views["stamp"]

    def team(self, team: str) -> dict:
        """A team's page: the public world and its own view."""
        views = self._views
        return {"world": views["world"], "me": views["teams"][team]}

    def facilitator(self) -> dict:
        """The facilitator's page: the public world and the facilitator's view."""
        views = self._views
        return {"world": views["world"], "fac": views["fac"]}


def game_routes(host: GameHost, page, checked_form, public_url: str | None = None) -> list:
    """The game's routes; ``page`` renders a template, ``checked_form`` checks CSRF."""
    views = Views(host)
    stale = "refused: the form's security token is missing or stale; reload the page"

    def team_of(request: Request) -> str | None:
        role = sec.role(request)
        team = role.removeprefix("team:") if role.startswith("team:") else None
        return team if team in host.game.spec.teams else None

    def need_team(request: Request) -> Response | None:
        if team_of(request) is None:
            return sec.forbidden("refused: this page needs a team's session; enter your team's "
                                 "code at /join")
        return None

    def need_facilitator(request: Request) -> Response | None:
        if sec.role(request) != sec.FACILITATOR:
            return sec.forbidden("refused: this page needs the facilitator's session; enter "
                                 "the facilitator's code at /join")
        return None

    async def posted(request: Request, need) -> FormData | Response:
        """The POSTed form if the session has the role (``need``) and the CSRF token matches."""
        if (refused := need(request)) is not None:
            return refused
        form = await checked_form(request)
        return sec.forbidden(stale) if form is None else form

    async def team_page(request: Request, errors=None, values=None, status=200,
                        message=None) -> Response:
        if (refused := need_team(request)) is not None:
            return refused
        ctx = views.team(team_of(request))
        return page(request, "team.html", status=status, errors=errors or {},
                    values=values or {}, message=message, version=views.stamp(), **ctx)

    async def team_move(request: Request) -> Response:
        form = await posted(request, need_team)
        if not isinstance(form, FormData):
            return form
        team = team_of(request)
        move = move_from_form(form)
        replacing = _text(form, "id")
        verdict = await run_in_threadpool(host.submit, team, move, replacing)
        if verdict.ok:
            return RedirectResponse("/team#moves", status_code=303)
        key = _text(form, "form") or "menu"
        values = {key: {k: form.getlist(k) for k in ("targets", "states")} | {
            k: _text(form, k) for k in ("intensity", "respond", "to", "lever", "apply",
                                        "state")}}
        # said at the top too: on a phone the field may be a long way down
        return await team_page(request, errors={key: {field_of(verdict): verdict.reason}},
                               values=values, status=422,
                               message=f"Not accepted: {verdict.reason}")

    async def team_withdraw(request: Request) -> Response:
        form = await posted(request, need_team)
        if not isinstance(form, FormData):
            return form
        verdict = await run_in_threadpool(host.withdraw, team_of(request), _text(form, "id"))
        if verdict.ok:
            return RedirectResponse("/team#moves", status_code=303)
        return await team_page(request, status=422, message=verdict.reason)

    async def team_cost(request: Request) -> Response:
        form = await posted(request, need_team)
        if not isinstance(form, FormData):
            return form
        team = team_of(request)
        cost = host.cost(team, move_from_form(form))
        left = host.game.budget_left(team)
        text = "" if cost is None else (f"costs {cost:g} points of the {left:g} left"
                                        + (" (too many)" if cost > left + 1e-9 else ""))
        return PlainTextResponse(text)

    async def facilitator_page(request: Request, status=200, message=None) -> Response:
        if (refused := need_facilitator(request)) is not None:
            return refused
        ctx = views.facilitator()
        return page(request, "facilitator.html", status=status, message=message,
                    version=host.board.version, **ctx)

    async def facilitator_act(request: Request) -> Response:
        form = await posted(request, need_facilitator)
        if not isinstance(form, FormData):
            return form
        what = _text(form, "do")
        if what not in FACILITATOR_ACTIONS:
            return await facilitator_page(request, 422, f"unknown action {what!r}")
        if what == "inject_card":
            action = {"do": "inject", "card": _text(form, "card")}
        elif what == "inject_event":
            try:
                event, _ = parse_yaml(_text(form, "event", 2000) or "", "inject")
            except ScenarioError as exc:
                return await facilitator_page(request, 422, str(exc))
            action = {"do": "inject", "event": event}
        elif what == "extend":
            action = {"do": "extend", "turns": 1}
        else:
            action = {"do": what}
        result = await run_in_threadpool(host.act, action)
        if isinstance(result, Verdict) and not result.ok:
            return await facilitator_page(request, 422, result.reason)
        return RedirectResponse("/facilitator", status_code=303)

    async def facilitator_codes(request: Request) -> Response:
        if (refused := need_facilitator(request)) is not None:
            return refused
        base = (public_url or str(request.base_url)).rstrip("/")
        names = host.game.spec.teams
        cards = [{"name": names[t].name or t, "code": c, "url": f"{base}/join?code={c}",
                  "qr": qr_svg(f"{base}/join?code={c}")} for t, c in host.codes.teams.items()]
        return page(request, "codes.html", cards=cards, base=base,
                    title=host.game.spec.name)

    async def facilitator_debrief(request: Request) -> Response:
        if (refused := need_facilitator(request)) is not None:
            return refused
        if not host.game.state["history"]:
            return PlainTextResponse("no turn resolved yet: nothing to debrief\n",
                                     status_code=409)
        html = await run_in_threadpool(host.debrief, DEBRIEF_RUNS)
        name = f"debrief-{host.game.spec.name}.html"
        return Response(html, media_type="text/html", headers={
            "content-disposition": f'attachment; filename="{name}"'})

    async def stamp(request: Request) -> Response:
        """The state of the world as a short text: a team's page loads itself again when it moves.

        (``/board/version`` moves on every action, other teams' submissions included.)
        """
        return PlainTextResponse(views.stamp(), headers={"cache-control": "no-store"})

    async def board_page(request: Request) -> Response:
        world = views.public()
        return page(request, "board.html", world=world, version=host.board.version)

    return [
        Route("/team", team_page),
        Route("/team/move", team_move, methods=["POST"]),
        Route("/team/withdraw", team_withdraw, methods=["POST"]),
        Route("/team/cost", team_cost, methods=["POST"]),
        Route("/facilitator", facilitator_page),
        Route("/facilitator/act", facilitator_act, methods=["POST"]),
        Route("/facilitator/codes", facilitator_codes),
        Route("/facilitator/debrief", facilitator_debrief),
        Route("/board", board_page),
        Route("/game/stamp", stamp),
    ]
