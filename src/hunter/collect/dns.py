"""Async DNS client for bulk evidence collection.

Every question ends as a :class:`~hunter.core.evidence.Lookup` with a status; nothing raises
out of :meth:`DnsClient.query` / :meth:`DnsClient.query_many` except cancellation, so a scan
never loses a lookup.

Why hand-rolled (see docs/decisions/0002-dns-library.md for the measurements): the scanner
sends ~25 queries per domain and must sustain tens of thousands of queries per second on two
cores. Connected non-blocking UDP sockets (one or two per nameserver) drained in batches from
a reader callback, query-id demultiplexing, a 4 MiB receive buffer, one periodic timeout sweep
and a batch path that completes first attempts without a task per question are several times
faster than dnspython's async resolver and faster than aiodns. Queries are encoded and the
common record types (A, AAAA, NS, CNAME, PTR, MX, TXT, SRV) decoded here; dnspython renders
any other type, and encodes names that are not plain ASCII.

Behaviour:

* ``timeout`` is per attempt; ``attempts`` counts every query sent for one lookup (UDP, the
  TCP retry after a truncated answer, the next nameserver after REFUSED, CNAME targets).
* timeout, SERVFAIL and transport errors are retried with exponential backoff (with jitter),
  rotating through the nameservers. NXDOMAIN and NODATA are answers and end the lookup.
  REFUSED is a property of the server (ACL, not authoritative), not of the name, so it moves
  to the next nameserver at once; only when every nameserver refused is the status ``refused``.
* CNAMEs are followed: inside one answer, and by re-querying the target ourselves when the
  server returned the CNAME alone (an authoritative server that does not serve the target).
  Loops and chains longer than ``max_cname_depth`` end with status ``error``.
* A truncated UDP answer is retried over TCP on the same server.
* Host names in answers are returned lower-case (DNS names are case-insensitive and the
  classifier matches suffixes); TXT strings keep their case.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import ipaddress
import os
import random
import secrets
import socket
import struct
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from hunter.collect.ratelimit import RateLimiter, make_rate_limiter
from hunter.core.evidence import Lookup, LookupPurpose, LookupStatus

__all__ = [
    "DnsClient",
    "DnsConfig",
    "DnsResponseError",
    "Question",
    "Reply",
    "encode_query",
    "format_nameservers",
    "parse_nameservers",
    "parse_reply",
    "system_nameservers",
]

# Record type codes we query or must recognise in answers.
RDTYPES: Final[dict[str, int]] = {
    "A": 1,
    "NS": 2,
    "CNAME": 5,
    "SOA": 6,
    "PTR": 12,
    "MX": 15,
    "TXT": 16,
    "AAAA": 28,
    "SRV": 33,
}
_A, _NS, _CNAME, _SOA, _PTR, _MX, _TXT, _AAAA, _SRV = (RDTYPES[t] for t in RDTYPES)
_OPT: Final = 41

_NOERROR, _FORMERR, _SERVFAIL, _NXDOMAIN, _NOTIMP, _REFUSED = 0, 1, 2, 3, 4, 5
_RCODE_NAMES: Final = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

# 1232 bytes is the DNS-flag-day EDNS size: large enough for most TXT sets, small enough to
# avoid IP fragmentation; bigger answers come back truncated and are fetched over TCP.
EDNS_PAYLOAD: Final = 1232
_MAX_UDP: Final = 65535
# Readiness callbacks drain at most this many datagrams so one busy socket cannot starve
# the timers and the other callbacks of the event loop.
_DRAIN_BATCH: Final = 512

_RESOLV_CONF: Final = Path("/etc/resolv.conf")


@dataclass(frozen=True)
class DnsConfig:
    nameservers: list[tuple[str, int]] | None = None
    """``None`` means the system resolvers from /etc/resolv.conf."""
    timeout: float = 2.0
    """Seconds to wait for one attempt."""
    attempts: int = 3
    backoff: float = 0.2
    """Base delay before the second attempt; doubles per retry (with ±50 % jitter)."""
    concurrency: int = 256
    """Queries in flight at once (all names, all types)."""
    qps: float | None = None
    """Global query-rate limit; shared through Redis when ``redis_url`` is set."""
    redis_url: str | None = None
    max_cname_depth: int = 8
    udp_rcvbuf: int = 4 << 20
    """Receive buffer per UDP socket: with hundreds of answers in flight a small buffer drops
    answers silently, which shows up as timeouts."""
    udp_sockets: int = 2
    """UDP sockets per address family, used round-robin (spreads source ports)."""
    rate_limit_key: str = "hunter:ratelimit:dns"
    rate_limit_burst: float | None = None
    """Token-bucket capacity; default one tenth of a second's worth of queries."""

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.qps is not None and self.qps <= 0:
            raise ValueError("qps must be positive (or None for no limit)")
        if self.nameservers is not None and not self.nameservers:
            raise ValueError("nameservers is empty; use None for the system resolvers")


