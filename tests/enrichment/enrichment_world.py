"""The enrichment tests' synthetic world and helpers (imported by conftest and the tests).

Every database is built offline with the product's own writers (hunter.sandbox.ipdb); names are
ASCII so the official IP2Location / IP2Proxy libraries (which decode Latin-1) can serve as
oracles for the BIN files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hunter.collect.ipintel import EnrichmentConfig
from hunter.sandbox.ipdb import NetworkRecord, write_geoip_mmdb, write_ip2location_bin, write_ip2proxy_bin

NATRO = NetworkRecord(
    cidr="185.122.0.0/22",
    country_code="TR",
    country_name="Turkey",
    region="Istanbul",
    city="Istanbul",
    latitude=41.0082,
    longitude=28.9784,
    time_zone="Europe/Istanbul",
    zip_code="34000",
    asn=34619,
    as_name="Cizgi Telekomunikasyon Anonim Sirketi",
    isp="Natro Web Hizmetleri",
    domain="natro.com",
    usage_type="DCH",
)
WORLD: tuple[NetworkRecord, ...] = (
    NATRO,
    replace(NATRO, cidr="2a0c:5c00::/48"),
    NetworkRecord(
        cidr="45.88.68.0/22", country_code="US", country_name="United States", region="California",
        city="San Francisco", asn=13335, as_name="Cloudflare, Inc.", isp="Cloudflare", usage_type="CDN",
    ),
    NetworkRecord(
        cidr="45.88.0.0/22", country_code="US", country_name="United States", region="Washington",
        city="Redmond", asn=8075, as_name="Microsoft Corporation", isp="Microsoft Corporation",
        usage_type="DCH", proxy_type="DCH", provider="Microsoft Azure",
    ),
    NetworkRecord(
        cidr="5.24.0.0/16", country_code="TR", country_name="Turkey", region="Ankara", city="Ankara",
        asn=9121, as_name="Turk Telekomunikasyon Anonim Sirketi", isp="Turk Telekom", usage_type="ISP",
    ),
    # More specific than 5.24.0.0/16: wins inside it, in every format.
    NetworkRecord(
        cidr="5.24.128.0/24", country_code="TR", country_name="Turkey", region="Izmir", city="Izmir",
        asn=9121, as_name="Turk Telekomunikasyon Anonim Sirketi", isp="Turk Telekom", usage_type="ISP",
        proxy_type="VPN", provider="ExampleVPN",
    ),
    NetworkRecord(
        cidr="203.0.113.0/24", country_code="US", country_name="United States", region="California",
        city="Mountain View", asn=15169, as_name="Google LLC", isp="Google LLC", usage_type="SES",
        proxy_type="SES", provider="Googlebot",
    ),
    NetworkRecord(
        cidr="2001:db8:ab::/48", country_code="DE", country_name="Germany", region="Saxony",
        city="Falkenstein", asn=24940, as_name="Hetzner Online GmbH", isp="Hetzner Online GmbH",
        usage_type="DCH", proxy_type="PUB", provider="OpenProxyList",
    ),
)  # fmt: skip

BUILT = datetime(2025, 3, 4, tzinfo=UTC)


def write_all(
    directory: Path,
    networks: Sequence[NetworkRecord] = WORLD,
    *,
    ip2location_type: int = 26,
    ip2proxy_type: int = 11,
    ipv6: bool = True,
) -> EnrichmentConfig:
    directory.mkdir(parents=True, exist_ok=True)
    config = EnrichmentConfig(
        enabled=True,
        geoip_city=directory / "GeoLite2-City.mmdb",
        geoip_country=directory / "GeoLite2-Country.mmdb",
        geoip_asn=directory / "GeoLite2-ASN.mmdb",
        ip2location=directory / f"IP2LOCATION-DB{ip2location_type}.BIN",
        ip2proxy=directory / f"IP2PROXY-PX{ip2proxy_type}.BIN",
    )
    assert config.geoip_city
    assert config.geoip_country
    assert config.geoip_asn
    assert config.ip2location
    assert config.ip2proxy
    write_geoip_mmdb(config.geoip_city, "City", networks, build_time=BUILT)
    write_geoip_mmdb(config.geoip_country, "Country", networks, build_time=BUILT)
    write_geoip_mmdb(config.geoip_asn, "ASN", networks, build_time=BUILT)
    write_ip2location_bin(config.ip2location, ip2location_type, networks, ipv6=ipv6, built=BUILT.date())
    write_ip2proxy_bin(config.ip2proxy, ip2proxy_type, networks, ipv6=ipv6, built=BUILT.date())
    return config


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
