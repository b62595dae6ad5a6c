"""IP enrichment from offline databases: GeoLite2 City / Country / ASN, IP2Location, IP2Proxy.

One :class:`IpIntel` per process opens whichever databases the :class:`EnrichmentConfig`
names. Every database is optional: a missing, corrupt, truncated or wrong-type file is logged
once, shown by :meth:`IpIntel.status` and otherwise ignored; the other sources keep working and
a lookup never raises because of a database (errors are reported in ``IpFacts.errors``).

Readers
    * MMDB files are read with ``maxminddb`` in ``MODE_MMAP_EXT`` (the C extension; pure Python
      ``MODE_MMAP`` only if the extension is missing, which ``status()`` reports). The records
      are the dictionaries geoip2's models are built from; we read the few keys we need
      directly, because building a ``geoip2.models.City`` costs ~12 µs, more than the whole
      lookup budget. The database type is checked the way geoip2 checks it (``City`` /
      ``Country`` / ``ASN`` must appear in ``database_type``), so an ASN file configured as
      City is refused. Decoding a whole GeoLite2 City record (every language) costs 6–8 µs,
      so on its 1,000th lookup, or when :meth:`IpIntel.build_indexes` asks, a reader flattens
      the file's search tree into sorted intervals (once, ~0.3 µs a tree node: ~3 s and
      ~30 MB for a tree of 9 M nodes, the size of a GeoLite2 City file). A lookup is then a
      ``bisect`` that yields the record's data pointer, and each record's few facts are decoded
      once (up to 500,000 records are kept). Until then, or without an index (a file replaced
      while it was being opened, a damaged tree), every lookup decodes through maxminddb.
    * BIN files (IP2Location DB1–DB26, IP2Proxy PX1–PX12) are memory-mapped; at load the
      ``ip_from`` column of each table is copied into a sorted array, with the first row of
      each IPv4 /16, so a lookup is a ``bisect`` among a few rows plus one row read. Only the
      columns that the file's database type has are read (the type byte in the header
      decides), so a DB11 file yields no ISP or usage type — never the official library's
      "This parameter is unavailable…" sentences, which also never get past :func:`_clean`.
      IPv4-mapped (``::ffff:0:0/96``), 6to4 (``2002::/16``) and Teredo (``2001::/32``)
      addresses are looked up as the IPv4 address they carry, as the official libraries (and
      MaxMind's aliased trees) do.

Precedence (first source with a value wins; ``IpFacts.sources[field]`` lists the supplier
first, then every other consulted source that gave the same value)
    ============  ===============================================================
    country       geoip_city → ip2location → geoip_country → ip2proxy
    region, city  geoip_city → ip2location → ip2proxy, but only from a source whose
                  own country agrees with the chosen country (no "Istanbul, DE")
    asn, asn_org  geoip_asn → ip2location (DB26) → ip2proxy (PX7+); the pair comes
                  from one source (org from another source only if its ASN matches)
    isp           ip2location → ip2proxy
    usage_type    ip2location → ip2proxy
    is_proxy,     ip2proxy only. is_proxy: 0 not listed, 1 proxy, 2 data centre /
    proxy_type,   search engine / AI crawler (DCH, SES, AIC), -1 the lookup failed,
    provider      None no IP2Proxy database (or the address family is not in it)
    ============  ===============================================================
    geoip_country is consulted only when neither geoip_city nor ip2location knew the country.

Cache
    An in-process LRU keyed by the address text with a TTL (``cache_size`` entries,
    ``cache_ttl`` seconds; ``cache_size=0`` disables it). The returned :class:`IpFacts` is
    shared with the cache: treat it as read-only.

Reload
    :meth:`IpIntel.reload_if_changed` stats the configured files (inode, size, mtime); a
    replaced file is opened and swapped in, and the cache is cleared. A replacement that fails
    to open (half-copied, wrong type) is refused and the previous copy keeps serving. Lookups
    also call it every ``check_interval`` seconds (default 60) on a cache miss. Old readers are
    not closed on a swap (a lookup in another thread may still use them); they are released
    when the last reference goes. Update files by writing a new file and renaming it over the
    old one (as geoipupdate does): both mmap readers, libmaxminddb's and ours, can crash the
    process with SIGBUS if a mapped file is truncated in place.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import itertools
import mmap
import operator
import os
import socket
import struct
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Literal

from hunter.logs import get_logger

__all__ = [
    "IP2LOCATION_FIELDS",
    "IP2PROXY_FIELDS",
    "PROXY_TYPES_DATA_CENTRE",
    "SOURCES",
    "CacheStats",
    "DatabaseError",
    "EnrichmentConfig",
    "IpFacts",
    "IpIntel",
    "SourceStatus",
    "maxminddb_c_extension",
]

log = get_logger(__name__)

Source = Literal["geoip_city", "geoip_country", "geoip_asn", "ip2location", "ip2proxy"]
SOURCES: Final[tuple[Source, ...]] = ("geoip_city", "geoip_country", "geoip_asn", "ip2location", "ip2proxy")
_MMDB_KIND: Final = {"geoip_city": "City", "geoip_country": "Country", "geoip_asn": "ASN"}
_FACT_FIELDS: Final = (
    "country",
    "region",
    "city",
    "asn",
    "asn_org",
    "isp",
    "usage_type",
    "is_proxy",
    "proxy_type",
    "provider",
)
# Each reader's facts are a tuple in _FACT_FIELDS order.
_NOTHING: Final[tuple[Any, ...]] = (None,) * len(_FACT_FIELDS)
_NOT_LISTED: Final[tuple[Any, ...]] = tuple(0 if f == "is_proxy" else None for f in _FACT_FIELDS)


@dataclass(frozen=True)
class EnrichmentConfig:
    enabled: bool = False
    geoip_city: Path | None = None
    geoip_country: Path | None = None
    geoip_asn: Path | None = None
    ip2location: Path | None = None
    ip2proxy: Path | None = None
    cache_size: int = 100_000
    cache_ttl: float = 7 * 86400

    def path_for(self, source: str) -> Path | None:
        if source not in SOURCES:
            raise ValueError(f"unknown IP database source {source!r}")
        value = getattr(self, source)
        return Path(value) if value is not None else None


@dataclass(frozen=True)
class IpFacts:
    """What the databases say about one address (None: no database knows)."""

    ip: str
    country: str | None
    city: str | None
    region: str | None
    asn: int | None
    asn_org: str | None
    isp: str | None
    usage_type: str | None
    is_proxy: int | None
    proxy_type: str | None
    provider: str | None
    sources: dict[str, list[str]]
    errors: dict[str, str]
    fetched_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "ip": self.ip,
            **{name: getattr(self, name) for name in _FACT_FIELDS},
            "sources": {k: list(v) for k, v in self.sources.items()},
            "errors": dict(self.errors),
            "fetched_at": self.fetched_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IpFacts:
        fetched = data.get("fetched_at")
        if isinstance(fetched, str):
            fetched = datetime.fromisoformat(fetched)
        return cls(
            ip=str(data["ip"]),
            **{name: data.get(name) for name in _FACT_FIELDS},
            sources={k: list(v) for k, v in (data.get("sources") or {}).items()},
            errors=dict(data.get("errors") or {}),
            fetched_at=fetched if isinstance(fetched, datetime) else datetime.now(UTC),
        )

    @property
    def known(self) -> bool:
        return any(getattr(self, name) is not None for name in _FACT_FIELDS)


@dataclass(frozen=True)
class SourceStatus:
    """One database as the status page shows it."""

    source: str
    path: str | None
    state: Literal["disabled", "not_configured", "loaded", "error"]
    database_type: str | None = None
    build_date: date | None = None
    records: int | None = None  # BIN rows (IPv4 + IPv6)
    nodes: int | None = None  # MMDB search-tree nodes
    ip_versions: tuple[int, ...] = ()
    reader: str | None = None
    loaded_at: datetime | None = None
    error: str | None = None  # set with state "error", or a refused replacement while "loaded"

    @property
    def loaded(self) -> bool:
        return self.state == "loaded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": self.path,
            "state": self.state,
            "loaded": self.loaded,
            "database_type": self.database_type,
            "build_date": self.build_date.isoformat() if self.build_date else None,
            "records": self.records,
            "nodes": self.nodes,
            "ip_versions": list(self.ip_versions),
            "reader": self.reader,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "error": self.error,
        }


@dataclass(frozen=True)
class CacheStats:
    """Plain counters since start (for Prometheus counters / gauges)."""

    hits: int
    misses: int
    expired: int
    evictions: int
    size: int
    capacity: int
    reloads: int
    source_lookups: dict[str, int]
    source_errors: dict[str, int]

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "expired": self.expired,
            "evictions": self.evictions,
            "size": self.size,
            "capacity": self.capacity,
            "reloads": self.reloads,
            "hit_rate": self.hit_rate,
            "source_lookups": dict(self.source_lookups),
            "source_errors": dict(self.source_errors),
        }


class DatabaseError(Exception):
    """A database file that cannot be used; the message is shown to operators as is."""


# --------------------------------------------------------------------------------------------
# BIN format

# Column order of every database type (column 1 is ip_from, so field i sits in column i + 2).
# This is the published layout of the BIN products (the writers in hunter.sandbox.ipdb use the
# same tables).
_L_BASE: Final = ("country", "region", "city")
_L_GEO: Final = (*_L_BASE, "latitude", "longitude")
IP2LOCATION_FIELDS: Final[dict[int, tuple[str, ...]]] = {
    1: ("country",),
    2: ("country", "isp"),
    3: _L_BASE,
    4: (*_L_BASE, "isp"),
    5: _L_GEO,
    6: (*_L_GEO, "isp"),
    7: (*_L_BASE, "isp", "domain"),
    8: (*_L_GEO, "isp", "domain"),
    9: (*_L_GEO, "zipcode"),
    10: (*_L_GEO, "zipcode", "isp", "domain"),
    11: (*_L_GEO, "zipcode", "timezone"),
    12: (*_L_GEO, "zipcode", "timezone", "isp", "domain"),
    13: (*_L_GEO, "timezone", "netspeed"),
    14: (*_L_GEO, "zipcode", "timezone", "isp", "domain", "netspeed"),
    15: (*_L_GEO, "zipcode", "timezone", "idd_code", "area_code"),
    16: (*_L_GEO, "zipcode", "timezone", "isp", "domain", "netspeed", "idd_code", "area_code"),
    17: (*_L_GEO, "timezone", "netspeed", "weather_code", "weather_name"),
    18: (
        *_L_GEO,
        "zipcode",
        "timezone",
        "isp",
        "domain",
        "netspeed",
        "idd_code",
        "area_code",
        "weather_code",
        "weather_name",
    ),
    19: (*_L_GEO, "isp", "domain", "mcc", "mnc", "mobile_brand"),
    20: (
        *_L_GEO,
        "zipcode",
        "timezone",
        "isp",
        "domain",
        "netspeed",
        "idd_code",
        "area_code",
        "weather_code",
        "weather_name",
        "mcc",
        "mnc",
        "mobile_brand",
    ),
    21: (*_L_GEO, "zipcode", "timezone", "idd_code", "area_code", "elevation"),
    22: (
        *_L_GEO,
        "zipcode",
        "timezone",
        "isp",
        "domain",
        "netspeed",
        "idd_code",
        "area_code",
        "weather_code",
        "weather_name",
        "mcc",
        "mnc",
        "mobile_brand",
        "elevation",
    ),
    23: (*_L_GEO, "isp", "domain", "mcc", "mnc", "mobile_brand", "usage_type"),
    24: (
        *_L_GEO,
        "zipcode",
        "timezone",
        "isp",
        "domain",
        "netspeed",
        "idd_code",
        "area_code",
        "weather_code",
        "weather_name",
        "mcc",
        "mnc",
        "mobile_brand",
        "elevation",
        "usage_type",
    ),
    25: (
        *_L_GEO,
        "zipcode",
        "timezone",
        "isp",
        "domain",
        "netspeed",
        "idd_code",
        "area_code",
        "weather_code",
        "weather_name",
        "mcc",
        "mnc",
        "mobile_brand",
        "elevation",
        "usage_type",
        "address_type",
        "category",
    ),
    26: (
        *_L_GEO,
        "zipcode",
        "timezone",
        "isp",
        "domain",
        "netspeed",
        "idd_code",
        "area_code",
        "weather_code",
        "weather_name",
        "mcc",
        "mnc",
        "mobile_brand",
        "elevation",
        "usage_type",
        "address_type",
        "category",
        "district",
        "asn",
        "as_name",
        "as_domain",
        "as_usage_type",
        "as_cidr",
    ),
}
_P_BASE: Final = (
    "proxy_type",
    "country",
    "region",
    "city",
    "isp",
    "domain",
    "usage_type",
    "asn",
    "as_name",
    "last_seen",
    "threat",
)
IP2PROXY_FIELDS: Final[dict[int, tuple[str, ...]]] = {
    1: ("country",),
    2: _P_BASE[:2],
    3: _P_BASE[:4],
    4: _P_BASE[:5],
    5: _P_BASE[:6],
    6: _P_BASE[:7],
    7: _P_BASE[:9],
    8: _P_BASE[:10],
    9: _P_BASE,
    10: _P_BASE,
    11: (*_P_BASE, "provider"),
    12: (*_P_BASE, "provider", "fraud_score"),
}
# Stored inline as little-endian float32 instead of a string pointer.
FLOAT_FIELDS: Final = frozenset({"latitude", "longitude"})
# IP2Proxy's "is_proxy" is 2 (not 1) for these proxy types.
PROXY_TYPES_DATA_CENTRE: Final = frozenset({"DCH", "SES", "AIC"})

PRODUCT_IP2LOCATION: Final = 1
PRODUCT_IP2PROXY: Final = 2
HEADER_SIZE: Final = 64


# --------------------------------------------------------------------------------------------
# Addresses


_V4_MAPPED_PREFIX: Final = 0xFFFF
_6TO4_PREFIX: Final = 0x2002
_TEREDO_PREFIX: Final = 0x20010000


def _parse(ip: str) -> tuple[str, int, int, str]:
    """(canonical text, version to look up, integer to look up, text to look up).

    Raises ValueError for anything that is not a plain IPv4 / IPv6 address.
    """
    text = ip.strip()
    try:
        if ":" in text:
            packed = socket.inet_pton(socket.AF_INET6, text)
            canonical = socket.inet_ntop(socket.AF_INET6, packed)
            num = int.from_bytes(packed, "big")
            embedded: int | None = None
            if num >> 32 == _V4_MAPPED_PREFIX:
                embedded = num & 0xFFFFFFFF
            elif num >> 112 == _6TO4_PREFIX:
                embedded = (num >> 80) & 0xFFFFFFFF
            elif num >> 96 == _TEREDO_PREFIX:
                embedded = ~num & 0xFFFFFFFF  # Teredo stores the client address inverted
            if embedded is not None:
                return canonical, 4, embedded, socket.inet_ntop(socket.AF_INET, embedded.to_bytes(4, "big"))
            return canonical, 6, num, canonical
        packed = socket.inet_pton(socket.AF_INET, text)
    except (OSError, ValueError):
        raise ValueError(f"not an IP address: {ip!r}") from None
    return text, 4, int.from_bytes(packed, "big"), text


# The official IP2Location / IP2Proxy libraries put these sentences in place of data; a value
# must never be one of them, whatever produced the file.
_LIBRARY_PLACEHOLDERS: Final = (
    "this parameter is unavailable",
    "not supported",
    "invalid ip address",
    "missing ip address",
    "ipv6 address missing",
    "please upgrade",
)


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value in ("", "-", "N/A"):
            return None
        lowered = value.lower()
        if any(p in lowered for p in _LIBRARY_PLACEHOLDERS):
            return None
    return value


def _as_int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        digits = value.strip().upper().removeprefix("AS")
        if digits.isdigit():
            return int(digits)
    return None


# --------------------------------------------------------------------------------------------
# MMDB


def maxminddb_c_extension() -> bool:
    """True when maxminddb's C extension (libmaxminddb) is importable."""
    try:
        import maxminddb.extension  # noqa: F401
    except ImportError:
        return False
    return True


