"""The one scan path: collect evidence, classify it, store it. CLI, API and jobs all call this.

DNS evidence streams from ``collect.scanner.scan_many``; each result is classified by the pure
core and written in small batches from a worker thread, so the event loop keeps the DNS pipeline
full while the database works. Registration data (RDAP/WHOIS) runs as its own stage beside it:
a slow registry never holds DNS throughput back, and its answer lands on the company row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hunter import metrics
from hunter.collect.dns import DnsConfig, parse_nameservers
from hunter.collect.scanner import scan_many
from hunter.config import Settings
from hunter.core.evaluation import Evaluation, EvaluationInput, evaluate, inputs_from_evidence
from hunter.core.evidence import Evidence, RdapStatus, RegistrationInfo
from hunter.core.posture import MailPosture
from hunter.core.providers import Classification, NetworkHint
from hunter.logs import get_logger
from hunter.store.db import Database

if TYPE_CHECKING:
    from hunter.services.enrichment import Infrastructure

log = get_logger(__name__)

WRITE_BATCH = 200
REGISTRATION_MAX_AGE = timedelta(days=7)


def dns_config(settings: Settings) -> DnsConfig:
    nameservers = parse_nameservers(settings.dns_nameservers) if settings.dns_nameservers.strip() else None
    return DnsConfig(
        nameservers=nameservers,
        timeout=settings.dns_timeout,
        attempts=settings.dns_attempts,
        concurrency=settings.dns_concurrency,
        qps=settings.dns_qps,
        redis_url=settings.redis_url,
    )


@dataclass
class ScanReport:
    """One scanned domain: evidence plus the core's reading of it."""

    evidence: Evidence
    inputs: EvaluationInput
    evaluation: Evaluation
    registration: RegistrationInfo | None = None
    infrastructure: Infrastructure | None = None
    """IP facts and summary; None when enrichment is off (then no key of it appears anywhere)."""

    @property
    def domain(self) -> str:
        return self.evidence.domain

    @property
    def classification(self) -> Classification:
        return self.inputs.classification

    @property
    def posture(self) -> MailPosture:
        return self.inputs.posture

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for lookup in self.evidence.lookups:
            counts[lookup.status.value] = counts.get(lookup.status.value, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        """The ``hunter scan --json`` line."""
        c = self.classification
        p = self.posture
        e = self.evaluation
        line = {
            "domain": self.domain,
            "complete": c.complete,
            "incomplete_reasons": list(c.incomplete_reasons),
            "platform": c.platform,
            "secondary_platforms": list(c.secondary_platforms),
            "provider": c.provider,
            "gateway": c.gateway,
            "confidence": c.confidence,
            "confidence_label": c.confidence_label,
            "m365_tenant": {"traces": list(c.tenant_traces), "tenant_name": c.tenant_name},
            "half_migrated": c.half_migrated,
            "parked": c.parked,
            "spf": {
                "record": p.spf.record,
                "valid": p.spf.valid,
                "lookups": p.spf.lookups_used,
                "status": p.spf.status,
            },
            "dmarc": {
                "policy": p.dmarc.p,
                "subdomain_policy": p.dmarc.effective_sp,
                "pct": p.dmarc.pct,
                "status": p.dmarc.status,
            },
            "dkim": {"selectors": list(p.dkim.found), "status": p.dkim.status},
            "score": e.score,
            "segment": e.segment,
            "priority": e.priority,
            "needs_rescan": e.needs_rescan,
            "tags": list(e.all_tags),
            "breakdown": [
                {"factor": f.factor, "points": f.points, "text": f.text["en"]} for f in e.breakdown
            ],
            "rules_version": e.rules_version,
            "evidence_lines": list(c.evidence_lines),
            "lookups": [
                {"name": lk.name, "type": lk.rdtype, "status": lk.status.value}
                for lk in self.evidence.lookups
            ],
            "duration_ms": round(self.evidence.duration_ms, 1),
        }
        if self.infrastructure is not None:
            line["ips"] = [dict(entry) for entry in self.infrastructure.ips]
            line["infrastructure_summary"] = self.infrastructure.summary
        return line

    def to_api_json(self) -> dict[str, Any]:
        return {
            **self.to_json(),
            "classification": self.classification.to_dict(),
            "posture": self.posture.to_dict(),
            "evaluation": self.evaluation.to_dict(),
            "evidence": self.evidence.model_dump(mode="json"),
            "registration": self.registration.model_dump(mode="json") if self.registration else None,
        }

    def to_line(self) -> str:
        c = self.classification
        e = self.evaluation
        if not c.complete:
            return f"{self.domain:40} incomplete ({', '.join(c.incomplete_reasons)}) — needs rescan"
        gateway = f" behind {c.gateway}" if c.gateway else ""
        tenant = " · half-migrated" if c.half_migrated else ""
        return (
            f"{self.domain:40} {e.priority} {e.score:>3}  {c.platform}{gateway}{tenant} "
            f"(confidence {c.confidence:.2f})"
        )


@dataclass
class ScanSummary:
    total: int = 0
    complete: int = 0
    incomplete: int = 0
    stored: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0
    platforms: dict[str, int] = field(default_factory=dict)
    registrations: dict[str, RegistrationInfo] = field(default_factory=dict)
    alerts: int = 0

    def to_line(self) -> str:
        rate = self.total / self.elapsed_s if self.elapsed_s else 0.0
        mix = ", ".join(f"{k} {v}" for k, v in sorted(self.platforms.items(), key=lambda kv: -kv[1]))
        return (
            f"{self.total} domains in {self.elapsed_s:.1f}s ({rate:.0f}/s): {self.complete} complete, "
            f"{self.incomplete} incomplete. {mix}"
        )


def analyse(evidence: Evidence, network_hint: NetworkHint | None = None) -> ScanReport:
    """Pure: evidence → classification, posture and a context-free evaluation.

    The stored evaluation adds the company's context (import columns, registration, user tags);
    see ``services.evaluation``. ``network_hint`` comes from IP enrichment (None when it is off).
    """
    inputs = inputs_from_evidence(evidence, network_hint=network_hint)
    return ScanReport(evidence=evidence, inputs=inputs, evaluation=evaluate(inputs))


async def scan_domains(
    settings: Settings,
    domains: Sequence[str] | Iterable[str],
    *,
    db: Database | None = None,
    job_id: int | None = None,
    on_result: Callable[[ScanReport], Any] | None = None,
    dns: DnsConfig | None = None,
    registration: bool | None = None,
) -> ScanSummary:
    """Scan ``domains`` (ASCII registrable names), store each result, report it as it lands."""
    from hunter.services.scan_store import ScanWriter

    summary = ScanSummary()
    started = time.perf_counter()
    writer = (
        ScanWriter(db, job_id=job_id, ip_facts_ttl=settings.enrichment_cache_ttl) if db is not None else None
    )
    pending: list[ScanReport] = []
    write_task: asyncio.Future[int] | None = None
    domain_list = list(dict.fromkeys(domains))
    if writer is not None:
        skip = await asyncio.to_thread(writer.prepare, domain_list)
        summary.skipped = len(skip)
        domain_list = [d for d in domain_list if d not in skip]

    rdap_task: asyncio.Task[None] | None = None
    registrations: dict[str, RegistrationInfo] = {}
    use_rdap = settings.rdap_enabled if registration is None else registration
    if use_rdap and domain_list:
        rdap_task = asyncio.create_task(_registration_stage(settings, domain_list, db, registrations))

    intel = None
    if settings.enrichment_enabled:
        from hunter.services.enrichment import enrich_evidence, get_ip_intel

        try:  # opening the databases reads whole index columns: not on the event loop
            intel = await asyncio.to_thread(get_ip_intel, settings)
        except Exception as exc:  # enrichment is optional; a failure must not fail the scan
            log.warning("ip enrichment unavailable", error=f"{type(exc).__name__}: {exc}")

    async for evidence in scan_many(
        domain_list, dns or dns_config(settings), domain_concurrency=settings.scan_concurrency
    ):
        if intel is None:
            report = analyse(evidence)
        else:
            # Memory-mapped lookups, cached per address: cheap enough for the event loop.
            infrastructure = enrich_evidence(intel, evidence)
            report = analyse(evidence, infrastructure.network_hint)
            report.infrastructure = infrastructure
        metrics.record_scan(report)
        summary.total += 1
        if report.classification.complete:
            summary.complete += 1
            key = report.classification.platform or "unknown"
            summary.platforms[key] = summary.platforms.get(key, 0) + 1
        else:
            summary.incomplete += 1
        if writer is not None:
            pending.append(report)
            if len(pending) >= WRITE_BATCH:
                # One batch is written in a thread while the next one is collected.
                if write_task is not None:
                    summary.stored += await write_task
                batch, pending = pending, []
                write_task = asyncio.ensure_future(asyncio.to_thread(writer.write, batch))
        if on_result is not None:
            on_result(report)
    if write_task is not None:
        summary.stored += await write_task
    if writer is not None and pending:
        summary.stored += await asyncio.to_thread(writer.write, pending)
    if rdap_task is not None:
        await rdap_task
        summary.registrations = registrations
        if db is not None and registrations:
            # Registration data arrives on its own schedule; fold it into the verdicts (no rescan).
            await asyncio.to_thread(_reevaluate_domains, db, list(registrations))
    if writer is not None:
        summary.alerts = writer.alerts
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _reevaluate_domains(db: Database, domains: list[str]) -> None:
    from sqlalchemy import select

    from hunter.services.evaluation import reevaluate
    from hunter.store.models import Company
    from hunter.store.types import utcnow

    with db.session() as session:
        ids = list(session.scalars(select(Company.id).where(Company.domain.in_(domains))))
    reevaluate(db, utcnow(), company_ids=ids)


async def _registration_stage(
    settings: Settings,
    domains: list[str],
    db: Database | None,
    results: dict[str, RegistrationInfo],
) -> None:
    from hunter.collect.rdap import fetch_many
    from hunter.services.scan_store import domains_needing_registration, store_registration

    try:
        wanted = domains
        if db is not None:
            now = datetime.now(UTC)
            wanted = await asyncio.to_thread(
                domains_needing_registration, db, domains, now - REGISTRATION_MAX_AGE
            )
        async for domain, info in fetch_many(wanted, rdap_config(settings)):
            results[domain] = info
            # Only definite answers are kept; a timeout must not overwrite good data.
            if db is not None and info.status in (RdapStatus.OK, RdapStatus.NOT_FOUND):
                await asyncio.to_thread(store_registration, db, domain, info)
    except Exception as exc:  # registration data is optional; a failure must not fail the scan
        log.warning("registration stage failed", error=str(exc))


def rdap_config(settings: Settings) -> Any:
    from hunter.collect.rdap import RdapConfig

    return RdapConfig(
        enabled=settings.rdap_enabled,
        timeout=settings.rdap_timeout,
        per_server_interval=settings.rdap_server_interval,
        per_server_concurrency=settings.rdap_server_concurrency,
        rdap_overrides=_pairs(settings.rdap_servers),
        whois_servers=_pairs(settings.whois_servers),
        verify=settings.rdap_ca_bundle or True,
    )


def _pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"expected TLD=VALUE pairs separated by commas, got {item.strip()!r}")
        pairs[key.strip().lower().lstrip(".")] = value.strip()
    return pairs
