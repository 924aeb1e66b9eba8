"""Codes, rate limits, the per-session store and the board's change counter."""

from __future__ import annotations

import asyncio

from model.web import security as sec
from model.web.board import Board


def test_codes_are_random_distinct_and_map_to_roles():
    codes = sec.Codes.issue(["red", "blue", "green"])
    every = [codes.facilitator, *codes.teams.values()]
    assert len(set(every)) == 4
    assert all(len(c) == sec.CODE_LENGTH and set(c) <= set(sec.CODE_ALPHABET) for c in every)
    assert codes.role_of(codes.facilitator) == sec.FACILITATOR
    typed = "-".join([codes.teams["blue"][:4].lower(), codes.teams["blue"][4:]])
    assert codes.role_of(typed) == "team:blue"
    assert codes.role_of("") is None and codes.role_of("AAAAAAAA" * 10) is None
    assert sec.Codes.issue(["red"]).facilitator != sec.Codes.issue(["red"]).facilitator


def test_rate_limiter_refills_and_keeps_keys_apart():
    now = [0.0]
    limiter = sec.RateLimiter(burst=2, every=1.0, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b")
    now[0] = 1.0
    assert limiter.allow("a") and not limiter.allow("a")


def test_rate_limiter_is_bounded_in_keys():
    limiter = sec.RateLimiter(max_keys=10)
    for k in range(100):
        limiter.allow(str(k))
    assert len(limiter._buckets) == 10


def test_store_is_per_session_and_bounded():
    store = sec.BoundedStore(max_sessions=2, per_session=2)
    store.put("s1", "a", 1)
    assert store.get("s1", "a") == 1 and store.get("s2", "a") is None
    store.put("s1", "b", 2)
    store.put("s1", "c", 3)
    assert store.get("s1", "a") is None and store.get("s1", "c") == 3
    store.put("s2", "a", 1)
    store.put("s3", "a", 1)
    assert store.get("s1", "c") is None  # the oldest session dropped


def test_board_wakes_a_waiting_stream():
    board = Board()

    async def scenario():
        stream = board.stream(limit=2, timeout=5)
        first = await stream.__anext__()
        waiting = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.01)
        board.publish()
        return first, await asyncio.wait_for(waiting, 2)

    first, second = asyncio.run(scenario())
    assert first == "event: version\ndata: 0\n\n" and second == "event: version\ndata: 1\n\n"


def test_board_wait_times_out_unchanged():
    board = Board()
    assert asyncio.run(board.wait(0, timeout=0.01)) == 0
    assert board._waiters == []
