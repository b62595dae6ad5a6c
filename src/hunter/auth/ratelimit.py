"""Sign-in throttling: failures per username and per client IP in a sliding window.

An attempt takes a slot in both windows *before* the password is checked, so a burst of
parallel guesses cannot all slip past the check while the first argon2 verification runs.
A failure keeps its slots. A success clears the username's window and gives back its IP slot,
but leaves earlier IP failures in place: otherwise an attacker with one valid account could
reset their IP's count between guesses at other people's passwords.

The per-IP limit is higher than the per-user one because an office shares one address.

``MemoryFailureStore`` serves one process; ``RedisFailureStore`` lets every app process share the
windows (sorted sets, one Lua script, Redis's own clock). If Redis fails, the Redis store falls
back to its in-process twin and logs it, so sign-in keeps working and keeps some protection.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from hunter.config import Settings
from hunter.logs import get_logger

log = get_logger(__name__)


class FailureStore(Protocol):
    async def take(self, keys: Sequence[tuple[str, int]], window: float, member: str) -> float:
        """Add ``member`` to every key's window unless one is full; 0, or seconds until room."""

    async def release(self, key: str, member: str) -> None:
        """Remove one member from a key's window."""

    async def clear(self, key: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryFailureStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, deque[tuple[float, str]]] = {}
        # Requests run on one event loop, but a lock costs nothing and keeps threads honest too.
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float, window: float) -> deque[tuple[float, str]]:
        entries = self._windows.setdefault(key, deque())
        while entries and entries[0][0] <= now - window:
            entries.popleft()
        return entries

    async def take(self, keys: Sequence[tuple[str, int]], window: float, member: str) -> float:
        with self._lock:
            now = self._clock()
            wait = 0.0
            for key, limit in keys:
                entries = self._trim(key, now, window)
                if len(entries) >= limit:
                    wait = max(wait, entries[0][0] + window - now)
            if wait > 0:
                return wait
            for key, _ in keys:
                self._windows[key].append((now, member))
            return 0.0

    async def release(self, key: str, member: str) -> None:
        with self._lock:
            entries = self._windows.get(key)
            if entries:
                self._windows[key] = deque(e for e in entries if e[1] != member)

    async def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    async def aclose(self) -> None:
        return None


# KEYS = windows; ARGV[1] = window seconds, ARGV[2] = member, ARGV[3..] = one limit per key.
# Returns the wait as a string: Lua numbers become integers on the way back to the client.
_TAKE_SCRIPT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return tostring(wait) end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('EXPIRE', key, math.ceil(window))
end
return '0'
"""


class RedisFailureStore:
    def __init__(self, redis_url: str | None = None, *, client: Any = None) -> None:
        import redis.asyncio as aioredis

        if client is None:
            if not redis_url:
                raise ValueError("RedisFailureStore needs redis_url or client")
            client = aioredis.Redis.from_url(redis_url)
        self._client = client
        self._script = self._client.register_script(_TAKE_SCRIPT)
        self._fallback = MemoryFailureStore()

    def _failed(self, exc: Exception) -> None:
        log.error("login throttle: Redis unavailable, using the in-process store", error=str(exc))

    async def take(self, keys: Sequence[tuple[str, int]], window: float, member: str) -> float:
        from redis.exceptions import RedisError

        try:
            args: list[str | float] = [window, member, *(limit for _, limit in keys)]
            result = await self._script(keys=[key for key, _ in keys], args=args)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return await self._fallback.take(keys, window, member)
        return float(result.decode() if isinstance(result, bytes) else result)

    async def release(self, key: str, member: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self._client.zrem(key, member)
        except (RedisError, OSError) as exc:
            self._failed(exc)
        await self._fallback.release(key, member)

    async def clear(self, key: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self._client.delete(key)
        except (RedisError, OSError) as exc:
            self._failed(exc)
        await self._fallback.clear(key)

    async def aclose(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True, slots=True)
class Attempt:
    allowed: bool
    retry_after: int = 0
    """Whole seconds to wait (for the Retry-After header) when not allowed."""
    member: str = ""
    user_key: str = ""
    ip_key: str = ""


class LoginThrottle:
    def __init__(
        self,
        store: FailureStore,
        *,
        per_user: int = 5,
        per_ip: int = 20,
        window: float = 300.0,
        namespace: str = "hunter:login",
    ) -> None:
        self.store = store
        self.per_user = per_user
        self.per_ip = per_ip
        self.window = float(window)
        self.namespace = namespace

    def _key(self, kind: str, value: str) -> str:
        # Hashed: any string a client sends stays a short, safe key.
        return f"{self.namespace}:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"

    async def attempt(self, username: str, ip: str) -> Attempt:
        user_key = self._key("user", username.strip().lower())
        ip_key = self._key("ip", ip)
        member = uuid.uuid4().hex
        wait = await self.store.take([(user_key, self.per_user), (ip_key, self.per_ip)], self.window, member)
        if wait > 0:
            return Attempt(False, retry_after=max(1, math.ceil(wait)))
        return Attempt(True, member=member, user_key=user_key, ip_key=ip_key)

    async def succeeded(self, attempt: Attempt) -> None:
        await self.store.clear(attempt.user_key)
        await self.store.release(attempt.ip_key, attempt.member)

    async def aclose(self) -> None:
        await self.store.aclose()


def make_login_throttle(settings: Settings) -> LoginThrottle:
    """In-process unless ``redis_url`` is set, so several app processes share one count."""
    store: FailureStore = (
        RedisFailureStore(settings.redis_url) if settings.redis_url else MemoryFailureStore()
    )
    return LoginThrottle(
        store,
        per_user=settings.login_max_failures,
        per_ip=settings.login_max_failures_per_ip,
        window=settings.login_failure_window,
    )
