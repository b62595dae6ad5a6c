"""The fast paths: the MaxMind search tree flattened into intervals with each record decoded
once, the IPv4 /16 block index of the BIN readers, and the hand-unrolled merge. Each is checked
against the plain way (maxminddb decoding every lookup, brute force, the precedence table)."""

from __future__ import annotations

import ipaddress
import os
import random
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import maxminddb
import mmdb_writer
import pytest
from enrichment_world import WORLD

import hunter.collect.ipintel as ipintel
from hunter.collect.ipintel import EnrichmentConfig, IpFacts, IpIntel
from hunter.sandbox.ipdb import NetworkRecord, write_geoip_mmdb, write_ip2location_bin

MakeIntel = Callable[..., IpIntel]


@pytest.fixture
def never_auto_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers index only when asked: an unindexed IpIntel is the oracle."""
    monkeypatch.setattr(ipintel, "_INDEX_AFTER", 10**12)


def _networks(seed: int) -> list[NetworkRecord]:
    """WORLD plus random IPv4 / IPv6 networks of every length, some nested, some adjacent with
    the same record (merged into one interval), some with a record of their own."""
    rng = random.Random(seed)
    out = list(WORLD)
    for i in range(150):
        plen = rng.choice([8, 12, 16, 17, 23, 24, 25, 28, 31, 32])
        v4 = ipaddress.IPv4Network((rng.getrandbits(32), plen), strict=False)
        city = rng.choice(["Ankara", "Izmir", f"Town {i}"])
        out.append(NetworkRecord(cidr=str(v4), country_code=rng.choice(["TR", "DE"]), city=city, asn=i + 1))
    for i in range(60):
        plen = rng.choice([16, 29, 32, 48, 56, 64, 100, 128])
        v6 = ipaddress.IPv6Network(((0x2A0 << 116) | rng.getrandbits(116), plen), strict=False)
        out.append(NetworkRecord(cidr=str(v6), country_code="NL", city=f"Dorp {i % 7}", asn=1000 + i))
    return out


def _probes(networks: list[NetworkRecord], seed: int) -> list[str]:
    rng = random.Random(seed)
    out = ["0.0.0.0", "255.255.255.255", "::", "::1", "::1.2.3.4", "::ffff:5.24.128.1", "ffff::1"]
    out += ["2002:518:8001::1", "2a0c:5c00::1", "5.24.127.255", "5.24.129.0"]
    for rec in networks:
        net = rec.network
        first, last = int(net.network_address), int(net.broadcast_address)
        cls = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
        top = (1 << net.max_prefixlen) - 1
        for num in (first, last, rng.randint(first, last), first - 1, last + 1):
            if 0 <= num <= top:
                out.append(str(cls(num)))
    out += [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(300)]
    out += [str(ipaddress.IPv6Address((0x2A0 << 116) | rng.getrandbits(116))) for _ in range(100)]
    return out


def _comparable(facts: IpFacts) -> dict[str, Any]:
    data = facts.to_dict()
    del data["fetched_at"]
    return data


@pytest.fixture
def record_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Write MMDB files with this record size (mmdb-writer picks the smallest that fits)."""
    size: int = request.param
    original = mmdb_writer.TreeWriter._adjust_record_size

    def adjust(self: Any) -> None:
        original(self)
        self.record_size = size
        self.data_offset = size * 2 / 8 * self._node_counter

    monkeypatch.setattr(mmdb_writer.TreeWriter, "_adjust_record_size", adjust)
    return size


