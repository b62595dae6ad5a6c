"""Authoritative DNS server over UDP and TCP for the sandbox (tests, demo, benchmarks).

The hot path parses the query header and question by hand and serves a cached wire answer
with the client's id, RD bit and question bytes (0x20 case) spliced in. Only a cache miss goes
through the zone store and dnspython's renderer. The cache is dropped whenever the store changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from hunter.sandbox.zones import Fault, LookupResult, ZoneStore

__all__ = ["DnsServer", "ServerStats", "running_dns_server", "serve_forever"]

SERVER_UDP_PAYLOAD = 1232  # advertised in our OPT record (DNS flag day 2020 value)
MAX_UDP_RESPONSE = 4096  # never send a UDP answer bigger than this, whatever the client offers
_CACHE_LIMIT = 200_000
_TCP_IDLE_SECONDS = 30.0

_HEADER = struct.Struct("!HHHHHH")
_QR = 0x8000
_RD = 0x0100
_IN = dns.rdataclass.IN
_CLASS_ANY = dns.rdataclass.ANY
_REFUSED_TYPES = frozenset({dns.rdatatype.AXFR, dns.rdatatype.IXFR, dns.rdatatype.OPT})
_DROP = b""  # cache marker (empty wire): do not answer


@dataclass
class ServerStats:
    """Counters for tests and benchmarks (plain ints: cheap, and reads are atomic enough)."""

    queries: int = 0
    udp: int = 0
    tcp: int = 0
    cache_hits: int = 0
    truncated: int = 0
    dropped: int = 0
    garbage: int = 0
    tcp_connections: int = 0
    by_type: dict[int, int] = field(default_factory=dict)
    by_rcode: dict[int, int] = field(default_factory=dict)

    def queries_by_type(self) -> dict[str, int]:
        return {
            dns.rdatatype.to_text(dns.rdatatype.RdataType.make(t)): n for t, n in sorted(self.by_type.items())
        }

    def answers_by_rcode(self) -> dict[str, int]:
        return {dns.rcode.to_text(dns.rcode.Rcode.make(r)): n for r, n in sorted(self.by_rcode.items())}

    def as_dict(self) -> dict[str, object]:
        return {
            "queries": self.queries,
            "udp": self.udp,
            "tcp": self.tcp,
            "cache_hits": self.cache_hits,
            "truncated": self.truncated,
            "dropped": self.dropped,
            "garbage": self.garbage,
            "tcp_connections": self.tcp_connections,
            "by_type": self.queries_by_type(),
            "by_rcode": self.answers_by_rcode(),
        }


@dataclass(slots=True)
class _Query:
    qid: int
    flags: int
    labels: list[bytes]
    qtype: int
    qclass: int
    qend: int  # offset just past the question section
    payload: int  # EDNS UDP payload size, or -1 without EDNS


def _parse_query(data: bytes) -> _Query | None:
    """Header + single question + optional leading OPT; None when it is not a sane query."""
    size = len(data)
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(data)
    if qdcount != 1:
        return None
    pos = 12
    labels: list[bytes] = []
    total = 1
    while True:
        if pos >= size:
            return None
        length = data[pos]
        if length == 0:
            pos += 1
            break
        if length > 63:  # compression pointers do not belong in a query's question
            return None
        end = pos + 1 + length
        total += length + 1
        if end > size or total > 255:
            return None
        labels.append(data[pos + 1 : end].lower())
        pos = end
    if pos + 4 > size:
        return None
    qtype, qclass = struct.unpack_from("!HH", data, pos)
    qend = pos + 4
    payload = -1
    # OPT is the first additional record in every stub's query; anything fancier gets no EDNS.
    if arcount and not ancount and not nscount and qend + 11 <= size and data[qend] == 0:
        rtype, rclass = struct.unpack_from("!HH", data, qend + 1)
        if rtype == dns.rdatatype.OPT:
            payload = rclass
    return _Query(qid, flags, labels, qtype, qclass, qend, payload)


def _error_wire(query: _Query, data: bytes, rcode: int) -> bytes:
    flags = _QR | (query.flags & 0x7900) | rcode  # keep opcode and RD
    return _HEADER.pack(query.qid, flags, 1, 0, 0, 0) + data[12 : query.qend]


class DnsServer:
    """Serves a :class:`ZoneStore` like a real authoritative server, on one port for UDP and TCP."""

    def __init__(self, store: ZoneStore, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = store
        self.host = host
        self.port = port
        self.stats = ServerStats()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_conns: set[_TcpProtocol] = set()
        self._cache: dict[tuple[bytes, bytes, int, bool], bytes] = {}
        self._cache_version = -1

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        last_error: OSError | None = None
        for _ in range(50):
            udp, _proto = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, self.port)
            )
            port = udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await loop.create_server(lambda: _TcpProtocol(self), self.host, port)
            except OSError as exc:
                # The UDP port may be taken for TCP by someone else: try another pair.
                udp.close()
                last_error = exc
                if self.port:
                    raise
                continue
            self._udp = udp
            self.port = port
            sock = udp.get_extra_info("socket")
            if sock is not None:
                # Benchmarks burst thousands of queries; a bigger buffer avoids kernel drops.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            return self.host, port
        raise OSError(f"could not bind UDP and TCP on one port: {last_error}")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for conn in list(self._tcp_conns):
                conn.close()
            await self._tcp.wait_closed()
            self._tcp = None

    @property
    def address(self) -> str:
        """``host:port``, the form ``HUNTER_DNS_NAMESERVERS`` takes."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def reset_stats(self) -> None:
        self.stats = ServerStats()

    # ------------------------------------------------------------- handling
    def handle(self, data: bytes, udp: bool = True) -> bytes | None:
        """Answer one DNS message; None means send nothing. Never raises on bad input."""
        try:
            return self._handle(data, udp)
        except Exception:
            self.stats.garbage += 1
            return None

    def _handle(self, data: bytes, udp: bool) -> bytes | None:
        stats = self.stats
        if len(data) < 12 or data[2] & 0x80:
            stats.garbage += 1  # too short, or a response (answering it could loop)
            return None
        query = _parse_query(data)
        if query is None:
            stats.garbage += 1
            qid, flags = struct.unpack_from("!HH", data)
            return _HEADER.pack(qid, _QR | (flags & 0x7900) | dns.rcode.FORMERR, 0, 0, 0, 0)
        stats.queries += 1
        if udp:
            stats.udp += 1
        else:
            stats.tcp += 1
        by_type = stats.by_type
        by_type[query.qtype] = by_type.get(query.qtype, 0) + 1
        if query.flags & 0x7800:  # opcode other than QUERY
            return self._count(_error_wire(query, data, dns.rcode.NOTIMP))

        if udp:
            limit = 512 if query.payload < 0 else min(max(query.payload, 512), MAX_UDP_RESPONSE)
        else:
            limit = 65535
        store_version = self.store.version
        if store_version != self._cache_version:
            self._cache.clear()
            self._cache_version = store_version
        qend = query.qend
        key = (data[12 : qend - 4].lower(), data[qend - 4 : qend], limit, query.payload >= 0)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._render(query, limit, udp)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = cached
        else:
            stats.cache_hits += 1
        if not cached:
            stats.dropped += 1
            return None
        if cached[2] & 0x02:
            stats.truncated += 1
        rcode = cached[3] & 0x0F
        stats.by_rcode[rcode] = stats.by_rcode.get(rcode, 0) + 1
        # Cached wire has id 0, RD clear and a lower-case question of the same length.
        return (
            data[:2]
            + bytes((cached[2] | (data[2] & 0x01), cached[3]))
            + cached[4:12]
            + data[12:qend]
            + cached[qend:]
        )

    def _count(self, wire: bytes) -> bytes:
        rcode = wire[3] & 0x0F
        self.stats.by_rcode[rcode] = self.stats.by_rcode.get(rcode, 0) + 1
        return wire

    def _render(self, query: _Query, limit: int, udp: bool) -> bytes:
        qname = dns.name.Name([*query.labels, b""])
        if query.qclass not in (_IN, _CLASS_ANY) or query.qtype in _REFUSED_TYPES or len(qname) == 1:
            result = LookupResult(dns.rcode.REFUSED, authoritative=False)
        else:
            key = qname.to_text(omit_final_dot=True)
            result = self.store.lookup_key(key, query.qtype)
        if result.fault is Fault.DROP:
            return _DROP
        msg = dns.message.Message(id=0)
        msg.flags = dns.flags.QR | (dns.flags.AA if result.authoritative else 0)
        msg.set_rcode(dns.rcode.Rcode.make(result.rcode))
        rdclass = dns.rdataclass.RdataClass.make(query.qclass)
        msg.question.append(dns.rrset.RRset(qname, rdclass, dns.rdatatype.RdataType.make(query.qtype)))
        if query.payload >= 0:
            msg.use_edns(0, 0, SERVER_UDP_PAYLOAD)
        if result.fault is Fault.TRUNCATE and udp:
            return _truncated(msg)
        msg.answer.extend(result.answer)
        msg.authority.extend(result.authority)
        try:
            return msg.to_wire(max_size=limit)
        except dns.exception.TooBig:
            return _truncated(msg)


