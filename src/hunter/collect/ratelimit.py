"""Query-rate limits: a local asyncio token bucket and one shared through Redis.

Both are token buckets: ``rate`` tokens per second, at most ``burst`` saved up. The Redis
bucket lets every worker process (on any machine) draw from one budget, so a fleet of
scanners stays under the rate a resolver operator allows. To keep Redis off the hot path a
client leases tokens in small batches and spends them locally; a lease is at most a
twentieth of a second's worth, so the shared rate is still honoured closely.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

__all__ = ["RateLimiter", "RedisTokenBucket", "TokenBucket", "make_rate_limiter"]


class RateLimiter(Protocol):
    async def acquire(self) -> None:
        """Wait until one query may be sent."""

    async def aclose(self) -> None:
        """Release resources (connections)."""


def _default_burst(rate: float) -> float:
    # A tenth of a second's worth: smooth enough for resolvers, large enough to not stall.
    return max(1.0, rate / 10.0)


class TokenBucket:
    """In-process token bucket.

    Callers reserve a token at once (the balance may go negative) and sleep for their share of
    the deficit, so waiting callers are served in arrival order without a lock or a wake-up
    storm.
    """

    def __init__(
        self, rate: float, burst: float | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else _default_burst(self.rate)
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()

    async def acquire(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1.0
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self.rate)

    async def aclose(self) -> None:
        return None


# KEYS[1] = bucket hash; ARGV = rate, burst, wanted. Returns {granted, seconds to wait}.
# Redis TIME keeps every client on one clock; effects replication (default since Redis 5)
# makes a non-deterministic command inside a script safe.
_LEASE_SCRIPT: Final = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1])
local stamp = tonumber(state[2])
if tokens == nil or stamp == nil then
  tokens = burst
  stamp = now
end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local granted = math.min(wanted, math.floor(tokens))
if granted < 0 then granted = 0 end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
local wait = 0
if granted == 0 then wait = (1 - tokens) / rate end
return {granted, tostring(wait)}
"""


class RedisTokenBucket:
    """Token bucket shared by every process that uses the same Redis ``key``.

    All sharers must use the same rate and burst (they come from one setting).
    """

    def __init__(
        self,
        rate: float,
        *,
        redis_url: str | None = None,
        client: Any = None,
        key: str = "hunter:ratelimit:dns",
        burst: float | None = None,
        lease: int | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if (redis_url is None) == (client is None):
            raise ValueError("give exactly one of redis_url or client")
        if client is None:
            import redis.asyncio as aioredis

            assert redis_url is not None
            client = aioredis.Redis.from_url(redis_url)
            self._owns_client = True
        else:
            self._owns_client = False
        self._redis = client
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else _default_burst(self.rate)
        self.key = key
        # Lease size: a twentieth of a second's worth, never more than the bucket holds.
        self.lease = lease or max(1, min(int(self.burst), math.ceil(self.rate / 20)))
        self._script = client.register_script(_LEASE_SCRIPT)
        self._tokens = 0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self._tokens > 0:
            self._tokens -= 1
            return
        # One refill at a time; the others queue on the lock and then spend the new lease.
        async with self._lock:
            while self._tokens <= 0:
                granted, wait = await self._script(keys=[self.key], args=[self.rate, self.burst, self.lease])
                granted = int(granted)
                if granted > 0:
                    self._tokens += granted
                else:
                    await asyncio.sleep(max(float(wait), 0.001))
            self._tokens -= 1

    async def reset(self) -> None:
        """Forget the shared state (tests, or after changing the rate)."""
        await self._redis.delete(self.key)
        self._tokens = 0

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


def make_rate_limiter(
    qps: float, *, redis_url: str | None = None, key: str = "hunter:ratelimit:dns", burst: float | None = None
) -> RateLimiter:
    """The shared Redis bucket when a Redis URL is configured, else a local one."""
    if redis_url:
        return RedisTokenBucket(qps, redis_url=redis_url, key=key, burst=burst)
    return TokenBucket(qps, burst)
