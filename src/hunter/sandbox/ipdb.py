"""Synthetic IP databases: GeoLite2-style MMDB and IP2Location / IP2Proxy BIN files.

Tests and the demo need the same five files a customer would download (GeoLite2 City, Country
and ASN; an IP2Location DBn BIN; an IP2Proxy PXn BIN), built offline from a table of
:class:`NetworkRecord`. No third-party database is shipped or downloaded.

* MMDB files are written with ``mmdb-writer``. ``database_type`` always contains ``City`` /
  ``Country`` / ``ASN`` (geoip2 refuses a reader call whose name is not in it) and the records
  have the structure geoip2's models read (``country.iso_code``, ``city.names.en``,
  ``subdivisions[0].names.en``, ``location``, ``autonomous_system_number`` …). Databases are
  IPv6 trees with IPv4 under ``::/96`` like MaxMind's, unless every network is IPv4.
* BIN files follow the published IP2Location / IP2Proxy layout (see :func:`_write_bin`): a
  header, a /16 index per family, fixed-width rows (``ip_from`` + one 32-bit column per field:
  a pointer into the string area, or an inline float for latitude / longitude) and an area of
  length-prefixed strings. Rows cover the whole address space; ranges without data hold "-",
  as in the real files. Strings are written as UTF-8 (the official Python libraries decode
  them as Latin-1, so names compared against them in tests are kept ASCII).

More specific networks win over the networks that contain them, in both formats.
"""

from __future__ import annotations

import bisect
import ipaddress
import logging
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from dataclasses import fields as fields_of
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Literal

from hunter.collect.ipintel import (
    FLOAT_FIELDS,
    HEADER_SIZE,
    IP2LOCATION_FIELDS,
    IP2PROXY_FIELDS,
    PRODUCT_IP2LOCATION,
    PRODUCT_IP2PROXY,
    PROXY_TYPES_DATA_CENTRE,
    EnrichmentConfig,
)

__all__ = [
    "NetworkRecord",
    "build_sandbox_databases",
    "demo_networks",
    "write_geoip_mmdb",
    "write_ip2location_bin",
    "write_ip2proxy_bin",
]

MmdbKind = Literal["City", "Country", "ASN"]

_V4_MAX: Final = (1 << 32) - 1
_V6_MAX: Final = (1 << 128) - 1


@dataclass(frozen=True)
class NetworkRecord:
    """One network of the synthetic world and everything any of the databases says about it.

    ``proxy_type`` decides the IP2Proxy listing: None means "not listed" (is_proxy 0), DCH /
    SES / AIC give is_proxy 2, any other type (VPN, TOR, PUB, WEB, RES, CPN, EPN …) gives 1.
    """

    cidr: str
    country_code: str | None = None
    country_name: str | None = None
    region: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    time_zone: str | None = None  # IANA name, for the MMDB location record
    zip_code: str | None = None
    asn: int | None = None
    as_name: str | None = None
    isp: str | None = None
    domain: str | None = None
    usage_type: str | None = None  # IP2Location codes: COM ORG GOV MIL EDU LIB CDN ISP MOB DCH SES RSV
    proxy_type: str | None = None
    threat: str | None = None
    provider: str | None = None
    last_seen: int | None = None  # days
    fraud_score: int | None = None

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr, strict=False)

    @property
    def is_proxy(self) -> int:
        if self.proxy_type is None:
            return 0
        return 2 if self.proxy_type in PROXY_TYPES_DATA_CENTRE else 1


# --------------------------------------------------------------------------------------------
# MMDB (GeoLite2-style)


# The languages of MaxMind's GeoLite2 files; "full" records carry a name in each of them.
_FULL_LANGUAGES: Final = ("de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN")


def _names(value: str, full: bool) -> dict[str, str]:
    if not full:
        return {"en": value}
    return dict.fromkeys(_FULL_LANGUAGES, value)


