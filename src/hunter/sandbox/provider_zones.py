"""Infrastructure the synthetic population points at: mail clouds, gateways, hosting, DNS hosts.

All addresses are invented. Every network below is a fixed, made-up allocation (with
private-use ASNs) so that the sandbox DNS world and the synthetic GeoIP / IP2Location test
databases can be built from the same table and agree with each other. Nothing here is a copy of
a provider's real address list.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hunter.sandbox.zones import ZoneStore

__all__ = [
    "AMAZON_REGIONS",
    "CLOUDFLARE_NS_NAMES",
    "HOSTING_NETWORKS",
    "ISP_NETWORKS",
    "MX_NETWORK",
    "NAMESERVERS",
    "NETWORKS",
    "PROVIDER_MX",
    "PROVIDER_NETWORKS",
    "PROVIDER_ZONES",
    "SENDER_INCLUDES",
    "SPF_INCLUDE",
    "Network",
    "address_records",
    "dashed",
    "fake_dkim_key",
    "host_ipv4",
    "host_ipv6",
    "network_for_ip",
    "populate_providers",
    "provider_records",
    "provider_zone_text",
    "txt",
]


@dataclass(frozen=True)
class Network:
    key: str
    org: str
    asn: int  # private-use range: these networks are synthetic
    kind: str  # mail | gateway | cdn | parking | sender | dns | hosting | isp
    country: str  # ISO 3166-1 alpha-2
    city: str
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...] = ()


def _v6(block: int, index: int) -> str:
    """Canonical text of the ``index``-th /48 in 2a0c:<block>::/32."""
    return str(ipaddress.IPv6Network(f"2a0c:{block:x}:{index:x}::/48"))


def _providers() -> list[Network]:
    # Global services: one /22 each from 45.88.0.0/16 and a /48 from 2a0c:5b00::/32.
    rows = [
        ("microsoft", "Microsoft Corporation", "mail", "US", "Redmond"),
        ("google", "Google LLC", "mail", "US", "Mountain View"),
        ("zoho", "Zoho Corporation", "mail", "IN", "Chennai"),
        ("zoho_eu", "Zoho Corporation B.V.", "mail", "NL", "Amsterdam"),
        ("yandex", "Yandex LLC", "mail", "RU", "Moscow"),
        ("amazon", "Amazon.com, Inc.", "mail", "IE", "Dublin"),
        ("icloud", "Apple Inc.", "mail", "US", "Cupertino"),
        ("proton", "Proton AG", "mail", "CH", "Geneva"),
        ("proofpoint", "Proofpoint, Inc.", "gateway", "US", "Sunnyvale"),
        ("proofpoint_essentials", "Proofpoint Essentials", "gateway", "GB", "London"),
        ("mimecast", "Mimecast Ltd", "gateway", "GB", "London"),
        ("barracuda", "Barracuda Networks, Inc.", "gateway", "DE", "Frankfurt am Main"),
        ("cisco", "Cisco Systems, Inc.", "gateway", "US", "San Jose"),
        ("trendmicro", "Trend Micro Inc.", "gateway", "IE", "Cork"),
        ("symantec", "Broadcom Inc. (Symantec Email Security.cloud)", "gateway", "GB", "London"),
        ("hornetsecurity", "Hornetsecurity GmbH", "gateway", "DE", "Hannover"),
        ("sophos", "Sophos Ltd", "gateway", "DE", "Frankfurt am Main"),
        ("cloudflare", "Cloudflare, Inc.", "cdn", "US", "San Francisco"),
        ("parkingcrew", "ParkingCrew", "parking", "DE", "Munich"),
        ("sedo", "Sedo GmbH", "parking", "DE", "Cologne"),
        ("bodis", "Bodis, LLC", "parking", "US", "New York"),
        ("mailchimp", "The Rocket Science Group (Mailchimp)", "sender", "US", "Atlanta"),
        ("sendgrid", "SendGrid (Twilio Inc.)", "sender", "US", "Denver"),
        ("salesforce", "Salesforce, Inc.", "sender", "US", "San Francisco"),
        ("zendesk", "Zendesk, Inc.", "sender", "US", "San Francisco"),
        ("brevo", "Brevo (Sendinblue SAS)", "sender", "FR", "Paris"),
        ("mailgun", "Mailgun Technologies, Inc.", "sender", "US", "San Antonio"),
        ("euromsg", "Euromsg (Relateddigital)", "sender", "TR", "Istanbul"),
        ("atlassian", "Atlassian Pty Ltd", "sender", "AU", "Sydney"),
        ("mandrill", "Mandrill (Intuit Mailchimp)", "sender", "US", "Atlanta"),
        ("azure_dns", "Microsoft Azure DNS", "dns", "US", "Redmond"),
    ]
    return [
        Network(key, org, 64600 + i, kind, cc, city, (f"45.88.{4 * i}.0/22",), (_v6(0x5B00, i),))
        for i, (key, org, kind, cc, city) in enumerate(rows)
    ]


def _hosting() -> list[Network]:
    # Hosting companies (Turkish first): one /22 each from 185.122.0.0/16, /48 from 2a0c:5c00::/32.
    rows = [
        ("natro", "Natro Web Hizmetleri", "TR", "Istanbul"),
        ("turhost", "Turhost Internet Hizmetleri", "TR", "Istanbul"),
        ("isimtescil", "Isimtescil Bilisim", "TR", "Istanbul"),
        ("radore", "Radore Veri Merkezi", "TR", "Istanbul"),
        ("turkticaret", "TurkTicaret.Net Yazilim", "TR", "Istanbul"),
        ("netinternet", "Netinternet Bilisim", "TR", "Istanbul"),
        ("guzelhosting", "Guzel Hosting", "TR", "Ankara"),
        ("vargonen", "Vargonen Teknoloji", "TR", "Istanbul"),
        ("ttnet_mail", "Turk Telekom (TTNET mail hosting)", "TR", "Ankara"),
        ("superonline_mail", "Turkcell Superonline (mail hosting)", "TR", "Istanbul"),
        ("hostinger", "Hostinger International", "LT", "Vilnius"),
        ("ionos", "IONOS SE", "DE", "Karlsruhe"),
        ("ovh", "OVH SAS", "FR", "Roubaix"),
        ("godaddy", "GoDaddy.com, LLC", "US", "Scottsdale"),
        ("hetzner", "Hetzner Online GmbH", "DE", "Falkenstein"),
        ("digitalocean", "DigitalOcean, LLC", "DE", "Frankfurt am Main"),
    ]
    return [
        Network(
            key, org, 64700 + i, "hosting", cc, city, (f"185.122.{4 * i}.0/22",), (f"2a0c:5c00:{i:x}::/48",)
        )
        for i, (key, org, cc, city) in enumerate(rows)
    ]


def _isps() -> list[Network]:
    # Business lines of Turkish ISPs (not hosting): a /16 each from 5.24.0.0/13.
    rows = [
        ("turk_telekom", "Turk Telekomunikasyon A.S.", "Ankara"),
        ("superonline", "Turkcell Superonline", "Istanbul"),
        ("vodafone_tr", "Vodafone Net Iletisim", "Istanbul"),
        ("turknet", "TurkNet Iletisim Hizmetleri", "Istanbul"),
        ("millenicom", "Millenicom Telekomunikasyon", "Istanbul"),
    ]
    return [
        Network(key, org, 64800 + i, "isp", "TR", city, (f"5.{24 + i}.0.0/16",), (_v6(0x5D00, i),))
        for i, (key, org, city) in enumerate(rows)
    ]


NETWORKS: dict[str, Network] = {n.key: n for n in (*_providers(), *_hosting(), *_isps())}
PROVIDER_NETWORKS: dict[str, list[str]] = {
    k: [*n.ipv4, *n.ipv6] for k, n in NETWORKS.items() if n.kind not in ("hosting", "isp")
}
HOSTING_NETWORKS: dict[str, list[str]] = {
    k: [*n.ipv4, *n.ipv6] for k, n in NETWORKS.items() if n.kind == "hosting"
}
ISP_NETWORKS: dict[str, list[str]] = {k: [*n.ipv4, *n.ipv6] for k, n in NETWORKS.items() if n.kind == "isp"}

_PARSED = [(ipaddress.ip_network(cidr), key) for key, n in NETWORKS.items() for cidr in (*n.ipv4, *n.ipv6)]


def network_for_ip(ip: str) -> Network | None:
    """The synthetic network an address belongs to (tests and the synthetic GeoIP builder)."""
    addr = ipaddress.ip_address(ip)
    for net, key in _PARSED:
        if addr.version == net.version and addr in net:
            return NETWORKS[key]
    return None


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def host_ipv4(network: str, label: str, count: int = 1) -> list[str]:
    """``count`` stable addresses for ``label`` inside a network (same label, same addresses)."""
    net = ipaddress.IPv4Network(NETWORKS[network].ipv4[0])
    usable = net.num_addresses - 2
    start = _digest(network, label) % usable
    return [str(net.network_address + 1 + (start + i * 7) % usable) for i in range(count)]


def host_ipv6(network: str, label: str, count: int = 1) -> list[str]:
    net = ipaddress.IPv6Network(NETWORKS[network].ipv6[0])
    start = _digest(network, label, "v6") % (1 << 32)
    return [str(net.network_address + 1 + start + i) for i in range(count)]


def txt(text: str) -> str:
    """TXT presentation form: quoted, split into 255-byte character-strings."""
    raw = text.encode("utf-8")
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    out = []
    for chunk in chunks:
        s = chunk.decode("utf-8", errors="ignore").replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'"{s}"')
    return " ".join(out)


def dashed(domain: str) -> str:
    """``firma.com.tr`` -> ``firma-com-tr`` (Microsoft's MX host label), kept within 63 bytes."""
    return domain.replace(".", "-")[:63].rstrip("-")


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def fake_dkim_key(seed: str, bits: int = 2048) -> str:
    """A DKIM ``p=`` value shaped like an RSA public key (not a real key)."""
    prefix, total = (
        ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 392)
        if bits >= 2048
        else ("MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ", 216)
    )
    body: list[str] = []
    counter = 0
    while len(prefix) + len(body) < total - 6:
        block = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        body.extend(_B64[b & 63] for b in block)
        counter += 1
    return prefix + "".join(body[: total - 6 - len(prefix)]) + "IDAQAB"


