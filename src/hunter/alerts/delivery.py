"""Sending pending alert deliveries: signed webhooks and e-mail, with retries.

Webhook signature scheme
------------------------
Every webhook is a ``POST`` of a UTF-8 JSON body with these headers::

    Content-Type: application/json; charset=utf-8
    X-Hunter-Event: alert
    X-Hunter-Delivery: <delivery id>      (the same on every retry of one delivery)
    X-Hunter-Timestamp: <unix seconds>    (the time of this attempt)
    X-Hunter-Signature: sha256=<hex>

where ``<hex>`` is ``HMAC-SHA256(key=channel secret (UTF-8), msg=timestamp + "." + body)`` over the
exact body bytes as received. A receiver recomputes the HMAC over the raw body (before any JSON
parsing), compares in constant time, and rejects timestamps more than 5 minutes from its own clock,
so a captured request cannot be replayed later; a retry carries a fresh timestamp and signature.
Receivers should treat the alert ``id`` (or ``X-Hunter-Delivery``) as an idempotency key: a
delivery is retried when the receiver's answer is lost, so it can arrive more than once.
:func:`verify_signature` implements the receiver's side.

Payload: ``{"id", "kind", "severity", "company": {"domain"}, "detected_at", "text": {"tr", "en"},
"details"}``.

Delivery life cycle
-------------------
A delivery is ``pending`` until the receiver accepts it (2xx for webhooks; 250 after DATA for
SMTP) and becomes ``sent``, or it becomes ``failed`` after ``max_attempts`` attempts or at once
when retrying cannot help (a refused target, a webhook channel without a secret, a malformed
recipient). Each failure records ``last_error`` and sets ``next_attempt_at`` with exponential
backoff (1 min, 2, 4 … capped at 6 h).

Workers claim due deliveries before sending: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL,
then a conditional ``UPDATE`` that counts the attempt and moves ``next_attempt_at`` a lease ahead
(:data:`CLAIM_LEASE`). The claim is committed before any network I/O, so two workers never send the
same delivery, no transaction stays open while a slow receiver answers, and a worker that dies
mid-send only delays the delivery until the lease ends. On SQLite the conditional UPDATE alone
serialises claims (single host).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from ssl import SSLContext
from typing import Any, Final

import httpx
from sqlalchemy import func, literal, or_, select, update

from hunter.alerts.ssrf import (
    Resolver,
    TargetRefused,
    TargetUnresolved,
    system_resolver,
    validate_webhook_target,
)
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.models import Alert, AlertChannel, AlertDelivery, Company

__all__ = [
    "CLAIM_LEASE",
    "DeliveryReport",
    "SmtpConfig",
    "build_email",
    "deliver_due",
    "parse_recipients",
    "retry_delay",
    "sign_payload",
    "verify_signature",
    "webhook_body",
]

log = get_logger(__name__)

SIGNATURE_HEADER: Final = "X-Hunter-Signature"
TIMESTAMP_HEADER: Final = "X-Hunter-Timestamp"
DELIVERY_HEADER: Final = "X-Hunter-Delivery"
EVENT_HEADER: Final = "X-Hunter-Event"
USER_AGENT: Final = "Hunter-Alerts/1.0"

RETRY_BASE: Final = timedelta(minutes=1)
RETRY_CAP: Final = timedelta(hours=6)
CLAIM_LEASE: Final = timedelta(minutes=15)
"""How long a claimed delivery stays invisible to other workers (a batch ends well within it)."""
CONCURRENCY: Final = 8
SNIPPET_BYTES: Final = 256
MAX_ERROR_CHARS: Final = 1000

_SEVERITY_TR: Final = {"info": "bilgi", "low": "düşük", "medium": "orta", "high": "yüksek"}
_TIMESTAMP = re.compile(r"\d{1,12}")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    """Implicit TLS (usually port 465); ``starttls`` upgrades a plain connection (usually 587)."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "hunter@localhost"
    timeout: float = 10.0
    ssl_context: SSLContext | None = field(default=None, repr=False, compare=False)
    """Certificate trust for TLS; the system's defaults when None."""

    def __post_init__(self) -> None:
        if self.starttls and self.ssl:
            raise ValueError("SMTP: choose STARTTLS or implicit TLS (ssl), not both")
        if self.username and not (self.starttls or self.ssl):
            # smtplib would happily send the password in clear text.
            raise ValueError("SMTP: a username needs STARTTLS or implicit TLS")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class _Job:
    """Everything one send needs, read in the claim transaction (no ORM objects across threads)."""

    delivery_id: int
    attempts: int
    channel_kind: str
    target: str
    secret: str | None
    allow_private: bool
    alert_id: int
    kind: str
    severity: str
    domain: str
    detected_at: datetime
    text: dict[str, str]
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Outcome:
    ok: bool
    error: str | None = None
    permanent: bool = False


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 1 min, 2, 4, … capped at 6 h."""
    factor = 2 ** min(max(attempts - 1, 0), 20)
    return min(RETRY_BASE * factor, RETRY_CAP)


def sign_payload(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Hunter-Signature`` value: ``sha256=`` + HMAC-SHA256(secret, timestamp + "." + body)."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, *, now: datetime, tolerance_s: int = 300
) -> bool:
    """Receiver's check: the signature matches and the timestamp is within ``tolerance_s`` of ``now``.

    ``header`` may list several ``sha256=…`` values separated by commas (any match passes).
    """
    if not secret or not header or not _TIMESTAMP.fullmatch(timestamp or ""):
        return False
    if abs(now.timestamp() - int(timestamp)) > tolerance_s:
        return False
    expected = sign_payload(secret, timestamp, body).encode("ascii")
    matched = False
    for candidate in header.split(","):
        # No early exit: every candidate is compared, in constant time.
        matched |= hmac.compare_digest(candidate.strip().encode("utf-8", "replace"), expected)
    return matched


def _one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_error(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def webhook_payload(job: _Job) -> dict[str, Any]:
    return {
        "id": job.alert_id,
        "kind": job.kind,
        "severity": job.severity,
        "company": {"domain": job.domain},
        "detected_at": job.detected_at.isoformat(),
        "text": {"tr": job.text.get("tr", ""), "en": job.text.get("en", "")},
        "details": job.details,
    }


def webhook_body(job: _Job) -> bytes:
    return json.dumps(webhook_payload(job), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "utf-8"
    )


def parse_recipients(target: str) -> list[str]:
    """Addresses from an e-mail channel's target (comma-separated); ValueError if any is unusable."""
    if "\r" in target or "\n" in target:
        raise ValueError("e-mail target contains a line break")
    addresses = [address for _name, address in getaddresses([target]) if address]
    if not addresses:
        raise ValueError(f"e-mail target {target!r} has no address")
    bad = [a for a in addresses if not _ADDRESS.fullmatch(a)]
    if bad:
        raise ValueError(f"invalid e-mail address(es): {', '.join(bad)}")
    return addresses


