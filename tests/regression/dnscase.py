"""Compact DNS cases → Evidence, through the real scanner.

A case describes a domain's zone in a few lines of YAML; :class:`CaseDns` answers the scanner's
questions from it (a stand-in for ``DnsClient.query``), and ``hunter.collect.scanner.scan_domain``
runs its real lookup plan against it. So the Evidence in the regression set names its lookups,
selectors, SPF walk and DMARC fallback exactly as a production scan does, and a change to the
plan shows up here.

Case keys (all optional except where a test needs them):

* ``domain`` (default ``firma.com.tr``; Unicode allowed)
* ``mx``, ``txt``, ``a``, ``ns``, ``dmarc``, ``mta_sts``, ``tls_rpt``: a string or list of
  rdata; ``{status: timeout}`` (or servfail/refused/error) for a failed lookup; absent means no
  record (NODATA at the apex, NXDOMAIN elsewhere)
* ``spf``: ``{include-target: record | {status: …}}`` beyond the built-in provider records
* ``dkim``: ``{selector: key | key1024 | key512 | revoked | "v=DKIM1; …" | {cname: target,
  key: bool} | {status: …}}``
* ``traces``: ``{autodiscover: cname-target | {a: [ip]} | {status: …}, sipfederationtls: "SRV rdata"}``
* ``hosts``: ``{mx-host: [ips] | {status: …}}`` (MX hosts default to one documentation address)
* ``records``: ``{name: {TXT|A|CNAME|…: value}}`` for anything else
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from hunter.collect.scanner import scan_domain
from hunter.core.domains import normalise_hostname
from hunter.core.evidence import Evidence, Lookup, LookupPurpose, LookupStatus, RdapStatus, RegistrationInfo

FAILURES = {s.value: s for s in LookupStatus if s.is_failure}

# Third-party records every case can rely on (what the providers really publish, trimmed).
PROVIDER_RECORDS: dict[str, dict[str, Any]] = {
    "spf.protection.outlook.com": {"TXT": "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 -all"},
    "_spf.google.com": {"TXT": "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com ~all"},
    "_netblocks.google.com": {"TXT": "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ~all"},
    "_netblocks2.google.com": {"TXT": "v=spf1 ip6:2001:4860:4000::/36 ~all"},
    "zoho.eu": {"TXT": "v=spf1 ip4:185.20.208.0/22 -all"},
    "zoho.com": {"TXT": "v=spf1 ip4:136.143.160.0/19 -all"},
    "_spf.yandex.net": {"TXT": "v=spf1 ip4:77.88.0.0/18 ip4:5.45.196.0/24 ~all"},
    "spf.natrohost.com": {"TXT": "v=spf1 ip4:94.73.144.0/21 ~all"},
    "spf.turhost.com": {"TXT": "v=spf1 ip4:185.92.0.0/22 ~all"},
    "secureserver.net": {"TXT": "v=spf1 ip4:68.178.252.0/22 ip4:173.201.192.0/23 -all"},
    "_spf.mx.hostinger.com": {"TXT": "v=spf1 ip4:193.203.160.0/21 ~all"},
    "pphosted.com": {"TXT": "v=spf1 ip4:148.163.128.0/19 ~all"},
    "_netblocks.mimecast.com": {"TXT": "v=spf1 ip4:207.211.30.0/24 ~all"},
    "sendgrid.net": {"TXT": "v=spf1 ip4:167.89.0.0/17 ~all"},
    "mailgun.org": {"TXT": "v=spf1 ip4:209.61.151.0/24 ~all"},
    "servers.mcsv.net": {"TXT": "v=spf1 ip4:205.201.128.0/20 ~all"},
    "amazonses.com": {"TXT": "v=spf1 ip4:199.255.192.0/22 ~all"},
    "spf.messagingengine.com": {"TXT": "v=spf1 ip4:66.111.4.0/24 ~all"},
    "_spf.protonmail.ch": {"TXT": "v=spf1 ip4:185.70.40.0/24 ~all"},
    "icloud.com": {"TXT": "v=spf1 ip4:17.0.0.0/8 ~all"},
}


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + body


def rsa_key(bits: int, seed: str = "hunter") -> str:
    """Base64 SubjectPublicKeyInfo of a deterministic RSA-shaped key of ``bits`` bits."""
    material = b""
    counter = 0
    while len(material) < bits // 8:
        material += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    modulus = bytearray(material[: bits // 8])
    modulus[0] |= 0x80  # top bit set: exactly `bits` bits
    rsa = _der(0x30, _der(0x02, b"\x00" + bytes(modulus)) + _der(0x02, b"\x01\x00\x01"))
    algorithm = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    spki = _der(0x30, algorithm + _der(0x03, b"\x00" + rsa))
    return base64.b64encode(spki).decode()


DKIM_SHORTHAND = {
    "key": f"v=DKIM1; k=rsa; p={rsa_key(2048)}",
    "key1024": f"v=DKIM1; k=rsa; p={rsa_key(1024)}",
    "key512": f"v=DKIM1; k=rsa; p={rsa_key(512)}",
    "revoked": "v=DKIM1; k=rsa; p=",
}


def _name(text: str) -> str:
    text = text.strip().rstrip(".")
    return text.lower() if text.isascii() else normalise_hostname(text)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


class Zone:
    """Records, CNAMEs and scripted failures keyed by lower-case ASCII names."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.cnames: dict[str, str] = {}
        self.failures: dict[tuple[str, str], LookupStatus] = {}

    def put(self, name: str, rdtype: str, value: Any) -> None:
        name = _name(name)
        if isinstance(value, Mapping) and "status" in value:
            self.failures[(name, rdtype)] = FAILURES[str(value["status"])]
            return
        if rdtype == "CNAME":
            self.cnames[name] = _name(str(value))
            return
        self.records.setdefault((name, rdtype), []).extend(_as_list(value))

    def exists(self, name: str) -> bool:
        if name in self.cnames:
            return True
        # Empty non-terminals exist too (RFC 8020): "_domainkey.x" when "s._domainkey.x" has data.
        return any(owner == name or owner.endswith("." + name) for owner, _t in self.records)