CLOUDFLARE_NS_NAMES = (
    "ada", "bob", "carl", "dana", "elle", "fred", "gina", "hank", "ivy", "jim",
    "kara", "leo", "mia", "nash", "olga", "pete", "rita", "sam", "tina", "vern",
)  # fmt: skip

# Zones the provider side is authoritative for (names under them that do not exist: NXDOMAIN).
PROVIDER_ZONES = (
    "outlook.com", "office.com", "mx.microsoft", "lync.com", "microsoft.com", "windows.net",
    "onmicrosoft.com", "azure-dns.com", "azure-dns.net",
    "google.com", "googlemail.com",
    "zoho.com", "zohomail.com", "zoho.eu", "zohomail.eu",
    "yandex.net", "amazonaws.com", "amazonses.com", "awsapps.com",
    "icloud.com", "icloudmailadmin.com", "protonmail.ch", "proton.ch",
    "natrohost.com", "turhost.com", "isimtescil.net", "radore.net", "turkticaret.net",
    "netinternet.com.tr", "guzel.net.tr", "vargonen.com", "ttnet.com.tr", "superonline.net",
    "hostinger.com", "dns-parking.com", "ionos.com", "ui-dns.com", "ui-dns.org", "ovh.net", "ovh.com",
    "secureserver.net", "domaincontrol.com", "hetzner.com", "digitalocean.com",
    "pphosted.com", "ppe-hosted.com", "mimecast.com", "barracudanetworks.com", "iphmx.com",
    "trendmicro.eu", "trendmicro.com", "messagelabs.com", "hornetsecurity.com", "sophos.com",
    "cloudflare.com", "parkingcrew.net", "sedoparking.com", "bodis.com",
    "mcsv.net", "sendgrid.net", "salesforce.com", "zendesk.com", "sendinblue.com", "mailgun.org",
    "euromsg.com", "atlassian.net", "mandrillapp.com",
)  # fmt: skip