# --------------------------------------------------------------------------------------------
# Nameserver lists


def _parse_one_nameserver(token: str) -> tuple[str, int]:
    host, port_text = token, ""
    if token.startswith("["):
        end = token.find("]")
        if end < 0:
            raise ValueError(f"nameserver {token!r}: missing ']' after the IPv6 address")
        host, rest = token[1:end], token[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"nameserver {token!r}: expected ':port' after ']'")
            port_text = rest[1:]
    elif token.count(":") == 1:
        host, port_text = token.split(":")
    # Otherwise a bare IPv4 address, or a bare IPv6 address (several colons, no port).
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"nameserver {token!r}: {host!r} is not an IP address "
            "(use ip, ip:port or [ipv6]:port; host names are not accepted)"
        ) from None
    port = 53
    if port_text or token.endswith(":"):
        if not port_text.isdigit():
            raise ValueError(f"nameserver {token!r}: port {port_text!r} is not a number")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise ValueError(f"nameserver {token!r}: port {port} is outside 1-65535")
    return address.compressed, port


def parse_nameservers(text: str) -> list[tuple[str, int]]:
    """Parse ``"1.1.1.1, 127.0.0.1:5353, [::1]:53"`` (commas and/or whitespace)."""
    tokens = [t for t in text.replace(",", " ").split() if t]
    if not tokens:
        raise ValueError("no nameserver given")
    result: list[tuple[str, int]] = []
    for token in tokens:
        entry = _parse_one_nameserver(token)
        if entry not in result:
            result.append(entry)
    return result


def system_nameservers(path: Path = _RESOLV_CONF) -> list[tuple[str, int]]:
    """Nameservers from resolv.conf; 127.0.0.1 when there are none (glibc does the same)."""
    servers: list[tuple[str, int]] = []
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                # Link-local IPv6 may carry a %scope the socket layer needs; keep it.
                host = parts[1]
                try:
                    address = ipaddress.ip_address(host.split("%", 1)[0])
                except ValueError:
                    continue
                entry = (host if "%" in host else address.compressed, 53)
                if entry not in servers:
                    servers.append(entry)
    return servers or [("127.0.0.1", 53)]


# --------------------------------------------------------------------------------------------
# Wire format


class DnsResponseError(ValueError):
    """The bytes received are not a well-formed DNS message."""


_LENGTH_BYTES: Final = [bytes((n,)) for n in range(64)]


def _name_to_wire(name: str) -> bytes:
    text = name[:-1] if name.endswith(".") else name
    if not text:
        return b"\x00"
    if text.isascii() and "\\" not in text:
        labels = text.encode("ascii").split(b".")
        lengths = list(map(len, labels))
        if min(lengths) == 0 or max(lengths) > 63:
            raise ValueError(f"invalid DNS name {name!r}: empty label or label over 63 bytes")
        if sum(lengths) + len(lengths) > 254:
            raise ValueError(f"invalid DNS name {name!r}: longer than 255 bytes")
        return b"".join(map(bytes.__add__, map(_LENGTH_BYTES.__getitem__, lengths), labels)) + b"\x00"
    # Unicode labels (IDNA) and escapes are rare here; dnspython handles them correctly.
    try:
        return dns.name.from_text(text).to_wire() or b"\x00"
    except Exception as exc:
        raise ValueError(f"invalid DNS name {name!r}: {exc}") from None


_HEADER: Final = struct.Struct("!HHHHHH")
_QTAIL: Final = struct.Struct("!HH")
_RR_HEADER: Final = struct.Struct("!HHIH")
_OPT_RR: Final = b"\x00" + _RR_HEADER.pack(_OPT, EDNS_PAYLOAD, 0, 0)


def encode_query(qid: int, name: str, rdtype: int, *, edns: bool = True) -> tuple[bytes, bytes]:
    """Wire form of a recursive query, and its question section (for matching the answer)."""
    question = _name_to_wire(name) + _QTAIL.pack(rdtype, 1)
    if edns:
        return _HEADER.pack(qid, 0x0100, 1, 0, 0, 1) + question + _OPT_RR, question
    return _HEADER.pack(qid, 0x0100, 1, 0, 0, 0) + question, question


