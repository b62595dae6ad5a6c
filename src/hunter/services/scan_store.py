"""Persistence of scan results: scans history, the current assessment, registration data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hunter.core.domains import Domain, normalise_domain
from hunter.core.evidence import RegistrationInfo
from hunter.store.companies import CompanyInput, upsert_companies
from hunter.store.db import Database
from hunter.store.models import Assessment, Company, Scan
from hunter.store.types import utcnow

if TYPE_CHECKING:
    from hunter.services.scanning import ScanReport


def _display(domain: str) -> str:
    try:
        parsed: Domain = normalise_domain(domain)
    except ValueError:
        return domain
    return parsed.unicode


class ScanWriter:
    """Writes batches of scan reports; one instance per scan run (or job chunk)."""

    def __init__(self, db: Database, *, job_id: int | None = None, ip_facts_ttl: float = 7 * 86400) -> None:
        self.db = db
        self.job_id = job_id
        self.ip_facts_ttl = ip_facts_ttl
        self._company_ids: dict[str, int] = {}
        self._ips_stored: set[str] = set()  # ip_facts rows this writer already wrote
        self.alerts = 0

    def prepare(self, domains: Sequence[str]) -> set[str]:
        """Make sure every domain has a company row; return domains this job already scanned."""
        with self.db.session() as session:
            upsert_companies(
                session,
                (CompanyInput(domain=d, display_domain=_display(d)) for d in domains),
            )
        done: set[str] = set()
        with self.db.session() as session:
            for start in range(0, len(domains), 500):
                part = list(domains[start : start + 500])
                for company_id, domain in session.execute(
                    select(Company.id, Company.domain).where(Company.domain.in_(part))
                ):
                    self._company_ids[domain] = company_id
                if self.job_id is not None:
                    ids = [self._company_ids[d] for d in part if d in self._company_ids]
                    scanned = session.scalars(
                        select(Scan.company_id).where(Scan.job_id == self.job_id, Scan.company_id.in_(ids))
                    )
                    by_id = {v: k for k, v in self._company_ids.items()}
                    done.update(by_id[i] for i in scanned)
        return done

    def write(self, reports: Sequence[ScanReport]) -> int:
        """Store scans and their evaluations in the company's context; report alerts raised."""
        from hunter.core.evaluation import evaluate
        from hunter.services.evaluation import contextual_inputs, load_contexts, store_evaluation

        now = utcnow()
        with self.db.session() as session:
            contexts = load_contexts(session, [self._company_ids[r.domain] for r in reports])
            # One multi-row INSERT … RETURNING for the batch: a flush per scan costs ~2 ms each.
            rows = [self._scan_row(report) for report in reports]
            returned = session.execute(
                insert(Scan).returning(Scan.id, sort_by_parameter_order=True), rows
            ).all()
            for report, (scan_id,) in zip(reports, returned, strict=True):
                ctx = contexts[self._company_ids[report.domain]]
                report.inputs = contextual_inputs(report.inputs, ctx)
                report.evaluation = evaluate(report.inputs)
                self.alerts += len(
                    store_evaluation(
                        session,
                        ctx,
                        report.evaluation,
                        report.inputs,
                        scan_id,
                        now,
                        scanned_at=report.evidence.collected_at,
                    )
                )
            self._store_infrastructure(session, reports, now)
        return len(reports)

    def _scan_row(self, report: ScanReport) -> dict[str, Any]:
        evidence = report.evidence
        c = report.classification
        return {
            "company_id": self._company_ids[report.domain],
            "job_id": self.job_id,
            "started_at": evidence.collected_at,
            "finished_at": evidence.collected_at + timedelta(milliseconds=evidence.duration_ms),
            "duration_ms": evidence.duration_ms,
            "complete": c.complete,
            "platform": c.platform,
            "gateway": c.gateway,
            "statuses": report.status_counts(),
            "evidence": evidence.model_dump(mode="json"),
            "classification": c.to_dict(),
        }

    def _store_infrastructure(self, session: Session, reports: Sequence[ScanReport], now: datetime) -> None:
        """IP facts into ``ip_facts`` and each lead's ``assessment.details["infrastructure"]``."""
        from hunter.services.enrichment import persist_ip_facts

        enriched = {
            self._company_ids[r.domain]: r.infrastructure for r in reports if r.infrastructure is not None
        }
        if not enriched:
            return  # enrichment off: not even a query
        query = select(Assessment).where(Assessment.company_id.in_(list(enriched)))
        for assessment in session.scalars(query):
            infrastructure = enriched[assessment.company_id]
            # A new dict: the JSON column only notices reassignment.
            assessment.details = {**(assessment.details or {}), "infrastructure": infrastructure.to_details()}
        fresh = [f for infra in enriched.values() for f in infra.facts if f.ip not in self._ips_stored]
        if fresh:
            persist_ip_facts(session, fresh, self.ip_facts_ttl, now)
            self._ips_stored.update(f.ip for f in fresh)


def domains_needing_registration(db: Database, domains: Sequence[str], older_than: datetime) -> list[str]:
    fresh: set[str] = set()
    with db.session() as session:
        for start in range(0, len(domains), 500):
            part = list(domains[start : start + 500])
            fresh.update(
                session.scalars(
                    select(Company.domain).where(
                        Company.domain.in_(part),
                        Company.registration_fetched_at.is_not(None),
                        Company.registration_fetched_at >= older_than,
                    )
                )
            )
    return [d for d in domains if d not in fresh]


def store_registration(db: Database, domain: str, info: RegistrationInfo) -> None:
    with db.session() as session:
        company = session.scalar(select(Company).where(Company.domain == domain))
        if company is None:
            return
        company.registration = info.model_dump(mode="json")
        company.registration_fetched_at = info.fetched_at or utcnow()
