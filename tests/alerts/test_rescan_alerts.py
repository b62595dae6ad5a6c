"""Acceptance: a rescan that finds a company moved from hosting to Microsoft 365 raises a
platform-change alert, delivered to a local webhook receiver (valid signature) and by e-mail."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta

from alerting_world import SECRET, Inbox, Receiver, add_channel, deliveries
from sqlalchemy import select

from hunter.alerts.delivery import SmtpConfig, deliver_due, verify_signature
from hunter.sandbox.testing import sandbox_world
from hunter.services.scanning import scan_domains
from hunter.store.db import Database
from hunter.store.models import Alert, Assessment
from hunter.store.types import utcnow

DOMAIN = "tasinan-firma.com.tr"


async def test_rescan_to_m365_alerts_webhook_and_email(
    db: Database, receiver: Receiver, inbox: tuple[Inbox, int]
) -> None:
    mailbox, smtp_port = inbox
    add_channel(db, "webhook", receiver.url(), allow_private=True)  # loopback needs the admin's consent
    add_channel(db, "email", "satis@partner.example")
    with sandbox_world({DOMAIN: "hosting_natro"}) as world:
        settings = world.settings()
        await scan_domains(settings, [DOMAIN], db=db)
        with db.session() as s:
            assert s.scalar(select(Assessment.platform)) == "hosting"
            assert list(s.scalars(select(Alert))) == []  # a first scan has nothing to compare with

        world.change_profile(DOMAIN, "m365_classic")
        summary = await scan_domains(settings, [DOMAIN], db=db)
    assert summary.alerts >= 1
    with db.session() as s:
        alerts = list(s.scalars(select(Alert)))
        kinds = {a.kind for a in alerts}
        assert any("m365" in k or "platform" in k for k in kinds), kinds
        platform_alert = next(a for a in alerts if "platform" in a.kind or "m365" in a.kind)
        assert platform_alert.text["tr"]
        assert platform_alert.text["en"]

    report = await deliver_due(
        db, now=utcnow() + timedelta(seconds=1), smtp=SmtpConfig(host="127.0.0.1", port=smtp_port)
    )
    assert report.failed == 0
    assert report.sent >= 2
    assert all(d.state == "sent" for d in deliveries(db))

    hooks = [json.loads(r.body) for r in receiver.requests]
    assert any(h["company"]["domain"] == DOMAIN and h["id"] == platform_alert.id for h in hooks)
    for recorded in receiver.requests:
        headers = recorded.headers
        assert verify_signature(
            SECRET,
            headers["x-hunter-timestamp"],
            recorded.body,
            headers["x-hunter-signature"],
            now=utcnow(),
        )
    assert mailbox.envelopes
    mails = [email.message_from_bytes(e.content, policy=email.policy.default) for e in mailbox.envelopes]
    assert any(DOMAIN in str(m["Subject"]) + m.get_body().get_content() for m in mails)  # type: ignore[union-attr]