# Sender services a company may add to its SPF (and that make SPF chains long).
SENDER_INCLUDES = {
    "mailchimp": "servers.mcsv.net",
    "sendgrid": "sendgrid.net",
    "salesforce": "_spf.salesforce.com",
    "zendesk": "mail.zendesk.com",
    "brevo": "spf.sendinblue.com",
    "mailgun": "mailgun.org",
    "euromsg": "spf.euromsg.com",
    "atlassian": "_spf.atlassian.net",
    "mandrill": "spf.mandrillapp.com",
}

# SPF include a customer of each provider publishes.
SPF_INCLUDE = {
    "microsoft": "spf.protection.outlook.com",
    "google": "_spf.google.com",
    "zoho": "zoho.com",
    "zohomail": "zohomail.com",
    "zoho_eu": "zoho.eu",
    "zohomail_eu": "zohomail.eu",
    "yandex": "_spf.yandex.net",
    "amazon": "amazonses.com",
    "icloud": "icloud.com",
    "proton": "_spf.protonmail.ch",
    "natro": "_spf.natrohost.com",
    "turhost": "spf.turhost.com",
    "isimtescil": "spf.isimtescil.net",
    "ttnet_mail": "spf.ttnet.com.tr",
    "superonline_mail": "spf.superonline.net",
    "hostinger": "_spf.mail.hostinger.com",
    "ionos": "_spf-eu.ionos.com",
    "ovh": "mx.ovh.com",
    "godaddy": "spf.secureserver.net",
    "proofpoint": "_spf.pphosted.com",
    "proofpoint_essentials": "_spf-eu.ppe-hosted.com",
    "mimecast": "_netblocks.mimecast.com",
    "mimecast_eu": "eu._netblocks.mimecast.com",
    "barracuda": "spf.ess.barracudanetworks.com",
    "trendmicro": "spf.tmes.trendmicro.eu",
    "trendmicro_hes": "spf.hes.trendmicro.com",
    "symantec": "spf.messagelabs.com",
    "hornetsecurity": "spf.hornetsecurity.com",
    "sophos": "_spf.prod.hydra.sophos.com",
}