def _truncated(msg: dns.message.Message) -> bytes:
    """TC=1 with the question only, as servers do when the answer does not fit."""
    msg.answer.clear()
    msg.authority.clear()
    msg.flags |= dns.flags.TC
    return msg.to_wire()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        response = self.server.handle(data, True)
        if response is not None and self.transport is not None:
            self.transport.sendto(response, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP errors from clients that went away must not stop the server


class _TcpProtocol(asyncio.Protocol):
    """RFC 1035 two-byte length framing; several (pipelined) queries per connection."""

    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server._tcp_conns.add(self)
        self.server.stats.tcp_connections += 1
        self._arm_idle()

    def _arm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(_TCP_IDLE_SECONDS, self.close)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        self._arm_idle()
        while len(buf) >= 2:
            length = (buf[0] << 8) | buf[1]
            if len(buf) < 2 + length:
                break
            message = bytes(buf[2 : 2 + length])
            del buf[: 2 + length]
            response = self.server.handle(message, False)
            if response is not None and self.transport is not None:
                self.transport.write(len(response).to_bytes(2, "big") + response)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self.server._tcp_conns.discard(self)
        self.transport = None


@contextlib.contextmanager
def running_dns_server(store: ZoneStore, host: str = "127.0.0.1", port: int = 0) -> Iterator[DnsServer]:
    """Run a server on its own event loop in a background thread (sync tests, CLI)."""
    loop = asyncio.new_event_loop()
    server = DnsServer(store, host, port)
    thread = threading.Thread(target=loop.run_forever, name="hunter-sandbox-dns", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
        yield server
    finally:
        try:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()


async def serve_forever(
    store: ZoneStore,
    host: str = "127.0.0.1",
    port: int = 0,
    ready: Callable[[DnsServer], None] | None = None,
) -> None:
    """Serve until cancelled (``hunter sandbox``); ``ready`` gets the server once it listens."""
    server = DnsServer(store, host, port)
    await server.start()
    try:
        if ready is not None:
            ready(server)
        await asyncio.Event().wait()
    finally:
        await server.stop()
