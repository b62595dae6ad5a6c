"""Synthetic population of Turkish company domains with known ground truth.

Every company gets a profile (where its mail lives, which gateway, half-migrated or not) and
realistic, varied records for it. The same domain and seed always give the same records: each
company draws from its own ``random.Random`` seeded with (seed, domain, profile), so adding or
removing other domains never changes its zone.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import idna

from hunter.sandbox import provider_zones as pz
from hunter.sandbox.zones import Fault, ZoneStore, normalize_name

__all__ = [
    "EXPECTED",
    "PROFILES",
    "PROFILE_WEIGHTS",
    "World",
    "WorldCompany",
    "WorldRecord",
    "build_world",
    "profile_for",
    "synthetic_domains",
]

GATEWAYS = (
    "proofpoint",
    "proofpoint_essentials",
    "mimecast",
    "barracuda",
    "cisco",
    "trendmicro",
    "symantec",
    "hornetsecurity",
    "sophos",
)

# Per-mille shares for a Turkish CSP partner's lists: mostly local hosting and self-hosted.
PROFILE_WEIGHTS: dict[str, int] = {
    "m365_classic": 190,
    "m365_new_mx": 50,
    "gateway_proofpoint_m365": 7,
    "gateway_proofpoint_essentials_m365": 3,
    "gateway_mimecast_m365": 6,
    "gateway_barracuda_m365": 6,
    "gateway_cisco_m365": 3,
    "gateway_trendmicro_m365": 5,
    "gateway_symantec_m365": 3,
    "gateway_hornetsecurity_m365": 4,
    "gateway_sophos_m365": 4,
    "gateway_mimecast_google": 4,
    "gateway_proofpoint_google": 3,
    "gateway_unknown": 6,
    "google_new": 45,
    "google_legacy": 55,
    "zoho": 20,
    "yandex": 25,
    "amazon": 4,
    "icloud": 4,
    "proton": 4,
    "hosting_natro": 70,
    "hosting_turhost": 45,
    "hosting_isimtescil": 40,
    "hosting_ttnet": 15,
    "hosting_superonline": 10,
    "hosting_hostinger": 20,
    "hosting_ionos": 8,
    "hosting_ovh": 8,
    "godaddy": 25,
    "hosting_shared": 90,
    "self_hosted": 113,
    "half_migrated": 40,
    "no_mx": 25,
    "null_mx": 5,
    "nxdomain": 20,
    "parked": 15,
    # Only by override (``build_world(profiles=...)``): the domain's DNS is broken.
    "servfail": 0,
    "timeout": 0,
}
PROFILES = tuple(PROFILE_WEIGHTS)

# (expected_platform, expected_gateway); half_migrated's platform depends on where its mail is.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "m365_classic": ("m365", None),
    "m365_new_mx": ("m365", None),
    "google_new": ("google", None),
    "google_legacy": ("google", None),
    "zoho": ("zoho", None),
    "yandex": ("yandex", None),
    "amazon": ("amazon", None),
    "icloud": ("icloud", None),
    "proton": ("other_cloud", None),
    "godaddy": ("hosting", None),
    "hosting_shared": ("hosting", None),
    "self_hosted": ("self_hosted", None),
    "half_migrated": ("hosting", None),
    "no_mx": ("none", None),
    "null_mx": ("none", None),
    "parked": ("none", None),
    "nxdomain": ("unresolved", None),
    "gateway_unknown": ("unknown", None),
    "servfail": ("unknown", None),
    "timeout": ("unknown", None),
}
for _p in PROFILES:
    if _p.startswith("hosting_") and _p != "hosting_shared":
        EXPECTED[_p] = ("hosting", None)
    elif _p.startswith("gateway_") and _p != "gateway_unknown":
        _gw, _behind = _p[len("gateway_") :].rsplit("_", 1)
        EXPECTED[_p] = (_behind, "proofpoint" if _gw == "proofpoint_essentials" else _gw)

_HOSTING_PROFILE_NETWORK = {
    "hosting_natro": "natro",
    "hosting_turhost": "turhost",
    "hosting_isimtescil": "isimtescil",
    "hosting_ttnet": "ttnet_mail",
    "hosting_superonline": "superonline_mail",
    "hosting_hostinger": "hostinger",
    "hosting_ionos": "ionos",
    "hosting_ovh": "ovh",
    "godaddy": "godaddy",
}
_HOSTING_OWN_NS = {"natro", "turhost", "isimtescil", "hostinger", "ionos", "ovh", "godaddy"}


class WorldRecord(NamedTuple):
    name: str
    rdtype: str
    value: str
    ttl: int


@dataclass(frozen=True)
class WorldCompany:
    domain: str  # ASCII registrable domain
    profile: str
    expected_platform: str  # m365 google zoho yandex amazon icloud other_cloud hosting self_hosted ...
    expected_gateway: str | None
    tenant_name: str | None  # "<x>.onmicrosoft.com" when M365 DKIM CNAMEs reveal it
    half_migrated: bool
    mx_hosts: tuple[str, ...] = ()  # in preference order; "." for a null MX
    mail_network: str | None = None  # provider_zones.NETWORKS key holding the mail servers
    needs_ip_facts: bool = False  # hosting vs self-hosted can only be told from the MX's network
    expected_incomplete: bool = False  # lookups fail (servfail / timeout profiles)
    spf_style: str | None = None  # see World docs; None when no SPF record
    dmarc_style: str | None = None  # None when no DMARC record
    has_dkim: bool = False  # at least one DKIM selector resolves to a key
    dkim_selectors: tuple[str, ...] = ()  # selectors with a published key (CNAMEs followed)


# ---------------------------------------------------------------------- domain names
# fmt: off
_NAMES = (
    "akdeniz", "anadolu", "ege", "marmara", "karadeniz", "yildiz", "guven", "ozturk", "yilmaz",
    "demir", "celik", "kaya", "aslan", "sahin", "dogan", "arslan", "kurt", "ozdemir", "aydin", "koc",
    "erdem", "gunes", "bulut", "deniz", "toprak", "ata", "bora", "tuna", "sezer", "kilic", "altin",
    "gumus", "elmas", "inci", "lale", "zirve", "ufuk", "vizyon", "mavi", "yesil", "kartal", "sahil",
    "bogazici", "trakya", "ankara", "izmir", "bursa", "konya", "kayseri", "gaziantep", "mersin",
    "adana", "denizli", "manisa", "kocaeli", "sakarya", "eskisehir", "antalya", "samsun", "trabzon",
    "ozyurt", "birlik", "ekin", "akin", "ergun", "tekin", "polat", "acar", "yalcin", "cetin",
    "korkmaz", "ozkan", "simsek", "ozer", "avci", "ipek", "bereket", "kardesler", "atlas", "mega",
    "tekno", "star", "eko", "inter", "umut",
)
_SECTORS = (
    "tekstil", "insaat", "gida", "makina", "makine", "otomotiv", "lojistik", "plastik", "metal",
    "kimya", "elektrik", "enerji", "mobilya", "ambalaj", "medikal", "yazilim", "danismanlik",
    "turizm", "tarim", "matbaa", "kagit", "cam", "boya", "kablo", "dokum", "hirdavat", "mermer",
    "seramik", "orme", "konfeksiyon", "deri", "ayakkabi", "kozmetik", "ilac", "petrol", "nakliyat",
    "gumruk", "muhasebe", "hukuk", "reklam", "bilisim", "elektronik", "otomasyon", "hidrolik",
    "pompa", "vana", "aluminyum", "yapi", "beton", "peyzaj", "mimarlik", "emlak", "sigorta",
    "saglik", "egitim", "un", "sut", "zeytin", "findik", "pamuk", "iplik", "mutfak", "tasarim",
    "medya", "grafik", "muhendislik",
)
_SUFFIXES = ("", "", "", "", "grup", "holding", "san", "sanayi", "ltd", "as", "tic", "group")
_IDN_NAMES = (
    "örnek", "çelik", "şahin", "güneş", "doğan", "ışık", "öztürk", "yıldız", "ağaç", "çiçek",
    "özgür", "değirmen", "gökçe", "küçük", "büyük", "ünlü", "şimşek", "göksu", "çınar", "özdemir",
)
_IDN_SECTORS = (
    "tekstil", "inşaat", "gıda", "makina", "kağıt", "döküm", "örme", "yapı", "çatı", "süt", "fındık",
    "ilaç", "bilişim",
)
# fmt: on
_TLDS = (
    ("com.tr", 500),
    ("com", 300),
    ("net", 40),
    ("org", 20),
    ("tr", 30),
    ("gen.tr", 20),
    ("net.tr", 15),
    ("biz.tr", 10),
    ("web.tr", 5),
    ("info.tr", 5),
)


def _weighted(rng: random.Random, table: Iterable[tuple[str, float]]) -> str:
    items = list(table)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def synthetic_domains(n: int, seed: int = 0) -> list[str]:
    """``n`` unique, plausible Turkish company domains (ASCII; ~2 % IDN as punycode)."""
    rng = random.Random(f"hunter-domains:{seed}")
    taken = set(pz.PROVIDER_ZONES)
    out: list[str] = []
    seen: set[str] = set()
    misses = 0
    while len(out) < n:
        if rng.random() < 0.02:
            label = f"{rng.choice(_IDN_NAMES)}-{rng.choice(_IDN_SECTORS)}"
            tld = rng.choice(("com.tr", "com.tr", "com"))
        else:
            first, sector, suffix = rng.choice(_NAMES), rng.choice(_SECTORS), rng.choice(_SUFFIXES)
            form = rng.randrange(6)
            parts = [first] if form == 5 else [first, sector]
            if suffix and form != 5:
                parts.append(suffix)
            elif form == 5:
                parts.append(suffix or rng.choice(("grup", "holding", "ltd")))
            label = ("-" if form in (1, 3) else "").join(parts)
            tld = _weighted(rng, _TLDS)
        if misses > 50:  # name space nearly used up: add a distinguishing number
            label = f"{label}{rng.randrange(2, 1000)}"
        domain = normalize_name(f"{label}.{tld}")
        if domain in seen or domain in taken or len(domain.split(".")[0]) > 63:
            misses += 1
            continue
        misses = 0
        seen.add(domain)
        out.append(domain)
    return out


def profile_for(domain: str, seed: int = 0) -> str:
    """Deterministic, hash-based profile with the population weights above."""
    digest = hashlib.sha256(f"hunter-profile:{seed}:{normalize_name(domain)}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(PROFILE_WEIGHTS.values())
    for profile, weight in PROFILE_WEIGHTS.items():
        if point < weight:
            return profile
        point -= weight
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------- record builder
_SPF_STYLES = (
    ("strict", 24),  # -all
    ("soft", 46),  # ~all
    ("neutral", 4),  # ?all
    ("pass_all", 2),  # +all
    ("missing", 12),
    ("double", 4),  # two v=spf1 records (permerror)
    ("over_limit", 4),  # more than 10 DNS lookups
    ("void", 2),  # an include that does not exist
    ("redirect", 2),  # redirect= to the company's own _spf name
)
_DMARC_STYLES_SMB = (
    ("missing", 48),
    ("none", 18),
    ("none_rua", 9),
    ("quarantine", 8),
    ("reject", 6),
    ("pct50", 3),
    ("reject_sp_none", 3),
    ("upper_reject", 2),
    ("reject_rua", 3),
)
_DMARC_STYLES_MATURE = (
    ("missing", 22),
    ("none", 16),
    ("none_rua", 12),
    ("quarantine", 14),
    ("reject", 14),
    ("pct50", 5),
    ("reject_sp_none", 5),
    ("upper_reject", 3),
    ("reject_rua", 9),
)
_DNS_HOSTS = (
    ("natro", 22),
    ("isimtescil", 14),
    ("turhost", 14),
    ("cloudflare", 20),
    ("godaddy", 4),
    ("radore", 4),
    ("turkticaret", 5),
    ("netinternet", 4),
    ("guzelhosting", 3),
    ("vargonen", 3),
    ("hostinger", 3),
)
_SHARED_HOSTING = (
    ("natro", 25),
    ("turhost", 15),
    ("isimtescil", 15),
    ("radore", 10),
    ("turkticaret", 10),
    ("netinternet", 8),
    ("guzelhosting", 7),
    ("vargonen", 5),
    ("hetzner", 4),
    ("ovh", 3),
    ("digitalocean", 3),
)
_ISPS = (("turk_telekom", 45), ("superonline", 25), ("vodafone_tr", 10), ("turknet", 15), ("millenicom", 5))


class _Builder:
    def __init__(self, domain: str, profile: str, seed: int) -> None:
        self.domain = domain
        self.profile = profile
        self.rng = random.Random(f"hunter-world:{seed}:{domain}:{profile}")
        self.records: list[WorldRecord] = []
        self.cnames: set[str] = set()
        self.names: set[str] = set()
        self.mx_hosts: list[str] = []
        self.platform, self.gateway = EXPECTED[profile]
        self.tenant: str | None = None
        self.half_migrated = False
        self.mail_network: str | None = None
        self.needs_ip_facts = False
        self.incomplete = False
        self.spf_style: str | None = None
        self.dmarc_style: str | None = None
        self.dkim_selectors: list[str] = []
        self.web_network = "natro"
        self.faults: list[tuple[str, Fault]] = []
        self.shared_ip = ""  # set by mail_shared_hosting
        self.self_ip = ""  # set by mail_self_hosted

    # -- primitives
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def add(self, name: str, rdtype: str, value: str, ttl: int | None = None) -> bool:
        """Append a record; False (and nothing written) when it would sit next to a CNAME."""
        if ttl is None:
            ttl = self.rng.choice((300, 3600, 3600, 14400, 86400))
        if rdtype == "CNAME":
            if name in self.names:
                return False
            self.cnames.add(name)
        elif name in self.cnames:
            return False
        self.names.add(name)
        self.records.append(WorldRecord(name, rdtype, value, ttl))
        return True

    def sub(self, label: str) -> str:
        return f"{label}.{self.domain}"

    def base_label(self) -> str:
        label = self.domain.split(".")[0]
        if label.startswith("xn--"):
            label = idna.decode(label)
        table = str.maketrans("çğıöşüâîû", "cgiosuaiu")
        return "".join(ch for ch in label.lower().translate(table) if ch.isalnum()) or "firma"

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))

    def token(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def hosts_for(self, network: str, host: str, v4: int = 1, v6: int = 0) -> None:
        for name, rdtype, value in pz.address_records(host, network, v4, v6):
            self.add(name, rdtype, value, 3600)

    def mx(self, pairs: Iterable[tuple[int, str]], ttl: int | None = None) -> None:
        ttl = ttl or self.rng.choice((300, 3600, 3600, 14400))
        for pref, host in sorted(pairs):
            self.add(self.domain, "MX", f"{pref} {host.rstrip('.')}.", ttl)
            self.mx_hosts.append(host)

    def dkim_txt(self, name: str, bits: int = 2048) -> None:
        key = pz.fake_dkim_key(f"{self.domain}:{name}", bits)
        self.add(name, "TXT", pz.txt(f"v=DKIM1; k=rsa; p={key}"), 3600)

    def own_dkim(self, selector: str, bits: int = 2048) -> None:
        name = self.sub(f"{selector}._domainkey")
        if name not in self.names:  # e.g. Yandex and a sender both wanting "mail"
            self.dkim_txt(name, bits)
            self.dkim_selectors.append(selector)

    def delegated_dkim(self, selector: str, target: str, bits: int = 2048, publish: bool = True) -> None:
        """Selector CNAME to the provider's key (which the provider may not have published)."""
        if self.add(self.sub(f"{selector}._domainkey"), "CNAME", f"{target}.", 3600) and publish:
            self.dkim_txt(target, bits)
            self.dkim_selectors.append(selector)

    # -- shared pieces
    def dns_hosting(self, prefer: str | None = None) -> None:
        host = prefer if prefer is not None and self.chance(0.75) else _weighted(self.rng, _DNS_HOSTS)
        if host == "cloudflare":
            names = self.rng.sample(pz.CLOUDFLARE_NS_NAMES, 2)
            for name in names:
                self.add(self.domain, "NS", f"{name}.ns.cloudflare.com.", 86400)
            self.web_network = "cloudflare"
            return
        ns_hosts, network = pz.NAMESERVERS[host]
        for ns in ns_hosts:
            self.add(self.domain, "NS", f"{ns}.", 86400)
        self.web_network = network if pz.NETWORKS[network].kind == "hosting" else "natro"

    def website(self, ip: str | None = None) -> None:
        if self.chance(0.05):
            return  # no web site at all
        if self.web_network == "cloudflare":
            for addr in pz.host_ipv4("cloudflare", self.domain, 2):
                self.add(self.domain, "A", addr, 300)
            if self.chance(0.6):
                for addr in pz.host_ipv6("cloudflare", self.domain, 2):
                    self.add(self.domain, "AAAA", addr, 300)
        elif not any(r.name == self.domain and r.rdtype == "A" for r in self.records):
            # Shared hosting: many sites on the same few server addresses.
            addr = ip or pz.host_ipv4(self.web_network, f"web{self.rng.randrange(48)}")[0]
            self.add(self.domain, "A", addr)
        roll = self.rng.random()
        if roll < 0.5:
            self.add(self.sub("www"), "CNAME", f"{self.domain}.")
        elif roll < 0.9:
            for rec in [r for r in self.records if r.name == self.domain and r.rdtype in ("A", "AAAA")]:
                self.add(self.sub("www"), rec.rdtype, rec.value, rec.ttl)

    def spf(self, mechanisms: list[str], allowed_bad: bool = True, style: str | None = None) -> None:
        style = style or _weighted(self.rng, _SPF_STYLES)
        if not allowed_bad and style in ("pass_all", "double", "over_limit", "void"):
            style = "soft"
        if style == "missing":
            return
        mechs = list(mechanisms)
        if self.chance(0.18):
            sender = self.rng.choice(sorted(pz.SENDER_INCLUDES))
            mechs.append(f"include:{pz.SENDER_INCLUDES[sender]}")
            self.sender_dkim(sender)
        ending = {"strict": "-all", "neutral": "?all", "pass_all": "+all"}.get(style, "~all")
        if style == "over_limit":
            extra = [f"include:{i}" for i in pz.SENDER_INCLUDES.values() if f"include:{i}" not in mechs]
            mechs += ["a", "mx", *extra, "include:_spf.google.com"]
            mechs = list(dict.fromkeys(mechs))
        elif style == "void":
            mechs.append(self.rng.choice(("include:spf-old.natrohost.com", "include:_spf.eski.turhost.com")))
        if style == "redirect":
            self.add(self.domain, "TXT", pz.txt(f"v=spf1 redirect=_spf.{self.domain}"))
            self.add(self.sub("_spf"), "TXT", pz.txt("v=spf1 " + " ".join([*mechs, "-all"])))
        else:
            self.add(self.domain, "TXT", pz.txt("v=spf1 " + " ".join([*mechs, ending])))
        if style == "double":
            self.add(self.domain, "TXT", pz.txt("v=spf1 a mx ptr ?all"))  # the forgotten old one
        self.spf_style = style

    def sender_dkim(self, sender: str) -> None:
        """DKIM a bulk sender sets up: Mailchimp k1, SendGrid s1/s2, Mandrill (others: none)."""
        if sender == "mailchimp":
            # The key lives in the provider zone (one shared target for every customer).
            if self.add(self.sub("k1._domainkey"), "CNAME", "dkim.mcsv.net.", 3600):
                self.dkim_selectors.append("k1")
        elif sender == "sendgrid":
            account = f"u{self.digits(8)}.wl{self.digits(3)}"
            for selector in ("s1", "s2"):
                self.delegated_dkim(selector, f"{selector}.domainkey.{account}.sendgrid.net")
        elif sender == "mandrill":
            self.own_dkim("mandrill", 1024)

    def dmarc(self, mature: bool = False) -> None:
        style = _weighted(self.rng, _DMARC_STYLES_MATURE if mature else _DMARC_STYLES_SMB)
        if style == "missing":
            return
        rua = f"mailto:dmarc@{self.domain}"
        value = {
            "none": "v=DMARC1; p=none",
            "none_rua": f"v=DMARC1; p=none; rua={rua}",
            "quarantine": "v=DMARC1; p=quarantine" + (f"; rua={rua}" if self.chance(0.5) else ""),
            "reject": "v=DMARC1; p=reject" + ("; adkim=s; aspf=s" if self.chance(0.3) else ""),
            "pct50": f"v=DMARC1; p=quarantine; pct=50; rua={rua}",
            "reject_sp_none": f"v=DMARC1; p=reject; sp=none; rua={rua}",
            "upper_reject": "v=DMARC1; P=Reject",
            "reject_rua": f"v=DMARC1; p=reject; rua={rua}; ruf={rua}; fo=1",
        }[style]
        self.add(self.sub("_dmarc"), "TXT", pz.txt(value))
        self.dmarc_style = style

    def verifications(self, exclude: Iterable[str] = ()) -> None:
        skip = set(exclude)
        options = (
            ("google", 0.25, lambda: f"google-site-verification={self.token(43, _B64URL)}"),
            ("facebook", 0.08, lambda: f"facebook-domain-verification={self.token(30, _LOWER)}"),
            ("atlassian", 0.03, lambda: f"atlassian-domain-verification={self.token(64, _B64)}"),
            ("apple", 0.02, lambda: f"apple-domain-verification={self.token(16)}"),
            ("docusign", 0.02, lambda: f"docusign={self.token(8, _HEX)}-{self.token(4, _HEX)}"),
            ("globalsign", 0.02, lambda: f"globalsign-domain-verification={self.token(42, _B64URL)}"),
            ("yandex", 0.03, lambda: f"yandex-verification: {self.token(16, _HEX)}"),
        )
        for key, p, make in options:
            if key not in skip and self.chance(p):
                self.add(self.domain, "TXT", pz.txt(make()))

    def maturity_extras(self) -> None:
        if self.chance(0.3):
            policy_id = f"2024{self.rng.randrange(1, 13):02d}{self.rng.randrange(1, 29):02d}T000000"
            self.add(self.sub("_mta-sts"), "TXT", pz.txt(f"v=STSv1; id={policy_id}"))
            self.hosts_for(self.web_network, self.sub("mta-sts"))
        if self.chance(0.3):
            self.add(self.sub("_smtp._tls"), "TXT", pz.txt(f"v=TLSRPTv1; rua=mailto:tlsrpt@{self.domain}"))
        if self.chance(0.08):
            self.add(
                self.sub("default._bimi"), "TXT", pz.txt(f"v=BIMI1; l=https://{self.domain}/bimi/logo.svg;")
            )

    # -- Microsoft 365 traces
    def tenant_label(self) -> str:
        base = self.base_label()[:20]
        roll = self.rng.random()
        if roll < 0.35:
            return base
        if roll < 0.55:
            return base + self.rng.choice(("tr", "com", "365", "grup", "holding"))
        if roll < 0.75:
            return base[: self.rng.randrange(3, 8)] + self.rng.choice(("tr", "ltd", "as", "san"))
        if roll < 0.9:
            return base + self.digits(self.rng.randrange(1, 4))
        return self.rng.choice(_NAMES) + self.rng.choice(("holding", "grup", "group"))

    def m365_traces(
        self,
        ms: float,
        autodiscover: float,
        dkim: float,
        lync: float,
        intune: float,
    ) -> bool:
        """Writes tenant traces with the given chances; True when at least one was written."""
        wrote = False
        if self.chance(ms):
            self.add(self.domain, "TXT", pz.txt(f"MS=ms{self.digits(8)}"))
            wrote = True
        if self.chance(autodiscover):
            self.add(self.sub("autodiscover"), "CNAME", "autodiscover.outlook.com.")
            wrote = True
        if self.chance(lync):
            self.add(self.sub("lyncdiscover"), "CNAME", "webdir.online.lync.com.")
            self.add(self.sub("sip"), "CNAME", "sipdir.online.lync.com.")
            self.add(self.sub("_sipfederationtls._tcp"), "SRV", "100 1 5061 sipfed.online.lync.com.")
            self.add(self.sub("_sip._tls"), "SRV", "100 1 443 sipdir.online.lync.com.")
            wrote = True
        if self.chance(intune):
            self.add(self.sub("enterpriseenrollment"), "CNAME", "enterpriseenrollment.manage.microsoft.com.")
            self.add(self.sub("enterpriseregistration"), "CNAME", "enterpriseregistration.windows.net.")
            wrote = True
        if self.chance(dkim):
            tenant = f"{self.tenant_label()}.onmicrosoft.com"
            published = self.chance(0.93)  # else DKIM not enabled yet: CNAME target missing
            for selector in ("selector1", "selector2"):
                label = f"{selector}-{pz.dashed(self.domain)}"[:63].rstrip("-")
                self.delegated_dkim(selector, f"{label}._domainkey.{tenant}", publish=published)
            self.tenant = tenant
            wrote = True
        return wrote

    # -- mail back ends
    def mail_m365(self, new_mx: bool) -> None:
        dashed = pz.dashed(self.domain)
        if new_mx:
            host = f"{dashed}.{self.rng.choice('abcdefghijklmnopqrstuvwxyz')}-v1.mx.microsoft"
            self.hosts_for("microsoft", host, 2, 2)
        else:
            host = f"{dashed}.mail.protection.outlook.com"
            self.hosts_for("microsoft", host, 2)
        pairs = [(self.rng.choice((0, 0, 10, 1)), host)]
        if self.chance(0.03):  # leftover backup MX at the old host
            pairs.append((50, pz.PROVIDER_MX["natro"][0][1]))
        self.mx(pairs, 3600)
        self.mail_network = "microsoft"
        self.m365_traces(ms=0.7, autodiscover=0.85, dkim=0.45, lync=0.4, intune=0.25)
        self.spf([f"include:{pz.SPF_INCLUDE['microsoft']}"])
        self.dmarc(mature=True)

    def mail_google(self, family: str) -> None:
        self.mx(pz.PROVIDER_MX[family])
        self.mail_network = "google"
        self.add(self.domain, "TXT", pz.txt(f"google-site-verification={self.token(43, _B64URL)}"))
        if self.chance(0.55):
            self.own_dkim("google", 2048 if self.chance(0.7) else 1024)
        self.spf([f"include:{pz.SPF_INCLUDE['google']}"])
        self.dmarc(mature=True)

    def mail_provider(self, family: str, own_dkim: tuple[str, float] | None = None) -> None:
        network = pz.MX_NETWORK.get(family, family)
        self.mx(pz.PROVIDER_MX[family])
        self.mail_network = network
        if own_dkim is not None and self.chance(own_dkim[1]):
            self.own_dkim(own_dkim[0], 1024)

    def mail_shared_hosting(self) -> None:
        network = _weighted(self.rng, _SHARED_HOSTING)
        ip = pz.host_ipv4(network, f"srv{self.rng.randrange(64)}")[0]
        if self.chance(0.3):
            self.mx([(0, self.domain)])  # cPanel default: MX is the domain itself
            self.add(self.domain, "A", ip)
        else:
            self.mx([(10, self.sub("mail"))])
        self.add(self.sub("mail"), "A", ip)
        if self.chance(0.4):
            self.add(self.sub("webmail"), "A", ip)
        if self.chance(0.3) and self.sub("autodiscover") not in self.cnames:
            self.add(self.sub("autodiscover"), "A", ip)
            self.add(self.sub("autoconfig"), "A", ip)
        if self.chance(0.45):
            self.own_dkim("default", 2048)
        self.mail_network = network
        self.needs_ip_facts = True
        self.web_network = network if self.web_network != "cloudflare" else "cloudflare"
        self.shared_ip = ip

    def mail_self_hosted(self, allow_onprem_autodiscover: bool = True) -> None:
        isp = _weighted(self.rng, _ISPS)
        label = _weighted(
            self.rng,
            (
                ("mail", 50),
                ("mx", 15),
                ("posta", 10),
                ("smtp", 5),
                ("exchange", 10),
                ("webmail", 5),
                ("mx1", 5),
            ),
        )
        host = self.sub(label)
        ip = pz.host_ipv4(isp, self.domain)[0]
        self.add(host, "A", ip)
        if self.chance(0.05):
            self.add(host, "AAAA", pz.host_ipv6(isp, self.domain)[0])
        pairs = [(10, host)]
        if self.chance(0.15):
            backup = self.sub("mx2")
            self.add(backup, "A", pz.host_ipv4(isp, self.domain + "#2")[0])
            pairs.append((20, backup))
        self.mx(pairs)
        if allow_onprem_autodiscover:
            roll = self.rng.random()
            if roll < 0.55:
                self.add(self.sub("autodiscover"), "A", ip)  # on-prem Exchange
            elif roll < 0.7:
                self.add(self.sub("autodiscover"), "CNAME", f"{host}.")
        if self.chance(0.15):
            self.own_dkim(self.rng.choice(("dkim", "s1", "default", "mail")), 2048)
        self.mail_network = isp
        self.needs_ip_facts = True
        self.self_ip = ip

    # -- profiles
    def build(self) -> None:
        p = self.profile
        if p == "nxdomain":
            return
        if p in ("servfail", "timeout"):
            self.incomplete = True
            self.dns_hosting()
            self.website()
            self.mail_provider("natro")
            self.faults.append((self.domain, Fault.SERVFAIL if p == "servfail" else Fault.DROP))
            return
        if p == "parked":
            parking = self.rng.choice(("parkingcrew", "sedo", "bodis"))
            for ns in pz.NAMESERVERS[parking][0]:
                self.add(self.domain, "NS", f"{ns}.", 86400)
            self.add(self.domain, "A", pz.host_ipv4(parking, f"park{self.rng.randrange(8)}")[0])
            if self.chance(0.3):
                self.add(self.domain, "TXT", pz.txt("v=spf1 -all"))
                self.spf_style = "strict"
            return
        if p in ("no_mx", "null_mx"):
            self.dns_hosting()
            self.website()
            if p == "null_mx":
                self.mx([(0, ".")], 3600)
                self.add(self.domain, "TXT", pz.txt("v=spf1 -all"))
                self.spf_style = "strict"
                if self.chance(0.5):
                    self.add(self.sub("_dmarc"), "TXT", pz.txt("v=DMARC1; p=reject"))
                    self.dmarc_style = "reject"
            else:
                roll = self.rng.random()
                if roll < 0.4:
                    self.add(self.domain, "TXT", pz.txt("v=spf1 -all"))
                    self.spf_style = "strict"
                elif roll < 0.5:
                    self.add(self.domain, "TXT", pz.txt("v=spf1 a mx ~all"))
                    self.spf_style = "soft"
                if self.chance(0.2):
                    self.add(self.sub("_dmarc"), "TXT", pz.txt("v=DMARC1; p=reject"))
                    self.dmarc_style = "reject"
                self.verifications()
            return

        if p in ("m365_classic", "m365_new_mx"):
            self.dns_hosting("azure" if self.chance(0.05) else None)
            self.website()
            self.mail_m365(new_mx=p == "m365_new_mx")
            self.verifications()
            self.maturity_extras()
        elif p in ("google_new", "google_legacy"):
            self.dns_hosting()
            self.website()
            family = p if p == "google_new" or self.chance(0.7) else "google_googlemail"
            self.mail_google(family)
            self.verifications(exclude=("google",))
            self.maturity_extras()
        elif p == "zoho":
            self.build_zoho()
        elif p == "yandex":
            self.dns_hosting()
            self.website()
            self.mail_provider("yandex", ("mail", 0.6))
            if self.chance(0.7):
                self.add(self.domain, "TXT", pz.txt(f"yandex-verification: {self.token(16, _HEX)}"))
            self.spf([f"include:{pz.SPF_INCLUDE['yandex']}"])
            self.dmarc()
            self.verifications(exclude=("yandex",))
        elif p == "amazon":
            self.build_amazon()
        elif p == "icloud":
            self.dns_hosting()
            self.website()
            self.mail_provider("icloud")
            self.add(self.domain, "TXT", pz.txt(f"apple-domain-verification={self.token(16)}"))
            self.delegated_dkim("sig1", f"sig1.dkim.{self.domain}.at.icloudmailadmin.com")
            self.spf([f"include:{pz.SPF_INCLUDE['icloud']}"])
            self.dmarc()
            self.verifications(exclude=("apple",))
        elif p == "proton":
            self.dns_hosting()
            self.website()
            self.mail_provider("proton")
            self.add(self.domain, "TXT", pz.txt(f"protonmail-verification={self.token(40, _HEX)}"))
            digest = self.token(52, _LOWER + string.digits)
            for selector in ("protonmail", "protonmail2", "protonmail3"):
                self.delegated_dkim(selector, f"{selector}.domainkey.d{digest}.domains.proton.ch")
            self.spf([f"include:{pz.SPF_INCLUDE['proton']}"], allowed_bad=False)
            self.dmarc(mature=True)
        elif p in _HOSTING_PROFILE_NETWORK:
            network = _HOSTING_PROFILE_NETWORK[p]
            own_ns = network if network in _HOSTING_OWN_NS else None
            self.dns_hosting(own_ns)
            self.website()
            self.build_hosted_mail(network)
            self.dmarc()
            self.verifications()
        elif p == "hosting_shared":
            self.dns_hosting(self.rng.choice(("natro", "turhost", "isimtescil", "radore", "turkticaret")))
            self.mail_shared_hosting()
            self.website(self.shared_ip if self.web_network != "cloudflare" else None)
            mechs = ["+a", "+mx", f"+ip4:{self.shared_ip}"] if self.chance(0.6) else ["a", "mx"]
            self.spf(mechs)
            self.dmarc()
            self.verifications()
        elif p == "self_hosted":
            self.dns_hosting()
            self.website()
            self.mail_self_hosted()
            self.spf(["mx", "a", f"ip4:{self.self_ip}"] if self.chance(0.6) else ["mx"])
            self.dmarc()
            self.verifications()
        elif p == "half_migrated":
            self.build_half_migrated()
        elif p.startswith("gateway_"):
            self.build_gateway()
        else:  # pragma: no cover - PROFILE_WEIGHTS and build() are kept in step by tests
            raise ValueError(f"unknown profile {p}")

    def build_zoho(self) -> None:
        self.dns_hosting()
        self.website()
        eu = self.chance(0.3)
        self.mail_provider("zoho_eu" if eu else "zoho")
        self.add(self.domain, "TXT", pz.txt(f"zoho-verification=zb{self.digits(8)}.zmverify.zoho.com"))
        roll = self.rng.random()
        if roll < 0.6:
            self.own_dkim("zmail", 1024)
        elif roll < 0.8:
            self.own_dkim("zoho", 1024)
        include = pz.SPF_INCLUDE[("zoho" if self.chance(0.5) else "zohomail") + ("_eu" if eu else "")]
        self.spf([f"include:{include}"])
        self.dmarc()
        self.verifications()

    def build_amazon(self) -> None:
        self.dns_hosting()
        self.website()
        region = self.rng.choice(pz.AMAZON_REGIONS)
        self.mx([(10, f"inbound-smtp.{region}.amazonaws.com")])
        self.mail_network = "amazon"
        if self.chance(0.7):
            self.add(self.sub("autodiscover"), "CNAME", f"autodiscover.mail.{region}.awsapps.com.")
        for _ in range(3):
            # Random tokens as selectors: no scanner can find these by probing known names.
            token = self.token(32, _LOWER + string.digits)
            self.delegated_dkim(token, f"{token}.dkim.amazonses.com", 1024)
        self.add(self.sub("_amazonses"), "TXT", pz.txt(self.token(44, _B64)))
        self.spf([f"include:{pz.SPF_INCLUDE['amazon']}"])
        self.dmarc(mature=True)
        self.verifications()

    def build_hosted_mail(self, network: str, extra_mechs: Iterable[str] = ()) -> None:
        dkim = ("default", 0.3) if network in ("natro", "turhost", "isimtescil", "hostinger") else None
        self.mail_provider(network, dkim)
        if self.chance(0.5):
            self.hosts_for(network, self.sub("mail"))  # webmail convenience name
        include = f"include:{pz.SPF_INCLUDE[network]}"
        mechs = [include] if self.chance(0.5) else ["a", "mx", include]
        self.spf([*mechs, *extra_mechs])

    def build_half_migrated(self) -> None:
        self.half_migrated = True
        self.dns_hosting()
        self.website()
        # Tenant traces first so an on-prem autodiscover never collides with the M365 CNAME.
        if not self.m365_traces(ms=0.85, autodiscover=0.45, dkim=0.3, lync=0.1, intune=0.15):
            self.add(self.domain, "TXT", pz.txt(f"MS=ms{self.digits(8)}"))
        outlook = [f"include:{pz.SPF_INCLUDE['microsoft']}"] if self.chance(0.35) else []
        backend = _weighted(self.rng, (("hosting", 45), ("shared", 20), ("self", 20), ("google", 15)))
        if backend == "hosting":
            network = self.rng.choice(("natro", "natro", "turhost", "isimtescil", "godaddy"))
            self.build_hosted_mail(network, outlook)
            self.platform = "hosting"
        elif backend == "shared":
            self.mail_shared_hosting()
            self.spf(["a", "mx", *outlook])
            self.platform = "hosting"
        elif backend == "self":
            self.mail_self_hosted(allow_onprem_autodiscover=self.sub("autodiscover") not in self.cnames)
            self.spf(["mx", *outlook])
            self.platform = "self_hosted"
        else:
            self.mx(pz.PROVIDER_MX["google_legacy"])
            self.mail_network = "google"
            self.add(self.domain, "TXT", pz.txt(f"google-site-verification={self.token(43, _B64URL)}"))
            if self.chance(0.4):
                self.own_dkim("google")
            self.spf([f"include:{pz.SPF_INCLUDE['google']}", *outlook])
            self.platform = "google"
        self.dmarc()

    def build_gateway(self) -> None:
        p = self.profile
        if p == "gateway_unknown":
            gateway = self.rng.choice(GATEWAYS)
            behind = None
        else:
            gateway, behind = p[len("gateway_") :].rsplit("_", 1)
        self.gateway = "proofpoint" if gateway == "proofpoint_essentials" else gateway
        self.dns_hosting()
        self.website()
        self.gateway_mx(gateway)
        gw_include = self.gateway_spf(gateway)
        if behind == "m365":
            self.m365_traces(ms=0.8, autodiscover=0.85, dkim=0.5, lync=0.3, intune=0.3)
            self.spf([gw_include, f"include:{pz.SPF_INCLUDE['microsoft']}"], allowed_bad=False)
            self.dmarc(mature=True)
            self.verifications()
            self.maturity_extras()
        elif behind == "google":
            self.add(self.domain, "TXT", pz.txt(f"google-site-verification={self.token(43, _B64URL)}"))
            if self.chance(0.6):
                self.own_dkim("google")
            self.spf([gw_include, f"include:{pz.SPF_INCLUDE['google']}"], allowed_bad=False)
            self.dmarc(mature=True)
            self.verifications(exclude=("google",))
            self.maturity_extras()
        else:
            # Nothing behind the gateway can be told: no tenant traces, no suite tokens.
            self.spf([gw_include], allowed_bad=False, style="soft" if self.chance(0.6) else "missing")
            self.dmarc(mature=True)

    def gateway_mx(self, gateway: str) -> None:
        network = gateway
        if gateway == "proofpoint":
            account = self.digits(6)
            pairs = [(10, f"mx0a-00{account}.pphosted.com"), (10, f"mx0b-00{account}.pphosted.com")]
        elif gateway == "barracuda":
            account = self.digits(9)
            pairs = [
                (10, f"d{account}a.ess.barracudanetworks.com"),
                (10, f"d{account}b.ess.barracudanetworks.com"),
            ]
        elif gateway == "cisco":
            slug = self.base_label()[:15]
            pairs = [(10, f"mx1.{slug}.iphmx.com"), (10, f"mx2.{slug}.iphmx.com")]
        elif gateway == "trendmicro" and self.chance(0.6):
            pairs = [(10, f"{pz.dashed(self.domain)}.in.tmes.trendmicro.eu")]
        else:
            family = "trendmicro_hes" if gateway == "trendmicro" else gateway
            self.mx(pz.PROVIDER_MX[family])
            self.mail_network = pz.MX_NETWORK[family]
            return
        for _, host in pairs:
            self.hosts_for(network, host, 2)
        self.mx(pairs)
        self.mail_network = network

    def gateway_spf(self, gateway: str) -> str:
        if gateway == "cisco":
            return f"exists:%{{i}}.spf.{self.base_label()[:15]}.iphmx.com"
        if gateway == "mimecast":
            return f"include:{pz.SPF_INCLUDE['mimecast' if self.chance(0.5) else 'mimecast_eu']}"
        if gateway == "trendmicro":
            hes = any(h.endswith("hes.trendmicro.com") for h in self.mx_hosts)
            return f"include:{pz.SPF_INCLUDE['trendmicro_hes' if hes else 'trendmicro']}"
        return f"include:{pz.SPF_INCLUDE[gateway]}"

    def company(self) -> WorldCompany:
        return WorldCompany(
            domain=self.domain,
            profile=self.profile,
            expected_platform=self.platform,
            expected_gateway=self.gateway,
            tenant_name=self.tenant,
            half_migrated=self.half_migrated,
            mx_hosts=tuple(self.mx_hosts),
            mail_network=self.mail_network,
            needs_ip_facts=self.needs_ip_facts,
            expected_incomplete=self.incomplete,
            spf_style=self.spf_style,
            dmarc_style=self.dmarc_style,
            has_dkim=bool(self.dkim_selectors),
            dkim_selectors=tuple(self.dkim_selectors),
        )


