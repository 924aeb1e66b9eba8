"""The web app: the live what-if page, and a classroom game's pages when a game is served.

Server-rendered pages (Starlette and Jinja2), HTMX for partial redraws (vendored in ``static/``,
nothing fetched at run time), SVG charts drawn on the server. Every POST checks the session's
CSRF token; what-if runs are rate-limited per session, per client address and across the
server, and run a few at a time in worker threads; event streams are capped. With a
``gamehost.GameHost`` the game's pages (team, facilitator, board, codes: ``gameroutes``) are
served over the engine; without one, ``/team`` and ``/facilitator`` are role-checked pages that
say no game is served. Imports layers 0-7 and web.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..base.errors import NonFiniteError, ScenarioError
from ..core.levers import LEVERS
from . import security as sec
from .board import Board
from .gameroutes import game_routes
from .pages import whatif_context

HERE = Path(__file__).resolve().parent
DIGEST = re.compile(r"^[0-9a-f]{20}$")
#: The what-if form's fields that can carry an error message beside them.
FIELDS = ("states", *(f"lever-{name}" for name in LEVERS))
#: What a refused what-if says, by the limit that refused it (``security.RunLimits``).
TOO_MANY = {"session": "too many what-ifs at once: wait a second and move again",
            "address": "too many what-ifs from this address: wait a few seconds and move again",
            "server": "the server is busy with many what-ifs: wait a few seconds and try again"}
#: Messages an event stream sends before it ends (the browser reconnects by itself): with a
#: keep-alive every 15 s, a stream lives at most 5 minutes, so a forgotten tab frees its slot.
STREAM_MESSAGES = 20


@dataclass
class WebState:
    """What the server holds in memory: codes, per-session values, limits and caches."""

    codes: sec.Codes | None = None
    game_file: Path | None = None
    store: sec.BoundedStore = field(default_factory=sec.BoundedStore)
    limits: sec.RunLimits = field(default_factory=sec.RunLimits)
    streams: sec.StreamSlots = field(default_factory=sec.StreamSlots)
    gate: Gate = field(default_factory=lambda: Gate(2))
    board: Board = field(default_factory=Board)
    outcomes: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def cached(self, key: str, make):
        """An outcome from the small LRU cache, or made (then kept, at most 32)."""
        with self.lock:
            if key in self.outcomes:
                self.outcomes.move_to_end(key)
                return self.outcomes[key]
        value = make()
        with self.lock:
            self.outcomes[key] = value
            while len(self.outcomes) > 32:
                self.outcomes.popitem(last=False)
        return value


class Gate:
    """At most ``n`` what-if runs at once across the server; others wait, without blocking the loop."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._sem: asyncio.Semaphore | None = None

    async def run(self, fn, *args, wait: float = 20.0):
        """``fn(*args)`` in a worker thread once a place is free; ScenarioError if none within ``wait``."""
        if self._sem is None:  # made on the server's event loop, on first use
            self._sem = asyncio.Semaphore(self.n)
        try:
            await asyncio.wait_for(self._sem.acquire(), wait)
        except TimeoutError:
            raise ScenarioError("the server is busy with other what-ifs; try again in a "
                                "moment") from None
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            self._sem.release()


def templates() -> Environment:
    """The Jinja2 templates, autoescaped."""
    return Environment(loader=FileSystemLoader(HERE / "templates"),
                       autoescape=select_autoescape(("html",)), auto_reload=False)


