"""Everything the lead drawer shows: ``store.leads.lead_detail``, the IP facts and the brief."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hunter.config import Settings
from hunter.core.brief import Brief
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.leads import LeadNotFound, lead_detail
from hunter.store.models import Assessment, Company

log = get_logger(__name__)


@dataclass
class LeadDetail:
    data: dict[str, Any]
    """``lead_detail``'s answer (both languages of each sentence are kept: the page picks)."""
    infrastructure: dict[str, Any]
    """``assessment.details["infrastructure"]``: {"ips": [...], "summary": {"tr", "en"}}."""
    brief: Brief | None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def factors(self) -> list[dict[str, Any]]:
        """Factors by weight, largest first (the order a rep reads "why")."""
        return sorted(self.data.get("breakdown") or [], key=lambda f: -abs(f.get("points") or 0))


def load_lead(
    db: Database, settings: Settings, domain: str, *, user_id: int | None, lang: str
) -> LeadDetail | None:
    with db.session() as session:
        try:
            data = lead_detail(session, domain, user_id=user_id)
        except LeadNotFound:
            return None
        details = session.scalar(
            select(Assessment.details)
            .join(Company, Company.id == Assessment.company_id)
            .where(Company.domain == data["domain"])
        )
    infrastructure = (details or {}).get("infrastructure") or {}
    brief = _brief(db, settings, data["domain"], lang) if data.get("scanned") else None
    return LeadDetail(data=data, infrastructure=infrastructure, brief=brief)


def _brief(db: Database, settings: Settings, domain: str, lang: str) -> Brief | None:
    from hunter.services.briefs import LeadNotFound as BriefLeadNotFound
    from hunter.services.briefs import LeadNotScanned, brief_for

    try:
        return brief_for(db, settings, domain, lang)
    except (BriefLeadNotFound, LeadNotScanned):
        return None
    except Exception as exc:  # a brief bug must not hide the evidence and history
        log.warning("brief failed", domain=domain, error=f"{type(exc).__name__}: {exc}")
        return None
