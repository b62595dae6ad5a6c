"""What changed between two evaluations of one domain (pure; delivery lives elsewhere).

The store keeps one compact :class:`EvaluationSnapshot` per company (what a later scan is
compared with) and calls :func:`detect_changes` after every evaluation.

Only complete evaluations are compared. An incomplete scan has no platform, MX set or DMARC
answer it can vouch for: a DMARC lookup that timed out says nothing about the record, so
comparing it would raise a false "DMARC removed" (and a false "platform changed", "priority
dropped" …) on every flaky resolver, and the opposite alert when the next scan succeeds. So:

* DNS-based changes (platform, MX, DMARC, tenant traces, priority) need both sides complete.
* The snapshot to compare with next time is the last *complete* one: :func:`comparison_base`
  keeps the previous base when the current scan is incomplete, so the change is reported once
  a rescan completes, against what was true before.
* Expiry is registration data, not DNS, and is checked on every evaluation. It fires once per
  expiry date: not again while the previous snapshot already had the same expiry date inside
  the window, and its ``dedupe_key`` (domain + expiry date) lets delivery drop repeats anyway.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any, Final, Protocol

import yaml

from hunter.core.dmarc import policy_strength
from hunter.core.posture import MailPosture
from hunter.core.providers import HALF_MIGRATION_TRACES, Classification
from hunter.core.scoring import LANGS, Lang, default_rules

__all__ = [
    "SEVERITIES",
    "Change",
    "EvaluationSnapshot",
    "comparison_base",
    "detect_changes",
]

SEVERITIES: Final = ("info", "low", "medium", "high")
EXPIRY_WINDOW_DAYS: Final = 30
MAX_KEY_LENGTH: Final = 200
"""Dedupe keys fit the alerts table's column."""


@dataclass(frozen=True, slots=True)
class EvaluationSnapshot:
    """What to store per company to compare the next evaluation with."""

    domain: str
    evaluated_at: datetime
    complete: bool
    platform: str | None
    gateway: str | None
    mx_hosts: tuple[str, ...]
    """Sorted MX host names (no preference: a re-ordering is not a change of provider)."""
    dmarc_status: str | None
    """present | missing | invalid | unknown"""
    dmarc_policy: str | None
    """Effective ``p`` when a usable record is present."""
    tenant_traces: tuple[str, ...]
    priority: str | None
    expires: date | None
    rules_version: str = ""

    @classmethod
    def build(
        cls,
        domain: str,
        now: datetime,
        complete: bool,
        classification: Classification,
        posture: MailPosture,
        priority: str | None,
        expires: datetime | None,
        rules_version: str = "",
    ) -> EvaluationSnapshot:
        c = classification
        return cls(
            domain=domain,
            evaluated_at=now,
            complete=complete,
            platform=c.platform if complete else None,
            gateway=c.gateway if complete else None,
            mx_hosts=tuple(sorted({h.host for h in c.mx_hosts})) if complete else (),
            dmarc_status=posture.dmarc.status,
            dmarc_policy=posture.dmarc.effective_p if posture.dmarc.status == "present" else None,
            tenant_traces=tuple(c.tenant_traces),
            priority=priority,
            expires=expires.date() if expires is not None else None,
            rules_version=rules_version,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "evaluated_at": self.evaluated_at.isoformat(),
            "complete": self.complete,
            "platform": self.platform,
            "gateway": self.gateway,
            "mx_hosts": list(self.mx_hosts),
            "dmarc_status": self.dmarc_status,
            "dmarc_policy": self.dmarc_policy,
            "tenant_traces": list(self.tenant_traces),
            "priority": self.priority,
            "expires": self.expires.isoformat() if self.expires else None,
            "rules_version": self.rules_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationSnapshot:
        evaluated = datetime.fromisoformat(str(data["evaluated_at"]))
        expires = data.get("expires")
        return cls(
            domain=str(data["domain"]),
            evaluated_at=evaluated if evaluated.tzinfo else evaluated.replace(tzinfo=UTC),
            complete=bool(data["complete"]),
            platform=data.get("platform"),
            gateway=data.get("gateway"),
            mx_hosts=tuple(data.get("mx_hosts") or ()),
            dmarc_status=data.get("dmarc_status"),
            dmarc_policy=data.get("dmarc_policy"),
            tenant_traces=tuple(data.get("tenant_traces") or ()),
            priority=data.get("priority"),
            expires=date.fromisoformat(str(expires)[:10]) if expires else None,
            rules_version=str(data.get("rules_version") or ""),
        )


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    severity: str
    domain: str
    text: Mapping[str, str]
    """``{"tr": …, "en": …}``"""
    before: Any
    after: Any
    dedupe_key: str
    detected_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "domain": self.domain,
            "text": dict(self.text),
            "before": list(self.before) if isinstance(self.before, tuple) else self.before,
            "after": list(self.after) if isinstance(self.after, tuple) else self.after,
            "dedupe_key": self.dedupe_key,
            "detected_at": self.detected_at.isoformat(),
        }


