"""Alerts from detected changes: stored once per (company, dedupe key), acknowledged by users.

In-app delivery is the alerts table itself. Every other enabled channel whose ``min_severity`` the
alert meets gets a pending :class:`~hunter.store.models.AlertDelivery` row, which
:func:`hunter.alerts.delivery.deliver_due` sends later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hunter.core.changes import SEVERITIES, Change
from hunter.logs import get_logger
from hunter.store.models import Alert, AlertChannel, AlertDelivery

__all__ = [
    "ALERT_STATES",
    "CHANNEL_KINDS",
    "AlertNotFound",
    "acknowledge",
    "list_alerts",
    "record_changes",
    "severity_rank",
]

log = get_logger(__name__)

ALERT_STATES: Final = ("new", "acknowledged")
CHANNEL_KINDS: Final = ("webhook", "email")
MAX_PAGE: Final = 500


class AlertNotFound(LookupError):
    pass


def severity_rank(severity: str) -> int:
    """0 for info … 3 for high; unknown values rank as info so nothing is silently dropped."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return 0


def _json_safe(value: Any) -> Any:
    if isinstance(value, tuple | list | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _insert_alert(session: Session, company_id: int, change: Change) -> int | None:
    """Insert one alert; None when (company, dedupe_key) already exists.

    ON CONFLICT DO NOTHING keeps concurrent scans of the same company safe on both dialects and,
    unlike catching an IntegrityError, does not abort a PostgreSQL transaction.
    """
    values = {
        "company_id": company_id,
        "kind": change.kind,
        "severity": change.severity,
        "dedupe_key": change.dedupe_key,
        "detected_at": change.detected_at,
        "details": {
            "domain": change.domain,
            "before": _json_safe(change.before),
            "after": _json_safe(change.after),
        },
        "text": {str(k): str(v) for k, v in change.text.items()},
        "state": "new",
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["company_id", "dedupe_key"])
        .returning(Alert.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def record_changes(
    session: Session, company_id: int, changes: Sequence[Change], now: datetime
) -> list[Alert]:
    """Store ``changes`` as alerts for the company; return only the alerts that are new.

    Idempotent: a change whose dedupe key the company already has is skipped, and deliveries are
    only created for new alerts, so re-running a scan or a chunk sends nothing twice.
    """
    if not changes:
        return []
    seen: set[str] = set()
    new_ids: list[int] = []
    for change in changes:
        if change.dedupe_key in seen:
            continue
        seen.add(change.dedupe_key)
        alert_id = _insert_alert(session, company_id, change)
        if alert_id is not None:
            new_ids.append(alert_id)
    if not new_ids:
        return []

    alerts = list(session.scalars(select(Alert).where(Alert.id.in_(new_ids)).order_by(Alert.id)))
    channels = session.scalars(
        select(AlertChannel)
        .where(AlertChannel.enabled.is_(True), AlertChannel.kind.in_(CHANNEL_KINDS))
        .order_by(AlertChannel.id)
    ).all()
    for alert in alerts:
        rank = severity_rank(alert.severity)
        for channel in channels:
            if rank >= severity_rank(channel.min_severity):
                session.add(
                    AlertDelivery(
                        alert_id=alert.id,
                        channel_id=channel.id,
                        state="pending",
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
    session.flush()
    log.info("alerts recorded", company_id=company_id, new=len(alerts))
    return alerts


def acknowledge(session: Session, alert_id: int, user_id: int | None, now: datetime) -> Alert:
    """Mark an alert acknowledged; acknowledging again keeps the first who and when."""
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise AlertNotFound(f"alert {alert_id} not found")
    if alert.state != "acknowledged":
        alert.state = "acknowledged"
        alert.acknowledged_by = user_id
        alert.acknowledged_at = now
        session.flush()
    return alert


def list_alerts(
    session: Session,
    *,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
    company_id: int | None = None,
) -> tuple[int, list[Alert]]:
    """``(total matching, one page)``, newest first."""
    if state is not None and state not in ALERT_STATES:
        raise ValueError(f"unknown alert state {state!r}; expected one of {', '.join(ALERT_STATES)}")
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    conditions = []
    if state is not None:
        conditions.append(Alert.state == state)
    if company_id is not None:
        conditions.append(Alert.company_id == company_id)
    total = session.scalar(select(func.count()).select_from(Alert).where(*conditions)) or 0
    page = session.scalars(
        select(Alert)
        .where(*conditions)
        .order_by(Alert.detected_at.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(page)
