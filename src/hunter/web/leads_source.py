"""The Leads screen on top of THE leads query (``hunter.store.leads``): the same filters, sort
and search as the JSON API and the exports, a few SQL queries a page and never one per row."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from hunter.store.db import Database
from hunter.store.leads import LeadFilter, count_leads, iter_leads, lead_facets, query_leads
from hunter.web.listing import LeadPage, ListState


def lead_filter(state: ListState) -> LeadFilter:
    def day(value: Any, end: bool) -> datetime | None:
        if value is None:
            return None
        return datetime.combine(value, time.max if end else time.min, tzinfo=UTC)

    return LeadFilter(
        q=state.q or None,
        priority=state.priority,
        segment=state.segment,
        platform=state.platform,
        tags=state.tags,
        score_min=state.score_min,
        score_max=state.score_max,
        scanned_from=day(state.scanned_from, end=False),
        scanned_to=day(state.scanned_to, end=True),
    )


def fetch(db: Database, state: ListState, *, user_id: int | None, lang: str) -> LeadPage:
    """Raises ValueError for a filter the query refuses (e.g. a malformed tag)."""
    with db.session() as session:
        page = query_leads(
            session,
            lead_filter(state),
            sort=state.sort_param,
            page=state.page,
            page_size=state.size,
            user_id=user_id,
            lang=lang,
        )
        all_total = page.total
        if page.total == 0 and state.filtered:
            all_total = count_leads(session, LeadFilter())
    return LeadPage(total=page.total, rows=page.items, all_total=all_total)


def facet_counts(db: Database, state: ListState, *, user_id: int | None) -> dict[str, dict[str, int]]:
    """Counts per priority under the other filters (the chips' numbers), asked for separately so
    they never hold up the rows."""
    with db.session() as session:
        return lead_facets(session, lead_filter(state), user_id=user_id, facets=("priority",))


def matching_domains(session: Session, state: ListState, limit: int, *, user_id: int | None) -> list[str]:
    """Every domain the filters match, in list order (for "select all N matching")."""
    domains: list[str] = []
    for item in iter_leads(session, lead_filter(state), sort=state.sort_param, user_id=user_id):
        domains.append(item.domain)
        if len(domains) >= limit:
            break
    return domains