def _geoname_id(value: str) -> int:
    return 1 + sum(ord(c) * 31**i for i, c in enumerate(value[:8])) % 9_999_999


def _mmdb_record(kind: MmdbKind, rec: NetworkRecord, full: bool = False) -> dict[str, Any] | None:
    if kind == "ASN":
        if rec.asn is None:
            return None
        out: dict[str, Any] = {"autonomous_system_number": rec.asn}
        if rec.as_name:
            out["autonomous_system_organization"] = rec.as_name
        return out
    if not rec.country_code:
        return None
    country: dict[str, Any] = {"iso_code": rec.country_code}
    if rec.country_name:
        country["names"] = _names(rec.country_name, full)
    out = {"country": country, "registered_country": dict(country)}
    if full:  # the rest of a real GeoLite2 record, so that benchmarks decode realistic sizes
        country["geoname_id"] = _geoname_id(rec.country_code)
        out["continent"] = {"code": "EU", "geoname_id": 6255148, "names": _names("Europe", full)}
    if kind == "City":
        if rec.city:
            out["city"] = {"names": _names(rec.city, full)}
            if full:
                out["city"]["geoname_id"] = _geoname_id(rec.city)
                out["postal"] = {"code": rec.zip_code or "34000"}
        if rec.region:
            out["subdivisions"] = [{"names": _names(rec.region, full)}]
            if full:
                out["subdivisions"][0].update(geoname_id=_geoname_id(rec.region), iso_code="34")
        if rec.latitude is not None and rec.longitude is not None:
            location: dict[str, Any] = {
                "latitude": float(rec.latitude),
                "longitude": float(rec.longitude),
                "accuracy_radius": 50,
            }
            if rec.time_zone:
                location["time_zone"] = rec.time_zone
            out["location"] = location
    return out


def write_geoip_mmdb(
    path: Path | str,
    kind: MmdbKind,
    networks: Sequence[NetworkRecord],
    *,
    database_type: str | None = None,
    build_time: datetime | None = None,
    full_records: bool = False,
) -> Path:
    """Write a GeoLite2-style City / Country / ASN database; returns the path.

    Networks without data for ``kind`` (no country for City/Country, no ASN for ASN) are left
    out, like the real files leave unannounced space empty. ``full_records`` adds what real
    GeoLite2 records also carry (names in eight languages, geoname ids, continent, postal code).
    """
    try:
        from mmdb_writer import MMDBWriter
        from netaddr import IPSet
    except ImportError as exc:  # a dev / demo dependency, not needed to read real databases
        raise RuntimeError(f"writing MMDB files needs mmdb-writer (pip install mmdb-writer): {exc}") from exc

    if kind not in ("City", "Country", "ASN"):
        raise ValueError(f"unknown MMDB kind {kind!r}")
    db_type = database_type or f"GeoLite2-{kind}"
    epoch = int((build_time or datetime.now(UTC)).timestamp())

    class _Writer(MMDBWriter):
        # mmdb-writer stamps the current time; a fixed build date keeps files reproducible.
        def _build_meta(self) -> dict[str, Any]:
            meta = super()._build_meta()
            meta["build_epoch"] = epoch
            return meta

    nets = sorted(networks, key=lambda r: (r.network.version, r.network.prefixlen))
    ipv6 = any(r.network.version == 6 for r in nets)
    writer = _Writer(
        ip_version=6 if ipv6 else 4,
        database_type=db_type,
        languages=list(_FULL_LANGUAGES) if full_records else ["en"],
        description=f"Hunter sandbox {db_type} (synthetic data)",
        ipv4_compatible=ipv6,
    )
    # Supernets first: mmdb-writer splits an existing leaf when a subnet is inserted below it,
    # but a supernet inserted later would overwrite its subnets.
    # mmdb-writer logs every subnet-in-supernet insert at INFO; that is how we build on purpose.
    library_log = logging.getLogger("mmdb_writer")
    level = library_log.level
    library_log.setLevel(logging.WARNING)
    try:
        for rec in nets:
            data = _mmdb_record(kind, rec, full_records)
            if data is not None:
                writer.insert_network(IPSet([str(rec.network)]), data)
    finally:
        library_log.setLevel(level)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    writer.to_db_file(str(target))
    return target


