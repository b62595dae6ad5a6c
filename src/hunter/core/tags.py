"""Engine tags derived from an evaluation, and how they merge with the user's own tags (pure).

Engine tags are a function of the current evaluation only: every evaluation recomputes the
whole set, so a tag disappears as soon as the fact behind it stops being true (the earlier tool
only ever added tags). User tags belong to the user and the engine never adds, changes or
removes one.

:func:`merge_tags` semantics:

* ``engine`` of the result is exactly the new engine set; the previous engine set is only used to
  report ``added`` and ``removed``.
* ``user`` is the user's set, untouched (trimmed, empties and duplicates dropped, first spelling
  kept).
* ``tags`` (what the list shows) is the engine tags followed by the user tags the engine did not
  also produce. A user tag that happens to equal an engine tag survives the engine dropping it:
  the user put it there.
* Comparison is case-insensitive (``Hot`` and ``hot`` are one tag).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from hunter.core.scoring import Facts, Rules

__all__ = ["ENGINE_TAGS", "TagMerge", "derive_tags", "merge_tags", "normalise_tags"]

# Gap → tag. "security-risk" is added when any gap that makes an M365 customer P3 is present.
_GAP_TAGS: Final = (
    ("dmarc_missing", "no-dmarc"),
    ("dmarc_none", "weak-dmarc"),
    ("dmarc_invalid", "invalid-dmarc"),
    ("dmarc_partial", "partial-dmarc"),
    ("spf_missing", "weak-spf"),
    ("spf_invalid", "weak-spf"),
    ("spf_broken", "weak-spf"),
    ("spf_permissive", "weak-spf"),
    ("spf_over_limit", "spf-over-limit"),
    ("dkim_missing", "dkim-missing"),
)

ENGINE_TAGS: Final = frozenset(
    {
        "needs-rescan",
        "security-risk",
        "behind-gateway",
        "half-migrated",
        "parked",
        "low-confidence",
        "expire-soon",
        "expired",
        "pending-delete",
        "new-domain",
        "referral",
        *(tag for _gap, tag in _GAP_TAGS),
        # platform tags (data/scoring.yaml tags.platform)
        "m365",
        "google-workspace",
        "zoho-mail",
        "yandex-mail",
        "amazon-workmail",
        "icloud-mail",
        "other-cloud",
        "local-hosting",
        "self-hosted",
        "no-mail",
        "unresolved",
        "unknown-platform",
    }
)
"""Every tag the engine can produce with the packaged rules (for the UI's filter list)."""


def derive_tags(facts: Facts, rules: Rules) -> tuple[str, ...]:
    """The engine tags that are true of these facts, in a stable order."""
    tags: list[str] = []
    if not facts.complete:
        tags.append("needs-rescan")
    else:
        platform_tag = rules.platform_tags.get(facts.platform or "")
        if platform_tag:
            tags.append(platform_tag)
        if facts.half_migrated:
            tags.append("half-migrated")
        if facts.behind_gateway:
            tags.append("behind-gateway")
        if facts.parked:
            tags.append("parked")
        if facts.low_confidence:
            tags.append("low-confidence")
        gaps = facts.gaps
        if gaps:
            if gaps & rules.priority_gaps:
                tags.append("security-risk")
            for gap, tag in _GAP_TAGS:
                if gap in gaps and tag not in tags:
                    tags.append(tag)
    # Registration and referral facts do not depend on the DNS scan being complete.
    days = facts.expires_in_days
    if days is not None:
        if days < 0:
            tags.append("expired")
        elif days <= rules.expiring_within_days:
            tags.append("expire-soon")
    if facts.registry_deleting:
        tags.append("pending-delete")
    if facts.domain_age_days is not None and facts.domain_age_days < rules.new_domain_days:
        tags.append("new-domain")
    if facts.referral_active:
        tags.append("referral")
    return tuple(tags)


def normalise_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, non-empty, de-duplicated case-insensitively (first spelling kept)."""
    seen: set[str] = set()
    out: list[str] = []
    for tag in tags:
        text = " ".join(str(tag).split())
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class TagMerge:
    tags: tuple[str, ...]
    """Engine tags, then user tags the engine does not also hold."""
    engine: tuple[str, ...]
    user: tuple[str, ...]
    added: tuple[str, ...]
    """Engine tags that are new since the previous evaluation."""
    removed: tuple[str, ...]
    """Engine tags dropped since the previous evaluation (a user tag of the same name stays)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "tags": list(self.tags),
            "engine": list(self.engine),
            "user": list(self.user),
            "added": list(self.added),
            "removed": list(self.removed),
        }


def merge_tags(
    previous_engine_tags: Iterable[str] | None,
    new_engine_tags: Iterable[str],
    user_tags: Iterable[str] = (),
) -> TagMerge:
    previous = normalise_tags(previous_engine_tags or ())
    engine = normalise_tags(new_engine_tags)
    user = normalise_tags(user_tags)
    engine_keys = {t.casefold() for t in engine}
    previous_keys = {t.casefold() for t in previous}
    return TagMerge(
        tags=engine + tuple(t for t in user if t.casefold() not in engine_keys),
        engine=engine,
        user=user,
        added=tuple(t for t in engine if t.casefold() not in previous_keys),
        removed=tuple(t for t in previous if t.casefold() not in engine_keys),
    )
