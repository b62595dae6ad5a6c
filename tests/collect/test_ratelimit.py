"""Query-rate limits: the local token bucket and the Redis bucket shared by several clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from hunter.collect.dns import DnsClient, DnsConfig
from hunter.collect.ratelimit import RedisTokenBucket, TokenBucket, make_rate_limiter
from hunter.core.evidence import LookupPurpose, LookupStatus
from hunter.sandbox.dns_server import DnsServer
from hunter.sandbox.zones import ZoneStore


async def _drain(bucket: TokenBucket | RedisTokenBucket, count: int) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(bucket.acquire() for _ in range(count)))
    return time.perf_counter() - started


async def test_token_bucket_paces_after_the_burst() -> None:
    bucket = TokenBucket(rate=100, burst=5)
    elapsed = await _drain(bucket, 45)
    # 5 tokens at once, then 40 at 100/s.
    assert elapsed >= 0.38


async def test_token_bucket_burst_is_immediate() -> None:
    bucket = TokenBucket(rate=10, burst=20)
    assert await _drain(bucket, 20) < 0.05


def test_token_bucket_validation() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(rate=5, burst=0.5)
    assert TokenBucket(rate=1000).burst == 100
    assert isinstance(make_rate_limiter(10), TokenBucket)


async def test_client_honours_local_qps(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add("rate.test", "A", "192.0.2.1")
    async with DnsClient(make_config(dns_server, qps=60, rate_limit_burst=1)) as client:
        started = time.perf_counter()
        lookups = await asyncio.gather(
            *(client.query("rate.test", "A", LookupPurpose.APEX_ADDRESS) for _ in range(31))
        )
        elapsed = time.perf_counter() - started
    assert all(lk.status is LookupStatus.OK for lk in lookups)
    # N queries take at least (N - burst) / qps seconds.
    assert elapsed >= 30 / 60 * 0.95


async def test_redis_bucket_paces_one_client(redis_url: str, redis_key: str) -> None:
    bucket = RedisTokenBucket(100, redis_url=redis_url, key=redis_key, burst=5)
    try:
        elapsed = await _drain(bucket, 45)
    finally:
        await bucket.reset()
        await bucket.aclose()
    assert elapsed >= 0.38


async def test_redis_bucket_is_shared_by_two_clients(
    store: ZoneStore,
    dns_server: DnsServer,
    make_config: Callable[..., DnsConfig],
    redis_url: str,
    redis_key: str,
) -> None:
    store.add("shared.test", "A", "192.0.2.1")
    config = make_config(
        dns_server, qps=80, redis_url=redis_url, rate_limit_key=redis_key, rate_limit_burst=4
    )

    async def run(client: DnsClient, count: int) -> list[LookupStatus]:
        lookups = await asyncio.gather(
            *(client.query("shared.test", "A", LookupPurpose.APEX_ADDRESS) for _ in range(count))
        )
        return [lk.status for lk in lookups]

    async with DnsClient(config) as first, DnsClient(config) as second:
        started = time.perf_counter()
        statuses = await asyncio.gather(run(first, 40), run(second, 40))
        elapsed = time.perf_counter() - started
    assert all(s is LookupStatus.OK for group in statuses for s in group)
    # 80 queries from two clients share one 80/s budget: about a second, not half of one.
    assert elapsed >= (80 - 4 - 8) / 80
    conn = aioredis.Redis.from_url(redis_url)
    try:
        assert await conn.exists(redis_key)
        await conn.delete(redis_key)
    finally:
        await conn.aclose()


async def test_redis_bucket_validation(redis_url: str) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        RedisTokenBucket(10)
    bucket = make_rate_limiter(1000, redis_url=redis_url, key="hunter:test:unused")
    assert isinstance(bucket, RedisTokenBucket)
    assert bucket.lease == 50  # a twentieth of a second's worth
    await bucket.aclose()
