"""Each database on its own: IPv4 and IPv6 facts, raw debug answers, the official readers agree."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from pathlib import Path

import geoip2.database
import IP2Location
import IP2Proxy
import maxminddb
import pytest
from enrichment_world import NATRO, WORLD

from hunter.collect.ipintel import (
    IP2LOCATION_FIELDS,
    IP2PROXY_FIELDS,
    EnrichmentConfig,
    IpIntel,
    maxminddb_c_extension,
)
from hunter.sandbox.ipdb import NetworkRecord, write_ip2location_bin, write_ip2proxy_bin

MakeIntel = Callable[..., IpIntel]
Only = Callable[[EnrichmentConfig, str], EnrichmentConfig]


def test_c_extension_is_used(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    assert maxminddb_c_extension(), "maxminddb's C extension must be installed (MODE_MMAP_EXT)"
    assert hasattr(maxminddb, "extension")
    intel = make_intel(world_config)
    for status in intel.status()[:3]:
        assert status.reader == "maxminddb C extension (mmap)"


@pytest.mark.parametrize(
    ("source", "ip", "expected"),
    [
        ("geoip_city", "185.122.1.10", {"country": "TR", "city": "Istanbul", "region": "Istanbul"}),
        ("geoip_city", "2a0c:5c00::25", {"country": "TR", "city": "Istanbul", "region": "Istanbul"}),
        ("geoip_city", "5.24.128.9", {"country": "TR", "city": "Izmir", "region": "Izmir"}),  # nested /24
        ("geoip_city", "5.24.129.9", {"country": "TR", "city": "Ankara", "region": "Ankara"}),
        ("geoip_country", "45.88.69.1", {"country": "US"}),
        ("geoip_country", "2001:db8:ab::1", {"country": "DE"}),
        ("geoip_asn", "45.88.1.1", {"asn": 8075, "asn_org": "Microsoft Corporation"}),
        ("geoip_asn", "2a0c:5c00:0:1::1", {"asn": 34619, "asn_org": "Cizgi Telekomunikasyon Anonim Sirketi"}),
        (
            "ip2location",
            "185.122.3.255",
            {"country": "TR", "city": "Istanbul", "region": "Istanbul", "isp": "Natro Web Hizmetleri",
             "usage_type": "DCH", "asn": 34619, "asn_org": "Cizgi Telekomunikasyon Anonim Sirketi"},
        ),
        (
            "ip2location",
            "2001:db8:ab:ffff::1",
            {"country": "DE", "city": "Falkenstein", "isp": "Hetzner Online GmbH", "asn": 24940},
        ),
        ("ip2proxy", "45.88.2.2", {"is_proxy": 2, "proxy_type": "DCH", "provider": "Microsoft Azure"}),
        ("ip2proxy", "2001:db8:ab::9", {"is_proxy": 1, "proxy_type": "PUB", "provider": "OpenProxyList"}),
        ("ip2proxy", "185.122.0.1", {"is_proxy": 0, "proxy_type": None, "provider": None}),
    ],
)  # fmt: skip
def test_each_source_alone(
    world_config: EnrichmentConfig,
    make_intel: MakeIntel,
    only: Only,
    source: str,
    ip: str,
    expected: dict[str, object],
) -> None:
    intel = make_intel(only(world_config, source))
    facts = intel.lookup(ip)
    assert facts.errors == {}
    for key, value in expected.items():
        assert getattr(facts, key) == value, key
        if value is not None:
            assert facts.sources[key] == [source]


def test_outside_every_network_is_unknown_not_an_error(
    world_config: EnrichmentConfig, make_intel: MakeIntel
) -> None:
    facts = make_intel(world_config).lookup("198.51.100.7")
    assert facts.errors == {}
    assert facts.country is None
    assert facts.asn is None
    assert facts.isp is None
    assert facts.is_proxy == 0  # IP2Proxy covers IPv4: "not listed" is a fact
    assert facts.sources == {"is_proxy": ["ip2proxy"]}


@pytest.mark.parametrize(
    ("ip", "canonical"),
    [
        ("::ffff:185.122.0.9", "::ffff:185.122.0.9"),  # IPv4-mapped
        ("2002:b97a:0009::1", "2002:b97a:9::1"),  # 6to4 of 185.122.0.9
        (" 185.122.0.9 ", "185.122.0.9"),
    ],
)
def test_embedded_ipv4_is_looked_up_as_ipv4(
    world_config: EnrichmentConfig, make_intel: MakeIntel, ip: str, canonical: str
) -> None:
    facts = make_intel(world_config).lookup(ip)
    assert facts.ip == canonical
    assert (facts.country, facts.city, facts.asn, facts.isp) == (
        "TR",
        "Istanbul",
        34619,
        "Natro Web Hizmetleri",
    )
    # every source saw the IPv4 address, including the MMDBs whose IPv4 tree is at ::/96
    assert facts.sources["country"] == ["geoip_city", "ip2location"]


@pytest.mark.parametrize(
    "bad", ["", "not-an-ip", "1.2.3", "256.1.1.1", "01.2.3.4", "fe80::1%eth0", "1.2.3.4/24"]
)
def test_malformed_address_raises_value_error(
    world_config: EnrichmentConfig, make_intel: MakeIntel, bad: str
) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        make_intel(world_config).lookup(bad)


def test_lookup_source_gives_raw_answers(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    intel = make_intel(world_config)
    city = intel.lookup_source("geoip_city", "2a0c:5c00::1")
    assert city["found"] is True
    assert city["network"] == "2a0c:5c00::/48"
    assert city["record"]["city"]["names"]["en"] == "Istanbul"
    assert city["record"]["location"]["time_zone"] == "Europe/Istanbul"

    loc = intel.lookup_source("ip2location", "5.24.128.200")
    assert loc["range"] == "5.24.128.0 - 5.24.128.255"
    record = loc["record"]
    assert record["city"] == "Izmir"
    assert record["country_name"] == "Turkey"
    assert record["asn"] == "9121"
    assert record["as_name"] == "Turk Telekomunikasyon Anonim Sirketi"
    assert "zipcode" not in record  # "-" in the file means unknown: left out, not "-"

    proxy = intel.lookup_source("ip2proxy", "::ffff:203.0.113.5")
    assert proxy["looked_up_as"] == "203.0.113.5"
    assert proxy["record"]["proxy_type"] == "SES"
    assert proxy["record"]["is_proxy"] == 2

    assert intel.lookup_source("geoip_asn", "198.51.100.1")["found"] is False
    with pytest.raises(ValueError, match="unknown IP database source"):
        intel.lookup_source("maxmind", "1.1.1.1")


def test_status_describes_each_database(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    status = {s.source: s for s in make_intel(world_config).status()}
    assert [s.state for s in status.values()] == ["loaded"] * 5
    assert status["geoip_city"].database_type == "GeoLite2-City"
    assert status["geoip_asn"].database_type == "GeoLite2-ASN"
    assert status["ip2location"].database_type == "IP2Location DB26"
    assert status["ip2proxy"].database_type == "IP2Proxy PX11"
    for s in status.values():
        assert s.build_date is not None
        assert s.build_date.isoformat() == "2025-03-04"
        assert s.ip_versions == (4, 6)
        assert s.error is None
    assert status["geoip_city"].nodes
    assert status["geoip_city"].records is None
    assert status["ip2location"].records
    assert status["ip2location"].nodes is None
    as_dict = status["ip2proxy"].to_dict()
    assert as_dict["loaded"] is True
    assert as_dict["build_date"] == "2025-03-04"


# --------------------------------------------------------------------------------------------
# The official readers as oracles: our writer follows the published layout, our reader agrees


def test_geoip2_reads_our_mmdb(world_config: EnrichmentConfig) -> None:
    with geoip2.database.Reader(str(world_config.geoip_city), mode=maxminddb.MODE_MMAP_EXT) as reader:
        city = reader.city("2a0c:5c00::1")
        assert city.city.name == "Istanbul"
        assert city.country.iso_code == "TR"
        assert city.subdivisions.most_specific.name == "Istanbul"
        assert city.location.latitude == pytest.approx(41.0082)
        with pytest.raises(TypeError):  # geoip2's own type check: a City file is not an ASN file
            reader.asn("185.122.0.1")
    with geoip2.database.Reader(str(world_config.geoip_asn)) as reader:
        asn = reader.asn("45.88.0.1")
        assert (asn.autonomous_system_number, asn.autonomous_system_organization) == (
            8075,
            "Microsoft Corporation",
        )
    with geoip2.database.Reader(str(world_config.geoip_country)) as reader:
        assert reader.country("5.24.1.1").country.iso_code == "TR"


def _addresses(networks: tuple[NetworkRecord, ...], rng: random.Random) -> list[str]:
    out = ["0.0.0.1", "255.255.255.254", "::1", "ffff::1", "198.51.100.1", "2001:db8::1"]
    for rec in networks:
        net = rec.network
        size = min(net.num_addresses, 1 << 64)
        out += [str(net.network_address), str(net.broadcast_address)]
        out += [str(net.network_address + rng.randrange(size)) for _ in range(3)]
        if net.version == 4:  # just outside
            out.append(str(net.network_address - 1))
            if int(net.broadcast_address) < 2**32 - 1:
                out.append(str(net.broadcast_address + 1))
    return out


def _library_value(value: str | None) -> str | None:
    return None if value in (None, "-") else value


@pytest.mark.parametrize("db_type", sorted(IP2LOCATION_FIELDS))
def test_ip2location_every_type_matches_the_official_library(
    tmp_path: Path, make_intel: MakeIntel, db_type: int
) -> None:
    path = write_ip2location_bin(tmp_path / f"DB{db_type}.BIN", db_type, WORLD, ipv6=True)
    library = IP2Location.IP2Location(str(path))
    intel = make_intel(EnrichmentConfig(enabled=True, ip2location=path, cache_size=0))
    fields = IP2LOCATION_FIELDS[db_type]
    for ip in _addresses(WORLD, random.Random(db_type)):
        ours = intel.lookup_source("ip2location", ip).get("record", {})
        theirs = library.get_all(ip)
        assert ours.get("country") == _library_value(theirs.country_short), ip
        for name in ("region", "city", "isp", "usage_type", "domain"):
            if name in fields:
                assert ours.get(name) == _library_value(getattr(theirs, name)), (ip, name)
            else:
                assert name not in ours
                assert "unavailable" in str(getattr(theirs, name))  # the sentence we never store
        if "as_name" in fields:
            assert ours.get("as_name") == _library_value(theirs.as_name), ip
        if "latitude" in fields and ours.get("country"):
            assert ours["latitude"] == pytest.approx(float(theirs.latitude), abs=1e-5)
    library.close()


@pytest.mark.parametrize("px_type", sorted(IP2PROXY_FIELDS))
def test_ip2proxy_every_type_matches_the_official_library(
    tmp_path: Path, make_intel: MakeIntel, px_type: int
) -> None:
    path = write_ip2proxy_bin(tmp_path / f"PX{px_type}.BIN", px_type, WORLD, ipv6=True)
    library = IP2Proxy.IP2Proxy(str(path))
    intel = make_intel(EnrichmentConfig(enabled=True, ip2proxy=path, cache_size=0))
    for ip in _addresses(WORLD, random.Random(px_type)):
        facts = intel.lookup(ip)
        theirs = library.get_all(ip)
        assert facts.is_proxy == theirs["is_proxy"], ip
        if "proxy_type" in IP2PROXY_FIELDS[px_type]:
            assert facts.proxy_type == _library_value(theirs["proxy_type"]), ip
        if "provider" in IP2PROXY_FIELDS[px_type]:
            assert facts.provider == _library_value(theirs["provider"]), ip
    library.close()


def test_ipv4_only_bin_files(tmp_path: Path, make_intel: MakeIntel) -> None:
    loc = write_ip2location_bin(tmp_path / "DB11.BIN", 11, WORLD, ipv6=False)
    px = write_ip2proxy_bin(tmp_path / "PX2.BIN", 2, WORLD, ipv6=False)
    intel = make_intel(EnrichmentConfig(enabled=True, ip2location=loc, ip2proxy=px))
    assert {s.source: s.ip_versions for s in intel.status()}["ip2location"] == (4,)
    v4 = intel.lookup("185.122.0.1")
    assert (v4.country, v4.city) == ("TR", "Istanbul")
    v6 = intel.lookup("2a0c:5c00::1")
    assert v6.errors == {}
    assert v6.country is None
    assert v6.is_proxy is None  # an IPv6 address is not covered by an IPv4-only IP2Proxy file
    assert IP2Location.IP2Location(str(loc)).get_all("185.122.0.1").city == NATRO.city


def test_bin_lookup_agrees_with_brute_force_on_nested_and_tiny_networks(
    tmp_path: Path, make_intel: MakeIntel
) -> None:
    # Small IPv6 networks inside one /64 share the upper 64 bits: exercises the two-level search.
    rng = random.Random(5)
    networks: list[NetworkRecord] = []
    for i in range(120):
        base = 0x20010DB8000100010000000000000000 + (rng.randrange(1 << 48) << 16)
        prefix = rng.choice([112, 120, 124, 128, 100])
        cidr = f"{ipaddress.IPv6Address(base)}/{prefix}"
        networks.append(NetworkRecord(cidr=cidr, country_code="TR", city=f"C{i}", proxy_type="VPN"))
    for i in range(60):
        cidr = f"10.{i}.0.0/{rng.choice([16, 20, 24, 30, 32])}"
        networks.append(NetworkRecord(cidr=cidr, country_code="DE", city=f"V{i}", proxy_type="PUB"))
    networks.append(NetworkRecord(cidr="10.0.0.0/8", country_code="NL", city="Outer"))
    path = write_ip2location_bin(tmp_path / "DB3.BIN", 3, networks)
    intel = make_intel(EnrichmentConfig(enabled=True, ip2location=path, cache_size=0))
    library = IP2Location.IP2Location(str(path))

    def expected(ip: str) -> str | None:
        addr = ipaddress.ip_address(ip)
        best: tuple[int, str | None] = (-1, None)
        for rec in networks:
            net = rec.network
            if addr.version == net.version and addr in net and net.prefixlen > best[0]:
                best = (net.prefixlen, rec.city)
        return best[1]

    probes: list[str] = []
    for rec in networks:
        net = rec.network
        probes += [str(net.network_address), str(net.broadcast_address)]
        probes.append(str(net.network_address + rng.randrange(net.num_addresses)))
        if int(net.network_address) > 0:
            probes.append(str(net.network_address - 1))
    for ip in probes:
        city = intel.lookup(ip).city
        assert city == expected(ip), ip
        assert city == _library_value(library.get_all(ip).city), ip
