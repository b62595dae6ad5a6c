"""Evaluation use cases: score a scan in its company's context, store it, detect changes.

One place turns (evidence, company context) into stored verdicts, so a fresh scan, a registration
update and `hunter reevaluate` after a rules change all produce the same assessment.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hunter.core.changes import comparison_base, detect_changes
from hunter.core.evaluation import Evaluation, EvaluationInput, evaluate, inputs_from_evidence
from hunter.core.evidence import Evidence, RegistrationInfo
from hunter.logs import get_logger
from hunter.services.enrichment import stored_network_hint
from hunter.store.db import Database
from hunter.store.models import Assessment, Company, CompanyTag, Scan
from hunter.store.models import Evaluation as EvaluationRow

log = get_logger(__name__)


@dataclass(frozen=True)
class CompanyContext:
    """What the database knows about a company beyond its DNS evidence."""

    company: Company
    assessment: Assessment | None
    registration: RegistrationInfo | None
    user_tags: tuple[str, ...]


def load_contexts(session: Session, company_ids: Sequence[int]) -> dict[int, CompanyContext]:
    ids = list(dict.fromkeys(company_ids))
    companies = {c.id: c for c in session.scalars(select(Company).where(Company.id.in_(ids)))}
    assessments = {
        a.company_id: a for a in session.scalars(select(Assessment).where(Assessment.company_id.in_(ids)))
    }
    tags: dict[int, list[str]] = {}
    for company_id, tag in session.execute(
        select(CompanyTag.company_id, CompanyTag.tag).where(CompanyTag.company_id.in_(ids))
    ):
        tags.setdefault(company_id, []).append(tag)
    contexts = {}
    for company_id, company in companies.items():
        registration = None
        if company.registration:
            try:
                registration = RegistrationInfo.model_validate(company.registration)
            except ValueError:
                log.warning("stored registration data unreadable", domain=company.domain)
        contexts[company_id] = CompanyContext(
            company=company,
            assessment=assessments.get(company_id),
            registration=registration,
            user_tags=tuple(sorted(tags.get(company_id, ()))),
        )
    return contexts


def contextual_inputs(inputs: EvaluationInput, ctx: CompanyContext) -> EvaluationInput:
    """The scan's classification and posture, with the company's registration, columns and tags."""
    return dataclasses.replace(
        inputs,
        registration=ctx.registration or inputs.registration,
        attributes={str(k): str(v) for k, v in (ctx.company.attributes or {}).items()},
        user_tags=ctx.user_tags,
    )


def store_evaluation(
    session: Session,
    ctx: CompanyContext,
    evaluation: Evaluation,
    inputs: EvaluationInput,
    scan_id: int | None,
    now: datetime,
    *,
    record_alerts: bool = True,
    scanned_at: datetime | None = None,
) -> list[Any]:
    """Write the evaluation history row and the current assessment; return new alerts."""
    c = inputs.classification
    session.add(
        EvaluationRow(
            company_id=ctx.company.id,
            scan_id=scan_id,
            rules_version=evaluation.rules_version,
            evaluated_at=now,
            complete=c.complete,
            score=evaluation.score,
            segment=evaluation.segment,
            priority=evaluation.priority,
            breakdown=[f.to_dict() for f in evaluation.breakdown],
            tags=list(evaluation.tags),
            snapshot=evaluation.snapshot.to_dict(),
        )
    )
    assessment = ctx.assessment
    if assessment is None:
        assessment = Assessment(company_id=ctx.company.id, details={})
        session.add(assessment)
    previous_details = dict(assessment.details or {})
    previous_base = previous_details.get("comparison_base")
    changes = detect_changes(previous_base, evaluation, now)
    if scan_id is not None:
        assessment.scan_id = scan_id
    if scanned_at is not None:
        assessment.scanned_at = scanned_at
    assessment.complete = c.complete
    assessment.platform = c.platform
    assessment.gateway = c.gateway
    assessment.score = evaluation.score
    assessment.segment = evaluation.segment
    assessment.priority = evaluation.priority
    assessment.priority_rank = evaluation.priority_rank
    assessment.breakdown = [f.to_dict() for f in evaluation.breakdown]
    assessment.tags = list(evaluation.all_tags)
    assessment.rules_version = evaluation.rules_version
    assessment.evaluated_at = now
    base = comparison_base(previous_base, evaluation)
    assessment.details = {
        "classification": c.to_dict(),
        "posture": inputs.posture.to_dict(),
        "evaluation": evaluation.to_dict(),
        "comparison_base": base.to_dict() if base else None,
    }
    if scan_id is None and "infrastructure" in previous_details:
        # IP facts belong to the scan, not to the rules: a re-evaluation keeps them.
        assessment.details["infrastructure"] = previous_details["infrastructure"]
    if not (record_alerts and changes):
        return []
    from hunter.alerts.store import record_changes

    session.flush()
    return list(record_changes(session, ctx.company.id, changes, now))


@dataclass
class ReevaluateSummary:
    companies: int = 0
    evaluated_s: float = 0.0
    commit_s: float = 0.0
    changed_priority: int = 0
    rules_version: str | None = None
    priorities: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.companies / self.evaluated_s if self.evaluated_s else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "companies": self.companies,
            "evaluated_seconds": round(self.evaluated_s, 3),
            "commit_seconds": round(self.commit_s, 3),
            "companies_per_second": round(self.rate),
            "changed_priority": self.changed_priority,
            "rules_version": self.rules_version,
            "priorities": self.priorities,
        }


def _latest_scan_ids(session: Session, company_ids: Iterable[int] | None) -> list[tuple[int, int]]:
    query = select(Assessment.company_id, Assessment.scan_id).where(Assessment.scan_id.is_not(None))
    if company_ids is not None:
        query = query.where(Assessment.company_id.in_(list(company_ids)))
    return [(cid, sid) for cid, sid in session.execute(query.order_by(Assessment.company_id))]


def reevaluate(
    db: Database,
    now: datetime,
    *,
    company_ids: Iterable[int] | None = None,
    batch: int = 2000,
    record_alerts: bool = True,
) -> ReevaluateSummary:
    """Re-score companies from their stored latest scan (no DNS), e.g. after a rules change."""
    summary = ReevaluateSummary()
    with db.session() as session:
        pairs = _latest_scan_ids(session, company_ids)
    for start in range(0, len(pairs), batch):
        part = pairs[start : start + batch]
        with db.session() as session:
            contexts = load_contexts(session, [cid for cid, _ in part])
            scans: dict[int, Any] = {
                row[0]: row[1]
                for row in session.execute(
                    select(Scan.id, Scan.evidence).where(Scan.id.in_([sid for _, sid in part]))
                )
            }
            began = time.perf_counter()
            for company_id, scan_id in part:
                ctx = contexts.get(company_id)
                raw = scans.get(scan_id)
                if ctx is None or raw is None:
                    continue
                evidence = Evidence.model_validate(raw)
                # The scan's IP facts decided hosting vs self-hosted; re-evaluation keeps that.
                hint = stored_network_hint(ctx.assessment)
                inputs = contextual_inputs(inputs_from_evidence(evidence, network_hint=hint), ctx)
                evaluation = evaluate(inputs)
                before = ctx.assessment.priority if ctx.assessment else None
                store_evaluation(session, ctx, evaluation, inputs, None, now, record_alerts=record_alerts)
                summary.companies += 1
                summary.rules_version = evaluation.rules_version
                key = evaluation.priority or "none"
                summary.priorities[key] = summary.priorities.get(key, 0) + 1
                if before != evaluation.priority:
                    summary.changed_priority += 1
            summary.evaluated_s += time.perf_counter() - began
            began = time.perf_counter()
        summary.commit_s += time.perf_counter() - began
    return summary