# --------------------------------------------------------------------------------------------
# BIN (IP2Location / IP2Proxy)


def _segments(
    ranges: list[tuple[int, int, NetworkRecord]], space_max: int
) -> list[tuple[int, NetworkRecord | None]]:
    """Flatten nested / disjoint ranges into (start, record) rows covering 0..space_max.

    The innermost range wins. CIDR blocks never partially overlap, so a stack of open ranges
    is enough: sort by start, outer (bigger) first.
    """
    ranges.sort(key=lambda r: (r[0], -r[1]))
    rows: list[tuple[int, NetworkRecord | None]] = []

    def emit(start: int, rec: NetworkRecord | None) -> None:
        if start > space_max - 1:  # the last address is never looked up (readers use max - 1)
            return
        if rows and rows[-1][0] == start:
            rows[-1] = (start, rec)
        else:
            rows.append((start, rec))

    stack: list[tuple[int, NetworkRecord]] = []
    for start, end, rec in ranges:
        while stack and stack[-1][0] < start:
            closed_end, _ = stack.pop()
            emit(closed_end + 1, stack[-1][1] if stack else None)
        emit(start, rec)
        stack.append((end, rec))
    while stack:
        closed_end, _ = stack.pop()
        emit(closed_end + 1, stack[-1][1] if stack else None)
    if not rows or rows[0][0] != 0:
        rows.insert(0, (0, None))
    merged: list[tuple[int, NetworkRecord | None]] = []
    for start, owner in rows:
        if merged and merged[-1][1] is owner:
            continue
        merged.append((start, owner))
    return merged


def _utf8_prefix(value: str, limit: int) -> bytes:
    # A length byte allows 255 bytes; never cut a character in half.
    return value.encode("utf-8")[:limit].decode("utf-8", "ignore").encode("utf-8")