# Shared MX hosts per provider as (preference, host).
PROVIDER_MX: dict[str, tuple[tuple[int, str], ...]] = {
    "google_new": ((1, "smtp.google.com"),),
    "google_legacy": (
        (1, "aspmx.l.google.com"),
        (5, "alt1.aspmx.l.google.com"),
        (5, "alt2.aspmx.l.google.com"),
        (10, "alt3.aspmx.l.google.com"),
        (10, "alt4.aspmx.l.google.com"),
    ),
    "google_googlemail": (
        (1, "aspmx.l.google.com"),
        (5, "alt1.aspmx.l.google.com"),
        (5, "alt2.aspmx.l.google.com"),
        (10, "aspmx2.googlemail.com"),
        (10, "aspmx3.googlemail.com"),
        (10, "aspmx4.googlemail.com"),
        (10, "aspmx5.googlemail.com"),
    ),
    "zoho": ((10, "mx.zoho.com"), (20, "mx2.zoho.com"), (50, "mx3.zoho.com")),
    "zoho_eu": ((10, "mx.zoho.eu"), (20, "mx2.zoho.eu"), (50, "mx3.zoho.eu")),
    "yandex": ((10, "mx.yandex.net"),),
    "icloud": ((10, "mx01.mail.icloud.com"), (10, "mx02.mail.icloud.com")),
    "proton": ((10, "mail.protonmail.ch"), (20, "mailsec.protonmail.ch")),
    "natro": ((10, "mx1.natrohost.com"), (20, "mx2.natrohost.com")),
    "turhost": ((10, "mx.turhost.com"), (20, "mx2.turhost.com")),
    "isimtescil": ((10, "mx1.isimtescil.net"), (20, "mx2.isimtescil.net")),
    "ttnet_mail": ((10, "mx1.ttnet.com.tr"), (20, "mx2.ttnet.com.tr")),
    "superonline_mail": ((10, "mx1.superonline.net"), (20, "mx2.superonline.net")),
    "hostinger": ((5, "mx1.hostinger.com"), (10, "mx2.hostinger.com")),
    "ionos": ((10, "mx00.ionos.com"), (10, "mx01.ionos.com")),
    "ovh": ((1, "mx1.mail.ovh.net"), (5, "mx2.mail.ovh.net"), (100, "mx3.mail.ovh.net")),
    "godaddy": ((0, "mailstore1.secureserver.net"), (10, "smtp.secureserver.net")),
    "proofpoint_essentials": ((10, "mx1-eu1.ppe-hosted.com"), (10, "mx2-eu1.ppe-hosted.com")),
    "mimecast": ((10, "eu-smtp-inbound-1.mimecast.com"), (10, "eu-smtp-inbound-2.mimecast.com")),
    "trendmicro_hes": ((10, "in.hes.trendmicro.com"),),
    "symantec": ((10, "cluster1.eu.messagelabs.com"), (20, "cluster1a.eu.messagelabs.com")),
    "hornetsecurity": (
        (10, "mx-01-eu-central-1.prod.hornetsecurity.com"),
        (10, "mx-02-eu-central-1.prod.hornetsecurity.com"),
        (20, "mx-03-eu-central-1.prod.hornetsecurity.com"),
        (20, "mx-04-eu-central-1.prod.hornetsecurity.com"),
    ),
    "sophos": (
        (10, "mx-01-eu-central-1.prod.hydra.sophos.com"),
        (20, "mx-02-eu-central-1.prod.hydra.sophos.com"),
    ),
}

