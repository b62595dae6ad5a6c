"""E-mail delivery against real SMTP servers (aiosmtpd) on loopback: accepted, rejected, unreachable."""

from __future__ import annotations

import email
import ssl
from email.message import EmailMessage
from email.policy import default as default_policy

import trustme
from aiosmtpd.controller import Controller
from alerting_world import (
    EN,
    NOW,
    TR,
    Credentials,
    Inbox,
    Rejecter,
    add_channel,
    add_company,
    change,
    free_port,
    only_delivery,
    start_smtp,
)

from hunter.alerts.delivery import DeliveryReport, SmtpConfig, deliver_due
from hunter.alerts.store import record_changes
from hunter.store.db import Database


def record(db: Database) -> int:
    company = add_company(db)
    with db.session() as session:
        (alert,) = record_changes(session, company, [change()], NOW)
        return alert.id


def smtp_at(port: int, **options: object) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=port, sender="hunter@partner.example", timeout=5, **options)  # type: ignore[arg-type]


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


async def test_alert_mail_arrives_in_both_languages(db: Database, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    add_channel(db, "email", "Satış Ekibi <sales@partner.example>, ops@partner.example")
    alert_id = record(db)

    report = await deliver_due(db, now=NOW, smtp=smtp_at(port))
    assert report == DeliveryReport(claimed=1, sent=1)
    row = only_delivery(db)
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, None)

    (envelope,) = handler.envelopes
    assert envelope.mail_from == "hunter@partner.example"
    assert envelope.rcpt_tos == ["sales@partner.example", "ops@partner.example"]
    assert isinstance(envelope.original_content, bytes)
    message = parsed(envelope.original_content)
    subject = str(message["Subject"])
    assert subject.startswith("[Hunter] firma.com.tr: Alan adı Microsoft 365'e geçti")
    assert subject.endswith(
        " / The domain moved to Microsoft 365 (Google Workspace → Microsoft 365); call now."
    )
    assert message["X-Hunter-Alert-Id"] == str(alert_id)
    body = message.get_content()
    assert TR in body
    assert EN in body
    assert "Önem / Severity: yüksek / high" in body


async def test_rejected_mail_is_retried_then_failed(db: Database, rejecter: tuple[Rejecter, int]) -> None:
    handler, port = rejecter
    add_channel(db, "email", "ops@partner.example")
    record(db)
    now = NOW
    for attempt in range(1, 4):
        report = await deliver_due(db, now=now, smtp=smtp_at(port), max_attempts=3)
        row = only_delivery(db)
        assert row.attempts == attempt
        assert "550" in str(row.last_error)
        assert row.sent_at is None
        if attempt < 3:
            assert (row.state, report.retrying) == ("pending", 1)
            assert row.next_attempt_at is not None
            now = row.next_attempt_at
    assert report == DeliveryReport(claimed=1, failed=1)
    assert row.state == "failed"
    assert row.last_error == "gave up after 3 attempts: SMTP 550: 5.7.1 Message rejected by policy"
    assert handler.attempts == 3


async def test_unreachable_server_is_retried_and_later_delivered(db: Database) -> None:
    port = free_port()
    add_channel(db, "email", "ops@partner.example")
    record(db)
    assert (await deliver_due(db, now=NOW, smtp=smtp_at(port))).retrying == 1
    row = only_delivery(db)
    assert row.state == "pending"
    assert "unreachable: ConnectionRefusedError" in str(row.last_error)
    assert row.next_attempt_at is not None

    handler = Inbox()
    controller = start_smtp(handler, port=port)
    try:
        assert (await deliver_due(db, now=row.next_attempt_at, smtp=smtp_at(port))).sent == 1
    finally:
        controller.stop()
    assert only_delivery(db).state == "sent"
    assert len(handler.envelopes) == 1


async def test_starttls_and_login(db: Database, ca: trustme.CA) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    handler = Inbox()
    credentials = Credentials("hunter", "pa55")
    controller: Controller = start_smtp(
        handler, tls_context=server_tls, require_starttls=True, authenticator=credentials, auth_required=True
    )
    add_channel(db, "email", "ops@partner.example")
    record(db)
    try:
        config = smtp_at(
            controller.port, starttls=True, username="hunter", password="pa55", ssl_context=client_tls
        )
        assert (await deliver_due(db, now=NOW, smtp=config)).sent == 1
    finally:
        controller.stop()
    assert credentials.seen == [(b"hunter", b"pa55")]
    assert len(handler.envelopes) == 1


async def test_without_smtp_settings_mail_waits_and_says_why(db: Database) -> None:
    add_channel(db, "email", "ops@partner.example")
    record(db)
    assert (await deliver_due(db, now=NOW, smtp=None)).retrying == 1
    assert only_delivery(db).last_error == "SMTP is not configured"


async def test_malformed_recipient_fails_at_once(db: Database, inbox: tuple[Inbox, int]) -> None:
    add_channel(db, "email", "not an address")
    record(db)
    assert (await deliver_due(db, now=NOW, smtp=smtp_at(inbox[1]))).failed == 1
    assert "invalid e-mail address" in str(only_delivery(db).last_error)
    assert inbox[0].envelopes == []
