"""Alerts API: the in-app inbox (list, acknowledge) and, for admins, the delivery channels.

``alerts_router`` is included with ``authorize`` (read to list, write to acknowledge);
``channels_router`` with ``require_admin``: a channel decides where lead data is sent.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from hunter.alerts.delivery import parse_recipients
from hunter.alerts.ssrf import TargetRefused, validate_webhook_target
from hunter.alerts.store import AlertNotFound, acknowledge, list_alerts
from hunter.api.routes_leads import DbDep, LangParam
from hunter.auth.dependencies import PrincipalDep
from hunter.auth.users import audit
from hunter.store.leads import LeadNotFound, find_company
from hunter.store.models import Alert, AlertChannel, Company
from hunter.store.types import utcnow

alerts_router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
channels_router = APIRouter(prefix="/api/v1/alert-channels", tags=["alert channels"])

Severity = Literal["info", "low", "medium", "high"]
"""``hunter.core.changes.SEVERITIES`` (a test keeps the two equal)."""


# --- inbox ---------------------------------------------------------------------------------------


class AlertOut(BaseModel):
    id: int
    domain: str
    kind: str
    severity: str
    state: str
    detected_at: datetime
    text: dict[str, str] | str | None = Field(description="Both languages, or the one asked for.")
    details: dict[str, Any]
    acknowledged_by: int | None
    acknowledged_at: datetime | None


class AlertPageOut(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[AlertOut]


def _alert_out(alert: Alert, domain: str, lang: str | None) -> AlertOut:
    text = alert.text or {}
    return AlertOut(
        id=alert.id,
        domain=domain,
        kind=alert.kind,
        severity=alert.severity,
        state=alert.state,
        detected_at=alert.detected_at,
        text=text.get(lang) if lang else text,
        details=alert.details or {},
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
    )


@alerts_router.get("", response_model=AlertPageOut)
def list_alerts_route(
    db: DbDep,
    state: Annotated[Literal["new", "acknowledged"] | None, Query(description="Omit for all.")] = None,
    domain: Annotated[str | None, Query(max_length=300, description="Only this lead's alerts.")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    lang: LangParam = None,
) -> AlertPageOut:
    """Detected changes, newest first."""
    with db.session() as session:
        company_id = None
        if domain:
            try:
                company_id = find_company(session, domain).id
            except LeadNotFound as exc:
                raise HTTPException(404, str(exc)) from None
        total, alerts = list_alerts(
            session, state=state, limit=page_size, offset=(page - 1) * page_size, company_id=company_id
        )
        ids = {a.company_id for a in alerts}
        rows = session.execute(select(Company.id, Company.domain).where(Company.id.in_(ids))) if ids else []
        domains = {company_id: name for company_id, name in rows}
        items = [_alert_out(a, domains.get(a.company_id, ""), lang) for a in alerts]
    return AlertPageOut(total=total, page=page, page_size=page_size, items=items)


@alerts_router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge_route(alert_id: int, db: DbDep, principal: PrincipalDep) -> AlertOut:
    """Mark an alert as seen; acknowledging again keeps the first who and when."""
    with db.session() as session:
        try:
            alert = acknowledge(session, alert_id, principal.user_id, utcnow())
        except AlertNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        domain = session.scalar(select(Company.domain).where(Company.id == alert.company_id)) or ""
        return _alert_out(alert, domain, None)


# --- channels (admin) ----------------------------------------------------------------------------


class ChannelOut(BaseModel):
    id: int
    kind: str
    target: str
    enabled: bool
    allow_private: bool
    min_severity: str
    has_secret: bool
    created_at: datetime


class ChannelCreated(ChannelOut):
    secret: str | None = Field(
        description="The webhook's HMAC key (see hunter.alerts.delivery); shown only now, store it."
    )


class ChannelIn(BaseModel):
    kind: Literal["webhook", "email"]
    target: str = Field(min_length=1, max_length=1000, description="https URL, or e-mail addresses.")
    enabled: bool = True
    allow_private: bool = Field(
        default=False,
        description="Let a webhook reach private or loopback addresses (an on-premises receiver).",
    )
    min_severity: Severity = "info"


class ChannelPatch(BaseModel):
    target: str | None = Field(default=None, min_length=1, max_length=1000)
    enabled: bool | None = None
    allow_private: bool | None = None
    min_severity: Severity | None = None
    rotate_secret: bool = Field(default=False, description="Issue a new webhook secret (shown once).")


def _channel_out(channel: AlertChannel, secret: str | None = None, *, created: bool = False) -> ChannelOut:
    data: dict[str, Any] = {
        "id": channel.id,
        "kind": channel.kind,
        "target": channel.target,
        "enabled": channel.enabled,
        "allow_private": channel.allow_private,
        "min_severity": channel.min_severity,
        "has_secret": bool(channel.secret),
        "created_at": channel.created_at,
    }
    return ChannelCreated(**data, secret=secret) if created else ChannelOut(**data)


def _checked_target(kind: str, target: str, allow_private: bool) -> str:
    """The target as stored, or 422 with the reason it is refused."""
    target = target.strip()
    if kind == "email":
        try:
            parse_recipients(target)
        except ValueError as exc:
            raise HTTPException(422, f"refused e-mail target: {exc}") from None
        return target
    try:
        # Resolves the name now; delivery checks again and pins the address it vetted.
        validate_webhook_target(target, allow_private=allow_private)
    except TargetRefused as exc:  # TargetUnresolved included: a name that does not resolve now
        raise HTTPException(422, f"refused webhook target: {exc.reason}") from None
    return target


def _get_channel(session: Any, channel_id: int) -> AlertChannel:
    channel = session.get(AlertChannel, channel_id)
    if channel is None:
        raise HTTPException(404, f"alert channel {channel_id} does not exist")
    return channel  # type: ignore[no-any-return]


@channels_router.get("", response_model=list[ChannelOut])
def list_channels(db: DbDep) -> list[ChannelOut]:
    with db.session() as session:
        return [_channel_out(c) for c in session.scalars(select(AlertChannel).order_by(AlertChannel.id))]


@channels_router.get("/{channel_id}", response_model=ChannelOut)
def get_channel(channel_id: int, db: DbDep) -> ChannelOut:
    with db.session() as session:
        return _channel_out(_get_channel(session, channel_id))


@channels_router.post("", status_code=201, response_model=ChannelCreated)
def create_channel(body: ChannelIn, db: DbDep, principal: PrincipalDep) -> ChannelOut:
    """A webhook (HMAC-signed; the secret is generated here and shown once) or an e-mail channel."""
    target = _checked_target(body.kind, body.target, body.allow_private)
    secret = secrets.token_urlsafe(32) if body.kind == "webhook" else None
    with db.session() as session:
        channel = AlertChannel(
            kind=body.kind,
            target=target,
            secret=secret,
            enabled=body.enabled,
            allow_private=body.allow_private and body.kind == "webhook",
            min_severity=body.min_severity,
            created_at=utcnow(),
        )
        session.add(channel)
        session.flush()
        audit(
            session,
            "alert_channel.create",
            actor_id=principal.user_id,
            target=f"alert_channel:{channel.id}",
            kind=channel.kind,
            allow_private=channel.allow_private,
        )
        return _channel_out(channel, secret, created=True)


@channels_router.patch("/{channel_id}", response_model=ChannelCreated)
def update_channel(channel_id: int, body: ChannelPatch, db: DbDep, principal: PrincipalDep) -> ChannelOut:
    """Change a channel; a new target or allow_private is checked again. ``secret`` is only
    returned when ``rotate_secret`` issued a new one."""
    with db.session() as session:
        channel = _get_channel(session, channel_id)
        allow_private = channel.allow_private if body.allow_private is None else body.allow_private
        if body.target is not None or body.allow_private is not None:
            channel.target = _checked_target(channel.kind, body.target or channel.target, allow_private)
            channel.allow_private = allow_private and channel.kind == "webhook"
        if body.enabled is not None:
            channel.enabled = body.enabled
        if body.min_severity is not None:
            channel.min_severity = body.min_severity
        secret = None
        if body.rotate_secret:
            if channel.kind != "webhook":
                raise HTTPException(422, "only webhook channels have a secret")
            secret = channel.secret = secrets.token_urlsafe(32)
        changed = sorted(k for k, v in body.model_dump(exclude_unset=True).items() if v is not None)
        audit(
            session,
            "alert_channel.update",
            actor_id=principal.user_id,
            target=f"alert_channel:{channel.id}",
            changed=changed,
        )
        session.flush()
        return _channel_out(channel, secret, created=True)


@channels_router.delete("/{channel_id}", status_code=204)
def delete_channel(channel_id: int, db: DbDep, principal: PrincipalDep) -> Response:
    with db.session() as session:
        channel = _get_channel(session, channel_id)
        session.delete(channel)
        audit(
            session, "alert_channel.delete", actor_id=principal.user_id, target=f"alert_channel:{channel_id}"
        )
    return Response(status_code=204)
