"""What keeps a classroom server safe: codes, roles, CSRF tokens, rate limits and size limits.

* Codes (join and facilitator) come from ``secrets``: 8 characters from an alphabet without
  look-alikes, about 40 bits, compared in constant time.
* A session is a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous) holding a random
  session id, a CSRF token and a role: ``viewer``, ``team:<name>`` or ``facilitator``. The
  cookie's key is random per server unless one is given.
* Every POST carries the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``).
* What-if runs are limited per session, per client address and across the server (token
  buckets), and run a few at a time; event streams are capped per address and in all.
* Request bodies are cut off at ``MAX_BODY`` bytes before any parsing.

Imports the standard library and Starlette only.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import PlainTextResponse

#: Code alphabet: capitals and digits without 0/O, 1/I/L (read aloud and typed on phones).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
#: Largest request body accepted (an upload of ``whatif.MAX_UPLOAD`` plus the form around it).
MAX_BODY = 320 * 1024
VIEWER, FACILITATOR = "viewer", "facilitator"


def new_code(length: int = CODE_LENGTH) -> str:
    """A random code, e.g. ``K7QX-MN3P`` without the dash (about 5 bits a character)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    """A typed code as stored: capitals, without spaces or dashes, at most 32 characters."""
    return "".join(c for c in text.upper() if c.isalnum())[:32]


@dataclass
class Codes:
    """The facilitator's code and one join code per team (``issue`` makes them)."""

    facilitator: str
    teams: dict[str, str] = field(default_factory=dict)  # team name -> code

    @classmethod
    def issue(cls, teams: list[str]) -> Codes:
        """Fresh random codes for a facilitator and the named teams (all different)."""
        made: set[str] = set()

        def fresh() -> str:
            while (c := new_code()) in made:
                pass
            made.add(c)
            return c

        return cls(fresh(), {t: fresh() for t in teams})

    def role_of(self, typed: str) -> str | None:
        """The role a typed code grants (``facilitator`` or ``team:<name>``), or None."""
        code = normalise_code(typed)
        found = None
        for role, known in [(FACILITATOR, self.facilitator),
                            *((f"team:{t}", c) for t, c in self.teams.items())]:
            if secrets.compare_digest(code.encode(), known.encode()):
                found = role  # no early exit: the time taken does not say which code matched
        return found


# --- sessions ---------------------------------------------------------------------------------

def session_id(request: Request) -> str:
    """The session's random id and CSRF token, made on first visit; returns the id."""
    s = request.session
    if "sid" not in s or "csrf" not in s:
        s["sid"] = secrets.token_urlsafe(16)
        s["csrf"] = secrets.token_urlsafe(24)
        s.setdefault("role", VIEWER)
    return s["sid"]


def csrf_token(request: Request) -> str:
    """The session's CSRF token (for forms and the ``hx-headers`` of every page)."""
    session_id(request)
    return request.session["csrf"]


def role(request: Request) -> str:
    """The session's role: ``viewer`` until a code is entered."""
    session_id(request)
    return request.session.get("role", VIEWER)


def grant(request: Request, new_role: str) -> None:
    """Give the session a role; a new id and CSRF token too (no fixation of an old session)."""
    request.session.clear()
    session_id(request)
    request.session["role"] = new_role


def csrf_ok(request: Request, form_value: str | None) -> bool:
    """The request carries this session's CSRF token (header or form field)."""
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token") or form_value or ""
    return bool(expected) and secrets.compare_digest(sent.encode(), expected.encode())


def forbidden(text: str, status: int = 403) -> PlainTextResponse:
    """A one-line refusal."""
    return PlainTextResponse(text + "\n", status_code=status)


# --- rate limits ------------------------------------------------------------------------------

