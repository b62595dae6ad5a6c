"""Mail-platform, security-gateway and Microsoft 365 tenant classification (pure).

Input is :class:`~hunter.core.evidence.Evidence`; output is a frozen :class:`Classification`
whose every evidence line quotes the record that decided it. The provider patterns live in
``data/providers.yaml`` and are matched on host names at label boundaries only, never as loose
substrings (``opendns.com`` must not match ``dns.com``).

Decisions worth knowing:

* Completeness first. MX, apex TXT and ``_dmarc`` (with its organisational fallback) are
  critical: if any of them failed (servfail, timeout, refused, error) the result is incomplete
  and ``platform`` is None — never ``none``, because unknown is not absent. NXDOMAIN on the MX
  lookup is a definite answer: ``unresolved``.
* All MX hosts are read. The primary platform is the majority among the hosts with the lowest
  preference; other platforms seen in the MX set become secondary platforms.
* A security gateway is not a platform. Behind one, the platform is inferred from backup MX
  hosts, SPF includes, autodiscover, DKIM and verification tokens, each with a weight from the
  YAML; with nothing known the platform is ``unknown`` at low confidence.
* Tenant traces and half-migration: see :data:`HALF_MIGRATION_TRACES`.
"""

from __future__ import annotations

import functools
import ipaddress
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib import resources
from typing import Any, Final, Generic, TypeVar

import yaml

from hunter.core.domains import host_matches_suffix, registrable_domain
from hunter.core.evidence import Evidence, Lookup, LookupPurpose, LookupStatus
from hunter.core.spf_tree import SpfTree, host_key, single_spf_record, walk_spf_tree

__all__ = [
    "GATEWAYS",
    "HALF_MIGRATION_TRACES",
    "MAIL_PLATFORMS",
    "PLATFORMS",
    "TENANT_TRACES",
    "Classification",
    "HostIndex",
    "LookupIndex",
    "MxHost",
    "NetworkHint",
    "Provider",
    "ProviderRules",
    "SpfTree",
    "classify",
    "confidence_label",
    "default_rules",
    "load_rules",
    "lookup_index",
    "spf_include_tree",
]

PLATFORMS: Final = (
    "m365",
    "google",
    "zoho",
    "yandex",
    "amazon",
    "icloud",
    "other_cloud",
    "hosting",
    "self_hosted",
    "none",
    "unresolved",
    "unknown",
)
# Platforms a provider pattern can name (the rest are decided by the classifier itself).
MAIL_PLATFORMS: Final = ("m365", "google", "zoho", "yandex", "amazon", "icloud", "other_cloud", "hosting")
# Platforms that mean "mail is received somewhere real" (for half-migration and secondaries).
_RECEIVING: Final = frozenset({*MAIL_PLATFORMS, "self_hosted", "unknown"})
GATEWAYS: Final = (
    "proofpoint",
    "mimecast",
    "barracuda",
    "cisco",
    "trendmicro",
    "symantec",
    "hornetsecurity",
    "sophos",
    "other_gateway",
)
KINDS: Final = ("mail", "hosting", "gateway", "dns", "parking")

TENANT_TRACES: Final = (
    "mx",
    "spf_include",
    "ms_txt",
    "autodiscover",
    "dkim_cname",
    "lyncdiscover",
    "sip",
    "sipfederationtls",
    "enterpriseenrollment",
    "enterpriseregistration",
)
# Traces that only exist because someone set up a tenant for this domain: the MS= token and the
# DNS records the Microsoft 365 admin centre asks for (autodiscover, DKIM CNAMEs, Teams/Skype,
# Intune/Entra enrolment), plus an M365 host in the MX set. The SPF include alone does not
# count: hosting templates and relay set-ups copy "include:spf.protection.outlook.com" into
# records of domains that have no tenant, so it is reported but never makes a lead half-migrated.
HALF_MIGRATION_TRACES: Final = frozenset(set(TENANT_TRACES) - {"spf_include"})

_TRACE_DESCRIPTIONS: Final = {
    "autodiscover": "Outlook clients are pointed at Exchange Online",
    "lyncdiscover": "Teams/Skype for Business discovery points at Microsoft 365",
    "sip": "Teams/Skype for Business sign-in points at Microsoft 365",
    "sipfederationtls": "Teams/Skype federation points at Microsoft 365",
    "enterpriseenrollment": "device enrolment points at Microsoft Intune",
    "enterpriseregistration": "device registration points at Microsoft Entra ID",
}

_PLATFORM_NAMES: Final = {
    "m365": "Microsoft 365",
    "google": "Google Workspace",
    "zoho": "Zoho Mail",
    "yandex": "Yandex 360",
    "amazon": "Amazon WorkMail",
    "icloud": "iCloud Mail",
    "other_cloud": "another cloud mail suite",
    "hosting": "shared hosting / ISP mail",
    "self_hosted": "a self-hosted mail server",
    "none": "no mail",
    "unresolved": "a domain that does not exist",
    "unknown": "an unknown platform",
}

_CRITICAL_FAILURE_NOTE: Final = "the mail platform cannot be told until a rescan"

# Plain lookups instead of the enum's properties, which cost a Python-level call each.
_OK: Final = LookupStatus.OK
_FAILED: Final = frozenset(s for s in LookupStatus if s.is_failure)

NetworkHint = Callable[[str], str | None]
"""Called with an IP address of an MX host; returns the kind of network it sits in.

``"hosting"`` turns a self-hosted (or unrecognised) MX into ``hosting``; any other non-None
value (``"isp"``, ``"business"``, ``"cloud"`` …) says the network is known and not a hosting
company, which raises the confidence of ``self_hosted``. None means "no idea".
"""

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Host names and patterns


_host = host_key


def _check_pattern(pattern: str) -> str:
    """Validate a YAML host pattern: lower-case ASCII labels, '*' only inside a label."""
    if not isinstance(pattern, str) or not pattern or pattern != pattern.strip().lower():
        raise ValueError(f"host pattern {pattern!r} must be a non-empty lower-case string")
    if pattern.startswith(".") or pattern.endswith(".") or ".." in pattern or not pattern.isascii():
        raise ValueError(f"host pattern {pattern!r} must be an ASCII name without empty labels")
    if any(ch in pattern for ch in "?[]/ "):
        raise ValueError(f"host pattern {pattern!r}: only '*' is allowed as a wildcard")
    return pattern


