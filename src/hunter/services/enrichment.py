"""IP enrichment in the scan path: which addresses, their facts, the summary, storage, status.

* One :class:`~hunter.collect.ipintel.IpIntel` per process, built from the settings
  (:func:`get_ip_intel`); its LRU (``HUNTER_ENRICHMENT_CACHE_SIZE`` / ``_TTL``) is the
  in-process cache, so many domains on one address cost one database lookup.
* Which addresses (:func:`select_ips`): every A/AAAA answer of the primary MX hosts
  (``MX_HOST_ADDRESS`` lookups) with role ``mail``, and the apex web host's addresses
  (``APEX_ADDRESS`` lookups) with role ``web``. An address used for both is listed once per role.
* :func:`enrich_evidence` turns them into an :class:`Infrastructure`: per-address facts, the
  network hint for the classifier (a self-hosted MX on a hosting network is ``hosting``) and the
  ``infrastructure_summary`` sentence in Turkish and English. It never raises: enrichment must
  not fail a scan.
* Storage: ``assessment.details["infrastructure"]`` holds :meth:`Infrastructure.to_details`
  (``{"ips": [...], "summary": {"tr", "en"}}``); the ``ip_facts`` table holds one row per
  address, rewritten only once it is older than the TTL (:func:`persist_ip_facts`). Reading it
  back before a lookup would cost more than the lookup: the databases are memory-mapped.
* :func:`enrichment_status` is what the status page, ``/healthz/ready`` and the debug endpoint
  show about the databases.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from sqlalchemy.orm import Session

from hunter.collect.ipintel import SOURCES, EnrichmentConfig, IpFacts, IpIntel, SourceStatus
from hunter.config import Settings
from hunter.core.evidence import Evidence, LookupPurpose, LookupStatus
from hunter.core.infrastructure import infrastructure_summary, network_kind
from hunter.core.lookup_plan import primary_mx_hosts
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.models import IpFact
from hunter.store.types import utcnow

if TYPE_CHECKING:
    from hunter.core.providers import NetworkHint

__all__ = [
    "SOURCE_LABELS",
    "SOURCE_SETTINGS",
    "HostIp",
    "Infrastructure",
    "StatusLine",
    "current_ip_intel",
    "enrich_evidence",
    "enrichment_config",
    "enrichment_status",
    "get_ip_intel",
    "ip_report",
    "persist_ip_facts",
    "readiness_warnings",
    "reset_ip_intel",
    "select_ips",
    "stored_network_hint",
]

log = get_logger(__name__)

Role = Literal["mail", "web"]
# A domain with dozens of MX addresses tells nothing more than its first few.
MAX_IPS_PER_ROLE: Final = 16

SOURCE_LABELS: Final = {
    "geoip_city": "GeoLite2 City",
    "geoip_country": "GeoLite2 Country",
    "geoip_asn": "GeoLite2 ASN",
    "ip2location": "IP2Location",
    "ip2proxy": "IP2Proxy",
}
SOURCE_SETTINGS: Final = {
    "geoip_city": "HUNTER_GEOIP_CITY_PATH",
    "geoip_country": "HUNTER_GEOIP_COUNTRY_PATH",
    "geoip_asn": "HUNTER_GEOIP_ASN_PATH",
    "ip2location": "HUNTER_IP2LOCATION_PATH",
    "ip2proxy": "HUNTER_IP2PROXY_PATH",
}


# --------------------------------------------------------------------------------------------
# The process-wide reader


def enrichment_config(settings: Settings, *, enabled: bool | None = None) -> EnrichmentConfig:
    return EnrichmentConfig(
        enabled=settings.enrichment_enabled if enabled is None else enabled,
        geoip_city=settings.geoip_city_path,
        geoip_country=settings.geoip_country_path,
        geoip_asn=settings.geoip_asn_path,
        ip2location=settings.ip2location_path,
        ip2proxy=settings.ip2proxy_path,
        cache_size=settings.enrichment_cache_size,
        cache_ttl=settings.enrichment_cache_ttl,
    )


_lock = threading.Lock()
_current: tuple[EnrichmentConfig, IpIntel] | None = None


def get_ip_intel(settings: Settings) -> IpIntel:
    """The process's reader for these settings (opened on first use; reopened if they change)."""
    global _current
    config = enrichment_config(settings)
    with _lock:
        if _current is None or _current[0] != config:
            # The previous reader is not closed: a scan in another thread may still use it; its
            # files are released when the last reference goes.
            _current = (config, IpIntel(config))
        return _current[1]


