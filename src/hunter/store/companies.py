"""Company repository: idempotent upserts on the natural key (domain) and the list query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from hunter.core.text import fold
from hunter.store.models import Assessment, Company
from hunter.store.types import utcnow

UPSERT_BATCH = 500


@dataclass(frozen=True)
class CompanyInput:
    """What an import, the API or a referral knows about a company."""

    domain: str
    display_domain: str
    names: Sequence[str] = ()
    source: dict[str, Any] | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    emails: Sequence[str] = ()


@dataclass
class UpsertSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    company_ids: list[int] = field(default_factory=list)


def build_search_text(company: Company) -> str:
    parts: list[str] = [company.domain, company.display_domain]
    parts += [str(n) for n in company.names or []]
    parts += [str(v) for v in (company.attributes or {}).values()]
    return fold(" ".join(parts))


def _merge_list(current: list[Any], additions: Iterable[Any]) -> list[Any]:
    merged = list(current)
    for item in additions:
        if item not in merged:
            merged.append(item)
    return merged


def _apply(company: Company, data: CompanyInput) -> bool:
    """Merge ``data`` into ``company``; True when anything changed."""
    names = _merge_list(company.names or [], [n for n in data.names if n])
    sources = _merge_list(company.sources or [], [data.source] if data.source else [])
    emails = _merge_list(company.emails or [], data.emails)
    attributes = dict(company.attributes or {})
    for key, value in data.attributes.items():
        if value and not attributes.get(key):
            attributes[key] = value
    changed = (
        names != (company.names or [])
        or sources != (company.sources or [])
        or emails != (company.emails or [])
        or attributes != (company.attributes or {})
    )
    if changed:
        company.names = names
        company.sources = sources
        company.emails = emails
        company.attributes = attributes
        company.name = company.name or (names[0] if names else None)
        company.search_text = build_search_text(company)
        company.updated_at = utcnow()
    return changed


def upsert_companies(session: Session, items: Iterable[CompanyInput]) -> UpsertSummary:
    """Insert new domains and merge names, sources and attributes into known ones.

    Works in batches so that a 200,000-row import never holds every company in memory.
    """
    summary = UpsertSummary()
    batch: list[CompanyInput] = []
    for item in items:
        batch.append(item)
        if len(batch) >= UPSERT_BATCH:
            _upsert_batch(session, batch, summary)
            batch = []
    if batch:
        _upsert_batch(session, batch, summary)
    return summary


def _upsert_batch(session: Session, batch: list[CompanyInput], summary: UpsertSummary) -> None:
    merged: dict[str, CompanyInput] = {}
    for item in batch:
        prev = merged.get(item.domain)
        if prev is None:
            merged[item.domain] = item
        else:  # the same domain twice in one batch: fold into one input
            merged[item.domain] = CompanyInput(
                domain=item.domain,
                display_domain=prev.display_domain,
                names=[*prev.names, *item.names],
                source=prev.source,
                attributes={**item.attributes, **prev.attributes},
                emails=[*prev.emails, *item.emails],
            )
    existing = {c.domain: c for c in session.scalars(select(Company).where(Company.domain.in_(list(merged))))}
    for domain, item in merged.items():
        company = existing.get(domain)
        if company is None:
            company = Company(
                domain=domain,
                display_domain=item.display_domain,
                names=[],
                sources=[],
                emails=[],
                attributes={},
                search_text="",
            )
            _apply(company, item)
            session.add(company)
            summary.created += 1
        elif _apply(company, item):
            summary.updated += 1
        else:
            summary.unchanged += 1
    session.flush()
    summary.company_ids.extend(
        c.id for c in session.scalars(select(Company).where(Company.domain.in_(list(merged))))
    )


@dataclass(frozen=True)
class CompanyFilter:
    search: str | None = None
    platform: Sequence[str] = ()
    complete: bool | None = None


SORTS = {
    "priority": (Assessment.priority_rank.asc(), Assessment.score.desc().nulls_last(), Company.domain.asc()),
    "domain": (Company.domain.asc(),),
    "newest": (Company.created_at.desc(), Company.id.desc()),
}


def company_query(flt: CompanyFilter, sort: str = "priority") -> Select[tuple[Company, Assessment | None]]:
    query = select(Company, Assessment).outerjoin(Assessment, Assessment.company_id == Company.id)
    if flt.search:
        terms = fold(flt.search).split()
        for term in terms:
            query = query.where(Company.search_text.contains(term, autoescape=True))
    if flt.platform:
        query = query.where(Assessment.platform.in_(list(flt.platform)))
    if flt.complete is not None:
        query = query.where(
            Assessment.complete.is_(flt.complete)
            if flt.complete
            else or_(Assessment.complete.is_(False), Assessment.id.is_(None))
        )
    return query.order_by(*SORTS.get(sort, SORTS["priority"]))


def list_companies(
    session: Session, flt: CompanyFilter, *, sort: str = "priority", limit: int = 50, offset: int = 0
) -> tuple[int, list[tuple[Company, Assessment | None]]]:
    query = company_query(flt, sort)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.limit(limit).offset(offset)).all()
    return total, [(row[0], row[1]) for row in rows]


def get_company(session: Session, domain: str) -> Company | None:
    return session.scalar(select(Company).where(Company.domain == domain))