class HostIndex(Generic[T]):
    """Label-boundary suffix lookup; the longest matching pattern wins.

    Equivalent to trying :func:`hunter.core.domains.host_matches_suffix` against every pattern
    (a test pins that), but a host costs one dict probe per label instead of one call per
    pattern, which matters when a rules change re-evaluates every stored lead.
    """

    # Provider host names (include targets, shared MX and NS hosts) repeat across leads, so
    # answers are remembered per name; the cache starts over when it grows past this.
    _CACHE_LIMIT: Final = 10_000

    def __init__(self, entries: Iterable[tuple[str, T]] = ()) -> None:
        self._exact: dict[str, T] = {}
        self._wild: list[tuple[str, tuple[str, ...], str, T]] = []
        self._cache: dict[str, tuple[str, T] | None] = {}
        for pattern, value in entries:
            if "*" in pattern:
                labels = pattern.split(".")
                # The labels after the last wildcard must match literally: a cheap first test.
                literal = labels[max(i for i, label in enumerate(labels) if "*" in label) + 1 :]
                tail = "".join("." + label for label in literal)
                self._wild.append((tail, tuple(labels), pattern, value))
            else:
                self._exact.setdefault(pattern, value)  # first declaration wins

    def __len__(self) -> int:
        return len(self._exact) + len(self._wild)

    def match(self, name: str) -> tuple[str, T] | None:
        """``(pattern, value)`` for the most specific pattern ``name`` lies under, or None."""
        try:
            return self._cache[name]
        except KeyError:
            pass
        found = self._match(name)
        if len(self._cache) >= self._CACHE_LIMIT:
            self._cache.clear()
        self._cache[name] = found
        return found

    def _match(self, name: str) -> tuple[str, T] | None:
        host = _host(name)
        if not host or host[0] == ".":
            return None
        best: tuple[int, str, T] | None = None
        exact = self._exact
        # Suffixes from the whole name down to the last label: the first hit is the longest.
        start = 0
        while True:
            suffix = host[start:]
            if suffix in exact:
                best = (host.count(".", start) + 1, suffix, exact[suffix])
                break
            start = host.find(".", start) + 1
            if not start:
                break
        labels: list[str] | None = None
        for tail, pattern_labels, pattern, wild_value in self._wild:
            if not host.endswith(tail):
                continue
            if labels is None:
                labels = host.split(".")
            size = len(pattern_labels)
            if size > len(labels) or (best is not None and size <= best[0]):
                continue
            if all(fnmatchcase(h, p) for h, p in zip(labels[-size:], pattern_labels, strict=True)):
                best = (size, pattern, wild_value)
        return None if best is None else (best[1], best[2])


class _PrefixTable:
    """Which of many prefixes a string starts with.

    Only the prefixes sharing the string's first two characters are tried, instead of every
    provider's every prefix for every TXT record.
    """

    __slots__ = ("_by_head", "_short")

    def __init__(self, entries: Iterable[tuple[str, int]]) -> None:
        self._short: list[tuple[str, int]] = []
        self._by_head: dict[str, list[tuple[str, int]]] = {}
        for prefix, number in entries:
            if len(prefix) < 2:
                self._short.append((prefix, number))
            else:
                self._by_head.setdefault(prefix[:2], []).append((prefix, number))

    def hits(self, text: str) -> list[int]:
        """Numbers of the entries ``text`` starts with, ascending and distinct."""
        candidates = self._by_head.get(text[:2])
        if self._short:
            candidates = [*self._short, *(candidates or ())]
        if not candidates:
            return []
        return sorted({number for prefix, number in candidates if text.startswith(prefix)})


# --------------------------------------------------------------------------------------------
# Rules (data/providers.yaml)

_LIST_FIELDS: Final = ("mx", "spf", "autodiscover", "dkim", "dkim_selectors", "txt", "ns", "domains")
_PROVIDER_FIELDS: Final = frozenset({"key", "name", "kind", "platform", "gateway", "country", *_LIST_FIELDS})


@dataclass(frozen=True, slots=True)
class Provider:
    key: str
    name: str
    kind: str
    platform: str | None = None
    """Mail platform for kind mail/hosting."""
    gateway: str | None = None
    """Gateway class (one of GATEWAYS) for kind gateway."""
    country: str | None = None
    mx: tuple[str, ...] = ()
    spf: tuple[str, ...] = ()
    autodiscover: tuple[str, ...] = ()
    dkim: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()
    txt: tuple[str, ...] = ()
    ns: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Platform or gateway class the provider stands for in signals."""
        return self.platform or self.gateway or self.key


@dataclass(frozen=True)
class ProviderRules:
    version: str
    providers: tuple[Provider, ...]
    footprint_tokens: tuple[tuple[str, str], ...] = ()
    m365_traces: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tenant_dkim: tuple[tuple[str, int], ...] = ()
    inference_base: float = 0.3
    inference_cap: float = 0.85
    weights: Mapping[str, float] = field(default_factory=dict)

    mx_index: HostIndex[Provider] = field(init=False, repr=False, compare=False)
    spf_index: HostIndex[Provider] = field(init=False, repr=False, compare=False)
    autodiscover_index: HostIndex[Provider] = field(init=False, repr=False, compare=False)
    dkim_index: HostIndex[Provider] = field(init=False, repr=False, compare=False)
    ns_index: HostIndex[Provider] = field(init=False, repr=False, compare=False)
    trace_indexes: Mapping[str, HostIndex[str]] = field(init=False, repr=False, compare=False)
    txt_prefixes: _PrefixTable = field(init=False, repr=False, compare=False)
    """Provider TXT token prefixes; a hit is the provider's position in ``providers``."""
    footprint_prefixes: _PrefixTable = field(init=False, repr=False, compare=False)
    """Footprint token prefixes; a hit is the token's position in ``footprint_tokens``."""

    def __post_init__(self) -> None:
        def index(attr: str) -> HostIndex[Provider]:
            return HostIndex((p, prov) for prov in self.providers for p in getattr(prov, attr))

        for attr in ("mx", "spf", "autodiscover", "dkim", "ns"):
            object.__setattr__(self, f"{attr}_index", index(attr))
        object.__setattr__(
            self,
            "trace_indexes",
            {label: HostIndex((p, label) for p in pats) for label, pats in self.m365_traces.items()},
        )
        object.__setattr__(
            self,
            "txt_prefixes",
            _PrefixTable((prefix, i) for i, prov in enumerate(self.providers) for prefix in prov.txt),
        )
        object.__setattr__(
            self,
            "footprint_prefixes",
            _PrefixTable((prefix, i) for i, (prefix, _key) in enumerate(self.footprint_tokens)),
        )

    def provider(self, key: str) -> Provider | None:
        return next((p for p in self.providers if p.key == key), None)

    def weight(self, name: str) -> float:
        return float(self.weights.get(name, 0.0))


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings")
    return tuple(value)