def current_ip_intel() -> IpIntel | None:
    """The reader in use, if any (for metrics: never opens databases)."""
    current = _current
    return current[1] if current is not None else None


def reset_ip_intel() -> None:
    """Close and forget the process's reader (tests, shutdown)."""
    global _current
    with _lock:
        current, _current = _current, None
    if current is not None:
        current[1].close()


# --------------------------------------------------------------------------------------------
# Which addresses


@dataclass(frozen=True)
class HostIp:
    ip: str  # as the DNS answered it
    role: Role
    host: str


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def select_ips(evidence: Evidence) -> list[HostIp]:
    """Mail addresses (primary MX hosts, A and AAAA) first, then the apex web host's."""
    found: list[HostIp] = []
    domain = evidence.domain.rstrip(".").lower()
    mx = next(
        (lk for lk in evidence.find(LookupPurpose.MX) if lk.name.rstrip(".").lower() == domain),
        None,
    )
    primary = set(primary_mx_hosts(mx.answers)) if mx is not None and mx.status == LookupStatus.OK else set()
    seen: set[tuple[str, str]] = set()
    for purpose, role in ((LookupPurpose.MX_HOST_ADDRESS, "mail"), (LookupPurpose.APEX_ADDRESS, "web")):
        count = 0
        for lk in evidence.lookups:
            if lk.purpose != purpose or lk.status != LookupStatus.OK:
                continue
            host = lk.name.rstrip(".").lower()
            if role == "mail" and host not in primary:
                continue
            for answer in lk.answers:
                if count >= MAX_IPS_PER_ROLE or (answer, role) in seen or not _is_ip(answer):
                    continue
                seen.add((answer, role))
                found.append(HostIp(answer, role, host))  # type: ignore[arg-type]
                count += 1
    return found


# --------------------------------------------------------------------------------------------
# Facts, hint, summary


def ip_entry(facts: IpFacts, role: str) -> dict[str, Any]:
    """One address as ``details["infrastructure"]["ips"]`` and ``hunter scan --json`` show it."""
    return {
        "ip": facts.ip,
        "role": role,
        "country": facts.country,
        "city": facts.city,
        "asn": facts.asn,
        "asn_org": facts.asn_org,
        "isp": facts.isp,
        "usage_type": facts.usage_type,
        # IP2Proxy's listing as stated by the database (0 not listed, 1 proxy, 2 data centre /
        # search engine, -1 lookup failed, None no IP2Proxy data): a fact, not a verdict.
        "is_proxy": facts.is_proxy,
        "proxy_type": facts.proxy_type,
        "kind": network_kind(facts.asn, facts.usage_type),
        "sources": {name: list(values) for name, values in facts.sources.items()},
    }


@dataclass(frozen=True)
class Infrastructure:
    """The enrichment of one scan: per-address facts by role and the summary sentences."""

    ips: tuple[dict[str, Any], ...]
    summary_tr: str | None
    summary_en: str | None
    facts: tuple[IpFacts, ...] = ()  # distinct addresses, for the ip_facts table
    hint_kinds: Mapping[str, str] = field(default_factory=dict)  # mail address → network kind

    @property
    def network_hint(self) -> NetworkHint | None:
        kinds = self.hint_kinds
        return kinds.get if kinds else None

    @property
    def summary(self) -> dict[str, str | None]:
        return {"tr": self.summary_tr, "en": self.summary_en}

    def to_details(self) -> dict[str, Any]:
        """``assessment.details["infrastructure"]``."""
        return {"ips": [dict(entry) for entry in self.ips], "summary": self.summary}


EMPTY: Final = Infrastructure((), None, None)