def _english(names: Any) -> str | None:
    if not names:
        return None
    value = names.get("en")
    if value is None:
        value = next(iter(names.values()))
    return value or None  # type: ignore[no-any-return]


# The search tree (MaxMind DB format 2.0): node n holds two records, left (bit 0) and right
# (bit 1), each a big-endian 24-, 28- or 32-bit number. A record below node_count is the next
# node, node_count itself means "no data", a larger one points into the data section. A data
# pointer identifies one decoded record, and many networks share a record (every network of
# one city, or of one AS), so the facts are decoded once per record instead of once per lookup.
_RECORD_CACHE_MAX: Final = 500_000
# Lookups a reader answers by decoding before it builds its index: a CLI lookup of a few
# addresses never pays for the index, a scan pays once.
_INDEX_AFTER: Final = 1_000
_HIGH_NIBBLE: Final = bytes(b >> 4 for b in range(256))
_LOW_NIBBLE: Final = bytes(b & 0x0F for b in range(256))
_LOW_64: Final = (1 << 64) - 1


def _tree_records(raw: Any, size: int, record_size: int) -> memoryview | None:
    """The first ``size`` bytes of ``raw`` (the search tree) as native uint32 records: record
    2n + bit belongs to node n. A strided byte shuffle done in C, no per-node Python."""
    out = bytearray(size * 8 // record_size * 4)
    # Little-endian layout: byte k of each uint32 is its k-th least significant byte.
    if record_size == 24:
        for k in range(3):
            out[k::4] = raw[2 - k : size : 3]
    elif record_size == 32:
        for k in range(4):
            out[k::4] = raw[3 - k : size : 4]
    elif record_size == 28:  # 7 bytes a node; byte 3 holds each record's top nibble
        middle = raw[3:size:7]
        for k in range(3):
            out[k::8] = raw[2 - k : size : 7]
            out[4 + k :: 8] = raw[6 - k : size : 7]
        out[3::8] = middle.translate(_HIGH_NIBBLE)
        out[7::8] = middle.translate(_LOW_NIBBLE)
    else:
        return None
    if not _LITTLE_ENDIAN:
        native = bytearray(len(out))
        for k in range(4):
            native[k::4] = out[3 - k :: 4]
        out = native
    view = memoryview(out)
    return view.cast("I") if _U32 == "I" else view.cast("L")


class _Intervals:
    """The tree's leaves under one start node, in address order: interval i covers the
    addresses from its start to the next interval's start and leads to record i. Adjacent
    leaves with the same record are one interval.

    IPv4: ``keys[i]`` is ``start << 32 | record``, so that a lookup reads one array. IPv6:
    ``keys`` and ``low`` hold the start's high and low 64 bits, ``records`` the records.
    """

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.keys: array[int] = array("Q")
        self.low: array[int] = array("Q")
        self.records: array[int] = array(_U32)
        self.aliases: dict[int, int] = {}  # interval -> shift of the IPv4 address inside it

    def fill(self, nodes: memoryview, node_count: int, start: int, alias: int) -> bool:
        """Depth-first walk from node ``start`` (~0.2 µs a node). The IPv4 subtree (node
        ``alias``) is not walked again inside the IPv6 tree: its interval leads to the IPv4
        index instead. False for a damaged tree (deeper than the address, or more leaves than
        a tree of its size has)."""
        bits, keys, low, records = self.bits, self.keys, self.low, self.records
        budget = node_count + 1  # a tree of n nodes has n + 1 leaves
        last = -1
        stack = [(start, 0, 0)]  # (node, depth, prefix) of right subtrees still to walk
        pop, push = stack.pop, stack.append
        while stack:
            value, depth, prefix = pop()
            while value < node_count and value != alias:  # down the left edge to a leaf
                if depth == bits:
                    return False
                depth += 1
                prefix <<= 1
                i = value << 1
                push((nodes[i + 1], depth, prefix | 1))
                value = nodes[i]
            budget -= 1
            if budget < 0:
                return False
            if value != last or value == alias:
                first = prefix << (bits - depth)
                if bits == 32:
                    keys.append(first << 32 | value)
                else:
                    if value == alias:
                        if depth > bits - 32:
                            return False  # no room left for an IPv4 address below it
                        self.aliases[len(records)] = bits - depth - 32
                    keys.append(first >> 64)
                    low.append(first & _LOW_64)
                    records.append(value)
                last = value
        return True


def _v6_row(high: array[int], low: array[int], num: int) -> int:
    """Index of the last interval starting at or before the IPv6 address ``num`` (-1: none)."""
    hi, lo = num >> 64, num & _LOW_64
    i = bisect.bisect_right(high, hi) - 1
    if i >= 0 and high[i] == hi:  # several intervals start in this /64: compare the low half
        first = bisect.bisect_left(high, hi, 0, i + 1)
        j = bisect.bisect_right(low, lo, first, i + 1) - 1
        i = j if j >= first else first - 1
    return i


def _v4_blocks(keys: array[int], shift: int) -> array[int]:
    """First entry of each /16 (and the count at the end) in ``keys``, sorted IPv4 starts
    shifted left by ``shift``: an IPv4 search bisects only the few entries of one /16, which
    are also close together in memory."""
    if not keys:
        return array(_U32)
    return array(_U32, [bisect.bisect_left(keys, p << (16 + shift)) for p in range(0x10001)])


class _MmdbIndex:
    """A search tree flattened into sorted intervals, as the BIN files are laid out: a lookup
    is a bisect among the few intervals of one /16 instead of a walk of up to 128 nodes."""

    __slots__ = ("intervals", "node_count", "v4", "v4_block", "v6")

    def __init__(self, v4: _Intervals, v6: _Intervals | None, node_count: int) -> None:
        self.v4 = v4.keys
        self.v4_block = _v4_blocks(v4.keys, 32)
        self.v6 = v6
        self.node_count = node_count
        self.intervals = len(v4.keys) + (len(v6.records) if v6 is not None else 0)

    def find(self, version: int, num: int) -> int:
        """The record the address leads to (node_count: no data)."""
        if version == 6:
            v6 = self.v6
            if v6 is None:  # an IPv4-only tree
                return self.node_count
            i = _v6_row(v6.keys, v6.low, num)
            value: int = v6.records[i]
            if value >= self.node_count:
                return value
            num = (num >> v6.aliases[i]) & 0xFFFFFFFF  # inside the IPv4 subtree
        block = self.v4_block
        high = num >> 16
        found: int = self.v4[
            bisect.bisect_right(self.v4, num << 32 | 0xFFFFFFFF, block[high], block[high + 1]) - 1
        ]
        return found & 0xFFFFFFFF

    @classmethod
    def build(cls, path: Path, identity: tuple[int, int, int], meta: Any) -> _MmdbIndex | None:
        """Read the tree of the file ``identity`` describes and flatten it (~0.3 µs a tree node:
        ~3 s for 9 M nodes, a GeoLite2 City file's size; ~3 bytes a node stay in memory). None
        if the file is no longer that one, or the tree is not one we can read."""
        node_count, record_size = int(meta.node_count), int(meta.record_size)
        size = node_count * record_size // 4
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                if (st.st_ino, st.st_size, st.st_mtime_ns) != identity or st.st_size < size:
                    return None
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    nodes = _tree_records(mm, size, record_size)
        except (OSError, ValueError):
            return None
        if nodes is None:
            return None
        with nodes:
            start = 0
            if int(meta.ip_version) == 6:  # IPv4 lives at ::/96, as libmaxminddb finds it
                for _ in range(96):
                    if start >= node_count:
                        break
                    start = nodes[2 * start]
            v4 = _Intervals(32)
            if not v4.fill(nodes, node_count, start, -1):
                return None
            v6 = None
            if int(meta.ip_version) == 6:
                v6 = _Intervals(128)
                if not v6.fill(nodes, node_count, 0, start if start < node_count else -1):
                    return None
        return cls(v4, v6, node_count)


class _MmdbReader:
    def __init__(self, source: str, path: Path) -> None:
        import maxminddb

        self.kind = _MMDB_KIND[source]
        self.c_extension = maxminddb_c_extension()
        mode = maxminddb.MODE_MMAP_EXT if self.c_extension else maxminddb.MODE_MMAP
        before = _signature(path)
        try:
            self._db = maxminddb.open_database(str(path), mode)
        except FileNotFoundError:
            raise DatabaseError(f"file not found: {path}") from None
        except (maxminddb.InvalidDatabaseError, ValueError, OSError) as exc:
            raise DatabaseError(f"not a readable MaxMind DB file ({exc})") from None
        meta = self._db.metadata()
        self.database_type = str(meta.database_type)
        if self.kind not in self.database_type:
            self._db.close()
            raise DatabaseError(
                f"wrong database type: the file is {self.database_type!r}, {source} needs a "
                f"database type containing {self.kind!r}"
            )
        self.ip_version = int(meta.ip_version)
        self.nodes = int(meta.node_count)
        self.build_date = datetime.fromtimestamp(int(meta.build_epoch), UTC).date()
        self._probes = ("1.1.1.1", "198.18.0.1") + (("2001:db8::1",) if self.ip_version == 6 else ())
        try:  # a damaged search tree shows up on the first lookups, not at open
            for probe in self._probes:
                self._db.get(probe)
        except Exception as exc:
            self._db.close()
            raise DatabaseError(f"corrupt MaxMind DB file ({exc})") from None
        self._get = self._db.get
        self._path = path
        self._meta = meta
        # The index must describe the file maxminddb opened: unchanged across the open, it is.
        self._identity = before if before is not None and _signature(path) == before else None
        self._index: _MmdbIndex | None = None
        self._index_lock = threading.Lock()
        self._decoded = 0  # lookups answered without the index
        self._by_record: dict[int, tuple[Any, ...]] = {}
        self._interned: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    @property
    def indexed(self) -> bool:
        return self._index is not None

    def build_index(self) -> bool:
        """Build the lookup index now (done by itself on the reader's ``_INDEX_AFTER``-th lookup).
        One attempt: False if it cannot be built (the file changed since it was opened and is
        about to be reloaded, a damaged tree); lookups then go on decoding through maxminddb."""
        if self._index is not None:
            return True
        if self._identity is None or not self._index_lock.acquire(blocking=False):
            return False  # nothing to build from, or another thread is building it
        try:
            identity, self._identity = self._identity, None
            try:
                index = _MmdbIndex.build(self._path, identity, self._meta)
            except Exception as exc:  # a bug here must not fail lookups: they can do without
                log.warning("ip_database_index_failed", path=str(self._path), error=repr(exc))
                return False
            if index is None:
                return False
            if getattr(self._db, "closed", False):
                return False  # closed while the index was being built
            for probe in self._probes:  # the index and libmaxminddb must agree on the tree
                _, version, num, text = _parse(probe)
                if (index.find(version, num) == index.node_count) != (self._get(text) is None):
                    return False
            self._index = index
            return True
        finally:
            self._index_lock.release()

    @property
    def reader_name(self) -> str:
        return "maxminddb C extension (mmap)" if self.c_extension else "maxminddb pure Python (mmap) - slow"

    def record(self, version: int, text: str) -> dict[str, Any] | None:
        if version == 6 and self.ip_version == 4:
            return None
        rec = self._get(text)
        return rec if isinstance(rec, dict) else None

    def facts(self, version: int, num: int, text: str) -> tuple[Any, ...]:
        """The record's facts in :data:`_FACT_FIELDS` order. Decoding a GeoLite2 City record
        costs 6-8 µs; with the index, a lookup finds the record's data pointer (~0.5 µs) and
        each record is decoded once."""
        if version == 6 and self.ip_version == 4:
            return _NOTHING
        index = self._index
        if index is None:
            self._decoded += 1
            if self._decoded >= _INDEX_AFTER and self._identity is not None:
                self.build_index()
            return self._decode(text)
        if version == 4:  # index.find's IPv4 branch, inlined: the hot path
            block = index.v4_block
            high = num >> 16
            keys = index.v4
            found = keys[bisect.bisect_right(keys, num << 32 | 0xFFFFFFFF, block[high], block[high + 1]) - 1]
            found &= 0xFFFFFFFF
        else:
            found = index.find(version, num)
        if found == index.node_count:
            return _NOTHING
        facts = self._by_record.get(found)
        if facts is None:
            facts = self._decode(text)
            if len(self._by_record) < _RECORD_CACHE_MAX:
                # Many records differ only in what we do not read (postal code, location).
                facts = self._by_record[found] = self._interned.setdefault(facts, facts)
        return facts

    def _decode(self, text: str) -> tuple[Any, ...]:
        rec: Any = self._get(text)
        if not rec:
            return _NOTHING
        out: dict[str, Any] = {}
        try:
            if self.kind == "ASN":
                asn = rec.get("autonomous_system_number")
                if asn is not None:
                    out["asn"] = int(asn)
                org = rec.get("autonomous_system_organization")
                if org:
                    out["asn_org"] = org
                return tuple(map(out.get, _FACT_FIELDS))
            country = rec.get("country")
            if country:
                code = country.get("iso_code")
                if code:
                    out["country"] = code
            if self.kind == "City":
                city = rec.get("city")
                if city:
                    name = _english(city.get("names"))
                    if name:
                        out["city"] = name
                subdivisions = rec.get("subdivisions")
                if subdivisions:
                    region = _english(subdivisions[0].get("names"))
                    if region:
                        out["region"] = region
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            # Not the record layout GeoLite2 uses: keep what was read so far.
            pass
        return tuple(map(out.get, _FACT_FIELDS))

    def raw(self, version: int, num: int, text: str) -> dict[str, Any]:
        if version == 6 and self.ip_version == 4:
            return {"found": False, "note": "IPv4-only database"}
        rec, prefix_len = self._db.get_with_prefix_len(text)
        if rec is None:
            return {"found": False}
        network = None
        try:
            import ipaddress

            network = str(ipaddress.ip_network((text, prefix_len), strict=False))
        except ValueError:
            pass
        return {"found": True, "network": network, "record": rec}

    def close(self) -> None:
        self._identity = self._index = None  # lookups after close fail in maxminddb, as before
        self._db.close()


# --------------------------------------------------------------------------------------------
# BIN (IP2Location / IP2Proxy)

_HEADER: Final = struct.Struct("<BBBBBIIIIIIBB")
_PRODUCT_NAMES: Final = {PRODUCT_IP2LOCATION: "IP2Location", PRODUCT_IP2PROXY: "IP2Proxy"}
_U32 = "I" if array("I").itemsize == 4 else "L"
_LITTLE_ENDIAN: Final = sys.byteorder == "little"
# Fields IpFacts needs; everything else is only read for lookup_source().
_HOT_FIELDS: Final = {
    "country": "country",
    "region": "region",
    "city": "city",
    "isp": "isp",
    "usage_type": "usage_type",
    "asn": "asn",
    "as_name": "asn_org",
    "proxy_type": "proxy_type",
    "provider": "provider",
}
_STRING_CACHE_MAX: Final = 1_000_000
_MISSING: Final = object()


def _u32_column(mm: mmap.mmap, start: int, rows: int, stride_words: int, word: int) -> array[int]:
    """Word ``word`` of every row of a table, as an array (a strided copy, done in C)."""
    out: array[int] = array(_U32)
    if rows == 0:
        return out
    # Every view is released before return: an exported buffer would keep mm from closing.
    with (
        memoryview(mm) as whole,
        whole[start : start + rows * stride_words * 4] as part,
        part.cast("I") if _U32 == "I" else part.cast("L") as words,
        words[word::stride_words] as column,
    ):
        out.frombytes(column.tobytes())
    if not _LITTLE_ENDIAN:
        out.byteswap()
    return out


def _u64_from_words(low: array[int], high: array[int]) -> array[int]:
    pairs: array[int] = array(_U32, bytes(8 * len(low)))
    if _LITTLE_ENDIAN:
        pairs[0::2] = low
        pairs[1::2] = high
    else:
        pairs[0::2] = high
        pairs[1::2] = low
    out: array[int] = array("Q")
    out.frombytes(pairs.tobytes())
    return out


class _BinReader:
    def __init__(self, source: str, path: Path, product: int) -> None:
        self.product = product
        name = _PRODUCT_NAMES[product]
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size < HEADER_SIZE:
                    raise DatabaseError(f"not an {name} BIN file: only {size} bytes")
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise DatabaseError(f"file not found: {path}") from None
        except IsADirectoryError:
            raise DatabaseError(f"not a file: {path}") from None
        except PermissionError as exc:
            raise DatabaseError(f"cannot read the file: {exc.strerror}") from None
        try:
            self._load(mm, size, name, source)
        except DatabaseError:
            mm.close()
            raise
        self._mm = mm

    def _load(self, mm: mmap.mmap, size: int, name: str, source: str) -> None:
        if mm[:2] == b"PK":
            raise DatabaseError("this is a ZIP archive: unzip it and configure the .BIN file inside")
        (
            db_type,
            ncol,
            year,
            month,
            day,
            v4_count,
            v4_base,
            v6_count,
            v6_base,
            _v4_index,
            _v6_index,
            product,
            _product_type,
        ) = _HEADER.unpack_from(mm, 0)
        if product != self.product and not (product == 0 and year <= 20):  # old files had no code
            other = _PRODUCT_NAMES.get(product)
            if other:
                raise DatabaseError(
                    f"wrong database: this is an {other} BIN file, {source} needs an {name} file"
                )
            raise DatabaseError(f"not an {name} BIN file (product code {product} in the header)")
        layouts = IP2LOCATION_FIELDS if self.product == PRODUCT_IP2LOCATION else IP2PROXY_FIELDS
        if db_type not in layouts:
            raise DatabaseError(f"not an {name} BIN file (unknown database type {db_type})")
        fields = layouts[db_type]
        if ncol < len(fields) + 1:
            raise DatabaseError(
                f"damaged {name} header: {ncol} columns, database type {db_type} has {len(fields) + 1}"
            )
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise DatabaseError(f"not an {name} BIN file (invalid date in the header)")
        if v4_count == 0 and v6_count == 0:
            raise DatabaseError(f"empty {name} BIN file (no rows)")
        self.db_type = db_type
        prefix = "DB" if self.product == PRODUCT_IP2LOCATION else "PX"
        self.database_type = f"{name} {prefix}{db_type}"
        self.build_date = date(2000 + year, month, day)
        self.ncol = ncol
        self.v4_row = ncol * 4
        self.v6_row = ncol * 4 + 12
        self.v4_count = v4_count
        self.v6_count = v6_count
        self.v4_start = v4_base - 1
        self.v6_start = v6_base - 1
        for family, count, start, row in (
            ("IPv4", v4_count, self.v4_start, self.v4_row),
            ("IPv6", v6_count, self.v6_start, self.v6_row),
        ):
            if count and (start < HEADER_SIZE - 1 or start + count * row > size):
                raise DatabaseError(
                    f"truncated or damaged {name} file: the {family} table needs "
                    f"{start + count * row} bytes, the file has {size}"
                )
        self.ip_versions = tuple(v for v, c in ((4, v4_count), (6, v6_count)) if c)
        self.records = v4_count + v6_count

        # Column plans: (result key, index in the unpacked row, kind).
        codes = "".join("f" if f in FLOAT_FIELDS else "I" for f in fields)
        self._row = struct.Struct("<" + codes)
        self._all = tuple(
            (f, i, "float" if f in FLOAT_FIELDS else "country" if f == "country" else "str")
            for i, f in enumerate(fields)
        )
        # Hot path: unpack only the columns IpFacts needs (the others are skipped as padding);
        # country is read as its short code; the ASN text is converted to int once.
        self._hot_row = struct.Struct("<" + "".join("I" if f in _HOT_FIELDS else "4x" for f in fields))
        self._hot = tuple(_HOT_FIELDS[f] for f in fields if f in _HOT_FIELDS)
        self._unpack_hot = self._hot_row.unpack_from
        self._v4_data = self.v4_start + 4  # an IPv4 row's columns after ip_from
        self._strings: dict[int, Any] = {}
        self._asns: dict[int, int | None] = {}
        # Decoded value per pointer, one cache per hot column (ASN pointers map to ints).
        self._hot_caches = tuple(self._asns if key == "asn" else self._strings for key in self._hot)
        # The hot values, then None, then is_proxy, put in IpFacts field order by one C call.
        slots = {key: i for i, key in enumerate(self._hot)}
        pad = len(self._hot)
        slots["is_proxy"] = pad + 1 if self.product == PRODUCT_IP2PROXY else pad
        self._to_facts = operator.itemgetter(*(slots.get(name, pad) for name in _FACT_FIELDS))
        proxy_key = "country" if db_type == 1 else "proxy_type"  # PX1 lists proxies by country only
        self._proxy_at = slots.get(proxy_key, -1) if self.product == PRODUCT_IP2PROXY else -1
        self._data_centre = frozenset() if db_type == 1 else PROXY_TYPES_DATA_CENTRE
        self._size = size

        self._v4_from = _u32_column(mm, self.v4_start, v4_count, ncol, 0)
        if v6_count:
            stride = ncol + 3
            w = [_u32_column(mm, self.v6_start, v6_count, stride, k) for k in range(4)]
            self._v6_lo = _u64_from_words(w[0], w[1])
            self._v6_hi = _u64_from_words(w[2], w[3])
        else:
            self._v6_lo = self._v6_hi = array("Q")
        self._v4_block = _v4_blocks(self._v4_from, 0)
        self._check(mm, name)

    def _check(self, mm: mmap.mmap, name: str) -> None:
        """Cheap integrity checks: sorted ip_from, string pointers inside the file."""
        for starts in (self._v4_from, self._v6_hi):
            n = len(starts)
            step = max(1, n // 4096)
            sample = starts[::step]
            if any(a > b for a, b in itertools.pairwise(sample)):
                raise DatabaseError(f"damaged {name} file: rows are not sorted")
        pointers = [(i, kind == "country") for _, i, kind in self._all if kind != "float"]
        size = self._size
        for version, count in ((4, self.v4_count), (6, self.v6_count)):
            if not count:
                continue
            for row in {0, count // 3, count // 2, count - 1, *range(0, count, max(1, count // 64))}:
                values = self._row.unpack_from(mm, self._row_offset(version, row))
                for i, country in pointers:
                    for start in (values[i], values[i] + 3) if country else (values[i],):
                        if start >= size or start + 1 + mm[start] > size:
                            raise DatabaseError(
                                f"truncated {name} file: a row points to a string at byte {start}, "
                                f"the file has {size} bytes"
                            )

    def _row_offset(self, version: int, row: int) -> int:
        if version == 4:
            return self.v4_start + row * self.v4_row + 4
        return self.v6_start + row * self.v6_row + 16

    def _find(self, version: int, num: int) -> int:
        """Index of the row whose range holds ``num``, or -1."""
        if version == 4:
            if not self.v4_count:
                return -1
            num = min(num, 0xFFFFFFFE)  # the official libraries' reading of 255.255.255.255
            block = self._v4_block
            high = num >> 16
            return bisect.bisect_right(self._v4_from, num, block[high], block[high + 1]) - 1
        if not self.v6_count:
            return -1
        return _v6_row(self._v6_hi, self._v6_lo, num)

    def _read_text(self, pointer: int) -> str | None:
        mm = self._mm
        length = mm[pointer]
        raw = mm[pointer + 1 : pointer + 1 + length]
        if len(raw) != length:
            raise DatabaseError("truncated file: a string runs past the end")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:  # the official files are Latin-1 where not ASCII
            value = raw.decode("latin-1")
        return _clean(value)

    def _text(self, pointer: int) -> str | None:
        # Strings are shared by many rows (countries, cities, ISPs): decode each one once.
        value = self._strings.get(pointer, _MISSING)
        if value is _MISSING:
            value = self._read_text(pointer)
            if len(self._strings) < _STRING_CACHE_MAX:
                self._strings[pointer] = value
        return value  # type: ignore[no-any-return]

    def _decode(self, version: int, row: int, plan: tuple[tuple[str, int, str], ...]) -> dict[str, Any]:
        values = self._row.unpack_from(self._mm, self._row_offset(version, row))
        out: dict[str, Any] = {}
        text = self._text
        for key, i, kind in plan:
            if kind == "str":
                value = text(values[i])
            elif kind == "country":
                value = text(values[i])
                if value is not None:
                    long_name = text(values[i] + 3)
                    if long_name is not None:
                        out["country_name"] = long_name
            else:
                value = round(values[i], 6)
            if value is not None:
                out[key] = value
        if "country" not in out:
            out.pop("latitude", None)
            out.pop("longitude", None)
        return out

    def _proxy(self, out: dict[str, Any]) -> None:
        # IP2Proxy's is_proxy: PX1 lists proxies by country only; later types by proxy type.
        out["is_proxy"] = self._is_proxy(out.get("country" if self.db_type == 1 else "proxy_type"))

    def facts(self, version: int, num: int, text: str) -> tuple[Any, ...]:
        """The row's values in :data:`_FACT_FIELDS` order (None where the file has none)."""
        if version == 4 and self.v4_count:  # _find's IPv4 branch, inlined: the hot path
            if num > 0xFFFFFFFE:
                num = 0xFFFFFFFE
            block = self._v4_block
            high = num >> 16
            row = bisect.bisect_right(self._v4_from, num, block[high], block[high + 1]) - 1
            offset = self._v4_data + row * self.v4_row
        else:
            row = self._find(version, num)
            offset = self.v6_start + row * self.v6_row + 16
        if row < 0:
            if self.product == PRODUCT_IP2PROXY and version in self.ip_versions:
                return _NOT_LISTED
            return _NOTHING
        pointers = self._unpack_hot(self._mm, offset)
        try:  # every value decoded before: one pass in C
            values = list(map(dict.__getitem__, self._hot_caches, pointers))
        except KeyError:
            values = self._hot_values(pointers)
        values.append(None)
        if self._proxy_at >= 0:  # IP2Proxy: is_proxy from the proxy type (PX1: the country)
            kind = values[self._proxy_at]
            values.append(0 if kind is None else 2 if kind in self._data_centre else 1)
        return self._to_facts(values)  # type: ignore[no-any-return]

    def _hot_values(self, pointers: tuple[int, ...]) -> list[Any]:
        values = []
        for cache, pointer in zip(self._hot_caches, pointers, strict=True):
            value = cache.get(pointer, _MISSING)
            if value is _MISSING:
                value = self._text(pointer)  # caches the text
                if cache is self._asns:
                    value = _as_int(value)
                    if len(cache) < _STRING_CACHE_MAX:
                        cache[pointer] = value
            values.append(value)
        return values

    def _is_proxy(self, value: Any) -> int:
        """IP2Proxy's is_proxy from the row's proxy type (PX1: from its country)."""
        if value is None:
            return 0
        if self.db_type == 1:
            return 1
        return 2 if value in PROXY_TYPES_DATA_CENTRE else 1

    def raw(self, version: int, num: int, text: str) -> dict[str, Any]:
        if version not in self.ip_versions:
            return {"found": False, "note": f"no IPv{version} table in this file"}
        row = self._find(version, num)
        if row < 0:
            return {"found": False}
        data = self._decode(version, row, self._all)
        if self.product == PRODUCT_IP2PROXY:
            self._proxy(data)
        starts_v4 = self._v4_from
        if version == 4:
            first = starts_v4[row]
            last = starts_v4[row + 1] - 1 if row + 1 < len(starts_v4) else 0xFFFFFFFF
            span = (
                socket.inet_ntop(socket.AF_INET, first.to_bytes(4, "big")),
                socket.inet_ntop(socket.AF_INET, last.to_bytes(4, "big")),
            )
        else:
            first = (self._v6_hi[row] << 64) | self._v6_lo[row]
            if row + 1 < len(self._v6_hi):
                last = ((self._v6_hi[row + 1] << 64) | self._v6_lo[row + 1]) - 1
            else:
                last = (1 << 128) - 1
            span = (
                socket.inet_ntop(socket.AF_INET6, first.to_bytes(16, "big")),
                socket.inet_ntop(socket.AF_INET6, last.to_bytes(16, "big")),
            )
        return {"found": True, "range": f"{span[0]} - {span[1]}", "record": data}

    @property
    def reader_name(self) -> str:
        return "BIN file, mmap + in-memory row index"

    def close(self) -> None:
        with contextlib.suppress(BufferError):  # a view still in use elsewhere; GC closes it
            self._mm.close()


_Reader = _MmdbReader | _BinReader


def _open(source: str, path: Path) -> _Reader:
    if source in _MMDB_KIND:
        return _MmdbReader(source, path)
    if source == "ip2location":
        return _BinReader(source, path, PRODUCT_IP2LOCATION)
    return _BinReader(source, path, PRODUCT_IP2PROXY)


# --------------------------------------------------------------------------------------------
# IpIntel


@dataclass
class _Loaded:
    reader: _Reader
    signature: tuple[int, int, int]
    loaded_at: datetime


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


_utcnow: Callable[[], datetime] = functools.partial(datetime.now, UTC)


# Readers are asked in this order (geoip_country only as a fallback; see _compute).
_QUERY_ORDER: Final = ("geoip_city", "ip2location", "geoip_country", "geoip_asn", "ip2proxy")


def _folded(a: Any, b: Any) -> bool:
    """Two strings equal but for case (the caller has already compared them exactly)."""
    return a.__class__ is str and b.__class__ is str and a.casefold() == b.casefold()  # type: ignore[no-any-return]


def _merge(
    ip: str,
    city: tuple[Any, ...],
    loc: tuple[Any, ...],
    fallback: tuple[Any, ...],
    asn_db: tuple[Any, ...],
    proxy: tuple[Any, ...],
    errors: dict[str, str],
    now: datetime,
) -> IpFacts:
    """Combine geoip_city, ip2location, geoip_country, geoip_asn and ip2proxy facts (tuples in
    _FACT_FIELDS order; _NOTHING for a source that has none) by the precedence table in the
    module docstring. ``sources[field]`` lists the supplier first, then every other source
    that gave the same value. Unrolled by hand: this runs once per lookup, and a loop over a
    plan cost 3.6 µs of the 10 µs budget (tests check it against a plain implementation)."""
    sources: dict[str, list[str]] = {}
    names: list[str] | None

    # country: geoip_city → ip2location → geoip_country → ip2proxy
    country = x = city[0]
    names = None if x is None else ["geoip_city"]
    x = loc[0]
    if x is not None:
        if names is None:
            country, names = x, ["ip2location"]
        elif x == country or _folded(x, country):
            names.append("ip2location")
    x = fallback[0]
    if x is not None:
        if names is None:
            country, names = x, ["geoip_country"]
        elif x == country or _folded(x, country):
            names.append("geoip_country")
    x = proxy[0]
    if x is not None:
        if names is None:
            country, names = x, ["ip2proxy"]
        elif x == country or _folded(x, country):
            names.append("ip2proxy")
    if names is not None:
        sources["country"] = names

    # city, region: geoip_city → ip2location → ip2proxy, from a source whose own country (if
    # it has one) is the chosen country
    if country is None:
        city_ok = loc_ok = proxy_ok = True
    else:
        x = city[0]
        city_ok = x is None or x == country
        x = loc[0]
        loc_ok = x is None or x == country
        x = proxy[0]
        proxy_ok = x is None or x == country
    place: list[Any] = [None, None]
    for slot, field_name, i in ((0, "city", 2), (1, "region", 1)):
        value = x = city[i] if city_ok else None
        names = None if x is None else ["geoip_city"]
        if loc_ok:
            x = loc[i]
            if x is not None:
                if names is None:
                    value, names = x, ["ip2location"]
                elif x == value or _folded(x, value):
                    names.append("ip2location")
        if proxy_ok:
            x = proxy[i]
            if x is not None:
                if names is None:
                    value, names = x, ["ip2proxy"]
                elif x == value or _folded(x, value):
                    names.append("ip2proxy")
        if names is not None:
            sources[field_name] = names
            place[slot] = value

    # asn: geoip_asn → ip2location → ip2proxy
    asn = x = asn_db[3]
    names = None if x is None else ["geoip_asn"]
    x = loc[3]
    if x is not None:
        if names is None:
            asn, names = x, ["ip2location"]
        elif x == asn:
            names.append("ip2location")
    x = proxy[3]
    if x is not None:
        if names is None:
            asn, names = x, ["ip2proxy"]
        elif x == asn:
            names.append("ip2proxy")
    if names is not None:
        sources["asn"] = names

    # asn_org: the same order, only from a source whose ASN is the chosen ASN
    org = None
    names = None
    if asn is None or asn_db[3] == asn:
        org = asn_db[4]
        if org is not None:
            names = ["geoip_asn"]
    if asn is None or loc[3] == asn:
        x = loc[4]
        if x is not None:
            if names is None:
                org, names = x, ["ip2location"]
            elif x == org or _folded(x, org):
                names.append("ip2location")
    if asn is None or proxy[3] == asn:
        x = proxy[4]
        if x is not None:
            if names is None:
                org, names = x, ["ip2proxy"]
            elif x == org or _folded(x, org):
                names.append("ip2proxy")
    if names is not None:
        sources["asn_org"] = names

    # isp, usage_type: ip2location → ip2proxy
    pair: list[Any] = [None, None]
    for slot, field_name, i in ((0, "isp", 5), (1, "usage_type", 6)):
        value = x = loc[i]
        names = None if x is None else ["ip2location"]
        x = proxy[i]
        if x is not None:
            if names is None:
                value, names = x, ["ip2proxy"]
            elif x == value or _folded(x, value):
                names.append("ip2proxy")
        if names is not None:
            sources[field_name] = names
            pair[slot] = value

    # is_proxy, proxy_type, provider: ip2proxy only
    is_proxy, proxy_type, provider = proxy[7], proxy[8], proxy[9]
    if "ip2proxy" in errors:
        is_proxy = -1  # IP2Proxy's own code for "the lookup failed"
    if is_proxy is not None:
        sources["is_proxy"] = ["ip2proxy"]
    if proxy_type is not None:
        sources["proxy_type"] = ["ip2proxy"]
    if provider is not None:
        sources["provider"] = ["ip2proxy"]

    facts = object.__new__(IpFacts)
    # A frozen dataclass's __init__ sets each field through object.__setattr__ (~3 µs for 14
    # fields); handing over a complete __dict__ gives the same object.
    object.__setattr__(
        facts,
        "__dict__",
        {
            "ip": ip,
            "country": country,
            "city": place[0],
            "region": place[1],
            "asn": asn,
            "asn_org": org,
            "isp": pair[0],
            "usage_type": pair[1],
            "is_proxy": is_proxy,
            "proxy_type": proxy_type,
            "provider": provider,
            "sources": sources,
            "errors": errors,
            "fetched_at": now,
        },
    )
    return facts


class IpIntel:
    """The process-wide IP enrichment service (thread-safe)."""

    def __init__(
        self,
        config: EnrichmentConfig,
        clock: Callable[[], datetime] = _utcnow,
        *,
        check_interval: float | None = 60.0,
    ) -> None:
        self.config = config
        self._clock = clock
        self._check_interval = check_interval
        self._lock = threading.Lock()  # cache and counters
        self._reload_lock = threading.Lock()
        self._loaded: dict[str, _Loaded] = {}  # replaced as a whole, never mutated in place
        self._readers: dict[str, _Reader] = {}
        # The loaded readers in _QUERY_ORDER (None: not loaded), for _compute.
        self._slots: tuple[_Reader | None, ...] = (None,) * len(_QUERY_ORDER)
        self._status: dict[str, SourceStatus] = {}
        self._signatures: dict[str, tuple[int, int, int] | None] = {}
        self._lookup_errors_logged: set[tuple[str, int]] = set()
        self._cache: OrderedDict[str, tuple[float, IpFacts]] = OrderedDict()
        self._capacity = max(0, int(config.cache_size))
        self._ttl = float(config.cache_ttl)
        self._generation = 0
        self._hits = self._expired = self._evictions = self._reloads = 0
        # Computed lookups by the set of sources that answered (bit i: _QUERY_ORDER[i]): one
        # counter per lookup instead of one per source; cache_stats adds them up.
        self._answered: list[int] = [0] * (1 << len(_QUERY_ORDER))
        self._source_lookups: dict[str, int] = dict.fromkeys(SOURCES, 0)
        self._source_errors: dict[str, int] = dict.fromkeys(SOURCES, 0)
        self._last_check = 0.0
        for source in SOURCES:
            path = config.path_for(source)
            if not config.enabled:
                self._status[source] = SourceStatus(source, str(path) if path else None, "disabled")
            elif path is None:
                self._status[source] = SourceStatus(source, None, "not_configured")
        if config.enabled:
            self._last_check = self._now()
            self.reload_if_changed()

    # ---- public API ---------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def lookup(self, ip: str) -> IpFacts:
        """Combined facts for one address (cached). Raises ValueError for a malformed address."""
        now_dt = self._clock()
        now = now_dt.timestamp()
        capacity = self._capacity
        if capacity:
            with self._lock:
                entry = self._cache.get(ip)
                if entry is not None:
                    if entry[0] > now:
                        self._cache.move_to_end(ip)
                        self._hits += 1
                        return entry[1]
                    del self._cache[ip]
                    self._expired += 1
        generation = self._generation
        if self._check_interval is not None and now - self._last_check >= self._check_interval:
            self._last_check = now
            if not self._reload_lock.locked():  # another thread is already reloading
                self.reload_if_changed()
                generation = self._generation
        facts, answered = self._compute(ip, now_dt)
        errors = facts.errors
        with self._lock:
            self._answered[answered] += 1
            for source in errors:
                self._source_lookups[source] += 1
                self._source_errors[source] += 1
            if capacity and generation == self._generation:  # a reload in between: stale
                cache = self._cache
                cache[ip] = (now + self._ttl, facts)
                if len(cache) > capacity:
                    cache.popitem(last=False)
                    self._evictions += 1
        return facts

    def network_kind(self, ip: str) -> str | None:
        """hosting / isp / cloud / cdn / mail_provider / business for an address, or None: a
        ``NetworkHint`` for :func:`hunter.core.providers.classify`."""
        from hunter.core.infrastructure import network_kind

        try:
            facts = self.lookup(ip)
        except ValueError:
            return None
        return network_kind(facts.asn, facts.usage_type)

    def lookup_source(self, source: str, ip: str) -> dict[str, Any]:
        """One database's raw answer, for the admin debug endpoint (never cached)."""
        if source not in SOURCES:
            raise ValueError(f"unknown IP database source {source!r}; expected one of {', '.join(SOURCES)}")
        canonical, version, num, text = _parse(ip)
        status = self._status.get(source)
        reader = self._readers.get(source)
        out: dict[str, Any] = {"source": source, "ip": canonical}
        if version == 4 and text != canonical:
            out["looked_up_as"] = text
        if reader is None:
            out.update(loaded=False, found=False, error=status.error if status else None)
            return out
        out.update(loaded=True, database_type=reader.database_type)
        try:
            out.update(reader.raw(version, num, text))
            ok = True
        except Exception as exc:
            out.update(found=False, error=f"{type(exc).__name__}: {exc}")
            ok = False
        with self._lock:
            self._source_lookups[source] += 1
            if not ok:
                self._source_errors[source] += 1
        return out

    def build_indexes(self) -> None:
        """Build the MaxMind readers' lookup indexes now rather than on each one's 1,000th
        lookup (~3 s for a GeoLite2 City file): for a process about to look up many addresses."""
        for reader in self._readers.values():
            if isinstance(reader, _MmdbReader):
                reader.build_index()

    def status(self) -> list[SourceStatus]:
        return [self._status[s] for s in SOURCES]

    @property
    def cache_stats(self) -> CacheStats:
        with self._lock:
            lookups = dict(self._source_lookups)
            for mask, count in enumerate(self._answered):
                if count:
                    for slot, source in enumerate(_QUERY_ORDER):
                        if mask >> slot & 1:
                            lookups[source] += count
            return CacheStats(
                hits=self._hits,
                misses=sum(self._answered),
                expired=self._expired,
                evictions=self._evictions,
                size=len(self._cache),
                capacity=self._capacity,
                reloads=self._reloads,
                source_lookups=lookups,
                source_errors=dict(self._source_errors),
            )

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._generation += 1

    def reload_if_changed(self) -> bool:
        """(Re)open every configured database whose file changed; True if any was swapped in."""
        if not self.config.enabled:
            return False
        changed = False
        with self._reload_lock:
            loaded = dict(self._loaded)
            for source in SOURCES:
                path = self.config.path_for(source)
                if path is None:
                    continue
                signature = _signature(path)
                if source in self._signatures and signature == self._signatures[source]:
                    continue
                self._signatures[source] = signature
                current = loaded.get(source)
                if signature is None:
                    self._fail(source, path, f"file not found: {path}", current)
                    continue
                try:
                    reader = _open(source, path)
                except DatabaseError as exc:
                    self._fail(source, path, str(exc), current)
                    continue
                except Exception as exc:  # a reader bug must not take the service down
                    self._fail(source, path, f"{type(exc).__name__}: {exc}", current)
                    continue
                loaded[source] = _Loaded(reader, signature, self._clock())
                self._status[source] = self._loaded_status(source, path, loaded[source])
                log.info(
                    "ip_database_loaded",
                    source=source,
                    path=str(path),
                    database_type=reader.database_type,
                    build_date=str(reader.build_date),
                )
                changed = True
            if changed:
                self._loaded = loaded
                self._readers = {name: item.reader for name, item in loaded.items()}
                self._slots = tuple(self._readers.get(name) for name in _QUERY_ORDER)
                with self._lock:
                    self._cache.clear()
                    self._generation += 1
                    self._reloads += 1
        return changed

    def close(self) -> None:
        with self._reload_lock:
            for item in self._loaded.values():
                item.reader.close()
            self._loaded = {}
            self._readers = {}
            self._slots = (None,) * len(_QUERY_ORDER)
        self.clear_cache()

    # ---- internals ----------------------------------------------------------------------------

    def _now(self) -> float:
        return self._clock().timestamp()

    def _loaded_status(self, source: str, path: Path, item: _Loaded) -> SourceStatus:
        reader = item.reader
        if isinstance(reader, _MmdbReader):
            versions: tuple[int, ...] = (4, 6) if reader.ip_version == 6 else (4,)
            return SourceStatus(
                source,
                str(path),
                "loaded",
                reader.database_type,
                reader.build_date,
                None,
                reader.nodes,
                versions,
                reader.reader_name,
                item.loaded_at,
            )
        return SourceStatus(
            source,
            str(path),
            "loaded",
            reader.database_type,
            reader.build_date,
            reader.records,
            None,
            reader.ip_versions,
            reader.reader_name,
            item.loaded_at,
        )

    def _fail(self, source: str, path: Path, message: str, current: _Loaded | None) -> None:
        if current is not None:
            # Keep serving the copy we have: a half-copied update must not blank the data.
            message = f"{message} (still serving the copy loaded at {current.loaded_at.isoformat()})"
            old = self._status[source]
            self._status[source] = SourceStatus(
                source,
                old.path,
                "loaded",
                old.database_type,
                old.build_date,
                old.records,
                old.nodes,
                old.ip_versions,
                old.reader,
                old.loaded_at,
                message,
            )
        else:
            self._status[source] = SourceStatus(source, str(path), "error", error=message)
        log.warning("ip_database_unavailable", source=source, path=str(path), error=message)

    def _lookup_failed(self, source: str, reader: _Reader, exc: Exception) -> str:
        message = f"{type(exc).__name__}: {exc}"
        key = (source, id(reader))
        if key not in self._lookup_errors_logged:  # once per loaded file, not per lookup
            self._lookup_errors_logged.add(key)
            log.warning("ip_database_lookup_failed", source=source, error=message)
        return message

    def _compute(self, ip: str, now: datetime) -> tuple[IpFacts, int]:
        """The combined facts, and the sources that answered (bit i: _QUERY_ORDER[i])."""
        canonical, version, num, text = _parse(ip)
        city_db, loc_db, country_db, asn_db, proxy_db = self._slots
        city = loc = fallback = asn = proxy = _NOTHING
        answered = 0
        errors: dict[str, str] = {}
        # One block per source (a loop over the readers cost ~1 µs more per lookup).
        if city_db is not None:
            try:
                city = city_db.facts(version, num, text)
                answered |= 1
            except Exception as exc:
                errors["geoip_city"] = self._lookup_failed("geoip_city", city_db, exc)
        if loc_db is not None:
            try:
                loc = loc_db.facts(version, num, text)
                answered |= 2
            except Exception as exc:
                errors["ip2location"] = self._lookup_failed("ip2location", loc_db, exc)
        # geoip_country is only a fallback: the City database has the same data
        if country_db is not None and not (city[0] or loc[0]):
            try:
                fallback = country_db.facts(version, num, text)
                answered |= 4
            except Exception as exc:
                errors["geoip_country"] = self._lookup_failed("geoip_country", country_db, exc)
        if asn_db is not None:
            try:
                asn = asn_db.facts(version, num, text)
                answered |= 8
            except Exception as exc:
                errors["geoip_asn"] = self._lookup_failed("geoip_asn", asn_db, exc)
        if proxy_db is not None:
            try:
                proxy = proxy_db.facts(version, num, text)
                answered |= 16
            except Exception as exc:
                errors["ip2proxy"] = self._lookup_failed("ip2proxy", proxy_db, exc)
        return _merge(canonical, city, loc, fallback, asn, proxy, errors, now), answered
