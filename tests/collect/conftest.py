"""Fixtures for the collector tests: the sandbox DNS server on loopback, clients, Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from hunter.collect.dns import DnsClient, DnsConfig
from hunter.sandbox.dns_server import DnsServer, running_dns_server
from hunter.sandbox.zones import ZoneStore

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_URL = os.environ.get("HUNTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def server_address(server: DnsServer) -> tuple[str, int]:
    return server.host, server.port


def fast_config(*servers: DnsServer, **overrides: object) -> DnsConfig:
    """Short timeouts so failure paths stay quick; tests override what they exercise."""
    options: dict[str, object] = {
        "nameservers": [server_address(s) for s in servers],
        "timeout": 0.25,
        "attempts": 2,
        "backoff": 0.01,
    }
    options.update(overrides)
    return DnsConfig(**options)  # type: ignore[arg-type]


@pytest.fixture
def make_config() -> Callable[..., DnsConfig]:
    """``make_config(server, ..., timeout=...)``: a DnsConfig for sandbox servers."""
    return fast_config


@pytest.fixture
def store() -> ZoneStore:
    return ZoneStore()


@pytest.fixture
def dns_server(store: ZoneStore) -> Iterator[DnsServer]:
    # A background thread with its own event loop: the client's loop never serves answers.
    with running_dns_server(store) as server:
        yield server


@pytest.fixture
def config(dns_server: DnsServer) -> DnsConfig:
    return fast_config(dns_server)


@pytest.fixture
async def client(config: DnsConfig) -> AsyncIterator[DnsClient]:
    async with DnsClient(config) as dns_client:
        yield dns_client


@pytest.fixture
def redis_url() -> str:
    """The test Redis; under CI=true an unreachable Redis fails the test instead of skipping."""
    import redis

    try:
        conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        conn.ping()
        conn.close()
    except Exception as exc:
        message = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: this test must run, not skip)", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def redis_key() -> str:
    return f"hunter:test:ratelimit:{uuid.uuid4().hex}"