# Bytes that may appear unescaped in a presentation-form label.
_PLAIN_LABEL_BYTES: Final = bytes(
    sorted(set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*/+=#!%&'?^`{|}~,:<>[]"))
)
_PLAIN_NAME_BYTES: Final = _PLAIN_LABEL_BYTES + b"."
_ESCAPE_WITH_BACKSLASH: Final = frozenset(b'."\\()@$; ')


def _label_text(label: bytes) -> str:
    parts = []
    for byte in label.lower():
        if byte in _ESCAPE_WITH_BACKSLASH:
            parts.append("\\" + chr(byte))
        elif 0x21 <= byte <= 0x7E:
            parts.append(chr(byte))
        else:
            parts.append(f"\\{byte:03d}")
    return "".join(parts)


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """Decode a possibly compressed name; returns (lower-case name without final dot, next offset)."""
    labels: list[bytes] = []
    end = -1
    hops = 0
    total = 0
    while True:
        length = data[offset]
        if length == 0:
            offset += 1
            break
        if length >= 0xC0:
            pointer = ((length & 0x3F) << 8) | data[offset + 1]
            if end < 0:
                end = offset + 2
            # A pointer must point backwards; this also bounds the work on hostile input.
            if pointer >= offset or hops > 127:
                raise DnsResponseError("bad compression pointer")
            hops += 1
            offset = pointer
            continue
        if length > 63:
            raise DnsResponseError("bad label length")
        total += length + 1
        if total > 255:
            raise DnsResponseError("name longer than 255 bytes")
        offset += 1 + length
        label = data[offset - length : offset]
        if len(label) != length:
            raise DnsResponseError("label runs past the end of the message")
        labels.append(label)
    raw = b".".join(labels)
    # Fast path: plain host-name bytes and no dot inside a label.
    if not raw.translate(None, _PLAIN_NAME_BYTES) and raw.count(b".") == len(labels) - 1:
        return raw.lower().decode("ascii"), (end if end >= 0 else offset)
    return ".".join(_label_text(label) for label in labels), (end if end >= 0 else offset)


def _skip_name(data: bytes, offset: int) -> int:
    while True:
        length = data[offset]
        if length == 0:
            return offset + 1
        if length >= 0xC0:
            return offset + 2
        if length > 63:
            raise DnsResponseError("bad label length")
        offset += 1 + length


def _rdata_text(data: bytes, rtype: int, start: int, length: int) -> str:
    end = start + length
    if rtype == _A and length == 4:
        return socket.inet_ntop(socket.AF_INET, data[start:end])
    if rtype == _AAAA and length == 16:
        return socket.inet_ntop(socket.AF_INET6, data[start:end])
    if rtype in (_CNAME, _NS, _PTR):
        return _read_name(data, start)[0] + "."
    if rtype == _MX and length >= 3:
        return f"{(data[start] << 8) | data[start + 1]} {_read_name(data, start + 2)[0]}."
    if rtype == _TXT:
        chunks = []
        pos = start
        while pos < end:
            size = data[pos]
            if pos + 1 + size > end:
                raise DnsResponseError("TXT string runs past its record")
            chunks.append(data[pos + 1 : pos + 1 + size])
            pos += 1 + size
        # Join bytes before decoding: a UTF-8 sequence may straddle two strings.
        return b"".join(chunks).decode("utf-8", errors="replace")
    if rtype == _SRV and length >= 7:
        priority, weight, port = struct.unpack_from("!HHH", data, start)
        return f"{priority} {weight} {port} {_read_name(data, start + 6)[0]}."
    try:
        rdata = dns.rdata.from_wire(
            dns.rdataclass.IN, dns.rdatatype.RdataType.make(rtype), data, start, length
        )
    except Exception as exc:
        raise DnsResponseError(f"bad type {rtype} rdata: {exc}") from None
    return rdata.to_text()


@dataclass(slots=True)
class Reply:
    """The parts of an answer the resolver logic needs."""

    qid: int
    rcode: int
    truncated: bool
    records: list[tuple[str, int, str]] = field(default_factory=list)
    """(owner, type, rdata text) from the answer section, for CNAMEs and the queried type."""
    soa_owners: list[str] = field(default_factory=list)
    """Owners of SOA records in the authority section (a definitive negative answer)."""

    def cname_target(self, owner: str) -> str | None:
        for rec_owner, rtype, text in self.records:
            if rtype == _CNAME and rec_owner == owner:
                return text[:-1]
        return None

    def has_soa_for(self, name: str) -> bool:
        return any(name == soa or name.endswith("." + soa) or not soa for soa in self.soa_owners)


def parse_reply(data: bytes, qtype: int) -> Reply:
    """Decode a response, keeping CNAMEs and ``qtype`` records of the answer section."""
    try:
        return _parse_reply(data, qtype)
    except (IndexError, struct.error):
        raise DnsResponseError("message ends in the middle of a field") from None


def _parse_reply(data: bytes, qtype: int) -> Reply:
    if len(data) < 12:
        raise DnsResponseError("message shorter than a DNS header")
    qid, flags, qdcount, ancount, nscount, _arcount = _HEADER.unpack_from(data)
    if not flags & 0x8000:
        raise DnsResponseError("message is a query, not a response")
    reply = Reply(qid=qid, rcode=flags & 0x000F, truncated=bool(flags & 0x0200))
    offset = 12
    size = len(data)
    unpack_rr = _RR_HEADER.unpack_from
    for _ in range(qdcount):
        offset = _skip_name(data, offset) + 4
    records = reply.records
    for index in range(ancount + nscount):
        owner_at = offset
        offset = _skip_name(data, offset)
        rtype, _rclass, _ttl, rdlength = unpack_rr(data, offset)
        offset += 10
        if offset + rdlength > size:
            raise DnsResponseError("record data runs past the end of the message")
        # Only names that matter are decoded; the rest is skipped.
        if index < ancount:
            if rtype in (qtype, _CNAME):
                owner = _read_name(data, owner_at)[0]
                records.append((owner, rtype, _rdata_text(data, rtype, offset, rdlength)))
        elif rtype == _SOA:
            reply.soa_owners.append(_read_name(data, owner_at)[0])
        offset += rdlength
    if offset > size:
        raise DnsResponseError("message ends in the middle of a record")
    return reply


# --------------------------------------------------------------------------------------------
# Transport


class _Channel:
    """A UDP socket connected to one nameserver.

    Connecting lets the kernel drop datagrams from any other address and saves the address
    handling of ``sendto`` on every query. Answers are matched to queries by id and question.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, server: tuple[str, int], rcvbuf: int) -> None:
        host, port = server
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.loop = loop
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            self.rcvbuf = _raise_rcvbuf(self.sock, rcvbuf)
            self.sock.connect((host, port))
        except OSError:
            self.sock.close()
            raise
        self.send = self.sock.send
        # qid -> [callback, question in lower case]; the callback is cleared once it has run.
        self.pending: dict[int, list[Any]] = {}
        loop.add_reader(self.sock.fileno(), self._drain)

    def new_id(self) -> int:
        pending = self.pending
        while True:
            qid = secrets.randbits(16)
            if qid not in pending:
                return qid

    def _drain(self) -> None:
        recv = self.sock.recv
        pending = self.pending
        for _ in range(_DRAIN_BATCH):
            try:
                data = recv(_MAX_UDP)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # ICMP port unreachable and the like: the affected query times out.
                continue
            if len(data) < 12:
                continue
            qid = (data[0] << 8) | data[1]
            entry = pending.get(qid)
            if entry is None:
                continue
            question = entry[1]
            # A stray or forged datagram with a guessed id must not complete the query.
            if data[4:6] != b"\x00\x00" and data[12 : 12 + len(question)].lower() != question:
                continue
            del pending[qid]
            callback = entry[0]
            entry[0] = None
            callback(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        entries = list(self.pending.values())
        self.pending.clear()
        for entry in entries:
            callback = entry[0]
            if callback is not None:
                entry[0] = None
                callback(None)


def _raise_rcvbuf(sock: socket.socket, size: int) -> int:
    # SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; fall back quietly.
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    if force is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, force, size)
            return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


class _Gate:
    """Counting semaphore with a lock-free fast path (asyncio.Semaphore costs more per query)."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just before the cancel: pass it on
            raise

    def release(self) -> None:
        waiters = self.waiters
        while waiters:
            future = waiters.popleft()
            if not future.done():
                future.set_result(None)  # hand the slot over directly
                return
        self.free += 1


class _Timeouts:
    """Expires UDP waits from one periodic tick instead of a timer per query.

    All waits have the same timeout, so deadlines arrive in send order and a deque suffices.
    A wait may last up to one tick longer than the timeout. A finished wait has already left
    its channel's pending map (and cleared its callback), so its deque slot is only skipped.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        self.timeout = timeout
        self.tick = max(0.005, min(0.1, timeout / 10))
        self.queue: deque[tuple[float, _Channel, int, list[Any]]] = deque()
        self.handle: asyncio.TimerHandle | None = None

    def add(self, channel: _Channel, qid: int, entry: list[Any]) -> None:
        self.queue.append((self.loop.time() + self.timeout, channel, qid, entry))
        if self.handle is None:
            self.handle = self.loop.call_later(self.tick, self._sweep)

    def _sweep(self) -> None:
        now = self.loop.time()
        queue = self.queue
        while queue and queue[0][0] <= now:
            _deadline, channel, qid, entry = queue.popleft()
            callback = entry[0]
            if callback is not None:
                if channel.pending.get(qid) is entry:
                    del channel.pending[qid]
                entry[0] = None
                callback(None)
        self.handle = self.loop.call_later(self.tick, self._sweep) if queue else None

    def close(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self.queue.clear()


# --------------------------------------------------------------------------------------------
# Resolver


Question = tuple[str, str, LookupPurpose] | tuple[str, str, LookupPurpose, str | None]
"""``(name, rdtype, purpose[, selector])`` for :meth:`DnsClient.query_many`."""


@dataclass(slots=True)
class _Exchange:
    """Outcome of asking one nameserver once (plus the TCP retry when truncated)."""

    status: LookupStatus
    reply: Reply | None
    sends: int
    error: str | None = None


@dataclass(slots=True)
class _Answer:
    """Outcome of asking about one name, retries included."""

    status: LookupStatus
    reply: Reply | None
    attempts: int
    error: str | None = None


@dataclass(slots=True)
class _Outcome:
    status: LookupStatus
    answers: list[str]
    cnames: list[str]
    attempts: int
    error: str | None = None


def _normalise_name(name: str) -> str:
    name = name.strip().lower()
    return name[:-1] if name.endswith(".") else name


def _rdtype_code(rdtype: str) -> int:
    code = RDTYPES.get(rdtype)
    if code is None:
        code = int(dns.rdatatype.from_text(rdtype))
    return code


class DnsClient:
    """Async DNS client; use as ``async with DnsClient(config) as client``."""

    def __init__(self, config: DnsConfig | None = None, *, limiter: RateLimiter | None = None) -> None:
        self.config = config or DnsConfig()
        servers = self.config.nameservers or system_nameservers()
        self.nameservers: list[tuple[str, int]] = list(servers)
        self._limiter = limiter
        self._owns_limiter = limiter is None
        self._channels: dict[tuple[str, int], list[_Channel]] = {}
        self._next_channel = 0
        self._gate = _Gate(self.config.concurrency)
        self._timeouts: _Timeouts | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.queries_sent = 0
        """Wire queries sent (UDP and TCP) since the client opened; for benchmarks."""

    async def __aenter__(self) -> DnsClient:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeouts = _Timeouts(self._loop, self.config.timeout)
        if self._limiter is None and self.config.qps is not None:
            self._limiter = make_rate_limiter(
                self.config.qps,
                redis_url=self.config.redis_url,
                key=self.config.rate_limit_key,
                burst=self.config.rate_limit_burst,
            )

    async def close(self) -> None:
        for group in self._channels.values():
            for channel in group:
                channel.close()
        self._channels.clear()
        if self._timeouts is not None:
            self._timeouts.close()
        if self._limiter is not None and self._owns_limiter:
            await self._limiter.aclose()
            self._limiter = None

    @property
    def udp_rcvbuf(self) -> int | None:
        """Effective receive buffer of the first socket (the kernel reports twice the request)."""
        for group in self._channels.values():
            return group[0].rcvbuf
        return None

    # -- public API -----------------------------------------------------------------------

    async def query(
        self,
        name: str,
        rdtype: str,
        purpose: LookupPurpose,
        selector: str | None = None,
        *,
        first: _Exchange | None = None,
        prior_sends: int = 0,
    ) -> Lookup:
        started = time.perf_counter()
        qname = _normalise_name(name)
        rdtype = rdtype.upper()
        try:
            outcome = await self._resolve(qname, _rdtype_code(rdtype), first, prior_sends)
        except ValueError as exc:  # an unencodable name or unknown type is the caller's error
            outcome = _Outcome(LookupStatus.ERROR, [], [], 0, str(exc))
        except Exception as exc:  # never lose a lookup to a bug; record what happened
            outcome = _Outcome(LookupStatus.ERROR, [], [], 0, f"internal error: {exc!r}")
        return Lookup(
            name=qname,
            rdtype=rdtype,
            purpose=purpose,
            status=outcome.status,
            answers=outcome.answers,
            cnames=outcome.cnames,
            selector=selector,
            error=outcome.error,
            attempts=max(outcome.attempts, 1),
            elapsed_ms=round((time.perf_counter() - started) * 1000.0, 3),
        )

    async def query_many(self, questions: Sequence[Question]) -> list[Lookup]:
        """Ask several questions at once; the same Lookups as gathering :meth:`query`.

        The first attempt of every question goes out at once and is completed from the socket
        callback, without a task per question; only questions whose first answer needs more
        work (retry, next nameserver, TCP, a CNAME to follow) continue as coroutines.
        """
        if self._limiter is not None or len(questions) < 2:
            return list(await asyncio.gather(*(self.query(*q) for q in questions)))
        assert self._loop is not None, "DnsClient used before open()"
        loop = self._loop
        server = self.nameservers[0]
        try:
            channel = self._channel(server)
        except OSError:
            return list(await asyncio.gather(*(self.query(*q) for q in questions)))
        started = time.perf_counter()
        count = len(questions)
        results: list[Lookup | None] = [None] * count
        # index -> (first exchange or None to start afresh, queries already sent)
        later: dict[int, tuple[_Exchange | None, int]] = {}
        waiting = 0
        sending = True
        done: asyncio.Future[None] = loop.create_future()
        gate = self._gate
        timeouts = self._timeouts
        assert timeouts is not None
        pending = channel.pending
        names: list[tuple[str, str, int]] = []

        def complete(index: int, data: bytes | None) -> None:
            nonlocal waiting
            gate.release()
            waiting -= 1
            qname, rdtype, code = names[index]
            if data is None:
                later[index] = (_Exchange(LookupStatus.TIMEOUT, None, 1, f"no answer from {_fmt(server)}"), 0)
            elif data[2] & 0x02:
                later[index] = (None, 1)  # truncated: the slow path asks again and goes to TCP
            else:
                try:
                    reply = parse_reply(data, code)
                except DnsResponseError as exc:
                    reply = None
                    error = f"malformed answer from {_fmt(server)}: {exc}"
                    later[index] = (_Exchange(LookupStatus.ERROR, None, 1, error), 0)
                if reply is not None:
                    step = None
                    if reply.rcode in (_NOERROR, _NXDOMAIN):
                        step = self._follow(qname, code, [], {qname}, qname, reply)
                    if isinstance(step, _Outcome):
                        question = questions[index]
                        results[index] = Lookup(
                            name=qname,
                            rdtype=rdtype,
                            purpose=question[2],
                            status=step.status,
                            answers=step.answers,
                            cnames=step.cnames,
                            selector=question[3] if len(question) > 3 else None,
                            error=step.error,
                            attempts=1,
                            elapsed_ms=round((time.perf_counter() - started) * 1000.0, 3),
                        )
                    else:
                        later[index] = (_Exchange(LookupStatus.OK, reply, 1), 0)
            if waiting == 0 and not sending and not done.done():
                done.set_result(None)

        for index, question in enumerate(questions):
            qname = _normalise_name(question[0])
            rdtype = question[1].upper()
            names.append((qname, rdtype, 0))
            try:
                code = _rdtype_code(rdtype)
                names[index] = (qname, rdtype, code)
                qid = channel.new_id()
                wire, qsection = encode_query(qid, qname, code)
            except Exception:
                later[index] = (None, 0)  # the slow path reports the error in full
                continue
            if gate.free > 0 and not gate.waiters:
                gate.free -= 1
            else:
                await gate.wait()
                if qid in pending:  # taken while we waited for the gate
                    qid = channel.new_id()
                    wire, qsection = encode_query(qid, qname, code)
            entry: list[Any] = [functools.partial(complete, index), qsection.lower()]
            pending[qid] = entry
            try:
                channel.send(wire)
            except OSError as exc:
                del pending[qid]
                gate.release()
                error = f"cannot send to {_fmt(server)}: {_oserror(exc)}"
                later[index] = (_Exchange(LookupStatus.ERROR, None, 1, error), 0)
                continue
            self.queries_sent += 1
            waiting += 1
            timeouts.add(channel, qid, entry)
        sending = False
        if waiting:
            await done
        if later:
            slow = list(later.items())
            outcomes = await asyncio.gather(
                *(self.query(*questions[i], first=first, prior_sends=sent) for i, (first, sent) in slow)
            )
            for (index, _first), lookup in zip(slow, outcomes, strict=True):
                results[index] = lookup
        return [r for r in results if r is not None]

    # -- resolution -------------------------------------------------------------------------

    def _follow(
        self, qname: str, qtype: int, chain: list[str], seen: set[str], current: str, reply: Reply
    ) -> _Outcome | str:
        """Read an answer for ``current``: the outcome, or the next name to ask (a CNAME the
        server did not chase). ``chain`` and ``seen`` carry the CNAMEs followed so far."""
        max_depth = self.config.max_cname_depth
        owner = current
        records = reply.records
        if qtype != _CNAME and any(rtype == _CNAME for _owner, rtype, _text in records):
            while (target := reply.cname_target(owner)) is not None:
                if target in seen:
                    path = " -> ".join([qname, *chain, target])
                    return _Outcome(LookupStatus.ERROR, [], chain, 0, f"CNAME loop: {path}")
                chain.append(target)
                seen.add(target)
                if len(chain) > max_depth:
                    error = f"CNAME chain from {qname} longer than {max_depth} links"
                    return _Outcome(LookupStatus.ERROR, [], chain, 0, error)
                owner = target
        answers = [text for rec_owner, rtype, text in records if rtype == qtype and rec_owner == owner]
        if answers:
            return _Outcome(LookupStatus.OK, answers, chain, 0)
        if reply.rcode == _NXDOMAIN:
            return _Outcome(LookupStatus.NXDOMAIN, [], chain, 0)
        if owner != current and not reply.has_soa_for(owner):
            return owner  # the server gave only the CNAME (it does not serve the target)
        return _Outcome(LookupStatus.NODATA, [], chain, 0)

    async def _resolve(
        self, qname: str, qtype: int, first: _Exchange | None = None, prior_sends: int = 0
    ) -> _Outcome:
        chain: list[str] = []
        seen = {qname}
        current = qname
        attempts = prior_sends
        while True:
            answer = await self._ask(current, qtype, first)
            first = None
            attempts += answer.attempts
            if answer.reply is None:
                return _Outcome(answer.status, [], chain, attempts, answer.error)
            step = self._follow(qname, qtype, chain, seen, current, answer.reply)
            if isinstance(step, str):
                current = step
                continue
            step.attempts = attempts
            return step

    async def _ask(self, name: str, qtype: int, first: _Exchange | None = None) -> _Answer:
        """Ask until an answer: retries with backoff, next nameserver after REFUSED.
        ``first`` is the outcome of a first attempt already made (by :meth:`query_many`)."""
        config = self.config
        servers = self.nameservers
        count = len(servers)
        refused: set[int] = set()
        edns = True
        index = 0
        sends = 0
        tries = 0
        status = LookupStatus.TIMEOUT
        error: str | None = None
        while tries < config.attempts:
            tries += 1
            server = index % count
            if first is not None:
                exchange, first = first, None
            else:
                exchange = await self._exchange(servers[server], name, qtype, edns)
            sends += exchange.sends
            status, error = exchange.status, exchange.error
            reply = exchange.reply
            if reply is not None:
                rcode = reply.rcode
                if rcode in (_NOERROR, _NXDOMAIN):
                    return _Answer(LookupStatus.OK, reply, sends)
                if rcode == _REFUSED:
                    refused.add(server)
                    status, error = LookupStatus.REFUSED, None
                    if len(refused) >= count:
                        break
                    index += 1
                    continue
                if rcode == _FORMERR and edns:
                    # Old servers reject EDNS with FORMERR: ask again the plain way.
                    edns = False
                    continue
                if rcode == _SERVFAIL:
                    status, error = LookupStatus.SERVFAIL, None
                else:
                    code_name = _RCODE_NAMES.get(rcode, str(rcode))
                    return _Answer(LookupStatus.ERROR, None, sends, f"server answered {code_name}")
            if tries < config.attempts:
                delay = config.backoff * (2 ** (tries - 1)) * random.uniform(0.5, 1.5)
                if delay > 0:
                    await asyncio.sleep(delay)
                index += 1
        return _Answer(status, None, sends, error)

    def _channel(self, server: tuple[str, int]) -> _Channel:
        group = self._channels.get(server)
        if group is None:
            assert self._loop is not None, "DnsClient used before open()"
            group = [
                _Channel(self._loop, server, self.config.udp_rcvbuf)
                for _ in range(max(1, self.config.udp_sockets))
            ]
            self._channels[server] = group
        if len(group) == 1:
            return group[0]
        self._next_channel += 1
        return group[self._next_channel % len(group)]

    async def _exchange(self, server: tuple[str, int], name: str, qtype: int, edns: bool) -> _Exchange:
        try:
            channel = self._channel(server)
        except OSError as exc:
            error = f"cannot open a socket to {_fmt(server)}: {_oserror(exc)}"
            return _Exchange(LookupStatus.ERROR, None, 0, error)
        qid = channel.new_id()
        wire, question = encode_query(qid, name, qtype, edns=edns)
        if self._limiter is not None:
            await self._limiter.acquire()
        gate = self._gate
        if gate.free > 0 and not gate.waiters:
            gate.free -= 1
        else:
            await gate.wait()
        assert self._loop is not None, "DnsClient used before open()"
        assert self._timeouts is not None
        pending = channel.pending
        try:
            future: asyncio.Future[bytes | None] = self._loop.create_future()
            if qid in pending:  # taken while we waited for the gate
                qid = channel.new_id()
                wire, question = encode_query(qid, name, qtype, edns=edns)
            entry: list[Any] = [functools.partial(_resolve_future, future), question.lower()]
            pending[qid] = entry
            try:
                try:
                    channel.send(wire)
                except OSError as exc:
                    error = f"cannot send to {_fmt(server)}: {_oserror(exc)}"
                    return _Exchange(LookupStatus.ERROR, None, 1, error)
                self.queries_sent += 1
                self._timeouts.add(channel, qid, entry)
                data = await future
            finally:
                entry[0] = None
                if pending.get(qid) is entry:
                    del pending[qid]
        finally:
            gate.release()
        sends = 1
        if data is None:
            return _Exchange(LookupStatus.TIMEOUT, None, sends, f"no answer from {_fmt(server)}")
        if data[2] & 0x02:  # TC bit, checked before parsing: a truncated body may be partial
            sends += 1
            tcp = await self._tcp(server, qid, wire)
            if isinstance(tcp, str):
                return _Exchange(LookupStatus.ERROR, None, sends, tcp)
            if tcp is None:
                return _Exchange(LookupStatus.TIMEOUT, None, sends, f"no TCP answer from {_fmt(server)}")
            data = tcp
        try:
            reply = parse_reply(data, qtype)
        except DnsResponseError as exc:
            return _Exchange(LookupStatus.ERROR, None, sends, f"malformed answer from {_fmt(server)}: {exc}")
        return _Exchange(LookupStatus.OK, reply, sends)

    async def _tcp(self, server: tuple[str, int], qid: int, wire: bytes) -> bytes | str | None:
        """The answer over TCP, None on timeout, or an error message."""
        if self._limiter is not None:
            await self._limiter.acquire()
        gate = self._gate
        if gate.free > 0 and not gate.waiters:
            gate.free -= 1
        else:
            await gate.wait()
        host, port = server
        writer: asyncio.StreamWriter | None = None
        try:
            self.queries_sent += 1
            async with asyncio.timeout(self.config.timeout):
                reader, writer = await asyncio.open_connection(host, port)
                writer.write(len(wire).to_bytes(2, "big") + wire)
                await writer.drain()
                size = int.from_bytes(await reader.readexactly(2), "big")
                data = await reader.readexactly(size)
        except TimeoutError:
            return None
        except (OSError, asyncio.IncompleteReadError) as exc:
            return f"TCP to {_fmt(server)} failed: {_oserror(exc)}"
        finally:
            gate.release()
            if writer is not None:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        if len(data) < 12 or (data[0] << 8 | data[1]) != qid:
            return f"TCP answer from {_fmt(server)} does not match the query"
        return data


def _resolve_future(future: asyncio.Future[bytes | None], data: bytes | None) -> None:
    if not future.done():
        future.set_result(data)


def _fmt(server: tuple[str, int]) -> str:
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _oserror(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{errno.errorcode.get(exc.errno, exc.errno)} ({exc.strerror})"
    return str(exc) or type(exc).__name__


def format_nameservers(servers: Iterable[tuple[str, int]]) -> str:
    """Inverse of :func:`parse_nameservers`, for logs and settings display."""
    return ", ".join(_fmt(s) for s in servers)
