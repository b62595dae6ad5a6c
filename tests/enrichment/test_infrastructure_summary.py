"""The pure infrastructure summary and the network owners list."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from hunter.collect.ipintel import IpIntel
from hunter.core.infrastructure import (
    KINDS,
    NetworkOwner,
    default_network_owners,
    infrastructure_summary,
    load_network_owners,
    network_kind,
    network_owner,
)
from hunter.sandbox.ipdb import build_sandbox_databases, demo_networks

MakeIntel = Callable[..., IpIntel]

NATRO_MAIL = {"ip": "185.122.0.5", "asn": 34619, "asn_org": "Cizgi Telekomunikasyon", "city": "Istanbul",
              "country": "TR", "is_proxy": 0, "usage_type": "DCH"}  # fmt: skip
NATRO_MAIL_2 = {**NATRO_MAIL, "ip": "185.122.0.6"}
CLOUDFLARE_WEB = {"ip": "45.88.68.1", "asn": 13335, "asn_org": "Cloudflare, Inc.", "city": "San Francisco",
                  "country": "US", "is_proxy": 0}  # fmt: skip


def test_owners_list_is_valid_and_big_enough() -> None:
    owners = default_network_owners()
    assert len(owners) >= 40
    assert {o.kind for o in owners.values()} <= set(KINDS)
    assert sum(1 for o in owners.values() if o.country == "TR") >= 15
    expected = {34619: "Natro", 9121: "Türk Telekom", 34984: "Superonline", 16135: "Turkcell",
                24940: "Hetzner", 16276: "OVHcloud", 13335: "Cloudflare", 26496: "GoDaddy",
                16509: "Amazon AWS", 8075: "Microsoft", 15169: "Google", 42926: "Radore"}  # fmt: skip
    for asn, name in expected.items():
        assert owners[asn].name == name
    # every entry in the YAML is a plain int key (no quoted numbers that would not match)
    raw = yaml.safe_load(Path("src/hunter/data/network_owners.yaml").read_text(encoding="utf-8"))
    assert all(isinstance(k, int) for k in raw["owners"])


@pytest.mark.parametrize(
    ("asn", "usage", "kind"),
    [
        (34619, None, "hosting"),
        (13335, "DCH", "cdn"),  # the owners list wins over the usage type
        (9121, None, "isp"),
        (8075, None, "cloud"),
        (13238, None, "mail_provider"),
        (64512, "DCH", "hosting"),  # unlisted ASN: IP2Location usage type
        (None, "ISP/MOB", "isp"),
        (None, "COM", "business"),
        (None, "CDN", "cdn"),
        (64512, None, None),
        (None, "RSV", None),
        (None, None, None),
    ],
)
def test_network_kind(asn: int | None, usage: str | None, kind: str | None) -> None:
    assert network_kind(asn, usage) == kind


def test_owner_lookup_accepts_a_private_table() -> None:
    table = load_network_owners({"owners": {64512: {"name": "Lab", "kind": "hosting", "country": "tr"}}})
    assert table[64512] == NetworkOwner(64512, "Lab", "hosting", "TR")
    assert network_owner(64512, table) == table[64512]
    assert network_kind(34619, owners=table) is None


@pytest.mark.parametrize(
    "bad",
    [
        "owners: []",
        "owners: {AS1: {name: x, kind: hosting, country: TR}}",
        "owners: {1: {name: x, kind: bakery, country: TR}}",
        "owners: {1: {name: '', kind: isp, country: TR}}",
        "owners: {1: {name: x, kind: isp, country: Turkey}}",
        "- just a list",
    ],
)
def test_owner_loader_rejects_bad_data(bad: str) -> None:
    with pytest.raises(ValueError, match="network owners"):
        load_network_owners(bad)


def test_summary_turkish_and_english() -> None:
    mail, web = [NATRO_MAIL, NATRO_MAIL_2], [CLOUDFLARE_WEB]
    assert (
        infrastructure_summary(mail, web, "tr")
        == "Posta: Natro (AS34619), İstanbul TR; web: Cloudflare arkasında"
    )
    assert (
        infrastructure_summary(mail, web, "en")
        == "Mail hosted by Natro (AS34619) in Istanbul, TR; web behind Cloudflare"
    )


def test_summary_variants() -> None:
    hetzner = {"ip": "88.198.1.1", "asn": 24940, "city": "Falkenstein", "country": "DE"}
    assert infrastructure_summary([NATRO_MAIL], [hetzner], "tr") == (
        "Posta: Natro (AS34619), İstanbul TR; web: Hetzner (AS24940), Falkenstein DE"
    )
    assert infrastructure_summary([NATRO_MAIL], [hetzner], "en") == (
        "Mail hosted by Natro (AS34619) in Istanbul, TR; web hosted by Hetzner (AS24940) in Falkenstein, DE"
    )
    assert (
        infrastructure_summary([NATRO_MAIL], [NATRO_MAIL_2], "tr")
        == "Posta: Natro (AS34619), İstanbul TR; web: aynı ağda"
    )
    assert infrastructure_summary([NATRO_MAIL], [NATRO_MAIL_2], "en") == (
        "Mail hosted by Natro (AS34619) in Istanbul, TR; web on the same network"
    )
    assert infrastructure_summary([], [CLOUDFLARE_WEB], "tr") == "Web: Cloudflare arkasında"
    assert infrastructure_summary([], [CLOUDFLARE_WEB], "en") == "Web behind Cloudflare"
    # unlisted ASN: the database's organisation name; two networks: both named
    izmir = {"ip": "203.0.113.9", "asn": 64512, "asn_org": "Ornek Hosting", "city": "Izmir", "country": "TR"}
    assert infrastructure_summary([NATRO_MAIL, izmir], [], "tr") == (
        "Posta: Natro (AS34619) ve Ornek Hosting (AS64512), İstanbul TR / İzmir TR"
    )
    assert infrastructure_summary([NATRO_MAIL, izmir], [], "en") == (
        "Mail hosted by Natro (AS34619) and Ornek Hosting (AS64512) in Istanbul, TR / Izmir, TR"
    )
    # location only
    assert infrastructure_summary([{"ip": "192.0.2.1", "city": "Ankara", "country": "TR"}], [], "tr") == (
        "Posta sunucuları: Ankara TR"
    )
    assert infrastructure_summary([{"ip": "192.0.2.1", "country": "TR"}], [], "en") == "Mail servers in TR"


def test_proxy_flags_are_stated_as_facts() -> None:
    unknown_dc = {"ip": "203.0.113.9", "asn": 64512, "asn_org": "Ornek Ltd", "country": "TR", "city": "Izmir",
                  "usage_type": "COM", "is_proxy": 2, "proxy_type": "DCH"}  # fmt: skip
    vpn_web = {**CLOUDFLARE_WEB, "ip": "198.51.100.4", "asn": 64513, "asn_org": "Tunnel Co", "is_proxy": 1,
               "proxy_type": "VPN"}  # fmt: skip
    tr = infrastructure_summary([unknown_dc], [vpn_web], "tr")
    en = infrastructure_summary([unknown_dc], [vpn_web], "en")
    assert tr == (
        "Posta: Ornek Ltd (AS64512), İzmir TR; web: Tunnel Co (AS64513), San Francisco US. "
        "IP2Proxy posta sunucusu 203.0.113.9 adresini veri merkezi olarak listeliyor. "
        "IP2Proxy web sunucusu 198.51.100.4 adresini VPN olarak listeliyor"
    )
    assert en == (
        "Mail hosted by Ornek Ltd (AS64512) in Izmir, TR; "
        "web hosted by Tunnel Co (AS64513) in San Francisco, US. "
        "IP2Proxy lists the mail server 203.0.113.9 as a data centre. "
        "IP2Proxy lists the web server 198.51.100.4 as a VPN"
    )
    for text in (tr, en):
        for word in ("suspicious", "şüpheli", "malicious", "risk", "fraud"):
            assert word not in text.lower()
    # a data-centre listing of a known hosting network adds nothing
    natro_dc = {**NATRO_MAIL, "is_proxy": 2, "proxy_type": "DCH"}
    assert infrastructure_summary([natro_dc], [], "en") == "Mail hosted by Natro (AS34619) in Istanbul, TR"
    # only the facts: no mail or web owner known, just the listing
    assert infrastructure_summary([{"ip": "192.0.2.7", "is_proxy": 1, "proxy_type": "TOR"}], [], "en") == (
        "IP2Proxy lists the mail server 192.0.2.7 as a Tor exit node"
    )


def test_nothing_known_gives_none() -> None:
    assert infrastructure_summary([], [], "tr") is None
    assert infrastructure_summary([], [], "en") is None
    empty = {"ip": "192.0.2.1", "country": None, "city": None, "asn": None, "is_proxy": 0}
    assert infrastructure_summary([empty], [empty], "tr") is None
    assert infrastructure_summary([empty], [], "en") is None
    with pytest.raises(ValueError, match="language"):
        infrastructure_summary([NATRO_MAIL], [], "de")  # type: ignore[arg-type]


def _host(cidr: str, n: int = 5) -> str:
    return str(ipaddress.ip_network(cidr)[n])


def test_summary_from_live_lookups_of_the_demo_world(tmp_path: Path, make_intel: MakeIntel) -> None:
    from hunter.sandbox.provider_zones import HOSTING_NETWORKS, PROVIDER_NETWORKS

    config = build_sandbox_databases(tmp_path, demo_networks())
    intel = make_intel(config)
    assert all(s.loaded for s in intel.status())
    natro_v4 = next(c for c in HOSTING_NETWORKS["natro"] if ":" not in c)
    natro_v6 = next(c for c in HOSTING_NETWORKS["natro"] if ":" in c)
    mail = [intel.lookup(_host(natro_v4, 10)).to_dict(), intel.lookup(_host(natro_v6, 10)).to_dict()]
    web = [intel.lookup(_host(PROVIDER_NETWORKS["cloudflare"][0]))]
    assert mail[0]["asn"] == 34619
    assert mail[1]["asn"] == 34619
    assert mail[0]["city"] == "Istanbul"
    assert (
        infrastructure_summary(mail, web, "tr")
        == "Posta: Natro (AS34619), İstanbul TR; web: Cloudflare arkasında"
    )
    microsoft = intel.lookup(_host(next(c for c in PROVIDER_NETWORKS["microsoft"] if ":" in c)))
    assert (microsoft.asn, microsoft.is_proxy, microsoft.proxy_type) == (8075, 2, "DCH")
    turhost = intel.lookup(_host(HOSTING_NETWORKS["turhost"][0]))
    assert turhost.isp  # no real ASN known for Turhost: the world's own (private-use) ASN
    assert turhost.asn is not None
    assert 64512 <= turhost.asn <= 65534
    assert network_kind(turhost.asn, turhost.usage_type) == "hosting"