class CaseDns:
    """Answers ``query(name, rdtype, purpose, selector)`` like ``DnsClient`` does."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    async def query(
        self, name: str, rdtype: str, purpose: LookupPurpose, selector: str | None = None
    ) -> Lookup:
        zone = self.zone
        qname = _name(name)
        rdtype = rdtype.upper()
        current = qname
        chain: list[str] = []
        while True:
            failure = zone.failures.get((current, rdtype)) or zone.failures.get((current, "*"))
            if failure is not None:
                return Lookup(
                    name=qname,
                    rdtype=rdtype,
                    purpose=purpose,
                    status=failure,
                    cnames=chain,
                    selector=selector,
                )
            answers = zone.records.get((current, rdtype))
            if answers:
                return Lookup(
                    name=qname,
                    rdtype=rdtype,
                    purpose=purpose,
                    status=LookupStatus.OK,
                    answers=list(answers),
                    cnames=chain,
                    selector=selector,
                )
            target = zone.cnames.get(current)
            if target is None or rdtype == "CNAME" or len(chain) > 8:
                break
            chain.append(target)
            current = target
        if (
            rdtype == "A"
            and purpose in (LookupPurpose.MX_HOST_ADDRESS, LookupPurpose.M365_TRACE)
            and (chain or purpose == LookupPurpose.MX_HOST_ADDRESS)
        ):
            # Third-party hosts (provider MX, CNAME targets) resolve; their zones are not the case's.
            digest = hashlib.sha256(current.encode()).digest()
            address = f"198.51.100.{digest[0] % 250 + 1}"
            return Lookup(
                name=qname,
                rdtype=rdtype,
                purpose=purpose,
                status=LookupStatus.OK,
                answers=[address],
                cnames=chain,
                selector=selector,
            )
        exists = zone.exists(current) or (purpose == LookupPurpose.MX_HOST_ADDRESS and rdtype == "AAAA")
        status = LookupStatus.NODATA if exists else LookupStatus.NXDOMAIN
        return Lookup(
            name=qname, rdtype=rdtype, purpose=purpose, status=status, cnames=chain, selector=selector
        )

    async def query_many(
        self, questions: Sequence[tuple[str, str, LookupPurpose, str | None]]
    ) -> list[Lookup]:
        """Several questions at once (``DnsClient.query_many``)."""
        return [await self.query(*question) for question in questions]


CASE_KEYS = frozenset(
    {
        "id",
        "note",
        "domain",
        "mx",
        "txt",
        "a",
        "ns",
        "dmarc",
        "mta_sts",
        "tls_rpt",
        "bimi",
        "spf",
        "dkim",
        "traces",
        "hosts",
        "records",
        "registration",
        "attributes",
        "referral",
        "user_tags",
        "now",
        "expect",
        "brief",
        "rescan",
    }
)


def build_zone(case: Mapping[str, Any]) -> tuple[str, Zone]:
    unknown = set(case) - CASE_KEYS
    if unknown:
        raise ValueError(f"case {case.get('id')!r}: unknown key(s) {sorted(unknown)}")
    domain = _name(str(case.get("domain") or "firma.com.tr"))
    zone = Zone()
    for name, records in PROVIDER_RECORDS.items():
        for rdtype, value in records.items():
            zone.put(name, rdtype, value)
    simple = {
        "mx": (domain, "MX"),
        "txt": (domain, "TXT"),
        "a": (domain, "A"),
        "ns": (domain, "NS"),
        "dmarc": (f"_dmarc.{domain}", "TXT"),
        "mta_sts": (f"_mta-sts.{domain}", "TXT"),
        "tls_rpt": (f"_smtp._tls.{domain}", "TXT"),
        "bimi": (f"default._bimi.{domain}", "TXT"),
    }
    for key, (name, rdtype) in simple.items():
        if key in case and case[key] is not None:
            value = case[key]
            if key == "ns" and not isinstance(value, Mapping):
                value = [f"{_name(v)}." for v in _as_list(value)]
            zone.put(name, rdtype, value)
    for target, value in (case.get("spf") or {}).items():
        zone.records.pop((_name(target), "TXT"), None)
        zone.put(target, "TXT", value)
    for selector, value in (case.get("dkim") or {}).items():
        name = f"{selector}._domainkey.{domain}"
        if isinstance(value, Mapping) and "cname" in value:
            target = str(value["cname"])
            zone.put(name, "CNAME", target)
            if value.get("key"):
                zone.put(target, "TXT", DKIM_SHORTHAND["key"])
        elif isinstance(value, Mapping):
            zone.put(name, "TXT", value)
        else:
            zone.put(name, "TXT", DKIM_SHORTHAND.get(str(value), str(value)))
    for label, value in (case.get("traces") or {}).items():
        if label == "sipfederationtls":
            zone.put(f"_sipfederationtls._tcp.{domain}", "SRV", value)
        elif isinstance(value, Mapping) and "a" in value:
            zone.put(f"{label}.{domain}", "A", value["a"])
        elif isinstance(value, Mapping):
            zone.put(f"{label}.{domain}", "A", value)
        else:
            zone.put(f"{label}.{domain}", "CNAME", value)
    for host, value in (case.get("hosts") or {}).items():
        zone.put(host, "A", value)
    for name, records in (case.get("records") or {}).items():
        for rdtype, value in records.items():
            zone.put(name, str(rdtype).upper(), value)
    return domain, zone


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


DEFAULT_NOW = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)


def case_now(case: Mapping[str, Any]) -> datetime:
    return _when(case.get("now")) or DEFAULT_NOW


def registration(case: Mapping[str, Any]) -> RegistrationInfo | None:
    raw = case.get("registration")
    if raw is None:
        return None
    return RegistrationInfo(
        source=str(raw.get("source", "rdap")),
        status=RdapStatus(str(raw.get("rdap_status", "ok"))),
        registrar=raw.get("registrar"),
        created=_when(raw.get("created")),
        expires=_when(raw.get("expires")),
        domain_status=list(raw.get("status") or []),
    )


def evidence_for(case: Mapping[str, Any]) -> Evidence:
    """Run the real scanner against the case's zone."""
    domain, zone = build_zone(case)
    evidence = asyncio.run(scan_domain(CaseDns(zone), domain, case_now(case)))  # type: ignore[arg-type]
    reg = registration(case)
    return evidence.model_copy(update={"registration": reg}) if reg is not None else evidence