def enrich_evidence(intel: IpIntel, evidence: Evidence) -> Infrastructure:
    """Facts for the evidence's mail and web addresses; an empty result rather than an error."""
    try:
        chosen = select_ips(evidence)
        by_ip: dict[str, IpFacts] = {}
        entries: list[dict[str, Any]] = []
        hint: dict[str, str] = {}
        for item in chosen:
            facts = by_ip.get(item.ip)
            if facts is None:
                try:
                    facts = intel.lookup(item.ip)
                except ValueError:
                    continue
                by_ip[item.ip] = facts
            entry = ip_entry(facts, item.role)
            entries.append(entry)
            if item.role == "mail" and entry["kind"]:
                hint[item.ip] = entry["kind"]
                hint[facts.ip] = entry["kind"]
        mail = [e for e in entries if e["role"] == "mail"]
        web = [e for e in entries if e["role"] == "web"]
        distinct = {f.ip: f for f in by_ip.values()}
        return Infrastructure(
            ips=tuple(entries),
            summary_tr=infrastructure_summary(mail, web, "tr"),
            summary_en=infrastructure_summary(mail, web, "en"),
            facts=tuple(distinct.values()),
            hint_kinds=hint,
        )
    except Exception as exc:  # a reader or summary bug must not cost the scan
        error = f"{type(exc).__name__}: {exc}"
        if error not in _failures_logged and len(_failures_logged) < 100:  # once, not per domain
            _failures_logged.add(error)
            log.warning("ip enrichment failed", domain=evidence.domain, error=error)
        return EMPTY


_failures_logged: set[str] = set()


def _canonical(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ip


def stored_network_hint(details: Mapping[str, Any] | Any | None) -> NetworkHint | None:
    """The classifier's network hint from a stored ``details["infrastructure"]``, so that a
    re-evaluation without a rescan classifies a self-hosted MX the way the scan did.

    Accepts the details mapping or an object with ``details`` (an ``Assessment``)."""
    if details is not None and not isinstance(details, Mapping):
        details = getattr(details, "details", None)
    if not isinstance(details, Mapping):
        return None
    infra = details.get("infrastructure")
    if not isinstance(infra, Mapping):
        return None
    kinds: dict[str, str] = {}
    for entry in infra.get("ips") or ():
        if isinstance(entry, Mapping) and entry.get("role") == "mail" and entry.get("kind"):
            kinds[_canonical(str(entry.get("ip")))] = str(entry["kind"])
    if not kinds:
        return None

    def hint(address: str) -> str | None:
        return kinds.get(address) or kinds.get(_canonical(address))

    return hint


# --------------------------------------------------------------------------------------------
# The ip_facts table


# Rows per statement: five bound parameters each, well under SQLite's 32,766.
_UPSERT_CHUNK: Final = 1000


def persist_ip_facts(
    session: Session, facts: Iterable[IpFacts], ttl: float, now: datetime | None = None
) -> int:
    """Insert or refresh ``ip_facts`` rows; a row younger than ``ttl`` seconds is left alone.

    One statement with ON CONFLICT, so concurrent scan chunks writing the same address do not
    fail each other's batch. Facts with nothing known are not stored. Returns rows offered.
    """
    now = now or utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for item in facts:
        if not item.known or item.ip in rows:
            continue
        country = item.country if isinstance(item.country, str) and len(item.country) == 2 else None
        rows[item.ip] = {
            "ip": item.ip,
            "country": country,
            "asn": item.asn if isinstance(item.asn, int) and 0 <= item.asn < 2**31 else None,
            "facts": item.to_dict(),
            "fetched_at": now,
        }
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        insert: Any = pg_insert  # both dialects' Insert share the ON CONFLICT API, not a base class
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = sqlite_insert
    else:  # pragma: no cover - Hunter runs on these two
        raise RuntimeError(f"ip_facts upsert not implemented for {dialect}")
    cutoff = now - timedelta(seconds=ttl)
    values = list(rows.values())
    for start in range(0, len(values), _UPSERT_CHUNK):
        statement = insert(IpFact).values(values[start : start + _UPSERT_CHUNK])
        statement = statement.on_conflict_do_update(
            index_elements=[IpFact.ip],
            set_={
                "country": statement.excluded.country,
                "asn": statement.excluded.asn,
                "facts": statement.excluded.facts,
                "fetched_at": statement.excluded.fetched_at,
            },
            where=IpFact.fetched_at < cutoff,
        )
        session.execute(statement)
    return len(rows)


def stored_ip_fact(db: Database, ip: str) -> IpFact | None:
    with db.session() as session:
        row = session.get(IpFact, _canonical(ip))
        if row is not None:
            session.expunge(row)
        return row


# --------------------------------------------------------------------------------------------
# Look-ups for operators (debug endpoint, `hunter ip lookup`)


def ip_report(intel: IpIntel, ip: str) -> dict[str, Any]:
    """Combined facts and every source's own answer for one address. Raises ValueError."""
    canonical = str(ipaddress.ip_address(ip.strip()))
    before = intel.cache_stats.hits
    facts = intel.lookup(canonical)
    # Public counters only: a concurrent lookup can blur this, which is fine for a debug view.
    cached = intel.cache_stats.hits > before
    return {
        "ip": canonical,
        "enabled": intel.enabled,
        "facts": facts.to_dict(),
        "kind": network_kind(facts.asn, facts.usage_type),
        "sources": {source: intel.lookup_source(source, canonical) for source in SOURCES},
        "in_process_cache": "hit" if cached else "miss",
    }


# --------------------------------------------------------------------------------------------
# Status lines


@dataclass(frozen=True)
class StatusLine:
    """One line for the status page: ``ok`` / ``info`` / ``warning``, in Turkish and English.

    The text names settings, never file paths: ``/healthz/ready`` shows warnings to anyone.
    """

    level: Literal["ok", "info", "warning"]
    source: str | None
    setting: str | None
    en: str
    tr: str
    component: str = "ip_enrichment"

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "level": self.level,
            "source": self.source,
            "setting": self.setting,
            "en": self.en,
            "tr": self.tr,
        }


