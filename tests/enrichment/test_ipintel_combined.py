"""The combined lookup: precedence between databases, ``sources``, missing columns, IP2Proxy codes."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from enrichment_world import BUILT, NATRO, WORLD, write_all

from hunter.collect.ipintel import EnrichmentConfig, IpFacts, IpIntel
from hunter.sandbox.ipdb import NetworkRecord, write_geoip_mmdb, write_ip2location_bin, write_ip2proxy_bin

MakeIntel = Callable[..., IpIntel]


def test_all_sources_agree(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    facts = make_intel(world_config).lookup("185.122.2.2")
    assert facts.country == "TR"
    assert facts.city == "Istanbul"
    assert facts.asn == 34619
    assert facts.isp == "Natro Web Hizmetleri"
    assert facts.usage_type == "DCH"
    assert facts.is_proxy == 0
    assert facts.sources == {
        "country": ["geoip_city", "ip2location"],  # geoip_country not asked: City already knew
        "city": ["geoip_city", "ip2location"],
        "region": ["geoip_city", "ip2location"],
        "asn": ["geoip_asn", "ip2location"],
        "asn_org": ["geoip_asn", "ip2location"],
        "isp": ["ip2location"],
        "usage_type": ["ip2location"],
        "is_proxy": ["ip2proxy"],
    }
    assert facts.errors == {}


def test_ip2proxy_corroborates_and_supplies_proxy_fields(
    world_config: EnrichmentConfig, make_intel: MakeIntel
) -> None:
    facts = make_intel(world_config).lookup("45.88.3.3")
    assert (facts.is_proxy, facts.proxy_type, facts.provider) == (2, "DCH", "Microsoft Azure")
    assert facts.sources["country"] == ["geoip_city", "ip2location", "ip2proxy"]
    assert facts.sources["asn"] == ["geoip_asn", "ip2location", "ip2proxy"]
    assert facts.sources["provider"] == ["ip2proxy"]


def _config(tmp_path: Path, **paths: Path) -> EnrichmentConfig:
    return EnrichmentConfig(enabled=True, **paths)  # type: ignore[arg-type]


def test_precedence_when_databases_disagree(tmp_path: Path, make_intel: MakeIntel) -> None:
    # GeoIP says Germany / Berlin / AS24940; IP2Location says Turkey / Istanbul / AS34619.
    geo = replace(NATRO, country_code="DE", country_name="Germany", region="Berlin", city="Berlin",
                  asn=24940, as_name="Hetzner Online GmbH")  # fmt: skip
    city = write_geoip_mmdb(tmp_path / "city.mmdb", "City", [geo])
    asn = write_geoip_mmdb(tmp_path / "asn.mmdb", "ASN", [geo])
    loc = write_ip2location_bin(tmp_path / "db26.bin", 26, [NATRO])
    facts = make_intel(_config(tmp_path, geoip_city=city, geoip_asn=asn, ip2location=loc)).lookup(
        "185.122.0.1"
    )
    assert (facts.country, facts.city, facts.region) == ("DE", "Berlin", "Berlin")
    assert (facts.asn, facts.asn_org) == (24940, "Hetzner Online GmbH")
    assert facts.isp == "Natro Web Hizmetleri"  # only IP2Location knows an ISP
    assert facts.sources["country"] == ["geoip_city"]
    assert facts.sources["city"] == ["geoip_city"]
    assert facts.sources["asn"] == ["geoip_asn"]
    assert facts.sources["isp"] == ["ip2location"]


def test_city_only_from_a_source_that_agrees_on_the_country(tmp_path: Path, make_intel: MakeIntel) -> None:
    country_only = replace(NATRO, country_code="DE", country_name="Germany", city=None, region=None)
    city = write_geoip_mmdb(tmp_path / "city.mmdb", "City", [country_only])
    loc = write_ip2location_bin(tmp_path / "db11.bin", 11, [NATRO])
    facts = make_intel(_config(tmp_path, geoip_city=city, ip2location=loc)).lookup("185.122.0.1")
    assert facts.country == "DE"
    assert facts.city is None  # never "Istanbul, DE"
    assert "city" not in facts.sources

    same_country = replace(NATRO, city=None, region=None)
    city = write_geoip_mmdb(tmp_path / "city-tr.mmdb", "City", [same_country])
    facts = make_intel(_config(tmp_path, geoip_city=city, ip2location=loc)).lookup("185.122.0.1")
    assert (facts.country, facts.city) == ("TR", "Istanbul")
    assert facts.sources["country"] == ["geoip_city", "ip2location"]
    assert facts.sources["city"] == ["ip2location"]


def test_country_database_is_the_fallback(tmp_path: Path, make_intel: MakeIntel) -> None:
    country = write_geoip_mmdb(tmp_path / "country.mmdb", "Country", [NATRO])
    loc = write_ip2location_bin(tmp_path / "db2.bin", 2, [replace(NATRO, cidr="185.122.0.0/23")])
    intel = make_intel(_config(tmp_path, geoip_country=country, ip2location=loc))
    inside = intel.lookup("185.122.0.1")  # IP2Location knows the country: Country DB not asked
    assert inside.sources["country"] == ["ip2location"]
    outside = intel.lookup("185.122.3.1")  # only the Country DB covers it
    assert outside.country == "TR"
    assert outside.sources["country"] == ["geoip_country"]
    assert intel.cache_stats.source_lookups["geoip_country"] == 1


def test_asn_org_comes_with_its_asn(tmp_path: Path, make_intel: MakeIntel) -> None:
    no_org = replace(NATRO, as_name=None)
    asn = write_geoip_mmdb(tmp_path / "asn.mmdb", "ASN", [no_org])
    loc = write_ip2location_bin(tmp_path / "db26.bin", 26, [NATRO])
    other = write_ip2proxy_bin(
        tmp_path / "px11.bin", 11, [replace(NATRO, asn=9121, as_name="Turk Telekom", proxy_type="VPN")]
    )
    facts = make_intel(_config(tmp_path, geoip_asn=asn, ip2location=loc, ip2proxy=other)).lookup(
        "185.122.0.1"
    )
    assert facts.asn == 34619
    assert facts.asn_org == "Cizgi Telekomunikasyon Anonim Sirketi"
    assert facts.sources["asn"] == ["geoip_asn", "ip2location"]
    assert facts.sources["asn_org"] == ["ip2location"]  # not IP2Proxy's org for another AS


def test_db11_never_yields_the_unavailable_sentence(tmp_path: Path, make_intel: MakeIntel) -> None:
    # LITE DB11 has no ISP, domain, usage type or ASN columns; IP2Proxy PX2 has no ISP either.
    loc = write_ip2location_bin(tmp_path / "IP2LOCATION-LITE-DB11.BIN", 11, WORLD)
    px = write_ip2proxy_bin(tmp_path / "IP2PROXY-LITE-PX2.BIN", 2, WORLD)
    intel = make_intel(_config(tmp_path, ip2location=loc, ip2proxy=px))
    for ip in ("185.122.0.1", "2a0c:5c00::1", "45.88.0.1", "198.51.100.1"):
        facts = intel.lookup(ip)
        for value in facts.to_dict().values():
            assert "unavailable" not in str(value).lower()
            assert "upgrade" not in str(value).lower()
            assert "NOT SUPPORTED" not in str(value)
        assert facts.isp is None
        assert facts.usage_type is None
        assert facts.asn is None
        raw = intel.lookup_source("ip2location", ip)
        assert "isp" not in raw.get("record", {})
        assert "usage_type" not in raw.get("record", {})
    facts = intel.lookup("185.122.0.1")
    assert (facts.country, facts.region, facts.city) == ("TR", "Istanbul", "Istanbul")


@pytest.mark.parametrize(
    ("ip", "is_proxy", "proxy_type"),
    [
        ("185.122.0.1", 0, None),  # not listed
        ("5.24.128.1", 1, "VPN"),  # listed proxy (in a nested network)
        ("2001:db8:ab::1", 1, "PUB"),
        ("45.88.0.1", 2, "DCH"),  # data centre
        ("203.0.113.1", 2, "SES"),  # search engine
    ],
)
def test_ip2proxy_codes(
    world_config: EnrichmentConfig, make_intel: MakeIntel, ip: str, is_proxy: int, proxy_type: str | None
) -> None:
    facts = make_intel(world_config).lookup(ip)
    assert facts.is_proxy == is_proxy
    assert facts.proxy_type == proxy_type


def test_ip2proxy_px1_lists_by_country_only(tmp_path: Path, make_intel: MakeIntel) -> None:
    px1 = write_ip2proxy_bin(tmp_path / "PX1.BIN", 1, WORLD)
    intel = make_intel(_config(tmp_path, ip2proxy=px1))
    assert intel.lookup("5.24.128.1").is_proxy == 1
    assert intel.lookup("185.122.0.1").is_proxy == 0
    assert intel.lookup("5.24.128.1").proxy_type is None  # PX1 has no proxy type column


def _point_row_past_eof(path: Path, row: int) -> None:
    """Damage one IPv4 row of a BIN file: its first string pointer points past the end."""
    data = bytearray(path.read_bytes())
    ncol = data[1]
    v4_base = struct.unpack_from("<I", data, 9)[0] - 1
    struct.pack_into("<I", data, v4_base + row * ncol * 4 + 4, len(data) + 1000)
    path.write_bytes(bytes(data))


def test_ip2proxy_lookup_failure_is_minus_one(tmp_path: Path, make_intel: MakeIntel) -> None:
    # 200 listed networks; one row (not among those checked at load) points past the end.
    networks = [
        NetworkRecord(cidr=f"10.{i // 256}.{i % 256}.0/24", country_code="TR", proxy_type="VPN")
        for i in range(200)
    ]
    path = write_ip2proxy_bin(tmp_path / "PX11.BIN", 11, networks)
    _point_row_past_eof(path, 2)  # row 0 is 0.0.0.0-9.255.255.255, row 2 is 10.0.1.0/24
    city = write_geoip_mmdb(
        tmp_path / "city.mmdb", "City", [NetworkRecord("10.0.0.0/8", "TR", city="Ankara")]
    )
    intel = make_intel(_config(tmp_path, ip2proxy=path, geoip_city=city))
    assert intel.status()[4].state == "loaded"
    facts = intel.lookup("10.0.1.9")
    assert facts.is_proxy == -1
    assert "ip2proxy" in facts.errors
    assert facts.sources["is_proxy"] == ["ip2proxy"]
    assert facts.city == "Ankara"  # the other source still answered
    assert intel.lookup("10.0.2.9").is_proxy == 1
    stats = intel.cache_stats
    assert stats.source_errors["ip2proxy"] == 1
    assert stats.source_lookups["ip2proxy"] == 2


def test_facts_round_trip_through_a_dict(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    facts = make_intel(world_config).lookup("2a0c:5c00::77")
    data = facts.to_dict()
    assert data["fetched_at"].endswith("+00:00")
    again = IpFacts.from_dict(data)
    assert again == facts
    assert isinstance(again.fetched_at, datetime)
    assert facts.known
    assert BUILT.year == 2025


def test_missing_ipv6_section_everywhere(tmp_path: Path, make_intel: MakeIntel) -> None:
    v4_only = [r for r in WORLD if r.network.version == 4]
    config = write_all(tmp_path, v4_only, ipv6=False)
    facts = make_intel(config).lookup("2a0c:5c00::1")
    assert facts.errors == {}
    assert facts.country is None
    assert facts.is_proxy is None


def test_network_kind_hint_for_the_classifier(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    intel = make_intel(world_config)
    assert intel.network_kind("185.122.0.1") == "hosting"  # AS34619 in the owners list
    assert intel.network_kind("45.88.68.1") == "cdn"
    assert intel.network_kind("5.24.1.1") == "isp"
    assert intel.network_kind("198.51.100.1") is None
    assert intel.network_kind("not an address") is None