def _load_provider(raw: Any, index: int) -> Provider:
    if not isinstance(raw, dict):
        raise ValueError(f"providers[{index}] must be a mapping")
    unknown = set(raw) - _PROVIDER_FIELDS
    key = raw.get("key")
    where = f"provider {key or index!r}"
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    if not isinstance(key, str) or not key:
        raise ValueError(f"providers[{index}] needs a key")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {KINDS}")
    platform = raw.get("platform")
    gateway = raw.get("gateway")
    if kind in ("mail", "hosting"):
        if platform not in MAIL_PLATFORMS:
            raise ValueError(f"{where}: platform must be one of {MAIL_PLATFORMS}")
        if kind == "hosting" and platform != "hosting":
            raise ValueError(f"{where}: hosting providers have platform 'hosting'")
    elif platform is not None:
        raise ValueError(f"{where}: only mail/hosting providers have a platform")
    if kind == "gateway":
        gateway = gateway or key
        if gateway not in GATEWAYS:
            raise ValueError(f"{where}: gateway must be one of {GATEWAYS} (or set gateway: other_gateway)")
    elif gateway is not None:
        raise ValueError(f"{where}: only gateways have a gateway class")
    lists = {name: _str_list(raw.get(name), f"{where}.{name}") for name in _LIST_FIELDS}
    domains = lists.pop("domains")
    for name in ("mx", "spf", "autodiscover", "ns"):
        lists[name] = tuple(dict.fromkeys(lists[name] + domains))
    for name in ("mx", "spf", "autodiscover", "dkim", "ns"):
        for pattern in lists[name]:
            _check_pattern(pattern)
    return Provider(
        key=key,
        name=str(raw.get("name") or key),
        kind=kind,
        platform=platform,
        gateway=gateway,
        country=raw.get("country"),
        mx=lists["mx"],
        spf=lists["spf"],
        autodiscover=lists["autodiscover"],
        dkim=lists["dkim"],
        dkim_selectors=tuple(s.lower() for s in lists["dkim_selectors"]),
        txt=tuple(t.lower() for t in lists["txt"]),
        ns=lists["ns"],
    )