class RateLimiter:
    """A token bucket per key: ``burst`` runs at once, then one every ``every`` seconds.

    Keys are kept in a bounded LRU (``max_keys``), so a flood of new sessions cannot grow it.
    """

    def __init__(self, burst: int = 4, every: float = 1.5, max_keys: int = 5000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.every, self.max_keys, self.clock = burst, every, max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take a token for ``key`` if one is there."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) / self.every)
            ok = tokens >= 1
            self._buckets[key] = (tokens - 1 if ok else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return ok


class RunLimits:
    """What-if runs allowed per session, per client address and across the server.

    A session is only a cookie: a client that drops it gets a fresh one, so the session's
    bucket alone does not hold; the address's and the server's do. Devices behind one NAT or
    proxy share an address (``X-Forwarded-For`` is not trusted): its bucket allows a class's
    few devices each moving a slider, not a script. ``allow`` names the limit that refused.
    """

    def __init__(self, session: RateLimiter | None = None, address: RateLimiter | None = None,
                 server: RateLimiter | None = None) -> None:
        self.session = session or RateLimiter(burst=4, every=1.5)
        self.address = address or RateLimiter(burst=8, every=0.75)
        self.server = server or RateLimiter(burst=30, every=0.2, max_keys=1)

    def allow(self, sid: str, address: str) -> str | None:
        """None if a run may start now, else the limit that refused: session, address, server.

        A refusal by a later limit still spends the earlier ones' tokens.
        """
        for name, limiter, key in (("session", self.session, sid),
                                   ("address", self.address, address),
                                   ("server", self.server, "")):
            if not limiter.allow(key):
                return name
        return None


class StreamSlots:
    """Open event streams counted per client address and across the server, both capped."""

    def __init__(self, per_address: int = 6, total: int = 200) -> None:
        self.per_address, self.total = per_address, total
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, address: str) -> bool:
        """Take a slot for ``address`` if both caps allow (give it back with ``release``)."""
        with self._lock:
            mine = self._open.get(address, 0)
            if mine >= self.per_address or sum(self._open.values()) >= self.total:
                return False
            self._open[address] = mine + 1
            return True

    def release(self, address: str) -> None:
        """Give back a slot taken by ``acquire``."""
        with self._lock:
            left = self._open.get(address, 0) - 1
            if left > 0:
                self._open[address] = left
            else:
                self._open.pop(address, None)


def client_address(request: Request) -> str:
    """The peer's address as the server sees it (not a header the client may set)."""
    return request.client.host if request.client else "unknown"


class BoundedStore:
    """Per-session small values (uploads, what-ifs on screen): LRU over sessions and entries."""

    def __init__(self, max_sessions: int = 1000, per_session: int = 8) -> None:
        self.max_sessions, self.per_session = max_sessions, per_session
        self._data: OrderedDict[str, OrderedDict[str, object]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, sid: str, key: str, value: object) -> None:
        """Keep ``value`` under ``key`` for this session (dropping its oldest beyond the bound)."""
        with self._lock:
            entries = self._data.pop(sid, OrderedDict())
            entries.pop(key, None)
            entries[key] = value
            while len(entries) > self.per_session:
                entries.popitem(last=False)
            self._data[sid] = entries
            while len(self._data) > self.max_sessions:
                self._data.popitem(last=False)

    def get(self, sid: str, key: str) -> object | None:
        """This session's value under ``key``; another session's is never returned."""
        with self._lock:
            return self._data.get(sid, {}).get(key)


# --- middleware -------------------------------------------------------------------------------

class BodyTooLarge(Exception):
    """A request body over the limit (turned into a 413 answer)."""


class LimitsMiddleware:
    """Cuts request bodies at ``max_body`` bytes and adds security headers to every answer."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; "
                                     b"style-src 'self'; script-src 'self'; "
                                     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]

    def __init__(self, app, max_body: int = MAX_BODY) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        """The ASGI entry: the wrapped app with a counting ``receive`` and added headers."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return await _too_large(send, self.max_body)
        seen = 0
        started = False

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise BodyTooLarge
            return message

        async def with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + self.HEADERS
            await send(message)

        try:
            await self.app(scope, limited, with_headers)
        except BodyTooLarge:
            if not started:
                await _too_large(send, self.max_body)


async def _too_large(send, limit: int) -> None:
    body = f"request too large (at most {limit // 1024} KB)\n".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            *LimitsMiddleware.HEADERS]})
    await send({"type": "http.response.body", "body": body})