def _source_line(status: SourceStatus) -> StatusLine:
    source = status.source
    label = SOURCE_LABELS.get(source, source)
    setting = SOURCE_SETTINGS.get(source)
    if status.state == "loaded":
        built = status.build_date.isoformat() if status.build_date else "?"
        if status.error:
            return StatusLine(
                "warning",
                source,
                setting,
                f"{label}: the replacement file could not be opened; still using the copy built {built}",
                f"{label}: yeni dosya açılamadı; {built} tarihli önceki kopya kullanılıyor",
            )
        return StatusLine(
            "ok", source, setting, f"{label} loaded (built {built})", f"{label} yüklü ({built} tarihli)"
        )
    if status.state == "not_configured":
        return StatusLine(
            "info",
            source,
            setting,
            f"{label} is not configured (optional; {setting})",
            f"{label} ayarlanmamış (isteğe bağlı; {setting})",
        )
    if status.state == "error" and (status.error or "").startswith("file not found"):
        return StatusLine(
            "warning",
            source,
            setting,
            f"{label} database is missing: {setting} names a file that does not exist",
            f"{label} veritabanı eksik: {setting} ayarındaki dosya bulunamadı",
        )
    if status.state == "error":
        return StatusLine(
            "warning",
            source,
            setting,
            f"{label} database cannot be used (corrupt, truncated or the wrong type; see {setting} "
            "and the server log)",
            f"{label} veritabanı kullanılamıyor (bozuk, eksik ya da yanlış türde; {setting} ayarına ve "
            "sunucu günlüğüne bakın)",
        )
    return StatusLine("info", source, setting, f"{label} is off", f"{label} kapalı")


def enrichment_status(settings: Settings, intel: IpIntel | None = None) -> list[StatusLine]:
    """Status-page lines about IP enrichment; empty when the flag is off."""
    if not settings.enrichment_enabled:
        return []
    try:
        intel = intel or get_ip_intel(settings)
        intel.reload_if_changed()  # a file put in place since the last lookup shows up at once
        statuses: Sequence[SourceStatus] = intel.status()
    except Exception as exc:  # the status page must render whatever happened
        log.warning("ip enrichment status failed", error=f"{type(exc).__name__}: {exc}")
        return [
            StatusLine(
                "warning",
                None,
                None,
                "IP enrichment is on but its databases could not be opened; see the server log",
                "IP zenginleştirme açık ama veritabanları açılamadı; sunucu günlüğüne bakın",
            )
        ]
    lines = [_source_line(s) for s in statuses]
    if not any(s.loaded for s in statuses):
        lines.insert(
            0,
            StatusLine(
                "warning",
                None,
                "HUNTER_ENRICHMENT_ENABLED",
                "IP enrichment is on but no IP database is loaded: scans run without IP facts",
                "IP zenginleştirme açık ama hiçbir IP veritabanı yüklü değil: taramalar IP bilgisi "
                "olmadan sürüyor",
            ),
        )
    return lines


def readiness_warnings(settings: Settings) -> list[dict[str, Any]]:
    """The warning lines for ``/healthz/ready`` (never a reason to fail readiness)."""
    return [line.to_dict() for line in enrichment_status(settings) if line.level == "warning"]
