"""Fixtures for the sandbox tests: zone stores, the DNS server on loopback, a dig-like client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import dns.message
import dns.query
import dns.rdatatype
import pytest

from hunter.sandbox.dns_server import DnsServer, running_dns_server
from hunter.sandbox.world import World, build_world, synthetic_domains
from hunter.sandbox.zones import ZoneStore

Dig = Callable[..., dns.message.Message]


def make_dig(server: DnsServer) -> Dig:
    """Ask the server like ``dig`` would; ``payload`` turns EDNS on with that buffer size."""

    def dig(
        name: str,
        rdtype: str = "A",
        *,
        tcp: bool = False,
        timeout: float = 2.0,
        payload: int | None = None,
    ) -> dns.message.Message:
        if payload is None:
            query = dns.message.make_query(name, rdtype)
        else:
            query = dns.message.make_query(name, rdtype, use_edns=0, payload=payload)
        send = dns.query.tcp if tcp else dns.query.udp
        return send(query, server.host, timeout=timeout, port=server.port)

    return dig


@pytest.fixture
def store() -> ZoneStore:
    return ZoneStore()


@pytest.fixture
def server(store: ZoneStore) -> Iterator[DnsServer]:
    with running_dns_server(store) as running:
        yield running


@pytest.fixture
def dig(server: DnsServer) -> Dig:
    return make_dig(server)


# A 2,000-company world is built once per session: building and loading it takes about a second.
@pytest.fixture(scope="session")
def world_2000() -> World:
    return build_world(synthetic_domains(2000, seed=7), seed=7)


@pytest.fixture(scope="session")
def world_store(world_2000: World) -> ZoneStore:
    populated = ZoneStore()
    world_2000.populate(populated)
    return populated


@pytest.fixture(scope="session")
def world_server(world_store: ZoneStore) -> Iterator[DnsServer]:
    with running_dns_server(world_store) as running:
        yield running


@pytest.fixture
def world_dig(world_server: DnsServer) -> Dig:
    return make_dig(world_server)


@pytest.fixture
def rrset_texts() -> Callable[[dns.message.Message], list[str]]:
    """Answer section as sorted ``name type rdata`` strings (lower-case names)."""

    def texts(message: dns.message.Message) -> list[str]:
        out = []
        for rrset in message.answer:
            for rdata in rrset:
                name = rrset.name.to_text().lower()
                out.append(f"{name} {dns.rdatatype.to_text(rrset.rdtype)} {rdata.to_text()}")
        return sorted(out)

    return texts