_LOWER = string.ascii_lowercase
_HEX = "0123456789abcdef"
_B64 = string.ascii_letters + string.digits + "+/"
_B64URL = string.ascii_letters + string.digits + "-_"


# ---------------------------------------------------------------------- world
@dataclass
class World:
    """Companies with ground truth plus every record needed to serve them.

    ``spf_style`` values: strict (-all), soft (~all), neutral (?all), pass_all (+all), double,
    over_limit, void, redirect. ``dmarc_style``: none, none_rua, quarantine, reject, pct50,
    reject_sp_none, upper_reject (``P=Reject``), reject_rua.
    """

    companies: list[WorldCompany]
    seed: int = 0
    records: dict[str, tuple[WorldRecord, ...]] = field(default_factory=dict)
    faults: list[tuple[str, Fault]] = field(default_factory=list)

    def __repr__(self) -> str:  # the default one would print every record
        return f"World(seed={self.seed}, companies={len(self.companies)})"

    def company(self, domain: str) -> WorldCompany:
        key = normalize_name(domain)
        for c in self.companies:
            if c.domain == key:
                return c
        raise KeyError(domain)

    @property
    def suffix_zones(self) -> list[str]:
        """TLD-ish zones (``com.tr``, ``tr``, ``com``...) that answer NXDOMAIN for unknown names."""
        out: set[str] = set()
        for c in self.companies:
            labels = c.domain.split(".")
            out.update(".".join(labels[i:]) for i in range(1, len(labels)))
        return sorted(out)

    def zone_text(self) -> str:
        """The companies' records as zone lines (provider zones not included)."""
        lines: list[str] = []
        for c in self.companies:
            lines.extend(
                f"{r.name}. {r.ttl} IN {r.rdtype} {r.value}\n" for r in self.records.get(c.domain, ())
            )
        return "".join(lines)

    def populate(self, store: ZoneStore) -> None:
        """Provider zones, suffix zones, every company's zone and records, scripted faults."""
        pz.populate_providers(store)
        for zone in self.suffix_zones:
            store.add_zone(zone)
        for c in self.companies:
            if c.profile != "nxdomain":
                store.add_zone(c.domain)
        store.add_text(self.zone_text())
        for name, fault in self.faults:
            store.set_fault(name, fault, subtree=True)


def build_world(domains: Iterable[str], seed: int = 0, profiles: dict[str, str] | None = None) -> World:
    overrides = {normalize_name(d): p for d, p in (profiles or {}).items()}
    for profile in overrides.values():
        if profile not in PROFILE_WEIGHTS:
            raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    world = World(companies=[], seed=seed)
    seen: set[str] = set()
    for raw in domains:
        domain = normalize_name(raw)
        if domain in seen:
            continue
        seen.add(domain)
        profile = overrides.get(domain) or profile_for(domain, seed)
        builder = _Builder(domain, profile, seed)
        builder.build()
        world.companies.append(builder.company())
        world.records[domain] = tuple(builder.records)
        world.faults.extend(builder.faults)
    return world