def load_rules(data: Mapping[str, Any] | str) -> ProviderRules:
    """Build rules from the parsed YAML mapping (or YAML text). Raises ValueError on bad data."""
    if isinstance(data, str):
        try:
            data = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise ValueError(f"provider rules are not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ValueError("provider rules must be a mapping")
    unknown = set(data) - {
        "version",
        "providers",
        "footprint_tokens",
        "m365_traces",
        "m365_tenant_dkim",
        "inference",
    }
    if unknown:
        raise ValueError(f"provider rules: unknown section(s) {sorted(unknown)}")
    raw_providers = data.get("providers") or []
    if not isinstance(raw_providers, list):
        raise ValueError("providers must be a list")
    providers = tuple(_load_provider(raw, i) for i, raw in enumerate(raw_providers))
    keys = Counter(p.key for p in providers)
    duplicates = sorted(k for k, n in keys.items() if n > 1)
    if duplicates:
        raise ValueError(f"duplicate provider key(s): {duplicates}")

    tokens = []
    for raw in data.get("footprint_tokens") or []:
        if not isinstance(raw, dict) or not raw.get("prefix") or not raw.get("key"):
            raise ValueError(f"footprint token {raw!r} needs prefix and key")
        tokens.append((str(raw["prefix"]).lower(), str(raw["key"])))

    traces: dict[str, tuple[str, ...]] = {}
    for label, patterns in (data.get("m365_traces") or {}).items():
        if label not in TENANT_TRACES:
            raise ValueError(f"m365_traces: unknown trace {label!r}")
        traces[label] = tuple(_check_pattern(p) for p in _str_list(patterns, f"m365_traces.{label}"))

    tenant_dkim = []
    for raw in data.get("m365_tenant_dkim") or []:
        if not isinstance(raw, dict) or "suffix" not in raw:
            raise ValueError(f"m365_tenant_dkim entry {raw!r} needs a suffix")
        tenant_dkim.append((_check_pattern(raw["suffix"]), int(raw.get("skip_labels", 0))))

    inference = data.get("inference") or {}
    weights = {str(k): float(v) for k, v in (inference.get("weights") or {}).items()}
    return ProviderRules(
        version=str(data.get("version") or "0"),
        providers=providers,
        footprint_tokens=tuple(tokens),
        m365_traces=traces,
        tenant_dkim=tuple(tenant_dkim),
        inference_base=float(inference.get("base", 0.3)),
        inference_cap=float(inference.get("cap", 0.85)),
        weights=weights,
    )


@functools.cache
def default_rules() -> ProviderRules:
    """The packaged ``data/providers.yaml``, loaded once per process."""
    text = resources.files("hunter.data").joinpath("providers.yaml").read_text(encoding="utf-8")
    return load_rules(text)


# --------------------------------------------------------------------------------------------
# Lookups by purpose and the SPF include tree (shared with posture)


class LookupIndex:
    """One evidence's lookups grouped by purpose.

    Every fact the classifier and the posture read starts from "the lookups made for purpose
    X"; grouping them once per evidence replaces a scan over all lookups for each question.
    The SPF include tree is walked at most once per index and kept here.
    """

    __slots__ = ("_by_name", "_by_purpose", "_spf_tree", "evidence")

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        by_purpose: dict[LookupPurpose, list[Lookup]] = {}
        for lk in evidence.lookups:
            bucket = by_purpose.get(lk.purpose)
            if bucket is None:
                by_purpose[lk.purpose] = [lk]
            else:
                bucket.append(lk)
        self._by_purpose = by_purpose
        self._by_name: dict[LookupPurpose, dict[str, list[Lookup]]] = {}
        self._spf_tree: SpfTree | None = None

    def all(self, purpose: LookupPurpose) -> Sequence[Lookup]:
        """The lookups made for ``purpose``, in evidence order (shared: do not modify)."""
        return self._by_purpose.get(purpose, ())

    def named(self, purpose: LookupPurpose, name: str) -> list[Lookup]:
        """The lookups for ``purpose`` whose name is ``name`` (compared as host keys)."""
        by_name = self._by_name.get(purpose)
        if by_name is None:
            by_name = {}
            for lk in self.all(purpose):
                by_name.setdefault(_host(lk.name), []).append(lk)
            self._by_name[purpose] = by_name
        return list(by_name.get(_host(name), ()))

    def first(self, purpose: LookupPurpose, name: str | None = None) -> Lookup | None:
        """The first lookup for ``purpose`` named ``name``; failing that, the first one at all
        (the collector may spell the name differently)."""
        found = self.all(purpose)
        if name is not None:
            wanted = _host(name)
            for lk in found:
                if lk.name == name or _host(lk.name) == wanted:  # the same text needs no normalising
                    return lk
        return found[0] if found else None

    def apex_txt(self) -> Lookup | None:
        return self.first(LookupPurpose.APEX_TXT, self.evidence.domain)

    def spf_tree(self) -> SpfTree:
        """Walk the apex SPF record's includes and redirect through the SPF_INCLUDE lookups."""
        tree = self._spf_tree
        if tree is None:
            apex = self.apex_txt()
            record = None
            if apex is not None and apex.status == _OK:
                record = single_spf_record(apex.answers)
            tree = walk_spf_tree(_host(self.evidence.domain), record, self.all(LookupPurpose.SPF_INCLUDE))
            self._spf_tree = tree
        return tree


# classify() and assess_posture() run back to back on the same Evidence (see
# hunter.core.evaluation.inputs_from_evidence); the index of the last one is kept so the second
# call reuses it, SPF tree included. Evidence is frozen, and the weak reference never keeps an
# evidence alive nor lets a new object at the same address pass for it.
_last_index: tuple[weakref.ref[Evidence], LookupIndex] | None = None


def lookup_index(evidence: Evidence) -> LookupIndex:
    """The :class:`LookupIndex` of ``evidence``, shared with the previous call on the same object."""
    global _last_index
    last = _last_index
    if last is not None and last[0]() is evidence:
        return last[1]
    index = LookupIndex(evidence)
    _last_index = (weakref.ref(evidence), index)
    return index


def spf_include_tree(evidence: Evidence) -> SpfTree:
    """Walk the apex SPF record's includes and redirect through the SPF_INCLUDE lookups."""
    return lookup_index(evidence).spf_tree()


# --------------------------------------------------------------------------------------------
# Result types


def confidence_label(confidence: float) -> str:
    if confidence >= 0.75:
        return "high"
    if confidence >= 0.5:
        return "medium"
    return "low"


@dataclass(frozen=True, slots=True)
class MxHost:
    preference: int
    host: str
    category: str
    """platform | gateway | own | unrecognised | parking"""
    provider: str | None
    platform: str | None
    gateway: str | None
    via: str | None = None
    """The CNAME target that identified the provider, when the host name itself did not."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "preference": self.preference,
            "host": self.host,
            "category": self.category,
            "provider": self.provider,
            "platform": self.platform,
            "gateway": self.gateway,
            "via": self.via,
        }


@dataclass(frozen=True, slots=True)
class Classification:
    domain: str
    complete: bool
    incomplete_reasons: tuple[str, ...]
    platform: str | None
    """One of PLATFORMS; None when the evidence is incomplete."""
    secondary_platforms: tuple[str, ...]
    provider: str | None
    """Provider key behind the primary platform (``natro``, ``m365`` …) when one is known."""
    confidence: float
    confidence_label: str
    gateway: str | None
    """One of GATEWAYS or None."""
    gateway_provider: str | None
    tenant_traces: tuple[str, ...]
    tenant_name: str | None
    """Initial domain of the M365 tenant (``contoso.onmicrosoft.com``) from a DKIM CNAME."""
    half_migrated: bool
    parked: bool
    dns_host: str | None
    """Provider key of the name servers; ``self`` when they sit under the domain itself."""
    mx_hosts: tuple[MxHost, ...]
    footprint: tuple[str, ...]
    evidence_lines: tuple[str, ...]
    signals: tuple[str, ...]
    rules_version: str

    @property
    def behind_gateway(self) -> bool:
        return self.gateway is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "complete": self.complete,
            "incomplete_reasons": list(self.incomplete_reasons),
            "platform": self.platform,
            "secondary_platforms": list(self.secondary_platforms),
            "provider": self.provider,
            "confidence": self.confidence,
            "confidence_label": self.confidence_label,
            "gateway": self.gateway,
            "gateway_provider": self.gateway_provider,
            "behind_gateway": self.behind_gateway,
            "tenant_traces": list(self.tenant_traces),
            "tenant_name": self.tenant_name,
            "half_migrated": self.half_migrated,
            "parked": self.parked,
            "dns_host": self.dns_host,
            "mx_hosts": [h.to_dict() for h in self.mx_hosts],
            "footprint": list(self.footprint),
            "evidence_lines": list(self.evidence_lines),
            "signals": list(self.signals),
            "rules_version": self.rules_version,
        }


# --------------------------------------------------------------------------------------------
# Classifier


@dataclass
class _Mx:
    preference: int
    host: str
    record: str
    addresses: list[str]
    cnames: list[str]
    category: str = "unrecognised"
    provider: Provider | None = None
    via: str | None = None
    platform: str | None = None
    confidence: float = 0.0
    line: str = ""


@dataclass
class _Decision:
    platform: str
    confidence: float
    provider: str | None = None
    secondary: tuple[str, ...] = ()


def _status_text(status: LookupStatus) -> str:
    return "NXDOMAIN" if status == LookupStatus.NXDOMAIN else status.value


# Provider and hosting addresses recur across leads; ipaddress parsing is slow by comparison.
@functools.lru_cache(maxsize=16384)
def _is_ip(text: str) -> bool:
    if _is_plain_ipv4(text):
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_plain_ipv4(text: str) -> bool:
    """A dotted quad ipaddress accepts (decimal octets up to 255, no leading zeros); anything
    else, valid or not, is left to ipaddress."""
    octets = text.split(".")
    if len(octets) != 4:
        return False
    for octet in octets:
        if not (octet.isascii() and octet.isdigit()) or len(octet) > 3 or int(octet) > 255:
            return False
        if octet[0] == "0" and octet != "0":
            return False
    return True


# Answer types whose rdata names a host: (number of rdata fields, position of the name).
_NAME_FIELDS: Final = {"CNAME": (1, 0), "NS": (1, 0), "PTR": (1, 0), "MX": (2, 1), "SRV": (4, 3)}


def _names_in(lk: Lookup) -> list[str]:
    """Host names a lookup points at: its CNAME chain, then CNAME/NS/MX/SRV answer targets."""
    names = [_host(c) for c in lk.cnames]
    shape = _NAME_FIELDS.get(lk.rdtype)
    if shape is not None:  # never split TXT answers (DKIM keys are long)
        size, position = shape
        for answer in lk.answers:
            parts = answer.split()
            if len(parts) == size:
                names.append(_host(parts[position]))
    if not names:
        return names
    return [n for n in dict.fromkeys(names) if n]


def _tally(items: Iterable[T]) -> dict[T, int]:
    """Counts in first-seen order (a plain dict: Counter costs more than it saves here)."""
    counts: dict[T, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _parse_mx(answer: str) -> tuple[int, str] | None:
    parts = answer.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    return int(parts[0]), _host(parts[1])


class _Classifier:
    def __init__(self, evidence: Evidence, rules: ProviderRules, network_hint: NetworkHint | None) -> None:
        self.ev = evidence
        self.lookups = lookup_index(evidence)
        self.rules = rules
        self.hint = network_hint
        self.domain = _host(evidence.domain)
        self.decision_lines: list[str] = []
        self.trace_lines: list[str] = []
        self.other_lines: list[str] = []
        self.signals: dict[str, None] = {}
        # Facts every decision below may consult.
        self.spf_tree = self.lookups.spf_tree()
        self.spf_providers = self.spf_tree.providers(rules)
        self.ns_hosts = self.name_servers()
        self.apex_addrs = self.apex_addresses()
        self.onprem_autodiscover = self.find_onprem_autodiscover()
        self.dns_host_key, self.dns_provider, self.ns_parked = self.dns_host()

    def signal(self, text: str) -> None:
        self.signals.setdefault(text, None)

    # ---- facts ------------------------------------------------------------------------------

    def critical_lookups(self) -> tuple[Lookup | None, Lookup | None, list[Lookup]]:
        mx = self.lookups.first(LookupPurpose.MX, self.domain)
        txt = self.lookups.apex_txt()
        dmarc = [*self.lookups.all(LookupPurpose.DMARC), *self.lookups.all(LookupPurpose.DMARC_ORG)]
        return mx, txt, dmarc

    def incomplete_reasons(self, mx: Lookup | None, txt: Lookup | None, dmarc: list[Lookup]) -> list[str]:
        reasons = []
        for label, lk in (("mx", mx), ("apex_txt", txt)):
            if lk is None:
                reasons.append(f"{label}: not looked up")
            elif lk.status in _FAILED:
                reasons.append(f"{label}: {lk.status.value} ({lk.name} {lk.rdtype})")
        if not dmarc:
            reasons.append("dmarc: not looked up")
        for lk in dmarc:
            if lk.status in _FAILED:
                label = "dmarc" if lk.purpose == LookupPurpose.DMARC else "dmarc_org"
                reasons.append(f"{label}: {lk.status.value} ({lk.name} {lk.rdtype})")
        return reasons

    def txt_records(self, txt: Lookup | None) -> list[str]:
        return list(txt.answers) if txt is not None and txt.status == _OK else []

    def addresses(self, host: str) -> tuple[list[str], list[str]]:
        addrs: list[str] = []
        cnames: list[str] = []
        for lk in self.lookups.named(LookupPurpose.MX_HOST_ADDRESS, host):
            cnames.extend(_host(c) for c in lk.cnames)
            if lk.status == _OK:
                addrs.extend(a for a in lk.answers if _is_ip(a))
        return list(dict.fromkeys(addrs)), list(dict.fromkeys(cnames))

    def apex_addresses(self) -> set[str]:
        found: set[str] = set()
        for lk in self.lookups.all(LookupPurpose.APEX_ADDRESS):
            if lk.status == _OK:
                found.update(a for a in lk.answers if _is_ip(a))
        return found

    def name_servers(self) -> list[str]:
        hosts: list[str] = []
        for lk in self.lookups.all(LookupPurpose.NS):
            if lk.status == _OK and _host(lk.name) == self.domain:
                hosts.extend(_names_in(lk))
        return list(dict.fromkeys(hosts))

    # ---- MX ---------------------------------------------------------------------------------

    def mx_hosts(self, mx: Lookup) -> tuple[list[_Mx], bool]:
        """Parsed MX hosts and whether the set is a null MX (RFC 7505)."""
        hosts: list[_Mx] = []
        null = False
        for answer in mx.answers:
            parsed = _parse_mx(answer)
            if parsed is None:
                self.signal("mx:unparsable")
                continue
            pref, host = parsed
            if not host:
                null = True
                continue
            addrs, cnames = self.addresses(host)
            hosts.append(_Mx(pref, host, f"MX {pref} {host}.", addrs, cnames))
        # DNS servers rotate answer order; sorting by name keeps reruns identical.
        hosts.sort(key=lambda h: (h.preference, h.host))
        for h in hosts:
            self.identify(h)
        return hosts, null and not hosts

    def identify(self, h: _Mx) -> None:
        match = self.rules.mx_index.match(h.host)
        if match is None:
            for target in h.cnames:
                match = self.rules.mx_index.match(target)
                if match is not None:
                    h.via = target
                    break
        if match is not None:
            prov = match[1]
            h.provider = prov
            shown = f"{h.record} → CNAME {h.via}" if h.via else h.record
            if prov.kind == "gateway":
                h.category = "gateway"
                h.line = f"{shown} → {prov.name} (security gateway)"
                self.signal(f"mx:gateway:{prov.key}")
            elif prov.kind == "parking":
                h.category = "parking"
                h.line = f"{shown} → {prov.name} (domain parking)"
                self.signal(f"mx:parking:{prov.key}")
            elif prov.platform is not None:
                h.category = "platform"
                h.platform = prov.platform
                h.confidence = 0.8 if h.via else 0.9
                kind = " (hosting)" if prov.kind == "hosting" else ""
                h.line = f"{shown} → {prov.name}{kind}"
                self.signal(f"mx:{prov.platform}:{prov.key}")
            return
        if host_matches_suffix(h.host, self.domain):
            h.category = "own"
        self.resolve_unmatched(h)

    def network_kind(self, h: _Mx) -> tuple[str | None, str | None]:
        if self.hint is None:
            return None, None
        for address in h.addresses:
            kind = self.hint(address)
            if kind:
                return kind, address
        return None, None

    def resolve_unmatched(self, h: _Mx) -> None:
        kind, address = self.network_kind(h)
        if kind == "hosting":
            h.platform, h.confidence = "hosting", 0.75
            h.line = f"{h.record} resolves to {address}, an address on a hosting network → hosting"
            self.signal("mx:hosting:network_hint")
            return
        if h.category == "own":
            hosting_spf = [(t, p) for t, p in self.spf_providers if p.kind == "hosting"]
            if hosting_spf:
                target, prov = hosting_spf[0]
                h.platform, h.confidence, h.provider = "hosting", 0.6, prov
                h.line = (
                    f"{h.record} is under the company's own domain and SPF include:{target} "
                    f"lets {prov.name} send its mail → hosting at {prov.name}"
                )
                self.signal(f"mx:hosting:own_host_spf:{prov.key}")
                return
            shared = bool(set(h.addresses) & self.apex_addrs) or h.host == self.domain
            if shared and self.dns_provider is not None and self.dns_provider.kind == "hosting":
                prov = self.dns_provider
                h.platform, h.confidence, h.provider = "hosting", 0.6, prov
                h.line = (
                    f"{h.record} is under the company's own domain, shares the web site's address "
                    f"and the name servers are at {prov.name} → shared hosting at {prov.name}"
                )
                self.signal(f"mx:hosting:shared_web:{prov.key}")
                return
            h.platform = "self_hosted"
            h.confidence = 0.7 if (kind is not None or self.onprem_autodiscover) else 0.6
            detail = ""
            if self.onprem_autodiscover:
                detail = " and autodiscover points at the company's own server (on-premises Exchange)"
            elif kind is not None:
                detail = f" on a {kind} network ({address})"
            h.line = f"{h.record} is under the company's own domain{detail} → self-hosted mail server"
            self.signal("mx:self_hosted")
            return
        # A third-party host no pattern knows: when the same company runs the name servers it is
        # almost always the web host's mail service.
        reg = registrable_domain(h.host)
        ns_regs = {registrable_domain(ns) for ns in self.ns_hosts}
        if reg is not None and reg in ns_regs:
            h.platform, h.confidence = "hosting", 0.5
            h.line = f"{h.record} is run by {reg}, which also runs the domain's name servers → hosting"
            self.signal(f"mx:hosting:same_as_ns:{reg}")
            return
        if kind is not None:
            h.platform, h.confidence = "unknown", 0.3
            h.line = f"{h.record} is not a known provider ({kind} network at {address})"
        else:
            h.platform, h.confidence = "unknown", 0.25
            h.line = f"{h.record} is not a known mail provider"
        self.signal(f"mx:unrecognised:{reg or h.host}")

    # ---- tenant traces ----------------------------------------------------------------------

    def tenant_traces(
        self, mx_hosts: list[_Mx], tokens: list[tuple[str, Provider]]
    ) -> tuple[list[str], str | None]:
        traces: dict[str, None] = {}
        tenant: str | None = None
        m365_mx = [h for h in mx_hosts if h.provider is not None and h.provider.platform == "m365"]
        if m365_mx:
            traces["mx"] = None
        for target, prov in self.spf_providers:
            if prov.platform == "m365":
                traces.setdefault("spf_include", None)
                self.trace_lines.append(f"SPF include:{target} → Microsoft 365 may send mail for the domain")
                break
        for record, prov in tokens:
            if prov.platform == "m365":
                traces.setdefault("ms_txt", None)
                self.trace_lines.append(f'TXT "{record}" → the domain is verified in a Microsoft 365 tenant')
                break
        for lk in self.lookups.all(LookupPurpose.M365_TRACE):
            label = (lk.selector or _host(lk.name).split(".")[0]).lstrip("_").lower()
            index = self.rules.trace_indexes.get(label)
            if index is None:
                continue
            for target in _names_in(lk):
                if index.match(target) is not None:
                    if label not in traces:
                        traces[label] = None
                        kind = "SRV" if lk.rdtype == "SRV" else "CNAME"
                        self.trace_lines.append(
                            f"{kind} {_host(lk.name)} → {target} → {_TRACE_DESCRIPTIONS.get(label, label)}"
                        )
                    break
        for lk in sorted(self.lookups.all(LookupPurpose.DKIM), key=lambda k: k.selector or k.name):
            for target in _names_in(lk):
                match = self.rules.dkim_index.match(target)
                if match is None or match[1].platform != "m365":
                    continue
                name = self.tenant_from_dkim(target)
                if "dkim_cname" not in traces:
                    traces["dkim_cname"] = None
                    tail = f" for tenant {name}" if name else ""
                    self.trace_lines.append(f"CNAME {_host(lk.name)} → {target} → Microsoft 365 DKIM{tail}")
                if name and tenant is None:
                    tenant = name
                elif name and name != tenant:
                    self.signal(f"tenant:other:{name}")
                break
        ordered: list[str] = [t for t in TENANT_TRACES if t in traces]
        for t in ordered:
            self.signal(f"trace:{t}")
        return ordered, tenant

    def tenant_from_dkim(self, target: str) -> str | None:
        labels = target.split(".")
        for suffix, skip in self.rules.tenant_dkim:
            if not host_matches_suffix(target, suffix):
                continue
            position = len(labels) - len(suffix.split(".")) - skip - 1
            if position < 1 or labels[position - 1] != "_domainkey":
                continue  # the tenant label sits right after <selector-name>._domainkey
            return f"{labels[position]}.onmicrosoft.com"
        return None

    # ---- other facts ------------------------------------------------------------------------

    def tokens(self, records: list[str]) -> tuple[list[tuple[str, Provider]], list[str]]:
        platform_tokens: list[tuple[str, Provider]] = []
        footprint: dict[str, None] = {}
        rules = self.rules
        for record in records:
            lowered = record.strip().lower()
            for number in rules.txt_prefixes.hits(lowered):
                platform_tokens.append((record.strip(), rules.providers[number]))
            for number in rules.footprint_prefixes.hits(lowered):
                footprint.setdefault(rules.footprint_tokens[number][1], None)
        return platform_tokens, list(footprint)

    def find_onprem_autodiscover(self) -> bool:
        """autodiscover.<domain> has an address of its own, not a CNAME out: on-premises Exchange."""
        for lk in self.lookups.all(LookupPurpose.M365_TRACE):
            label = (lk.selector or _host(lk.name).split(".")[0]).lower()
            if label != "autodiscover" or lk.status != _OK:
                continue
            if any(not host_matches_suffix(c, self.domain) for c in lk.cnames):
                continue
            # cPanel and most hosting panels publish autodiscover on the web server itself, so
            # an address shared with the web site says "hosting panel", not "Exchange".
            addresses = {a for a in lk.answers if _is_ip(a)}
            if addresses and not addresses & self.apex_addrs:
                return True
        return False

    def dns_host(self) -> tuple[str | None, Provider | None, bool]:
        if not self.ns_hosts:
            return None, None, False
        keys: dict[str, int] = {}
        first: dict[str, Provider] = {}
        parked = False
        for ns in self.ns_hosts:
            match = self.rules.ns_index.match(ns)
            if match is not None:
                prov = match[1]
                keys[prov.key] = keys.get(prov.key, 0) + 1
                first.setdefault(prov.key, prov)
                if prov.kind == "parking":
                    parked = True
                    self.other_lines.append(f"NS {ns}. → {prov.name} (domain parking)")
                    self.signal(f"parked:{prov.key}")
            elif host_matches_suffix(ns, self.domain):
                keys["self"] = keys.get("self", 0) + 1
        if not keys:
            return None, None, parked
        key = max(keys, key=keys.__getitem__)  # the first of the most frequent
        self.signal(f"dns_host:{key}")
        return key, first.get(key), parked

    # ---- decisions --------------------------------------------------------------------------

    def from_mx(self, hosts: list[_Mx]) -> _Decision | None:
        """Primary platform from the MX hosts that name one; None when only gateways/parking."""
        candidates = [h for h in hosts if h.platform is not None]
        if not candidates:
            return None
        known = [h for h in candidates if h.platform != "unknown"]
        unknown_front = False
        if known and len(known) < len(candidates):
            front = min(h.preference for h in candidates)
            # An unknown host in front of a known platform is most likely an unlisted filter
            # (or a relay): the known platform is still where the mailboxes are, less surely.
            unknown_front = all(h.platform == "unknown" for h in candidates if h.preference == front)
            if unknown_front:
                self.signal("mx:unrecognised_front")
            candidates = known
        lowest = min(h.preference for h in candidates)
        group = [h for h in candidates if h.preference == lowest]
        in_group = _tally(h.platform for h in group)
        overall = _tally(h.platform for h in candidates)
        order = {p: i for i, p in enumerate(dict.fromkeys(h.platform for h in candidates))}
        primary = max(in_group, key=lambda p: (in_group[p], overall[p], -order[p]))
        assert primary is not None
        chosen = [h for h in candidates if h.platform == primary]
        confidence = max(h.confidence for h in chosen)
        secondary = tuple(p for p in order if p != primary and p is not None)
        self.decision_lines.extend(h.line for h in chosen)
        self.decision_lines.extend(h.line for h in hosts if h.platform != primary and h.line)
        if secondary:
            # Two platforms sharing the lowest preference split the mail between them; a second
            # platform only as backup is a much weaker doubt.
            mixed_front = len(in_group) > 1
            confidence -= 0.25 if mixed_front else 0.1
            self.signal("mx:mixed")
        if unknown_front:
            confidence = min(confidence, 0.6)
        supporting = [t for t, p in self.spf_providers if p.platform == primary]
        if supporting and primary not in ("unknown", "self_hosted"):
            confidence += 0.05
            self.decision_lines.append(f"SPF include:{supporting[0]} agrees → {_PLATFORM_NAMES[primary]}")
        # The provider is the one at the platform's own lowest preference (MX 10 natro, MX 30
        # turhost → natro); a tie between providers names none.
        first_pref = min(h.preference for h in chosen)
        keys = _tally(h.provider.key for h in chosen if h.preference == first_pref and h.provider)
        top = max(keys.values(), default=0)
        leaders = [key for key, count in keys.items() if count == top]
        provider = leaders[0] if len(leaders) == 1 else None
        return _Decision(primary, round(min(confidence, 0.97), 2), provider, secondary)

    def infer_behind_gateway(
        self, hosts: list[_Mx], tokens: list[tuple[str, Provider]], gateway_name: str
    ) -> _Decision:
        """Score each platform by the non-MX evidence the YAML weighs."""
        scores: dict[str, float] = {}
        reasons: dict[str, list[str]] = {}
        counted: set[tuple[str, str]] = set()

        def add(platform: str | None, kind: str, line: str) -> None:
            if platform is None or platform in ("unknown",) or (platform, kind) in counted:
                return
            counted.add((platform, kind))
            scores[platform] = scores.get(platform, 0.0) + self.rules.weight(kind)
            reasons.setdefault(platform, []).append(line)

        for h in hosts:
            if h.category != "gateway" and h.platform is not None:
                add(h.platform, "mx_backup", f"backup {h.line}")
        for target, prov in self.spf_providers:
            if prov.platform is not None:
                add(
                    prov.platform,
                    "spf_include",
                    f"SPF include:{target} → {prov.name} sends the domain's mail",
                )
        for lk in self.lookups.all(LookupPurpose.M365_TRACE):
            label = (lk.selector or _host(lk.name).split(".")[0]).lower()
            if label != "autodiscover":
                continue  # Teams/Intune traces say nothing about where mailboxes are
            for target in _names_in(lk):
                match = self.rules.autodiscover_index.match(target)
                if match is not None and match[1].platform is not None:
                    prov = match[1]
                    add(prov.platform, "autodiscover", f"CNAME {_host(lk.name)} → {target} → {prov.name}")
                    break
        for lk in self.lookups.all(LookupPurpose.DKIM):
            for target in _names_in(lk):
                match = self.rules.dkim_index.match(target)
                if match is not None and match[1].platform is not None:
                    prov = match[1]
                    add(prov.platform, "dkim_cname", f"CNAME {_host(lk.name)} → {target} → {prov.name} DKIM")
                    break
            if lk.status == _OK and lk.selector and _has_dkim_key(lk.answers):
                for prov in self.rules.providers:
                    if lk.selector.lower() in prov.dkim_selectors:
                        add(
                            prov.platform,
                            "dkim_selector",
                            f"DKIM key at selector {lk.selector!r} → {prov.name}",
                        )
        for record, prov in tokens:
            add(prov.platform, "txt_token", f'TXT "{record}" → verified at {prov.name}')

        if not scores:
            self.decision_lines.append(
                f"Nothing behind the {gateway_name} gateway identifies the mail platform → unknown"
            )
            self.signal("gateway:nothing_behind")
            return _Decision("unknown", 0.2)
        order = {p: i for i, p in enumerate(PLATFORMS)}
        best = max(scores, key=lambda p: (scores[p], -order.get(p, 99)))
        confidence = min(self.rules.inference_cap, self.rules.inference_base + scores[best])
        self.decision_lines.append(f"Behind the {gateway_name} gateway: {_PLATFORM_NAMES.get(best, best)}")
        self.decision_lines.extend(reasons[best])
        self.signal(f"gateway:behind:{best}")
        for other in scores:
            if other != best:
                self.signal(f"gateway:also:{other}")
        return _Decision(best, round(confidence, 2))

    # ---- run --------------------------------------------------------------------------------

    def run(self) -> Classification:
        mx, txt, dmarc = self.critical_lookups()
        reasons = self.incomplete_reasons(mx, txt, dmarc)
        for _target, prov in self.spf_providers:
            self.signal(f"spf:{prov.label}:{prov.key}")
        tokens, footprint = self.tokens(self.txt_records(txt))
        for _record, prov in tokens:
            self.signal(f"txt:{prov.label}:{prov.key}")
        dns_host, parked = self.dns_host_key, self.ns_parked

        hosts: list[_Mx] = []
        null_mx = False
        if mx is not None and mx.status == _OK:
            hosts, null_mx = self.mx_hosts(mx)
        if any(h.category == "parking" for h in hosts):
            parked = True
        traces, tenant = self.tenant_traces(hosts, tokens)

        gateway: str | None = None
        gateway_provider: Provider | None = None
        if hosts:
            lowest = hosts[0].preference
            front = [h for h in hosts if h.preference == lowest and h.category == "gateway"]
            if front:
                counts = Counter(h.provider.key for h in front if h.provider is not None)
                gateway_provider = self.rules.provider(counts.most_common(1)[0][0])
            elif any(h.category == "gateway" for h in hosts):
                self.signal("mx:gateway_backup_only")
        if gateway_provider is not None:
            gateway = gateway_provider.gateway

        decision: _Decision | None
        complete = True
        if mx is not None and mx.status == LookupStatus.NXDOMAIN:
            # NXDOMAIN answers for every name under the domain, so the other lookups are moot.
            decision = _Decision("unresolved", 0.95)
            self.decision_lines.append(f"MX lookup for {mx.name}: NXDOMAIN → the domain does not exist")
            gateway = None
            gateway_provider = None
        elif reasons:
            complete = False
            decision = None
            for reason in reasons:
                self.decision_lines.append(f"Lookup failed — {reason} → {_CRITICAL_FAILURE_NOTE}")
                self.signal(f"incomplete:{reason.split(':')[0]}")
        elif mx is None or not hosts:
            decision = _Decision("none", 0.95)
            if null_mx:
                self.decision_lines.append("MX 0 . (null MX) → the domain declares that it accepts no mail")
                self.signal("mx:null")
            else:
                assert mx is not None
                self.decision_lines.append(
                    f"MX lookup for {mx.name}: {_status_text(mx.status)}, no MX records "
                    "→ the domain receives no mail"
                )
                self.signal("mx:none")
        elif gateway_provider is not None:
            for h in hosts:
                if h.category == "gateway" and h.provider is gateway_provider:
                    self.decision_lines.append(h.line)
            decision = self.infer_behind_gateway(hosts, tokens, gateway_provider.name)
            seen = dict.fromkeys(h.platform for h in hosts if h.platform not in (None, "unknown"))
            decision.secondary = tuple(p for p in seen if p is not None and p != decision.platform)
        else:
            decision = self.from_mx(hosts)
            if decision is None:  # only parking hosts
                decision = _Decision("unknown", 0.2)
                self.decision_lines.extend(h.line for h in hosts)

        platform = decision.platform if decision else None
        secondary = tuple(p for p in (decision.secondary if decision else ()) if p in _RECEIVING)
        counting = [t for t in traces if t in HALF_MIGRATION_TRACES and t != "mx"]
        if "mx" in traces and platform != "m365":
            counting.append("mx")  # an M365 host in the MX set next to another platform
        half_migrated = (
            complete
            and platform is not None
            and platform in _RECEIVING
            and platform != "m365"
            and not (platform == "unknown" and gateway is not None)
            and bool(counting)
        )
        if half_migrated:
            self.signal("half_migrated")
            self.other_lines.append(
                f"Microsoft 365 tenant traces ({', '.join(counting)}) while mail is on "
                f"{_PLATFORM_NAMES.get(platform or '', platform)} → half-migrated"
            )
        confidence = decision.confidence if decision else 0.0
        lines = list(dict.fromkeys([*self.decision_lines, *self.trace_lines, *self.other_lines]))
        return Classification(
            domain=self.domain,
            complete=complete,
            incomplete_reasons=tuple(reasons) if not complete else (),
            platform=platform,
            secondary_platforms=secondary,
            provider=decision.provider if decision else None,
            confidence=confidence,
            confidence_label=confidence_label(confidence),
            gateway=gateway,
            gateway_provider=gateway_provider.key if gateway_provider else None,
            tenant_traces=tuple(traces),
            tenant_name=tenant,
            half_migrated=half_migrated,
            parked=parked,
            dns_host=dns_host,
            mx_hosts=tuple(
                MxHost(
                    preference=h.preference,
                    host=h.host,
                    category=h.category,
                    provider=h.provider.key if h.provider else None,
                    platform=h.platform,
                    gateway=h.provider.gateway if h.provider else None,
                    via=h.via,
                )
                for h in hosts
            ),
            footprint=tuple(footprint),
            evidence_lines=tuple(lines),
            signals=tuple(self.signals),
            rules_version=self.rules.version,
        )


def _has_dkim_key(answers: Iterable[str]) -> bool:
    """A DKIM key record with a non-empty ``p=`` (an empty one means the key is revoked)."""
    for answer in answers:
        for tag in answer.split(";"):
            name, _, value = tag.strip().partition("=")
            if name.strip().lower() == "p" and value.strip():
                return True
    return False


def classify(
    evidence: Evidence,
    rules: ProviderRules | None = None,
    network_hint: NetworkHint | None = None,
) -> Classification:
    """Classify one domain's evidence. ``rules`` defaults to the packaged YAML.

    ``network_hint`` is the hook for IP enrichment: see :data:`NetworkHint`.
    """
    return _Classifier(evidence, rules if rules is not None else default_rules(), network_hint).run()
