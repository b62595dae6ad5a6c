"""Sales briefs for stored leads (CLI, API, later the UI and PDF export)."""

from __future__ import annotations

from sqlalchemy import select

from hunter.config import Settings
from hunter.core.brief import Brief, build_brief
from hunter.core.evaluation import evaluate, inputs_from_evidence
from hunter.core.evidence import Evidence
from hunter.services.enrichment import stored_network_hint
from hunter.services.evaluation import contextual_inputs, load_contexts
from hunter.store.db import Database
from hunter.store.models import Company, Scan


class LeadNotFound(LookupError):
    pass


class LeadNotScanned(LookupError):
    pass


def brief_for(db: Database, settings: Settings, domain: str, lang: str) -> Brief:
    """Build the brief from the company's latest stored scan, in its current context."""
    with db.session() as session:
        company_id = session.scalar(select(Company.id).where(Company.domain == domain))
        if company_id is None:
            raise LeadNotFound(f"{domain} is not in the database; import or scan it first")
        ctx = load_contexts(session, [company_id])[company_id]
        scan_id = ctx.assessment.scan_id if ctx.assessment else None
        raw = session.scalar(select(Scan.evidence).where(Scan.id == scan_id)) if scan_id else None
        if raw is None:
            raise LeadNotScanned(f"{domain} has not been scanned yet; run `hunter scan {domain}`")
        hint = stored_network_hint(ctx.assessment)  # as the scan classified it (IP facts)
        inputs = contextual_inputs(inputs_from_evidence(Evidence.model_validate(raw), network_hint=hint), ctx)
    evaluation = evaluate(inputs)
    return build_brief(evaluation, inputs, "tr" if lang == "tr" else "en", None, settings.partner_name)