class _Strings:
    """The string area: deduplicated, length-prefixed, pointers relative to its start."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self._seen: dict[bytes, int] = {}

    def add(self, data: bytes) -> int:
        offset = self._seen.get(data)
        if offset is None:
            offset = len(self.blob)
            self._seen[data] = offset
            self.blob += data
        return offset

    def text(self, value: str) -> int:
        raw = _utf8_prefix(value, 255)
        return self.add(bytes([len(raw)]) + raw)

    def country(self, short: str, long: str) -> int:
        # Readers fetch the short code at p and the long name at p + 3: short is padded to 2.
        s = short.encode("ascii")[:2]
        long_raw = _utf8_prefix(long, 255)
        return self.add(bytes([len(s)]) + s.ljust(2, b"\0") + bytes([len(long_raw)]) + long_raw)


def _facts_key(rec: NetworkRecord | None) -> tuple[Any, ...]:
    if rec is None:
        return ()
    return tuple(getattr(rec, f.name) for f in fields_of(NetworkRecord) if f.name != "cidr")


# BIN columns that are NetworkRecord attributes of the same name (asn, city, isp, threat …).
_SAME_NAME_FIELDS: Final = frozenset(f.name for f in fields_of(NetworkRecord))


def _field_text(rec: NetworkRecord | None, name: str) -> str:
    if rec is None:
        return "-"
    value: Any
    if name == "as_name":
        value = rec.as_name
    elif name == "zipcode":
        value = rec.zip_code
    elif name in _SAME_NAME_FIELDS:
        value = getattr(rec, name)
    else:  # columns the synthetic world does not model
        value = None
    return "-" if value is None or value == "" else str(value)


def _write_bin(
    path: Path | str,
    *,
    product: int,
    db_type: int,
    fields: tuple[str, ...],
    networks: Iterable[NetworkRecord],
    ipv6: bool,
    built: date,
    include: Callable[[NetworkRecord], bool],
) -> Path:
    """Write one BIN file.

    Layout (offsets in the header are 1-based, as the readers expect; integers little-endian):

    ======  =====  ==========================================================================
    offset  size   header field
    ======  =====  ==========================================================================
    0       1      database type (DBn / PXn)
    1       1      column count (ip_from + fields)
    2..4    3      year - 2000, month, day
    5       4      IPv4 row count      9  4  IPv4 table base address
    13      4      IPv6 row count      17 4  IPv6 table base address
    21      4      IPv4 index base     25 4  IPv6 index base (0 = no index)
    29      1      product code (1 IP2Location, 2 IP2Proxy)
    30      1      product type
    31      4      file size
    ======  =====  ==========================================================================

    Then: IPv4 index (65,536 × [first row, last row] for each /16), IPv6 index (same, for the
    top 16 bits), IPv4 rows (4-byte ip_from + 4 bytes per field), IPv6 rows (16-byte ip_from +
    4 bytes per field), the string area. Each table ends with a sentinel row whose ip_from is
    the family's last address: readers take row i's end from row i + 1's ip_from.
    """
    v4: list[tuple[int, int, NetworkRecord]] = []
    v6: list[tuple[int, int, NetworkRecord]] = []
    for rec in networks:
        if not include(rec):
            continue
        net = rec.network
        if net.version == 6 and not ipv6:
            continue
        (v4 if net.version == 4 else v6).append((int(net.network_address), int(net.broadcast_address), rec))
    rows4 = _segments(v4, _V4_MAX)
    rows6 = _segments(v6, _V6_MAX) if ipv6 else []

    ncol = len(fields) + 1
    row4 = ncol * 4
    row6 = ncol * 4 + 12
    index_size = 65536 * 8
    idx4_at = HEADER_SIZE
    idx6_at = idx4_at + index_size
    tab4_at = idx6_at + (index_size if ipv6 else 0)
    tab6_at = tab4_at + (len(rows4) + 1) * row4
    strings_at = tab6_at + ((len(rows6) + 1) * row6 if ipv6 else 0)

    strings = _Strings()
    # Many networks share one owner: encode each distinct set of facts once.
    encoded: dict[tuple[Any, ...], bytes] = {}

    def columns(rec: NetworkRecord | None) -> bytes:
        key = _facts_key(rec)
        cached = encoded.get(key)
        if cached is None:
            cached = encoded[key] = _columns(rec)
        return cached

    def _columns(rec: NetworkRecord | None) -> bytes:
        out = bytearray()
        for name in fields:
            if name in FLOAT_FIELDS:
                value = getattr(rec, name) if rec is not None else None
                out += struct.pack("<f", float(value) if value is not None else 0.0)
            elif name == "country":
                if rec is None or not rec.country_code:
                    ptr = strings.country("-", "-")
                else:
                    ptr = strings.country(rec.country_code, rec.country_name or rec.country_code)
                out += struct.pack("<I", strings_at + ptr)
            else:
                out += struct.pack("<I", strings_at + strings.text(_field_text(rec, name)))
        return bytes(out)

    blank = columns(None)
    body4 = bytearray()
    for start, row in rows4:
        body4 += struct.pack("<I", start) + (blank if row is None else columns(row))
    body4 += struct.pack("<I", _V4_MAX) + blank
    body6 = bytearray()
    if ipv6:
        for start, row in rows6:
            body6 += start.to_bytes(16, "little") + (blank if row is None else columns(row))
        body6 += _V6_MAX.to_bytes(16, "little") + blank

    def index(starts: list[int], shift: int) -> bytes:
        out = bytearray()
        for prefix in range(65536):
            first = prefix << shift
            last = first | ((1 << shift) - 1)
            low = bisect.bisect_right(starts, first) - 1
            high = bisect.bisect_right(starts, last) - 1
            out += struct.pack("<II", low, high)
        return bytes(out)

    idx4 = index([s for s, _ in rows4], 16)
    idx6 = index([s for s, _ in rows6], 112) if ipv6 else b""

    size = strings_at + len(strings.blob)
    header = bytearray(HEADER_SIZE)
    header[0] = db_type
    header[1] = ncol
    header[2] = built.year - 2000
    header[3] = built.month
    header[4] = built.day
    struct.pack_into(
        "<IIII", header, 5, len(rows4), tab4_at + 1, len(rows6) if ipv6 else 0, tab6_at + 1 if ipv6 else 0
    )
    struct.pack_into("<II", header, 21, idx4_at + 1, idx6_at + 1 if ipv6 else 0)
    header[29] = product
    header[30] = 1
    struct.pack_into("<I", header, 31, size)

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fh:
        fh.write(header)
        fh.write(idx4)
        fh.write(idx6)
        fh.write(body4)
        fh.write(body6)
        fh.write(strings.blob)
    return target


_DEFAULT_BUILT: Final = date(2025, 1, 1)


def write_ip2location_bin(
    path: Path | str,
    db_type: int,
    networks: Sequence[NetworkRecord],
    ipv6: bool = True,
    *,
    built: date = _DEFAULT_BUILT,
) -> Path:
    """Write an IP2Location DB1–DB26 BIN file with the columns of ``db_type``."""
    if db_type not in IP2LOCATION_FIELDS:
        raise ValueError(f"IP2Location database type must be 1..26, not {db_type}")
    return _write_bin(
        path,
        product=PRODUCT_IP2LOCATION,
        db_type=db_type,
        fields=IP2LOCATION_FIELDS[db_type],
        networks=networks,
        ipv6=ipv6,
        built=built,
        include=lambda rec: rec.country_code is not None,
    )


def write_ip2proxy_bin(
    path: Path | str,
    px_type: int,
    networks: Sequence[NetworkRecord],
    ipv6: bool = True,
    *,
    built: date = _DEFAULT_BUILT,
) -> Path:
    """Write an IP2Proxy PX1–PX12 BIN file; only networks with a ``proxy_type`` are listed."""
    if px_type not in IP2PROXY_FIELDS:
        raise ValueError(f"IP2Proxy database type must be 1..12, not {px_type}")
    return _write_bin(
        path,
        product=PRODUCT_IP2PROXY,
        db_type=px_type,
        fields=IP2PROXY_FIELDS[px_type],
        networks=networks,
        ipv6=ipv6,
        built=built,
        include=lambda rec: rec.proxy_type is not None,
    )


# --------------------------------------------------------------------------------------------
# The demo world

# Real AS numbers and registry organisations for the sandbox world's provider keys (see
# hunter.sandbox.provider_zones). The world itself uses private-use ASNs; the demo databases
# show the real ASN where we know it for certain (data/network_owners.yaml lists the same ones),
# and keep the world's private-use ASN otherwise, so no company is given a made-up real number.
REAL_ASNS: Final[dict[str, tuple[int, str]]] = {
    "microsoft": (8075, "Microsoft Corporation"),
    "azure_dns": (8075, "Microsoft Corporation"),
    "google": (15169, "Google LLC"),
    "zoho": (2639, "Zoho Corporation"),
    "yandex": (13238, "YANDEX LLC"),
    "amazon": (16509, "Amazon.com, Inc."),
    "icloud": (714, "Apple Inc."),
    "cloudflare": (13335, "Cloudflare, Inc."),
    "natro": (34619, "Cizgi Telekomunikasyon Anonim Sirketi"),
    "radore": (42926, "Radore Veri Merkezi Hizmetleri A.S."),
    "netinternet": (51559, "Netinternet Bilisim Teknolojileri AS"),
    "vargonen": (50941, "Vargonen Teknoloji ve Bilisim Sanayi Ticaret Anonim Sirketi"),
    "ttnet_mail": (9121, "Turk Telekomunikasyon Anonim Sirketi"),
    "turk_telekom": (9121, "Turk Telekomunikasyon Anonim Sirketi"),
    "superonline_mail": (34984, "Superonline Iletisim Hizmetleri A.S."),
    "superonline": (34984, "Superonline Iletisim Hizmetleri A.S."),
    "vodafone_tr": (15924, "Vodafone Net Iletisim Hizmetleri Anonim Sirketi"),
    "turknet": (12735, "TurkNet Iletisim Hizmetleri A.S."),
    "millenicom": (34296, "Millenicom Telekomunikasyon Hizmetleri Anonim Sirketi"),
    "hostinger": (47583, "Hostinger International Limited"),
    "ionos": (8560, "IONOS SE"),
    "ovh": (16276, "OVH SAS"),
    "godaddy": (26496, "GoDaddy.com, LLC"),
    "hetzner": (24940, "Hetzner Online GmbH"),
    "digitalocean": (14061, "DigitalOcean, LLC"),
}
# Networks IP2Proxy would list as data centre ranges (proxy type DCH) in the demo.
_DATA_CENTRE_KEYS: Final = frozenset(
    {"microsoft", "google", "amazon", "hostinger", "ionos", "ovh", "hetzner", "digitalocean", "godaddy"}
)
_USAGE_BY_KIND: Final = {"isp": "ISP", "cdn": "CDN"}  # everything else in the world is DCH
_COUNTRY_NAMES: Final = {
    "AU": "Australia",
    "CH": "Switzerland",
    "DE": "Germany",
    "FR": "France",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "IN": "India",
    "LT": "Lithuania",
    "NL": "Netherlands",
    "RU": "Russia",
    "TR": "Turkey",
    "US": "United States",
}
_PLACES: Final = {  # city → (region, latitude, longitude, time zone)
    "Istanbul": ("Istanbul", 41.0082, 28.9784, "Europe/Istanbul"),
    "Ankara": ("Ankara", 39.9334, 32.8597, "Europe/Istanbul"),
    "Izmir": ("Izmir", 38.4237, 27.1428, "Europe/Istanbul"),
}


@dataclass(frozen=True)
class _WorldNetwork:
    key: str
    org: str
    asn: int
    kind: str
    country: str
    city: str
    cidrs: tuple[str, ...]


def _world() -> list[_WorldNetwork]:
    try:
        from hunter.sandbox import provider_zones
    except ImportError:
        provider_zones = None  # type: ignore[assignment]
    if provider_zones is not None:
        try:  # the rich table: owner, kind, country and city per network
            world = [
                _WorldNetwork(n.key, n.org, n.asn, n.kind, n.country, n.city, (*n.ipv4, *n.ipv6))
                for n in provider_zones.NETWORKS.values()
            ]
        except (AttributeError, TypeError):  # only the key -> CIDRs tables
            world = []
            for attr, kind in (
                ("PROVIDER_NETWORKS", "mail"),
                ("HOSTING_NETWORKS", "hosting"),
                ("ISP_NETWORKS", "isp"),
            ):
                for key, cidrs in (getattr(provider_zones, attr, None) or {}).items():
                    asn, org = REAL_ASNS.get(key, (64999, key))
                    world.append(
                        _WorldNetwork(key, org, asn, kind, "TR" if kind != "mail" else "US", "", tuple(cidrs))
                    )
        if world:
            return world
    # Without the DNS world: a few owners in reserved space (RFC 2544 / RFC 3849), private ASNs.
    rows = [
        ("microsoft", "Microsoft Corporation", "mail", "US", "Redmond"),
        ("google", "Google LLC", "mail", "US", "Mountain View"),
        ("cloudflare", "Cloudflare, Inc.", "cdn", "US", "San Francisco"),
        ("natro", "Natro Web Hizmetleri", "hosting", "TR", "Istanbul"),
        ("turhost", "Turhost Internet Hizmetleri", "hosting", "TR", "Istanbul"),
        ("radore", "Radore Veri Merkezi", "hosting", "TR", "Istanbul"),
        ("hetzner", "Hetzner Online GmbH", "hosting", "DE", "Falkenstein"),
        ("turk_telekom", "Turk Telekomunikasyon A.S.", "isp", "TR", "Ankara"),
    ]
    return [
        _WorldNetwork(key, org, 64900 + i, kind, cc, city, (f"198.18.{i}.0/24", f"2001:db8:{i + 1:x}::/48"))
        for i, (key, org, kind, cc, city) in enumerate(rows)
    ]


def demo_networks() -> list[NetworkRecord]:
    """The demo's network table, built from the sandbox DNS world's networks so that the
    addresses its MX and web hosts resolve to are found in the demo databases."""
    records: list[NetworkRecord] = []
    for net in _world():
        asn, as_name = REAL_ASNS.get(net.key, (net.asn, net.org))
        region, lat, lon, tz = _PLACES.get(net.city, (None, None, None, None))
        city = net.city or None
        data_centre = net.key in _DATA_CENTRE_KEYS
        for cidr in net.cidrs:
            records.append(
                NetworkRecord(
                    cidr=str(ipaddress.ip_network(cidr, strict=False)),
                    country_code=net.country,
                    country_name=_COUNTRY_NAMES.get(net.country, net.country),
                    region=region,
                    city=city,
                    latitude=lat,
                    longitude=lon,
                    time_zone=tz,
                    asn=asn,
                    as_name=as_name,
                    isp=net.org,
                    usage_type=_USAGE_BY_KIND.get(net.kind, "DCH"),
                    proxy_type="DCH" if data_centre else None,
                    provider=net.org if data_centre else None,
                )
            )
    return records


SANDBOX_FILES: Final = {
    "geoip_city": "GeoLite2-City.mmdb",
    "geoip_country": "GeoLite2-Country.mmdb",
    "geoip_asn": "GeoLite2-ASN.mmdb",
    "ip2location": "IP2LOCATION-DB26.BIN",
    "ip2proxy": "IP2PROXY-PX11.BIN",
}


def build_sandbox_databases(
    dest_dir: Path, networks: Sequence[NetworkRecord] | None = None, *, built: date = _DEFAULT_BUILT
) -> EnrichmentConfig:
    """Write all five databases into ``dest_dir``; returns an enabled ``EnrichmentConfig``.

    The BIN files are written as IP2Location DB26 and IP2Proxy PX11 (IPv4 + IPv6), so the demo
    shows every field Hunter reads.
    """
    table = list(networks) if networks is not None else demo_networks()
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    stamp = datetime(built.year, built.month, built.day, tzinfo=UTC)
    paths = {name: dest / filename for name, filename in SANDBOX_FILES.items()}
    write_geoip_mmdb(paths["geoip_city"], "City", table, build_time=stamp)
    write_geoip_mmdb(paths["geoip_country"], "Country", table, build_time=stamp)
    write_geoip_mmdb(paths["geoip_asn"], "ASN", table, build_time=stamp)
    write_ip2location_bin(paths["ip2location"], 26, table, ipv6=True, built=built)
    write_ip2proxy_bin(paths["ip2proxy"], 11, table, ipv6=True, built=built)
    return EnrichmentConfig(
        enabled=True,
        geoip_city=paths["geoip_city"],
        geoip_country=paths["geoip_country"],
        geoip_asn=paths["geoip_asn"],
        ip2location=paths["ip2location"],
        ip2proxy=paths["ip2proxy"],
    )


def with_cidr(rec: NetworkRecord, cidr: str) -> NetworkRecord:
    """The same facts for another network (handy for building big tables)."""
    return replace(rec, cidr=cidr)