# Which network holds each shared provider MX family's addresses.
MX_NETWORK = {
    "google_new": "google",
    "google_legacy": "google",
    "google_googlemail": "google",
    "zoho": "zoho",
    "zoho_eu": "zoho_eu",
    "yandex": "yandex",
    "icloud": "icloud",
    "proton": "proton",
    "natro": "natro",
    "turhost": "turhost",
    "isimtescil": "isimtescil",
    "ttnet_mail": "ttnet_mail",
    "superonline_mail": "superonline_mail",
    "hostinger": "hostinger",
    "ionos": "ionos",
    "ovh": "ovh",
    "godaddy": "godaddy",
    "proofpoint_essentials": "proofpoint_essentials",
    "mimecast": "mimecast",
    "trendmicro_hes": "trendmicro",
    "symantec": "symantec",
    "hornetsecurity": "hornetsecurity",
    "sophos": "sophos",
}

# Name servers per DNS host as (hosts, network holding their addresses).
NAMESERVERS: dict[str, tuple[tuple[str, ...], str]] = {
    "natro": (("ns1.natrohost.com", "ns2.natrohost.com"), "natro"),
    "turhost": (("ns1.turhost.com", "ns2.turhost.com"), "turhost"),
    "isimtescil": (("ns1.isimtescil.net", "ns2.isimtescil.net"), "isimtescil"),
    "radore": (("ns1.radore.net", "ns2.radore.net"), "radore"),
    "turkticaret": (("ns1.turkticaret.net", "ns2.turkticaret.net"), "turkticaret"),
    "netinternet": (("ns1.netinternet.com.tr", "ns2.netinternet.com.tr"), "netinternet"),
    "guzelhosting": (("ns1.guzel.net.tr", "ns2.guzel.net.tr"), "guzelhosting"),
    "vargonen": (("ns1.vargonen.com", "ns2.vargonen.com"), "vargonen"),
    "hostinger": (("ns1.dns-parking.com", "ns2.dns-parking.com"), "hostinger"),
    "ionos": (("ns1045.ui-dns.com", "ns1045.ui-dns.org"), "ionos"),
    "ovh": (("dns10.ovh.net", "ns10.ovh.net"), "ovh"),
    "godaddy": (("ns51.domaincontrol.com", "ns52.domaincontrol.com"), "godaddy"),
    "hetzner": (("hydrogen.ns.hetzner.com", "oxygen.ns.hetzner.com"), "hetzner"),
    "digitalocean": (("ns1.digitalocean.com", "ns2.digitalocean.com"), "digitalocean"),
    "azure": (("ns1-01.azure-dns.com", "ns2-01.azure-dns.net"), "azure_dns"),
    "parkingcrew": (("ns1.parkingcrew.net", "ns2.parkingcrew.net"), "parkingcrew"),
    "sedo": (("ns1.sedoparking.com", "ns2.sedoparking.com"), "sedo"),
    "bodis": (("ns1.bodis.com", "ns2.bodis.com"), "bodis"),
}

AMAZON_REGIONS = ("eu-west-1", "us-east-1", "us-west-2")

