"""The one entry point from evidence to a verdict: score, segment, priority, breakdown, tags.

Every path that evaluates a lead (a scan from the UI, a bulk import, a referral, a rescan, a
re-evaluation after a rules change) calls :func:`evaluate` or :func:`evaluate_evidence`, so
score details can never be missing for leads evaluated one way and present for another.

Pure: no I/O beyond the packaged YAML (loaded once), no clock (``now`` is an input).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hunter.core.changes import EvaluationSnapshot
from hunter.core.evidence import Evidence, RegistrationInfo
from hunter.core.posture import MailPosture, assess_posture
from hunter.core.priority import assign_priority, priority_rank
from hunter.core.providers import Classification, NetworkHint, ProviderRules, classify
from hunter.core.scoring import (
    Factor,
    ReferralInfo,
    Rules,
    SizeHint,
    default_rules,
    derive_facts,
    score_factors,
    total_score,
)
from hunter.core.tags import derive_tags, merge_tags

__all__ = ["Evaluation", "EvaluationInput", "evaluate", "evaluate_evidence", "inputs_from_evidence"]

_NO_ATTRIBUTES: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class EvaluationInput:
    domain: str
    """Registrable domain, ASCII (punycode)."""
    classification: Classification
    posture: MailPosture
    now: datetime
    registration: RegistrationInfo | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    """Import columns kept as company attributes (``Çalışan Sayısı`` → ``"50-99"`` …)."""
    referral: ReferralInfo | None = None
    user_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evaluation:
    domain: str
    score: int | None
    """0–100; None while the scan is incomplete."""
    segment: str | None
    priority: str | None
    """P1–P6; None while the scan is incomplete."""
    priority_rank: int
    """1–6, 99 without a priority: the list sorts by this, then by score (descending)."""
    breakdown: tuple[Factor, ...]
    tags: tuple[str, ...]
    """Engine tags derived from this evaluation (user tags are in ``user_tags``)."""
    needs_rescan: bool
    rules_version: str
    evaluated_at: datetime
    platform: str | None
    base_priority: str | None
    """Priority before a referral lift (equal to ``priority`` without one)."""
    size: SizeHint | None
    snapshot: EvaluationSnapshot
    user_tags: tuple[str, ...] = ()

    @property
    def factor_ids(self) -> tuple[str, ...]:
        return tuple(f.factor for f in self.breakdown)

    def factor(self, factor_id: str) -> Factor | None:
        return next((f for f in self.breakdown if f.factor == factor_id), None)

    @property
    def all_tags(self) -> tuple[str, ...]:
        """Engine tags plus the user's own (see :func:`hunter.core.tags.merge_tags`)."""
        return merge_tags(None, self.tags, self.user_tags).tags

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "score": self.score,
            "segment": self.segment,
            "priority": self.priority,
            "priority_rank": self.priority_rank,
            "base_priority": self.base_priority,
            "platform": self.platform,
            "breakdown": [f.to_dict() for f in self.breakdown],
            "tags": list(self.tags),
            "user_tags": list(self.user_tags),
            "needs_rescan": self.needs_rescan,
            "rules_version": self.rules_version,
            "evaluated_at": self.evaluated_at.isoformat(),
            "size": self.size.to_dict() if self.size else None,
            "snapshot": self.snapshot.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        evaluated = datetime.fromisoformat(str(data["evaluated_at"]))
        size = data.get("size")
        return cls(
            domain=str(data["domain"]),
            score=data.get("score"),
            segment=data.get("segment"),
            priority=data.get("priority"),
            priority_rank=priority_rank(data.get("priority")),
            breakdown=tuple(Factor.from_dict(f) for f in data.get("breakdown") or ()),
            tags=tuple(data.get("tags") or ()),
            needs_rescan=bool(data.get("needs_rescan")),
            rules_version=str(data.get("rules_version") or ""),
            evaluated_at=evaluated,
            platform=data.get("platform"),
            base_priority=data.get("base_priority"),
            size=SizeHint.from_dict(size) if size else None,
            snapshot=EvaluationSnapshot.from_dict(data["snapshot"]),
            user_tags=tuple(data.get("user_tags") or ()),
        )


