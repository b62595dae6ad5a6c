"""What the job tests share: leads with a scan of a given age, and exactly-once checks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hunter.store.db import Database
from hunter.store.models import Assessment, Company, Scan
from hunter.store.types import utcnow


def duplicate_scans(db: Database, job_id: int) -> list[tuple[int, int]]:
    with db.session() as session:
        return [
            (company_id, count)
            for company_id, count in session.execute(
                select(Scan.company_id, func.count())
                .where(Scan.job_id == job_id)
                .group_by(Scan.company_id)
                .having(func.count() > 1)
            )
        ]


def scanned_companies(db: Database, job_id: int) -> int:
    with db.session() as session:
        query = select(func.count(func.distinct(Scan.company_id))).where(Scan.job_id == job_id)
        return int(session.scalar(query) or 0)


def lead(db: Database, domain: str, priority: str | None, *, days_ago: float, complete: bool = True) -> int:
    """A company with a stored scan of the given age and an assessment with that priority."""
    at = utcnow() - timedelta(days=days_ago)
    with db.session() as session:
        company = Company(domain=domain, display_domain=domain)
        session.add(company)
        session.flush()
        scan = Scan(company_id=company.id, started_at=at, finished_at=at, complete=complete)
        session.add(scan)
        session.flush()
        rank = int(priority[1]) if priority and complete else 99
        session.add(
            Assessment(
                company_id=company.id,
                scan_id=scan.id,
                complete=complete,
                priority=priority if complete else None,
                priority_rank=rank,
            )
        )
        return company.id