class _HasSnapshot(Protocol):
    @property
    def snapshot(self) -> EvaluationSnapshot: ...


SnapshotLike = EvaluationSnapshot | _HasSnapshot | Mapping[str, Any]


def _snapshot(value: SnapshotLike | None) -> EvaluationSnapshot | None:
    if value is None or isinstance(value, EvaluationSnapshot):
        return value
    if isinstance(value, Mapping):
        return EvaluationSnapshot.from_dict(value)
    return value.snapshot


def comparison_base(previous_base: SnapshotLike | None, current: SnapshotLike) -> EvaluationSnapshot | None:
    """The snapshot to store for the next comparison: the current one if complete, else the old base.

    Expiry still travels with the newest registration data, so an incomplete scan with a renewed
    domain does not re-alert on the old date.
    """
    cur = _snapshot(current)
    base = _snapshot(previous_base)
    assert cur is not None
    if cur.complete or base is None:
        return cur
    return EvaluationSnapshot(
        domain=base.domain,
        evaluated_at=base.evaluated_at,
        complete=base.complete,
        platform=base.platform,
        gateway=base.gateway,
        mx_hosts=base.mx_hosts,
        dmarc_status=base.dmarc_status,
        dmarc_policy=base.dmarc_policy,
        tenant_traces=base.tenant_traces,
        priority=base.priority,
        expires=cur.expires,
        rules_version=base.rules_version,
    )


# --------------------------------------------------------------------------------------------
# Texts (data/brief_texts.yaml, section "changes")


@functools.cache
def _texts() -> dict[str, dict[str, str]]:
    raw = yaml.safe_load(
        resources.files("hunter.data").joinpath("brief_texts.yaml").read_text(encoding="utf-8")
    )
    section = raw.get("changes") or {}
    return {str(k): {lang: str(v[lang]) for lang in LANGS} for k, v in section.items()}


def _name(platform: str | None, lang: Lang) -> str:
    return default_rules().platform_name(platform, lang) if platform else "—"


def _strength(status: str | None, policy: str | None) -> int:
    return policy_strength(policy) if status == "present" else 0


class _Builder:
    def __init__(self, domain: str, now: datetime, stamp: str) -> None:
        self.domain = domain
        self.now = now
        self.stamp = stamp
        self.changes: list[Change] = []

    def add(
        self,
        kind: str,
        severity: str,
        before: Any,
        after: Any,
        params: Mapping[str, Any] | None = None,
        *,
        tr: Mapping[str, Any] | None = None,
        en: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> None:
        template = _texts()[kind]
        base = dict(params or {})
        text = {
            "tr": template["tr"].format_map({**base, **(tr or {})}),
            "en": template["en"].format_map({**base, **(en or {})}),
        }
        # One alert per transition per evaluation; hashed so the key fits the store's column.
        digest = hashlib.sha256(f"{_show(before)}>{_show(after)}@{self.stamp}".encode()).hexdigest()[:16]
        dedupe = _key(self.domain, kind, key or digest)
        self.changes.append(Change(kind, severity, self.domain, text, before, after, dedupe, self.now))


def _key(domain: str, kind: str, tail: str) -> str:
    key = f"{domain}:{kind}:{tail}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return f"{hashlib.sha256(domain.encode()).hexdigest()[:32]}:{kind}:{tail}"


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)


def detect_changes(
    previous: SnapshotLike | None,
    current: SnapshotLike,
    now: datetime,
    *,
    expiring_within_days: int = EXPIRY_WINDOW_DAYS,
) -> list[Change]:
    """Changes from ``previous`` (the stored comparison base, or None) to ``current``.

    ``current`` is an :class:`~hunter.core.evaluation.Evaluation`, its snapshot, or the
    snapshot's dict; so is ``previous``.
    """
    cur = _snapshot(current)
    prev = _snapshot(previous)
    assert cur is not None
    out = _Builder(cur.domain, now, cur.evaluated_at.isoformat())
    if prev is not None and prev.complete and cur.complete:
        _platform_changes(prev, cur, out)
        _dmarc_changes(prev, cur, out)
        _trace_changes(prev, cur, out)
        _priority_change(prev, cur, out)
    _expiry(prev, cur, now, expiring_within_days, out)
    return out.changes


