"""The hook by which pages learn that the world changed: a version number, polled or streamed.

The game (issue 11's engine, later) calls ``Board.publish()`` after a turn resolves; the board
page polls ``/board/version`` or listens to ``/board/events`` (server-sent events) and reloads
its parts when the number moves. Nothing here knows a game rule. Imports the standard library.
"""

from __future__ import annotations

import asyncio
import threading


class Board:
    """A change counter that threads may bump and coroutines may wait on."""

    def __init__(self) -> None:
        self._version = 0
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    @property
    def version(self) -> int:
        """How many changes have been published."""
        return self._version

    def publish(self) -> int:
        """Record a change and wake every waiting stream; returns the new version."""
        with self._lock:
            self._version += 1
            waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)
        return self._version

    async def wait(self, seen: int, timeout: float) -> int:
        """The version once it differs from ``seen``, or after ``timeout`` seconds anyway."""
        event = asyncio.Event()
        with self._lock:
            if self._version != seen:
                return self._version
            self._waiters.append((asyncio.get_running_loop(), event))
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            with self._lock:
                self._waiters = [w for w in self._waiters if w[1] is not event]
        return self._version

    async def stream(self, limit: int = 120, timeout: float = 15.0):
        """Server-sent events: ``version`` now and on each change; a comment keeps it alive.

        Ends after ``limit`` messages, so a forgotten tab does not hold a connection for ever
        (the browser's EventSource reconnects by itself).
        """
        seen = self._version
        yield f"event: version\ndata: {seen}\n\n"
        for _ in range(limit):
            now = await self.wait(seen, timeout)
            if now == seen:
                yield ": keep-alive\n\n"
            else:
                seen = now
                yield f"event: version\ndata: {seen}\n\n"
