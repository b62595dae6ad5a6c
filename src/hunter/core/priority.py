"""Segment and the one P1–P6 priority (pure; rules in ``data/scoring.yaml``).

There is exactly one priority in the product: the one :func:`assign_priority` returns. The
list sorts by :func:`priority_rank` (1..6, 99 for "none yet") and then by score; the UI, the
API, the CRM push and the rescan schedule read the stored priority and never recompute it.

Rules are an ordered list in the YAML; the first whose conditions all hold decides (see the
``priority.rules`` comment there). An active referral with a qualifying qualification lifts the
result one step afterwards (never above P1, never out of Skip), and the lift is itself a line of
the breakdown so the rep sees why a P3 lead shows as P2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hunter.core.scoring import (
    PRIORITIES,
    SEGMENTS,
    Factor,
    Facts,
    Lang,
    PriorityRule,
    ReferralInfo,
    Rules,
    default_rules,
)

__all__ = [
    "NO_PRIORITY_RANK",
    "PRIORITIES",
    "SEGMENTS",
    "PriorityDecision",
    "assign_priority",
    "priority_label",
    "priority_rank",
    "segment_label",
]

NO_PRIORITY_RANK: Final = 99
_RANK: Final = {p: i + 1 for i, p in enumerate(PRIORITIES)}


def priority_rank(priority: str | None) -> int:
    """1 for P1 … 6 for P6; 99 for None (incomplete scans sort last)."""
    if priority is None:
        return NO_PRIORITY_RANK
    rank = _RANK.get(priority)
    if rank is None:
        raise ValueError(f"unknown priority {priority!r}")
    return rank


@dataclass(frozen=True, slots=True)
class PriorityDecision:
    segment: str | None
    priority: str | None
    base_priority: str | None
    """Priority before a referral lift."""
    lift: Factor | None = None

    @property
    def rank(self) -> int:
        return priority_rank(self.priority)


_INCOMPLETE: Final = PriorityDecision(None, None, None)
# The loader guarantees a catch-all rule; this one only covers rules built by hand without one.
_CATCH_ALL: Final = PriorityRule(None, (), "Cold", "P5")


def assign_priority(facts: Facts, rules: Rules, referral: ReferralInfo | None = None) -> PriorityDecision:
    """Segment and priority for complete facts; all None for an incomplete scan."""
    if not facts.complete:
        return _INCOMPLETE
    # The rules read only these values, so each combination is matched once per process.
    key = (
        facts.platform,
        facts.parked,
        facts.half_migrated,
        facts.low_confidence,
        facts.security_gaps,
        facts.behind_gateway,
        facts.receives_mail,
    )
    rule = rules.rule_cache.get(key)
    if rule is None:
        rule = next((r for r in rules.priority_rules if r.matches(facts)), _CATCH_ALL)
        rules.rule_cache[key] = rule
    base = rule.priority
    qualification = facts.referral_qualification
    if (
        facts.referral_active
        and qualification in rules.lift_qualifications
        and base in rules.lift_from
        and rules.lift_steps > 0
    ):
        lifted = PRIORITIES[max(0, _RANK[base] - 1 - rules.lift_steps)]
        shown = (referral.qualification if referral is not None else None) or qualification
        factor = rules.factors["referral:priority_lift"].make(
            {"before": base, "after": lifted},
            ({"lookup": "referral", "value": f"active, {shown}"},),
            ("referral:active", f"referral:qualification:{qualification}", f"priority:{lifted}"),
            tr={"qualification": rules.qualification_label(qualification, "tr")},
            en={"qualification": rules.qualification_label(qualification, "en")},
        )
        return PriorityDecision(rule.segment, lifted, base, factor)
    return PriorityDecision(rule.segment, base, base)


def priority_label(priority: str | None, lang: Lang, rules: Rules | None = None) -> str:
    rules = rules or default_rules()
    if priority is None:
        return "Yeniden tarama gerekli" if lang == "tr" else "Needs rescan"
    return rules.priority_labels[priority][lang]


def segment_label(segment: str | None, lang: Lang, rules: Rules | None = None) -> str:
    rules = rules or default_rules()
    if segment is None:
        return "—"
    labels = rules.segment_labels.get(segment)
    return labels[lang] if labels else segment