def _platform_changes(prev: EvaluationSnapshot, cur: EvaluationSnapshot, out: _Builder) -> None:
    if prev.platform != cur.platform:
        params_tr = {"before": _name(prev.platform, "tr"), "after": _name(cur.platform, "tr")}
        params_en = {"before": _name(prev.platform, "en"), "after": _name(cur.platform, "en")}
        if cur.platform == "m365":
            kind, severity = "platform_to_m365", "high"
        elif prev.platform == "m365":
            kind, severity = "platform_from_m365", "high"
        else:
            kind, severity = "platform_changed", "medium"
        out.add(kind, severity, prev.platform, cur.platform, tr=params_tr, en=params_en)
    elif set(prev.mx_hosts) != set(cur.mx_hosts):
        # Same platform, other hosts (a new gateway, a new hosting server): worth a look, not a call.
        out.add(
            "mx_changed",
            "medium" if prev.gateway != cur.gateway else "low",
            prev.mx_hosts,
            cur.mx_hosts,
            {"before": ", ".join(prev.mx_hosts) or "—", "after": ", ".join(cur.mx_hosts) or "—"},
        )


def _dmarc_changes(prev: EvaluationSnapshot, cur: EvaluationSnapshot, out: _Builder) -> None:
    was = prev.dmarc_status in ("present", "invalid")
    now = cur.dmarc_status in ("present", "invalid")
    before = prev.dmarc_policy or prev.dmarc_status
    after = cur.dmarc_policy or cur.dmarc_status
    params = {"before": before, "after": after}
    if not was and now:
        out.add("dmarc_added", "medium", before, after, params)
    elif was and not now:
        out.add("dmarc_removed", "high", before, after, params)
    elif was and now:
        old = _strength(prev.dmarc_status, prev.dmarc_policy)
        new = _strength(cur.dmarc_status, cur.dmarc_policy)
        if new < old:
            out.add("dmarc_weakened", "medium", before, after, params)
        elif new > old:
            out.add("dmarc_strengthened", "low", before, after, params)


def _trace_changes(prev: EvaluationSnapshot, cur: EvaluationSnapshot, out: _Builder) -> None:
    new = tuple(t for t in cur.tenant_traces if t not in prev.tenant_traces)
    if not new:
        return
    # Traces next to mail that is not on Microsoft 365 are a migration starting: the hottest news.
    strong = cur.platform != "m365" and any(t in HALF_MIGRATION_TRACES for t in new)
    out.add(
        "tenant_traces_appeared",
        "high" if strong else "low",
        prev.tenant_traces,
        cur.tenant_traces,
        {"traces": ", ".join(new)},
    )


def _priority_change(prev: EvaluationSnapshot, cur: EvaluationSnapshot, out: _Builder) -> None:
    if prev.priority == cur.priority or prev.priority is None or cur.priority is None:
        return
    raised = cur.priority < prev.priority  # "P1" < "P2": lexical order is rank order
    out.add(
        "priority_raised" if raised else "priority_lowered",
        "medium" if raised else "low",
        prev.priority,
        cur.priority,
        {"before": prev.priority, "after": cur.priority},
    )


def _within(expires: date | None, at: datetime, window: int) -> bool:
    if expires is None:
        return False
    days = (expires - at.date()).days
    return 0 <= days <= window


def _expiry(
    prev: EvaluationSnapshot | None, cur: EvaluationSnapshot, now: datetime, window: int, out: _Builder
) -> None:
    if not _within(cur.expires, now, window):
        return
    assert cur.expires is not None
    if prev is not None and prev.expires == cur.expires and _within(prev.expires, prev.evaluated_at, window):
        return  # already reported for this expiry date
    days = (cur.expires - now.date()).days
    expires = cur.expires.isoformat()
    out.add(
        "domain_expiring",
        "high",
        prev.expires.isoformat() if prev is not None and prev.expires else None,
        expires,
        {"expires": expires, "days": days},
        key=expires,
    )