Record = tuple[str, str, str]  # name, type, presentation rdata


def _cidrs(key: str, v6: bool = True) -> str:
    n = NETWORKS[key]
    parts = [f"ip4:{c}" for c in n.ipv4]
    if v6:
        parts += [f"ip6:{c}" for c in n.ipv6]
    return " ".join(parts)


def _sub(key: str, prefix: int, index: int) -> str:
    """The ``index``-th /``prefix`` subnet of a network's first IPv4 block."""
    net = ipaddress.IPv4Network(NETWORKS[key].ipv4[0])
    return str(list(net.subnets(new_prefix=prefix))[index])


def _spf(*terms: str, all_: str = "-all") -> str:
    return txt("v=spf1 " + " ".join((*terms, all_)))


def address_records(host: str, network: str, v4: int = 1, v6: int = 0) -> list[Record]:
    """A (and AAAA) records for a host inside one of the synthetic networks."""
    out: list[Record] = [(host, "A", ip) for ip in host_ipv4(network, host, v4)]
    if v6:
        out += [(host, "AAAA", ip) for ip in host_ipv6(network, host, v6)]
    return out


def provider_records() -> list[Record]:
    """Every shared provider record (per-company provider hosts are written by the world)."""
    r: list[Record] = []
    add = r.append

    # Microsoft 365
    add(
        (
            "spf.protection.outlook.com",
            "TXT",
            _spf(_cidrs("microsoft"), "include:spfd.protection.outlook.com"),
        )
    )
    add(("spfd.protection.outlook.com", "TXT", _spf(f"ip4:{_sub('microsoft', 24, 3)}")))
    add(("autodiscover.outlook.com", "CNAME", "autod.ms-acdc.office.com."))
    r += address_records("autod.ms-acdc.office.com", "microsoft", 3, 2)
    r += address_records("outlook.office365.com", "microsoft", 2, 2)
    for host in ("webdir.online.lync.com", "sipdir.online.lync.com", "sipfed.online.lync.com"):
        r += address_records(host, "microsoft", 1)
    add(
        ("enterpriseenrollment.manage.microsoft.com", "CNAME", "enterpriseenrollment-s.manage.microsoft.com.")
    )
    r += address_records("enterpriseenrollment-s.manage.microsoft.com", "microsoft", 1)
    r += address_records("enterpriseregistration.windows.net", "microsoft", 1)

    # Google Workspace
    for family in ("google_new", "google_googlemail"):
        for _, host in PROVIDER_MX[family]:
            r += address_records(host, "google", 1, 1)
    r += address_records("alt3.aspmx.l.google.com", "google", 1, 1)
    r += address_records("alt4.aspmx.l.google.com", "google", 1, 1)
    add(
        (
            "_spf.google.com",
            "TXT",
            _spf(
                "include:_netblocks.google.com",
                "include:_netblocks2.google.com",
                "include:_netblocks3.google.com",
                all_="~all",
            ),
        )
    )
    add(("_netblocks.google.com", "TXT", _spf(f"ip4:{_sub('google', 23, 0)}", all_="~all")))
    add(("_netblocks2.google.com", "TXT", _spf(f"ip6:{NETWORKS['google'].ipv6[0]}", all_="~all")))
    add(("_netblocks3.google.com", "TXT", _spf(f"ip4:{_sub('google', 23, 1)}", all_="~all")))

    # Zoho, Yandex, Amazon, iCloud, Proton
    for family in ("zoho", "zoho_eu", "yandex", "icloud", "proton"):
        for _, host in PROVIDER_MX[family]:
            r += address_records(host, MX_NETWORK[family], 1, 1 if family == "yandex" else 0)
    add(("zoho.com", "TXT", _spf("include:zohomail.com", all_="~all")))
    add(("zohomail.com", "TXT", _spf(_cidrs("zoho", v6=False))))
    add(("zoho.eu", "TXT", _spf("include:zohomail.eu", all_="~all")))
    add(("zohomail.eu", "TXT", _spf(_cidrs("zoho_eu", v6=False))))
    add(("_spf.yandex.net", "TXT", _spf(_cidrs("yandex"), all_="~all")))
    for region in AMAZON_REGIONS:
        r += address_records(f"inbound-smtp.{region}.amazonaws.com", "amazon", 2)
        r += address_records(f"autodiscover.mail.{region}.awsapps.com", "amazon", 1)
    add(("amazonses.com", "TXT", _spf(_cidrs("amazon", v6=False))))
    add(("icloud.com", "TXT", _spf(_cidrs("icloud", v6=False), all_="~all")))
    add(("_spf.protonmail.ch", "TXT", _spf(_cidrs("proton", v6=False), all_="~all")))

    # Hosting and ISP mail platforms
    for family in (
        "natro", "turhost", "isimtescil", "ttnet_mail", "superonline_mail",
        "hostinger", "ionos", "ovh", "godaddy",
    ):  # fmt: skip
        for _, host in PROVIDER_MX[family]:
            r += address_records(host, MX_NETWORK[family], 1, 1 if family in ("ionos", "ovh") else 0)
        include = SPF_INCLUDE[family]
        add((include, "TXT", _spf(_cidrs(MX_NETWORK[family], v6=False), all_="~all")))
    for hosts, network in NAMESERVERS.values():
        for host in hosts:
            r += address_records(host, network, 1)
    for name in CLOUDFLARE_NS_NAMES:
        r += address_records(f"{name}.ns.cloudflare.com", "cloudflare", 1, 1)

    # Security gateways (per-customer hosts for Proofpoint, Barracuda, Cisco, Trend TMES: world)
    for family in (
        "proofpoint_essentials",
        "mimecast",
        "trendmicro_hes",
        "symantec",
        "hornetsecurity",
        "sophos",
    ):
        for _, host in PROVIDER_MX[family]:
            r += address_records(host, MX_NETWORK[family], 2)
    add(("_spf.pphosted.com", "TXT", _spf(_cidrs("proofpoint", v6=False))))
    add(("_spf-eu.ppe-hosted.com", "TXT", _spf(_cidrs("proofpoint_essentials", v6=False))))
    add(("_netblocks.mimecast.com", "TXT", _spf(_cidrs("mimecast", v6=False), all_="~all")))
    add(("eu._netblocks.mimecast.com", "TXT", _spf(f"ip4:{_sub('mimecast', 23, 0)}", all_="~all")))
    add(("spf.ess.barracudanetworks.com", "TXT", _spf(_cidrs("barracuda", v6=False))))
    add(("spf.tmes.trendmicro.eu", "TXT", _spf(f"ip4:{_sub('trendmicro', 23, 0)}")))
    add(("spf.hes.trendmicro.com", "TXT", _spf(f"ip4:{_sub('trendmicro', 23, 1)}")))
    add(("spf.messagelabs.com", "TXT", _spf(_cidrs("symantec", v6=False), all_="~all")))
    add(("spf.hornetsecurity.com", "TXT", _spf(_cidrs("hornetsecurity", v6=False))))
    add(("_spf.prod.hydra.sophos.com", "TXT", _spf(_cidrs("sophos", v6=False))))

    add(("dkim.mcsv.net", "TXT", txt(f"v=DKIM1; k=rsa; p={fake_dkim_key('dkim.mcsv.net', 1024)}")))

    # Bulk senders that appear in company SPF records (mailgun nests one more level).
    for key, include in SENDER_INCLUDES.items():
        if key == "mailgun":
            add((include, "TXT", _spf("include:_spf.mailgun.org", all_="~all")))
            add(("_spf.mailgun.org", "TXT", _spf(_cidrs(key, v6=False), all_="~all")))
        else:
            add((include, "TXT", _spf(_cidrs(key, v6=False), all_="~all")))
    return r


def provider_zone_text() -> str:
    return "".join(f"{name}. 3600 IN {rdtype} {value}\n" for name, rdtype, value in provider_records())


def _suffixes(apex: str) -> Iterable[str]:
    labels = apex.split(".")
    for i in range(1, len(labels)):
        yield ".".join(labels[i:])


def populate_providers(store: ZoneStore) -> None:
    """Add provider zones (and their TLD-ish parents, for NXDOMAIN realism) and records."""
    for apex in PROVIDER_ZONES:
        store.add_zone(apex)
        for suffix in _suffixes(apex):
            store.add_zone(suffix)
    store.add_text(provider_zone_text(), default_ttl=3600)