@pytest.mark.usefixtures("never_auto_index")
@pytest.mark.parametrize("record_size", [24, 28, 32], indirect=True)
@pytest.mark.parametrize("ipv6", [True, False])
def test_indexed_lookups_equal_decoding_every_record(
    tmp_path: Path, make_intel: MakeIntel, record_size: int, ipv6: bool
) -> None:
    networks = [r for r in _networks(record_size) if ipv6 or r.network.version == 4]
    config = EnrichmentConfig(
        enabled=True,
        geoip_city=write_geoip_mmdb(tmp_path / "city.mmdb", "City", networks),
        geoip_country=write_geoip_mmdb(tmp_path / "country.mmdb", "Country", networks),
        geoip_asn=write_geoip_mmdb(tmp_path / "asn.mmdb", "ASN", networks),
        cache_size=0,
    )
    assert maxminddb.open_database(str(config.geoip_city)).metadata().record_size == record_size
    fast = make_intel(config)
    fast.build_indexes()
    plain = make_intel(config)
    for source in ("geoip_city", "geoip_country", "geoip_asn"):
        assert fast._readers[source].indexed  # type: ignore[union-attr]
        assert not plain._readers[source].indexed  # type: ignore[union-attr]
    for ip in _probes(networks, record_size):
        assert _comparable(fast.lookup(ip)) == _comparable(plain.lookup(ip)), ip
    # many networks, few records: each record was decoded once
    city_reader = fast._readers["geoip_city"]
    assert isinstance(city_reader, ipintel._MmdbReader)
    assert 0 < len(city_reader._by_record) < len(networks)


def test_the_index_is_built_on_the_readers_nth_lookup(
    world_config: EnrichmentConfig, make_intel: MakeIntel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ipintel, "_INDEX_AFTER", 3)
    intel = make_intel(world_config)
    reader = intel._readers["geoip_city"]
    assert isinstance(reader, ipintel._MmdbReader)
    first = [intel.lookup(ip) for ip in ("185.122.0.1", "5.24.128.9")]
    assert not reader.indexed  # a CLI lookup of a few addresses never pays for the index
    third = intel.lookup("2a0c:5c00::25")
    assert reader.indexed
    assert (first[0].city, first[1].city, third.city) == ("Istanbul", "Izmir", "Istanbul")
    assert intel.lookup("5.24.129.9").city == "Ankara"
    assert intel.lookup("185.122.0.1").sources == first[0].sources


def test_record_cache_bound(
    world_config: EnrichmentConfig, make_intel: MakeIntel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ipintel, "_RECORD_CACHE_MAX", 1)
    intel = make_intel(world_config)
    intel.build_indexes()
    for _ in range(2):  # past the bound, records are decoded each time: same answers
        assert intel.lookup("185.122.0.1").city == "Istanbul"
        assert intel.lookup("5.24.128.9").city == "Izmir"
        assert intel.lookup("45.88.0.1").city == "Redmond"
    reader = intel._readers["geoip_city"]
    assert isinstance(reader, ipintel._MmdbReader)
    assert len(reader._by_record) == 1


def test_a_file_replaced_after_opening_is_not_indexed(
    tmp_path: Path, make_intel: MakeIntel, never_auto_index: None
) -> None:
    path = write_geoip_mmdb(tmp_path / "city.mmdb", "City", WORLD)
    intel = make_intel(EnrichmentConfig(enabled=True, geoip_city=path))
    moved = [NetworkRecord(cidr="185.122.0.0/22", country_code="DE", city="Berlin")]
    write_geoip_mmdb(tmp_path / "new.mmdb", "City", moved)
    os.replace(tmp_path / "new.mmdb", path)
    intel.build_indexes()  # the tree on disk is no longer the one maxminddb serves
    reader = intel._readers["geoip_city"]
    assert isinstance(reader, ipintel._MmdbReader)
    assert not reader.indexed
    assert intel.lookup("185.122.0.1").city == "Istanbul"  # the open copy, until the reload
    assert intel.reload_if_changed()
    intel.build_indexes()
    assert intel._readers["geoip_city"].indexed  # type: ignore[union-attr]
    assert intel.lookup("185.122.0.9").city == "Berlin"


def _left_record_offset(path: Path, ip: str, depth: int) -> tuple[int, int]:
    """(byte offset of the left record, node number) of the node ``depth`` bits down the path
    of ``ip`` in an IPv4 tree of 24-bit records."""
    meta = maxminddb.open_database(str(path)).metadata()
    assert (meta.ip_version, meta.record_size) == (4, 24)
    data = path.read_bytes()
    num = int(ipaddress.IPv4Address(ip))
    node = 0
    for bit in range(depth):
        offset = node * 6 + (3 if num >> (31 - bit) & 1 else 0)
        node = int.from_bytes(data[offset : offset + 3], "big")
        assert node < meta.node_count
    return node * 6, node