def create_app(*, codes: sec.Codes | None = None, game_file: Path | None = None,
               secret: str | None = None, host=None, public_url: str | None = None) -> Starlette:
    """The ASGI app. ``secret`` signs session cookies (random per start when None).

    ``host``: a ``gamehost.GameHost`` to serve the game's pages; its codes, its signing key
    (kept in the save folder) and its board are used. ``public_url``: the address printed on
    the join codes (default: the one the facilitator's browser used).
    """
    if host is not None:
        codes, secret = host.codes, host.keys["secret"]
    state = WebState(codes=codes, game_file=game_file)
    if host is not None:
        state.board = host.board
    env = templates()

    def page(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("fields", FIELDS)
        html = env.get_template(name).render(csrf=sec.csrf_token(request),
                                              role=sec.role(request), game=state.game_file,
                                              **ctx)
        # an error fragment keeps the chart on screen: only its out-of-band parts are swapped
        headers = {"HX-Reswap": "none"} if ctx.get("reswap") else None
        return HTMLResponse(html, status_code=status, headers=headers)

    async def checked_form(request: Request):
        """The POSTed form if the CSRF token matches, else None."""
        form = await request.form(max_files=1, max_fields=400)
        csrf = form.get("csrf")
        return form if sec.csrf_ok(request, csrf if isinstance(csrf, str) else None) else None

    async def index(request: Request) -> Response:
        return page(request, "index.html", serving=host is not None)

    def refused(request: Request, sid: str) -> str | None:
        """Why a what-if run may not start now (``TOO_MANY``), or None."""
        which = state.limits.allow(sid, sec.client_address(request))
        return TOO_MANY[which] if which else None

    async def whatif_page(request: Request) -> Response:
        source = request.query_params.get("scenario", "baseline")[:80]
        sid = sec.session_id(request)
        # the baseline's page is cached; any other source may run the model
        if source != "baseline" and (why := refused(request, sid)):
            return sec.forbidden(why, status=429)
        try:
            ctx = await _run_view(request, sid, source, {}, first=True)
        except (ScenarioError, NonFiniteError) as exc:
            ctx = await _run_view(request, sid, "baseline", {}, first=True)
            ctx["page_error"] = str(exc)
        return page(request, "whatif.html", **ctx)

    async def _run_view(request, sid, source, form, first=False):
        return await state.gate.run(whatif_context, state, sid, source, form, first)

    async def whatif_run(request: Request) -> Response:
        form = await checked_form(request)
        if form is None:
            return sec.forbidden("refused: the form's security token is missing or stale; "
                                 "reload the page")
        sid = sec.session_id(request)
        if why := refused(request, sid):
            return page(request, "_errors.html", status=429, errors={}, status_text=why,
                        reswap=True)
        values = {k: form.getlist(k) for k in form.keys() if k != "csrf"}
        source = str(form.get("source", "baseline"))[:80]
        try:
            ctx = await _run_view(request, sid, source, values)
        except ScenarioError as exc:
            return page(request, "_errors.html", status=422, errors=_field_errors(exc),
                        status_text=str(exc), reswap=True)
        except NonFiniteError as exc:
            return page(request, "_errors.html", status=422, errors={},
                        status_text=f"the model failed on these settings: {exc}", reswap=True)
        return page(request, "_result.html", errors={}, oob=True, **ctx)

    async def whatif_upload(request: Request) -> Response:
        form = await checked_form(request)
        if form is None:
            return sec.forbidden("refused: the form's security token is missing or stale; "
                                 "reload the page")
        from .whatif import digest, read_upload, upload_label
        upload = form.get("file")
        sid = sec.session_id(request)
        if why := refused(request, sid):  # reading and checking an upload costs a world's build
            return page(request, "_upload_error.html", status=429, message=why)
        if upload is None or isinstance(upload, str):
            return page(request, "_upload_error.html", status=422, message="choose a file")
        data = await upload.read(sec.MAX_BODY + 1)
        try:
            scenario = read_upload(data, upload_label(upload.filename))
            from ..config.checks import prepare_world
            await run_in_threadpool(prepare_world, scenario)
        except ScenarioError as exc:
            return page(request, "_upload_error.html", status=422, message=str(exc))
        key = digest(scenario)
        state.store.put(sid, f"upload:{key}", scenario)
        target = f"/whatif?scenario=upload:{key}"
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    def _owned(request: Request, kind: str, key: str):
        if not DIGEST.match(key):
            return None
        return state.store.get(sec.session_id(request), f"{kind}:{key}")

    async def whatif_yaml(request: Request) -> Response:
        key = request.path_params["key"]
        entry = _owned(request, "run", key)
        if entry is None:
            return PlainTextResponse("no such what-if in this session\n", status_code=404)
        from .whatif import scenario_yaml
        return Response(scenario_yaml(entry[0]), media_type="application/yaml", headers={
            "content-disposition": f'attachment; filename="whatif-{key}.yaml"'})

    async def whatif_picker(request: Request) -> Response:
        from .pages import picker_context
        targets = [t[:40] for t in request.query_params.getlist("t")[:300]]
        try:
            ctx = await run_in_threadpool(
                picker_context, state, sec.session_id(request),
                request.query_params.get("source", "baseline")[:80],
                request.path_params["lever"], targets)
        except ScenarioError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=404)
        return page(request, "_picker.html", **ctx)

    async def whatif_drivers(request: Request) -> Response:
        key = request.path_params["key"]
        if not DIGEST.match(key):
            return PlainTextResponse("no such what-if in this session\n", status_code=404)
        from .pages import drivers_context
        try:
            ctx = await state.gate.run(drivers_context, state, sec.session_id(request), key)
        except ScenarioError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=503)
        if ctx is None:
            return PlainTextResponse("no such what-if in this session\n", status_code=404)
        return page(request, "_drivers.html", **ctx)

    async def whatif_numbers(request: Request) -> Response:
        key = request.path_params["key"]
        entry = _owned(request, "run", key)
        if entry is None:
            return PlainTextResponse("no such what-if in this session\n", status_code=404)
        if why := refused(request, sec.session_id(request)):
            return sec.forbidden(why, status=429)
        from .whatif import numbers_csv
        scenario, world = entry[0], entry[1]
        try:
            text = await state.gate.run(numbers_csv, scenario, world)
        except ScenarioError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=503)
        return Response(text, media_type="text/csv", headers={
            "content-disposition": f'attachment; filename="blocs-{key}.csv"'})

    # --- the game's frame: codes and roles work; the pages themselves come with the engine ---

    async def join(request: Request) -> Response:
        if request.method == "GET":
            prefill = sec.normalise_code(request.query_params.get("code", ""))
            return page(request, "join.html", message=None, prefill=prefill)
        form = await checked_form(request)
        if form is None:
            return sec.forbidden("refused: the form's security token is missing or stale; "
                                 "reload the page")
        code = str(form.get("code", ""))
        granted = state.codes.role_of(code) if state.codes else None
        if granted is None:
            return page(request, "join.html", status=422, message="unknown code")
        sec.grant(request, granted)
        where = "/facilitator" if granted == sec.FACILITATOR else "/team"
        return RedirectResponse(where, status_code=303)

    def needs(check, what: str):
        async def endpoint(request: Request) -> Response:
            if not check(sec.role(request)):
                return sec.forbidden(f"refused: this page needs {what}; enter a code at /join")
            return page(request, "stub.html", page_name=what)
        return endpoint

    async def board_page(request: Request) -> Response:
        return page(request, "stub.html", page_name="the board")

    async def board_version(request: Request) -> Response:
        return PlainTextResponse(str(state.board.version),
                                 headers={"cache-control": "no-store"})

    async def board_events(request: Request) -> Response:
        address = sec.client_address(request)
        if not state.streams.acquire(address):
            return sec.forbidden("too many open event streams from this address or in all; "
                                 "poll /board/version instead", status=429)
        return _SlotStream(lambda: state.streams.release(address),
                           state.board.stream(limit=STREAM_MESSAGES),
                           media_type="text/event-stream", headers={"cache-control": "no-store"})

    game = [] if host is None else game_routes(host, page, checked_form, public_url)
    routes = [
        *game,
        Route("/", index),
        Route("/whatif", whatif_page),
        Route("/whatif/run", whatif_run, methods=["POST"]),
        Route("/whatif/upload", whatif_upload, methods=["POST"]),
        Route("/whatif/scenario/{key}.yaml", whatif_yaml),
        Route("/whatif/numbers/{key}.csv", whatif_numbers),
        Route("/whatif/drivers/{key}", whatif_drivers),
        Route("/whatif/picker/{lever}", whatif_picker),
        Route("/join", join, methods=["GET", "POST"]),
        Route("/team", needs(lambda r: r.startswith("team:"), "a team's session")),
        Route("/facilitator", needs(lambda r: r == sec.FACILITATOR, "the facilitator's session")),
        Route("/board", board_page),
        Route("/board/version", board_version),
        Route("/board/events", board_events),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(sec.LimitsMiddleware),
        # pages shrink about 10x for phones on classroom Wi-Fi (event streams are left alone)
        Middleware(GZipMiddleware, minimum_size=2000),
        Middleware(SessionMiddleware, secret_key=secret or secrets.token_urlsafe(32),
                   session_cookie="blocsim_session", max_age=12 * 3600, same_site="strict"),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.web = state
    return app


class _SlotStream(StreamingResponse):
    """A streaming answer that gives its slot back when it ends, however it ends."""

    def __init__(self, release, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._release = release

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _field_errors(exc: ScenarioError) -> dict[str, str]:
    """The form field an error belongs to (``lever-cpec``, ``states``), with its message."""
    path = exc.path or ""
    parts = path.split(".")
    if len(parts) >= 2 and parts[0] in ("sco", "west"):
        return {f"lever-{parts[1]}": exc.detail}
    if parts[0] == "states":
        return {"states": exc.detail}
    return {}

