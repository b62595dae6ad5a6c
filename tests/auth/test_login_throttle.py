"""The sign-in throttle: sliding windows per username and IP, in-process and shared through Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from hunter.auth.ratelimit import LoginThrottle, MemoryFailureStore, RedisFailureStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_window_slides_and_success_resets() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(MemoryFailureStore(clock), per_user=3, per_ip=10, window=60)
    for _ in range(3):
        assert (await throttle.attempt("ayse", "10.0.0.1")).allowed
        clock.now += 1
    blocked = await throttle.attempt("Ayse ", "10.0.0.2")  # same user, however typed, any IP
    assert not blocked.allowed
    assert blocked.retry_after == 57  # now 1003; the first failure (1000) leaves at 1060
    assert (await throttle.attempt("mehmet", "10.0.0.1")).allowed  # other users are not blocked
    clock.now += 58
    ok = await throttle.attempt("ayse", "10.0.0.1")
    assert ok.allowed
    await throttle.succeeded(ok)
    for _ in range(3):
        assert (await throttle.attempt("ayse", "10.0.0.1")).allowed


async def test_memory_per_ip_limit_keeps_failures_after_a_success() -> None:
    throttle = LoginThrottle(MemoryFailureStore(FakeClock()), per_user=5, per_ip=3, window=60)
    assert (await throttle.attempt("a", "10.0.0.9")).allowed
    assert (await throttle.attempt("b", "10.0.0.9")).allowed
    good = await throttle.attempt("mine", "10.0.0.9")
    await throttle.succeeded(good)  # gives back its own slot only
    assert (await throttle.attempt("c", "10.0.0.9")).allowed
    assert not (await throttle.attempt("d", "10.0.0.9")).allowed
    assert (await throttle.attempt("d", "10.0.0.10")).allowed


async def test_parallel_guesses_cannot_overshoot() -> None:
    throttle = LoginThrottle(MemoryFailureStore(), per_user=5, per_ip=100, window=60)
    results = await asyncio.gather(*(throttle.attempt("ayse", f"10.0.0.{i}") for i in range(20)))
    assert sum(r.allowed for r in results) == 5


@pytest.fixture
async def two_redis_throttles(redis_url: str) -> AsyncIterator[tuple[LoginThrottle, LoginThrottle]]:
    # Two stores with their own connections: as two app processes would have.
    namespace = f"hunter:test:login:{uuid.uuid4().hex}"
    first = LoginThrottle(RedisFailureStore(redis_url), per_user=3, per_ip=50, window=30, namespace=namespace)
    second = LoginThrottle(
        RedisFailureStore(redis_url), per_user=3, per_ip=50, window=30, namespace=namespace
    )
    yield first, second
    conn = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in conn.scan_iter(f"{namespace}:*")]
        if keys:
            await conn.delete(*keys)
    finally:
        await conn.aclose()
        await first.aclose()
        await second.aclose()


async def test_redis_throttle_is_shared(two_redis_throttles: tuple[LoginThrottle, LoginThrottle]) -> None:
    first, second = two_redis_throttles
    assert (await first.attempt("ayse", "10.0.0.1")).allowed
    assert (await second.attempt("ayse", "10.0.0.2")).allowed
    assert (await first.attempt("ayse", "10.0.0.3")).allowed
    blocked = await second.attempt("ayse", "10.0.0.4")
    assert not blocked.allowed
    assert 1 <= blocked.retry_after <= 30
    assert not (await first.attempt("ayse", "10.0.0.5")).allowed
    assert (await second.attempt("mehmet", "10.0.0.1")).allowed


async def test_redis_success_resets_for_every_process(
    two_redis_throttles: tuple[LoginThrottle, LoginThrottle],
) -> None:
    first, second = two_redis_throttles
    for _ in range(2):
        assert (await first.attempt("ayse", "10.0.0.1")).allowed
    good = await second.attempt("ayse", "10.0.0.1")
    assert good.allowed
    await second.succeeded(good)
    for _ in range(3):
        assert (await first.attempt("ayse", "10.0.0.1")).allowed
    assert not (await second.attempt("ayse", "10.0.0.1")).allowed


async def test_redis_outage_falls_back_to_the_process() -> None:
    store = RedisFailureStore("redis://127.0.0.1:1/0?socket_connect_timeout=0.2")
    throttle = LoginThrottle(store, per_user=2, per_ip=50, window=30)
    try:
        assert (await throttle.attempt("ayse", "10.0.0.1")).allowed
        assert (await throttle.attempt("ayse", "10.0.0.1")).allowed
        assert not (await throttle.attempt("ayse", "10.0.0.1")).allowed
    finally:
        await throttle.aclose()


def test_app_uses_redis_when_configured(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    from hunter.auth.ratelimit import make_login_throttle
    from hunter.config import Settings

    assert isinstance(make_login_throttle(Settings()).store, MemoryFailureStore)
    monkeypatch.setenv("HUNTER_REDIS_URL", redis_url)
    monkeypatch.setenv("HUNTER_LOGIN_MAX_FAILURES", "7")
    throttle = make_login_throttle(Settings())
    assert isinstance(throttle.store, RedisFailureStore)
    assert throttle.per_user == 7