def build_email(job: _Job, sender: str, at: datetime) -> EmailMessage:
    """The alert as a plain-text message in Turkish and English (a channel has no language)."""
    tr = job.text.get("tr", "")
    en = job.text.get("en", "")
    both = f"{tr} / {en}" if tr and en and tr != en else (tr or en)
    severity_tr = _SEVERITY_TR.get(job.severity, job.severity)
    message = EmailMessage()
    message["Subject"] = _one_line(f"[Hunter] {job.domain}: {both}", 200)
    message["From"] = sender
    message["To"] = ", ".join(parse_recipients(job.target))
    message["Date"] = format_datetime(at)
    domain = sender.rpartition("@")[2].strip("> ") or "hunter.invalid"
    # An explicit domain keeps make_msgid from a (possibly slow) reverse DNS lookup.
    message["Message-ID"] = make_msgid(idstring=f"alert{job.alert_id}.d{job.delivery_id}", domain=domain)
    message["X-Hunter-Alert-Id"] = str(job.alert_id)
    lines = [
        tr,
        "",
        en,
        "",
        f"Alan adı / Domain: {job.domain}",
        f"Önem / Severity: {severity_tr} / {job.severity}",
        f"Tür / Kind: {job.kind}",
        f"Tespit / Detected: {job.detected_at.isoformat()}",
        f"Alarm / Alert: #{job.alert_id}",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


# -- claiming and finishing (sync; run in a worker thread) ------------------------------------------------


def _due(now: datetime) -> Any:
    return or_(AlertDelivery.next_attempt_at.is_(None), AlertDelivery.next_attempt_at <= now)


def _job(delivery_id: int, channel: AlertChannel, alert: Alert, domain: str, attempts: int) -> _Job:
    return _Job(
        delivery_id=delivery_id,
        attempts=attempts,
        channel_kind=channel.kind,
        target=channel.target,
        secret=channel.secret,
        allow_private=bool(channel.allow_private),
        alert_id=alert.id,
        kind=alert.kind,
        severity=alert.severity,
        domain=domain,
        detected_at=alert.detected_at,
        text={str(k): str(v) for k, v in (alert.text or {}).items()},
        details=dict(alert.details or {}),
    )


def _claim(db: Database, now: datetime, batch: int, max_attempts: int) -> tuple[list[_Job], int]:
    """Claim up to ``batch`` due deliveries; also fail claims that a lost worker used up."""
    with db.session() as session:
        # Writing first matters on SQLite: the transaction takes the write lock before it reads, so
        # concurrent claimers queue (busy_timeout) instead of failing to upgrade a stale read.
        exhausted = len(
            session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.state == "pending", _due(now), AlertDelivery.attempts >= max_attempts)
                .values(
                    state="failed",
                    next_attempt_at=None,
                    last_error=literal(f"gave up after {max_attempts} attempts: ")
                    + func.coalesce(AlertDelivery.last_error, "the last attempt never reported back"),
                )
                .returning(AlertDelivery.id)
                .execution_options(synchronize_session=False)
            ).all()
        )
        candidates = (
            select(AlertDelivery.id)
            .join(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
            .where(
                AlertDelivery.state == "pending",
                _due(now),
                AlertDelivery.attempts < max_attempts,
                # Deliveries for a disabled channel wait; they go out if it is enabled again.
                AlertChannel.enabled.is_(True),
                AlertChannel.kind.in_(("webhook", "email")),
            )
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
            .limit(batch)
        )
        if db.dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=AlertDelivery)
        ids = list(session.scalars(candidates))
        if not ids:
            return [], exhausted
        # Conditional: on SQLite (no row locks) a concurrent claimer already moved the row.
        claimed: dict[int, int] = {
            delivery_id: attempts
            for delivery_id, attempts in session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.id.in_(ids), AlertDelivery.state == "pending", _due(now))
                .values(attempts=AlertDelivery.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
                .returning(AlertDelivery.id, AlertDelivery.attempts)
                .execution_options(synchronize_session=False)
            )
        }
        if not claimed:
            return [], exhausted
        rows = session.execute(
            select(AlertDelivery.id, AlertChannel, Alert, Company.domain)
            .join(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
            .join(Alert, Alert.id == AlertDelivery.alert_id)
            .join(Company, Company.id == Alert.company_id)
            .where(AlertDelivery.id.in_(list(claimed)))
            .order_by(AlertDelivery.id)
        ).all()
        jobs = [
            _job(delivery_id, channel, alert, domain, claimed[delivery_id])
            for delivery_id, channel, alert, domain in rows
        ]
        return jobs, exhausted


def _finish(
    db: Database, results: Sequence[tuple[_Job, _Outcome]], at: datetime, max_attempts: int
) -> DeliveryReport:
    sent = retrying = failed = 0
    with db.session() as session:
        for job, outcome in results:
            values: dict[str, Any]
            if outcome.ok:
                values = {"state": "sent", "sent_at": at, "next_attempt_at": None}
                values["last_error"] = outcome.error
            elif outcome.permanent or job.attempts >= max_attempts:
                reason = outcome.error or "failed"
                if not outcome.permanent:
                    reason = f"gave up after {job.attempts} attempts: {reason}"
                values = {"state": "failed", "next_attempt_at": None, "last_error": _clip_error(reason)}
            else:
                values = {
                    "next_attempt_at": at + retry_delay(job.attempts),
                    "last_error": _clip_error(outcome.error or "failed"),
                }
            # Only the claim we hold: if our lease ran out and another worker re-claimed, its result wins.
            updated = session.execute(
                update(AlertDelivery)
                .where(
                    AlertDelivery.id == job.delivery_id,
                    AlertDelivery.attempts == job.attempts,
                    AlertDelivery.state == "pending",
                )
                .values(**values)
                .returning(AlertDelivery.id)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if updated is None:
                log.warning("alert delivery claim lost", delivery_id=job.delivery_id)
                continue
            if outcome.ok:
                sent += 1
            elif "state" in values:
                failed += 1
            else:
                retrying += 1
            if not outcome.ok:
                log.warning(
                    "alert delivery failed",
                    delivery_id=job.delivery_id,
                    channel=job.channel_kind,
                    attempts=job.attempts,
                    final="state" in values,
                    error=values["last_error"],
                )
    return DeliveryReport(claimed=len(results), sent=sent, retrying=retrying, failed=failed)


# -- sending ---------------------------------------------------------------------------------------------


async def _read_snippet(response: httpx.Response) -> str:
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= SNIPPET_BYTES:
            break
    return _one_line(data[:SNIPPET_BYTES].decode("utf-8", "replace"), SNIPPET_BYTES)


async def _send_webhook(
    job: _Job,
    *,
    clock: Callable[[], datetime],
    http_timeout: float,
    resolver: Resolver,
    ssl_context: ssl.SSLContext,
) -> _Outcome:
    if not job.secret:
        return _Outcome(False, "webhook channel has no signing secret", permanent=True)
    try:
        target = await asyncio.wait_for(
            asyncio.to_thread(
                validate_webhook_target, job.target, allow_private=job.allow_private, resolver=resolver
            ),
            http_timeout,
        )
    except TargetUnresolved as exc:
        return _Outcome(False, exc.reason)
    except TargetRefused as exc:
        return _Outcome(False, f"target refused: {exc.reason}", permanent=True)
    except TimeoutError:
        return _Outcome(False, f"resolving the webhook host timed out after {http_timeout:g}s")

    body = webhook_body(job)
    timestamp = str(int(clock().timestamp()))
    headers = {
        # Connect to the vetted IP, speak to the name: DNS cannot be asked again (rebinding).
        "Host": target.host_header,
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        EVENT_HEADER: "alert",
        DELIVERY_HEADER: str(job.delivery_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign_payload(job.secret, timestamp, body),
    }
    # TLS: SNI and certificate verification use the host name, not the IP we connect to.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, retries=0)
    try:
        # One client per send: pooled connections are keyed by IP, which must not mix TLS names.
        timeouts = httpx.Timeout(http_timeout)
        async with (
            httpx.AsyncClient(
                transport=transport, follow_redirects=False, trust_env=False, timeout=timeouts
            ) as client,
            asyncio.timeout(http_timeout),
        ):
            request = client.build_request(
                "POST", target.connect_url, content=body, headers=headers, extensions=extensions
            )
            response = await client.send(request, stream=True)
            try:
                status = response.status_code
                if 200 <= status < 300:
                    return _Outcome(True)
                location = response.headers.get("location", "")
                snippet = await _read_snippet(response)
            finally:
                await response.aclose()
    except TimeoutError:
        return _Outcome(False, f"no answer within {http_timeout:g}s")
    except httpx.HTTPError as exc:
        return _Outcome(False, f"{type(exc).__name__}: {str(exc) or 'request failed'}")
    if 300 <= status < 400:
        return _Outcome(False, f"HTTP {status}: redirect to {_one_line(location, 200)!r} not followed")
    return _Outcome(False, f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}")


def _smtp_send(config: SmtpConfig, message: EmailMessage, recipients: list[str]) -> dict[str, Any]:
    context = config.ssl_context
    if context is None and (config.ssl or config.starttls):
        context = ssl.create_default_context()
    client: smtplib.SMTP
    if config.ssl:
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client:
        client.ehlo()
        if config.starttls:
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
        # Returns the refused recipients; raises unless the server answered 250 to the data.
        return client.send_message(message, from_addr=config.sender, to_addrs=recipients)


def _smtp_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refusals(refused: dict[str, Any]) -> str:
    return "; ".join(f"{rcpt}: {code} {_smtp_text(msg)}" for rcpt, (code, msg) in refused.items())


async def _send_email(job: _Job, *, clock: Callable[[], datetime], smtp: SmtpConfig | None) -> _Outcome:
    if smtp is None:
        return _Outcome(False, "SMTP is not configured")
    try:
        recipients = parse_recipients(job.target)
    except ValueError as exc:
        return _Outcome(False, str(exc), permanent=True)
    message = build_email(job, smtp.sender, clock())
    try:
        refused = await asyncio.to_thread(_smtp_send, smtp, message, recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        return _Outcome(False, f"SMTP refused every recipient: {_refusals(exc.recipients)}")
    except smtplib.SMTPResponseException as exc:
        return _Outcome(False, f"SMTP {exc.smtp_code}: {_smtp_text(exc.smtp_error)}")
    except smtplib.SMTPException as exc:
        return _Outcome(False, f"SMTP error: {type(exc).__name__}: {exc}")
    except OSError as exc:
        where = f"{smtp.host}:{smtp.port}"
        return _Outcome(False, f"SMTP server {where} unreachable: {type(exc).__name__}: {exc}")
    if refused:
        # The others accepted it; a retry would duplicate their copy, so note and count it sent.
        return _Outcome(True, f"some recipients refused: {_refusals(refused)}")
    return _Outcome(True)


async def deliver_due(
    db: Database,
    *,
    now: datetime,
    smtp: SmtpConfig | None,
    http_timeout: float = 10.0,
    max_attempts: int = 8,
    batch: int = 100,
    resolver: Resolver = system_resolver,
    ssl_context: ssl.SSLContext | None = None,
    concurrency: int = CONCURRENCY,
) -> DeliveryReport:
    """Send deliveries due at ``now`` (at most ``batch``), record each outcome, return counts.

    ``resolver`` and ``ssl_context`` (webhook certificate trust) exist for tests and special set-ups.
    """
    started = time.monotonic()

    def clock() -> datetime:
        # Signature timestamps follow the wall clock from ``now`` while a long batch runs.
        return now + timedelta(seconds=time.monotonic() - started)

    jobs, exhausted = await asyncio.to_thread(_claim, db, now, batch, max_attempts)
    if not jobs:
        return DeliveryReport(failed=exhausted)
    # Built once per batch: loading the CA bundle costs more than a small webhook POST.
    tls = ssl_context if ssl_context is not None else httpx.create_ssl_context()
    gate = asyncio.Semaphore(max(1, concurrency))

    async def run(job: _Job) -> _Outcome:
        async with gate:
            try:
                if job.channel_kind == "webhook":
                    return await _send_webhook(
                        job,
                        clock=clock,
                        http_timeout=http_timeout,
                        resolver=resolver,
                        ssl_context=tls,
                    )
                return await _send_email(job, clock=clock, smtp=smtp)
            except Exception as exc:  # one broken delivery must not lose the batch's results
                log.exception("alert delivery crashed", delivery_id=job.delivery_id)
                return _Outcome(False, f"internal error: {type(exc).__name__}: {exc}")

    outcomes = await asyncio.gather(*(run(job) for job in jobs))
    results = list(zip(jobs, outcomes, strict=True))
    report = await asyncio.to_thread(_finish, db, results, clock(), max_attempts)
    if exhausted:
        report = DeliveryReport(report.claimed, report.sent, report.retrying, report.failed + exhausted)
    log.info(
        "alert deliveries processed",
        claimed=report.claimed,
        sent=report.sent,
        retrying=report.retrying,
        failed=report.failed,
    )
    return report