def evaluate(inputs: EvaluationInput, rules: Rules | None = None) -> Evaluation:
    """Score, segment, priority, breakdown and tags for one lead."""
    rules = rules if rules is not None else default_rules()
    c = inputs.classification
    facts = derive_facts(
        c,
        inputs.posture,
        inputs.registration,
        inputs.attributes,
        inputs.referral,
        inputs.now,
        rules,
        inputs.domain,
    )
    if facts.complete:
        factors = score_factors(facts, c, inputs.posture, inputs.registration, inputs.referral, rules)
        decision = assign_priority(facts, rules, inputs.referral)
        if decision.lift is not None:
            factors.append(decision.lift)
        score: int | None = total_score(factors, rules)
        segment, priority, base = decision.segment, decision.priority, decision.base_priority
    else:
        reasons = (
            "; ".join(c.incomplete_reasons) or f"DMARC {inputs.posture.dmarc.lookup_status or 'unknown'}"
        )
        factors = [
            rules.factors["incomplete"].make(
                {"reasons": reasons},
                tuple({"lookup": "scan", "value": r} for r in c.incomplete_reasons),
                ("incomplete",),
            )
        ]
        score = segment = priority = base = None
    return Evaluation(
        domain=inputs.domain,
        score=score,
        segment=segment,
        priority=priority,
        priority_rank=priority_rank(priority),
        breakdown=tuple(factors),
        tags=derive_tags(facts, rules),
        needs_rescan=not facts.complete,
        rules_version=rules.version,
        evaluated_at=inputs.now,
        platform=facts.platform,
        base_priority=base,
        size=facts.size,
        snapshot=EvaluationSnapshot.build(
            inputs.domain,
            inputs.now,
            facts.complete,
            c,
            inputs.posture,
            priority,
            facts.expires,
            rules.version,
        ),
        user_tags=tuple(inputs.user_tags),
    )


def inputs_from_evidence(
    evidence: Evidence,
    registration: RegistrationInfo | None = None,
    attributes: Mapping[str, str] | None = None,
    now: datetime | None = None,
    *,
    referral: ReferralInfo | None = None,
    user_tags: Iterable[str] = (),
    provider_rules: ProviderRules | None = None,
    network_hint: NetworkHint | None = None,
) -> EvaluationInput:
    """classify + assess_posture, packed as the input of :func:`evaluate` (and of the brief).

    ``registration`` defaults to ``evidence.registration``; ``now`` to the evidence's
    ``collected_at`` (never the clock).
    """
    return EvaluationInput(
        domain=evidence.domain,
        classification=classify(evidence, provider_rules, network_hint),
        posture=assess_posture(evidence, provider_rules),
        now=now if now is not None else evidence.collected_at,
        registration=registration if registration is not None else evidence.registration,
        attributes=attributes if attributes is not None else _NO_ATTRIBUTES,
        referral=referral,
        user_tags=tuple(user_tags),
    )


def evaluate_evidence(
    evidence: Evidence,
    registration: RegistrationInfo | None = None,
    attributes: Mapping[str, str] | None = None,
    now: datetime | None = None,
    *,
    referral: ReferralInfo | None = None,
    user_tags: Iterable[str] = (),
    rules: Rules | None = None,
    provider_rules: ProviderRules | None = None,
    network_hint: NetworkHint | None = None,
) -> Evaluation:
    """Evidence → verdict in one call (see :func:`inputs_from_evidence` for the defaults)."""
    inputs = inputs_from_evidence(
        evidence,
        registration,
        attributes,
        now,
        referral=referral,
        user_tags=user_tags,
        provider_rules=provider_rules,
        network_hint=network_hint,
    )
    return evaluate(inputs, rules)