def test_a_damaged_tree_is_not_indexed_and_lookups_behave_as_before(
    tmp_path: Path, make_intel: MakeIntel, never_auto_index: None
) -> None:
    networks = [
        NetworkRecord(cidr="10.0.0.0/24", country_code="TR", city="Ankara"),
        NetworkRecord(cidr="10.0.128.0/24", country_code="TR", city="Izmir"),
    ]
    path = write_geoip_mmdb(tmp_path / "city.mmdb", "City", networks)
    offset, node = _left_record_offset(path, "10.0.0.0", 16)
    data = bytearray(path.read_bytes())
    data[offset : offset + 3] = node.to_bytes(3, "big")  # 10.0.0.0/17 loops back to its parent
    path.write_bytes(bytes(data))
    intel = make_intel(EnrichmentConfig(enabled=True, geoip_city=path, cache_size=0))
    before = [_comparable(intel.lookup(ip)) for ip in ("10.0.0.5", "10.0.127.5", "10.0.128.5")]
    intel.build_indexes()
    assert not intel._readers["geoip_city"].indexed  # type: ignore[union-attr]
    after = [_comparable(intel.lookup(ip)) for ip in ("10.0.0.5", "10.0.127.5", "10.0.128.5")]
    assert after == before  # whatever libmaxminddb makes of the loop, it still decides
    assert after[2]["city"] == "Izmir"


def test_tree_records_of_every_size() -> None:
    values = [0x0ABCDEF1, 0x0FEDCBA9, 0x00000001, 0x0FFFFFFF]  # two nodes, 28 bits at most
    raw28 = b"".join(
        left.to_bytes(4, "big")[1:] + bytes([(left >> 24) << 4 | right >> 24]) + right.to_bytes(4, "big")[1:]
        for left, right in (values[:2], values[2:])
    )
    raw24 = b"".join((v & 0xFFFFFF).to_bytes(3, "big") for v in values)
    raw32 = b"".join((v | 0xF0000000).to_bytes(4, "big") for v in values)
    cases = ((raw24, 24, [v & 0xFFFFFF for v in values]), (raw28, 28, values))
    for raw, size, expected in (*cases, (raw32, 32, [v | 0xF0000000 for v in values])):
        records = ipintel._tree_records(raw + b"\xff" * 9, len(raw), size)  # data follows the tree
        assert records is not None
        assert list(records) == expected, size
    assert ipintel._tree_records(b"\x00" * 10, 10, 20) is None


# --------------------------------------------------------------------------------------------
# BIN: the /16 block index


def test_bin_block_index_at_16_bit_boundaries(tmp_path: Path, make_intel: MakeIntel) -> None:
    networks = [
        NetworkRecord(cidr="10.0.0.0/8", country_code="NL", city="Outer"),
        NetworkRecord(cidr="10.1.255.0/24", country_code="DE", city="Edge"),
        NetworkRecord(cidr="10.4.0.0/14", country_code="DE", city="Wide"),  # spans four /16s
        NetworkRecord(cidr="10.9.0.0/32", country_code="TR", city="First"),
        NetworkRecord(cidr="10.9.255.255/32", country_code="TR", city="Last"),
        NetworkRecord(cidr="255.255.255.0/24", country_code="TR", city="Top"),
    ]
    path = write_ip2location_bin(tmp_path / "DB3.BIN", 3, networks)
    intel = make_intel(EnrichmentConfig(enabled=True, ip2location=path, cache_size=0))

    def expected(ip: str) -> str | None:
        addr = ipaddress.ip_address(ip)
        inside = [r for r in networks if addr in r.network]
        return max(inside, key=lambda r: r.network.prefixlen).city if inside else None

    probes = ["0.0.0.0", "9.255.255.255", "11.0.0.0", "255.255.255.254", "255.255.255.255"]
    for high in range(0, 12):
        base = (10 << 24) | (high << 16)
        probes += [str(ipaddress.IPv4Address(base + d)) for d in (-1, 0, 1, 0xFFFF) if base + d >= 0]
    for ip in probes:
        assert intel.lookup(ip).city == expected(ip), ip


# --------------------------------------------------------------------------------------------
# The merge against the precedence table


