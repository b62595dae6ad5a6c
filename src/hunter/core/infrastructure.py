"""Who runs a lead's mail and web servers, in one sentence (pure: plain data in, text out).

Input is IP facts as plain mappings (``IpFacts.to_dict()`` or rows from the ``ip_facts``
table; objects with the same attributes work too): ``ip``, ``asn``, ``asn_org``, ``isp``,
``usage_type``, ``city``, ``country``, ``is_proxy``, ``proxy_type``.

* The network owner comes from ``data/network_owners.yaml`` by ASN (short brand name and kind),
  else from the database's AS organisation / ISP name.
* :func:`network_kind` is ``hosting`` / ``isp`` / ``cloud`` / ``cdn`` / ``mail_provider`` from
  the owners list; for an unlisted ASN it falls back to IP2Location's usage type (DCH →
  hosting, CDN → cdn, ISP / MOB → isp, COM / ORG / GOV / MIL / EDU / LIB → business).
* Proxy flags are stated as what IP2Proxy lists, never as a judgement. A data-centre (DCH) flag
  on an address whose owner is already known as hosting / cloud / CDN adds nothing and is left
  out; every other listing is mentioned.
* Turkish sentences avoid suffixes that need vowel harmony on a variable word ("Posta: Natro
  (AS34619), İstanbul TR"); Turkish city names get their Turkish spelling in Turkish text.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, Literal

import yaml

__all__ = [
    "KINDS",
    "NetworkOwner",
    "default_network_owners",
    "infrastructure_summary",
    "load_network_owners",
    "network_kind",
    "network_owner",
]

Lang = Literal["tr", "en"]
KINDS: Final = ("hosting", "isp", "cloud", "cdn", "mail_provider")
_USAGE_KINDS: Final = {
    "DCH": "hosting",
    "CDN": "cdn",
    "ISP": "isp",
    "MOB": "isp",
    "COM": "business",
    "ORG": "business",
    "GOV": "business",
    "MIL": "business",
    "EDU": "business",
    "LIB": "business",
}
# Owners of these kinds are data centres anyway: an IP2Proxy DCH listing says nothing new.
_DATA_CENTRE_KINDS: Final = frozenset({"hosting", "cloud", "cdn", "mail_provider"})


@dataclass(frozen=True)
class NetworkOwner:
    asn: int
    name: str
    kind: str
    country: str
    org: str | None = None


def load_network_owners(data: Mapping[str, Any] | str) -> dict[int, NetworkOwner]:
    """Parse the owners YAML (text or parsed mapping). Raises ValueError on bad data."""
    if isinstance(data, str):
        data = yaml.safe_load(data)
    if not isinstance(data, Mapping) or not isinstance(data.get("owners"), Mapping):
        raise ValueError("network owners: expected a mapping with an 'owners' mapping")
    owners: dict[int, NetworkOwner] = {}
    for key, entry in data["owners"].items():
        if not isinstance(key, int) or not 0 < key < 2**32:
            raise ValueError(f"network owners: {key!r} is not an AS number")
        if not isinstance(entry, Mapping):
            raise ValueError(f"network owners: AS{key} must be a mapping")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ValueError(f"network owners: AS{key} has kind {kind!r}, expected one of {', '.join(KINDS)}")
        name, country = entry.get("name"), entry.get("country")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"network owners: AS{key} needs a name")
        if not isinstance(country, str) or len(country) != 2 or not country.isalpha():
            raise ValueError(f"network owners: AS{key} needs a two-letter country code")
        org = entry.get("org")
        owners[key] = NetworkOwner(key, name.strip(), kind, country.upper(), str(org) if org else None)
    return owners


@functools.cache
def default_network_owners() -> Mapping[int, NetworkOwner]:
    """The packaged ``data/network_owners.yaml``, parsed once per process."""
    text = resources.files("hunter.data").joinpath("network_owners.yaml").read_text(encoding="utf-8")
    return load_network_owners(text)


def network_owner(asn: int | None, owners: Mapping[int, NetworkOwner] | None = None) -> NetworkOwner | None:
    if asn is None:
        return None
    return (default_network_owners() if owners is None else owners).get(int(asn))


def network_kind(
    asn: int | None, usage_type: str | None = None, *, owners: Mapping[int, NetworkOwner] | None = None
) -> str | None:
    """What kind of network an address is in: the owners list first, then the usage type."""
    owner = network_owner(asn, owners)
    if owner is not None:
        return owner.kind
    if usage_type:
        # IP2Location may combine codes ("ISP/MOB"); the first one we know decides.
        for code in usage_type.upper().replace(",", "/").split("/"):
            kind = _USAGE_KINDS.get(code.strip())
            if kind is not None:
                return kind
    return None


# --------------------------------------------------------------------------------------------
# Sentences


def _get(item: Any, key: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, key, None)


_TR_FOLD: Final = str.maketrans("ıİşŞğĞüÜöÖçÇâÂîÎûÛ", "iIsSgGuUoOcCaAiIuU")
# Provinces whose Turkish spelling differs from the ASCII one the databases use.
_TR_PROVINCES: Final = (
    "Adıyaman Ağrı Aydın Balıkesir Bartın Bingöl Çanakkale Çankırı Çorum Diyarbakır Düzce Elazığ "
    "Eskişehir Gümüşhane Iğdır İstanbul İzmir Kahramanmaraş Karabük Kırıkkale Kırklareli Kırşehir "
    "Kütahya Muğla Muş Nevşehir Niğde Şanlıurfa Şırnak Tekirdağ Uşak"
)
_TR_CITIES: Final = {name.translate(_TR_FOLD).casefold(): name for name in _TR_PROVINCES.split()}
# English exonyms without the dotted capital.
_EN_CITIES: Final = {"istanbul": "Istanbul", "izmir": "Izmir"}


def _city(name: str, country: str | None, lang: Lang) -> str:
    if country != "TR":
        return name
    key = name.translate(_TR_FOLD).casefold()
    if lang == "tr":
        return _TR_CITIES.get(key, name)
    return _EN_CITIES.get(key, name)


def _place(item: Any, lang: Lang) -> str | None:
    country = _get(item, "country")
    city = _get(item, "city")
    country = country.upper() if isinstance(country, str) and country else None
    if city:
        city_text = _city(str(city), country, lang)
        if country:
            return f"{city_text} {country}" if lang == "tr" else f"{city_text}, {country}"
        return city_text
    return country


@dataclass(frozen=True)
class _Net:
    name: str | None
    asn: int | None
    kind: str | None

    def label(self) -> str | None:
        if self.name and self.asn:
            return f"{self.name} (AS{self.asn})"
        if self.name:
            return self.name
        return f"AS{self.asn}" if self.asn else None


def _network(item: Any, owners: Mapping[int, NetworkOwner]) -> _Net:
    raw_asn = _get(item, "asn")
    try:
        asn = int(raw_asn) if raw_asn is not None else None
    except (TypeError, ValueError):
        asn = None
    owner = owners.get(asn) if asn is not None else None
    name = owner.name if owner else (_get(item, "asn_org") or _get(item, "isp"))
    return _Net(str(name) if name else None, asn, network_kind(asn, _get(item, "usage_type"), owners=owners))


def _top(values: Sequence[Any], limit: int = 2) -> list[Any]:
    counts = Counter(v for v in values if v is not None)
    first_seen = {v: i for i, v in reversed(list(enumerate(values)))}
    ranked = sorted(counts, key=lambda v: (-counts[v], first_seen[v]))
    return ranked[:limit]


_PROXY_TR: Final = {
    "DCH": "veri merkezi",
    "VPN": "VPN",
    "TOR": "Tor çıkış noktası",
    "PUB": "açık proxy",
    "WEB": "web proxy",
    "SES": "arama motoru tarayıcısı",
    "RES": "ev kullanıcısı proxy'si",
    "CPN": "tüketici gizlilik ağı",
    "EPN": "kurumsal özel ağ",
    "AIC": "yapay zekâ tarayıcısı",
}
_PROXY_EN: Final = {
    "DCH": "a data centre",
    "VPN": "a VPN",
    "TOR": "a Tor exit node",
    "PUB": "a public proxy",
    "WEB": "a web proxy",
    "SES": "a search engine crawler",
    "RES": "a residential proxy",
    "CPN": "a consumer privacy network",
    "EPN": "an enterprise private network",
    "AIC": "an AI crawler",
}


def _proxy_sentence(item: Any, role: str, net: _Net, lang: Lang) -> str | None:
    flag = _get(item, "is_proxy")
    if flag not in (1, 2):
        return None
    proxy_type = str(_get(item, "proxy_type") or ("DCH" if flag == 2 else "")).upper()
    if proxy_type == "DCH" and net.kind in _DATA_CENTRE_KINDS:
        return None
    ip = _get(item, "ip") or ""
    if lang == "tr":
        label = _PROXY_TR.get(proxy_type, proxy_type or "proxy")
        who = "posta sunucusu" if role == "mail" else "web sunucusu"
        return f"IP2Proxy {who} {ip} adresini {label} olarak listeliyor".replace("  ", " ")
    label = _PROXY_EN.get(proxy_type, f"a proxy ({proxy_type})" if proxy_type else "a proxy")
    who = "the mail server" if role == "mail" else "the web server"
    return f"IP2Proxy lists {who} {ip} as {label}".replace("  ", " ")


def _mail_clause(items: Sequence[Any], nets: list[_Net], lang: Lang) -> str | None:
    labels = [n.label() for n in _top(nets)]
    labels = [label for label in labels if label]
    places = _top([_place(i, lang) for i in items])
    if not labels and not places:
        return None
    if lang == "tr":
        text = "posta: " + " ve ".join(labels) if labels else "posta sunucuları:"
        if places:
            text += (", " if labels else " ") + " / ".join(places)
        return text
    text = "mail hosted by " + " and ".join(labels) if labels else "mail servers"
    if places:
        text += " in " + " / ".join(places)
    return text


def _web_clause(items: Sequence[Any], nets: list[_Net], mail_nets: list[_Net], lang: Lang) -> str | None:
    top = _top(nets, 1)
    net = top[0] if top else None
    if net is not None and net.kind == "cdn" and net.name:
        return f"web: {net.name} arkasında" if lang == "tr" else f"web behind {net.name}"
    mail_asns = {n.asn for n in mail_nets if n.asn}
    if net is not None and net.asn and net.asn in mail_asns:
        return "web: aynı ağda" if lang == "tr" else "web on the same network"
    label = net.label() if net else None
    places = _top([_place(i, lang) for i in items], 1)
    if not label and not places:
        return None
    if lang == "tr":
        return "web: " + ", ".join(x for x in (label, places[0] if places else None) if x)
    text = f"web hosted by {label}" if label else "web servers"
    if places:
        text += f" in {places[0]}"
    return text


def infrastructure_summary(
    mail_ips: Sequence[Any],
    web_ips: Sequence[Any],
    lang: Lang = "tr",
    *,
    owners: Mapping[int, NetworkOwner] | None = None,
) -> str | None:
    """One sentence about where mail and web are hosted, or None when nothing is known.

    tr: "Posta: Natro (AS34619), İstanbul TR; web: Cloudflare arkasında"
    en: "Mail hosted by Natro (AS34619) in Istanbul, TR; web behind Cloudflare"
    """
    if lang not in ("tr", "en"):
        raise ValueError(f"unsupported language {lang!r}")
    table = default_network_owners() if owners is None else owners
    mail_nets = [_network(i, table) for i in mail_ips]
    web_nets = [_network(i, table) for i in web_ips]
    clauses = [
        c
        for c in (_mail_clause(mail_ips, mail_nets, lang), _web_clause(web_ips, web_nets, mail_nets, lang))
        if c
    ]
    proxies: list[str] = []
    seen: set[Any] = set()
    for role, items, nets in (("mail", mail_ips, mail_nets), ("web", web_ips, web_nets)):
        for item, net in zip(items, nets, strict=True):
            ip = _get(item, "ip")
            sentence = _proxy_sentence(item, role, net, lang)
            if sentence and ip not in seen and len(proxies) < 2:
                seen.add(ip)
                proxies.append(sentence)
    if not clauses and not proxies:
        return None
    text = "; ".join(clauses)
    if proxies:
        text = ". ".join([text, *proxies]) if text else ". ".join(proxies)
    return text[:1].upper() + text[1:]