_PLAN: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("country", ("geoip_city", "ip2location", "geoip_country", "ip2proxy"), ""),
    ("city", ("geoip_city", "ip2location", "ip2proxy"), "same country"),
    ("region", ("geoip_city", "ip2location", "ip2proxy"), "same country"),
    ("asn", ("geoip_asn", "ip2location", "ip2proxy"), ""),
    ("asn_org", ("geoip_asn", "ip2location", "ip2proxy"), "same asn"),
    ("isp", ("ip2location", "ip2proxy"), ""),
    ("usage_type", ("ip2location", "ip2proxy"), ""),
    ("is_proxy", ("ip2proxy",), ""),
    ("proxy_type", ("ip2proxy",), ""),
    ("provider", ("ip2proxy",), ""),
)
_SOURCE_FIELDS = {
    "geoip_city": ("country", "region", "city"),
    "ip2location": ("country", "region", "city", "asn", "asn_org", "isp", "usage_type"),
    "geoip_country": ("country",),
    "geoip_asn": ("asn", "asn_org"),
    "ip2proxy": ipintel._FACT_FIELDS,
}
_VALUES: dict[str, list[Any]] = {
    "country": ["TR", "tr", "DE"],
    "region": ["Istanbul", "ISTANBUL", "Ankara"],
    "city": ["Istanbul", "istanbul", "Izmir"],
    "asn": [34619, 9121],
    "asn_org": ["Natro", "NATRO", "Turk Telekom"],
    "isp": ["Natro", "natro", "Superonline"],
    "usage_type": ["DCH", "dch", "ISP"],
    "is_proxy": [0, 1, 2],
    "proxy_type": ["VPN", "DCH"],
    "provider": ["ExampleVPN"],
}


def _reference(per: dict[str, dict[str, Any]], errors: dict[str, str]) -> dict[str, Any]:
    """The precedence table read literally: first source with a value wins, the others that
    agree (strings: ignoring case) are listed after it."""
    values: dict[str, Any] = {}
    sources: dict[str, list[str]] = {}
    for field, order, rule in _PLAN:
        for name in order:
            value = per.get(name, {}).get(field)
            if value is None:
                continue
            own, country = per[name].get("country"), values.get("country")
            if rule == "same country" and None not in (own, country) and own != country:
                continue
            if rule == "same asn" and values.get("asn") is not None and per[name].get("asn") != values["asn"]:
                continue
            if field not in sources:
                values[field] = value
                sources[field] = [name]
            elif value == values[field] or (
                isinstance(value, str)
                and isinstance(values[field], str)
                and value.casefold() == values[field].casefold()
            ):
                sources[field].append(name)
    if "ip2proxy" in errors:
        values["is_proxy"] = -1
        sources["is_proxy"] = ["ip2proxy"]
    return {**{f: values.get(f) for f in ipintel._FACT_FIELDS}, "sources": sources}


def test_merge_follows_the_precedence_table() -> None:
    rng = random.Random(42)
    for _ in range(5000):
        per: dict[str, dict[str, Any]] = {}
        for source, fields in _SOURCE_FIELDS.items():
            if rng.random() < 0.2:
                continue  # not configured, or failed
            per[source] = {f: rng.choice([*_VALUES[f], None]) for f in fields if rng.random() < 0.8}
        errors = (
            {"ip2proxy": "DatabaseError: truncated"} if "ip2proxy" not in per and rng.random() < 0.3 else {}
        )
        city, loc, fallback, asn, proxy = (
            tuple(per[s].get(f) for f in ipintel._FACT_FIELDS) if s in per else ipintel._NOTHING
            for s in ipintel._QUERY_ORDER
        )
        facts = ipintel._merge("192.0.2.1", city, loc, fallback, asn, proxy, errors, None)  # type: ignore[arg-type]
        merged = {**{f: getattr(facts, f) for f in ipintel._FACT_FIELDS}, "sources": facts.sources}
        assert merged == _reference(per, errors), per
        assert list(facts.sources) == [f for f, _, _ in _PLAN if f in facts.sources]  # same key order


def test_facts_are_plain_frozen_dataclasses(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    facts = make_intel(world_config).lookup("185.122.0.1")
    assert type(facts) is IpFacts
    with pytest.raises(AttributeError):
        facts.city = "Ankara"  # type: ignore[misc]
    assert facts == IpFacts.from_dict(facts.to_dict())
    assert struct.calcsize("I") == 4  # the readers' arrays assume a 4-byte "I"
