"""Webhook delivery against a real HTTP(S) receiver on loopback: signed, retried, pinned, never tricked."""

from __future__ import annotations

import asyncio
import json
import ssl
from datetime import datetime, timedelta

from alerting_world import (
    EN,
    NOW,
    SECRET,
    TR,
    MapResolver,
    Receiver,
    add_channel,
    add_company,
    change,
    deliveries,
    only_delivery,
)
from sqlalchemy import update

from hunter.alerts.delivery import DeliveryReport, deliver_due, retry_delay, verify_signature
from hunter.alerts.store import record_changes
from hunter.store.db import Database
from hunter.store.models import AlertDelivery


def record(db: Database, *keys: str) -> list[int]:
    company = add_company(db)
    with db.session() as session:
        alerts = record_changes(session, company, [change(k) for k in keys or ("k",)], NOW)
        return [a.id for a in alerts]


async def test_failing_receiver_is_retried_with_backoff_and_gets_it_once(
    db: Database, receiver: Receiver
) -> None:
    receiver.fail_times = 2
    add_channel(db, "webhook", receiver.url(), allow_private=True)
    (alert_id,) = record(db)

    now = NOW
    first = await deliver_due(db, now=now, smtp=None)
    assert first == DeliveryReport(claimed=1, sent=0, retrying=1, failed=0)
    row = only_delivery(db)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error == "HTTP 500: temporarily broken"
    assert row.next_attempt_at is not None
    assert row.next_attempt_at - now >= retry_delay(1)

    # Not due yet: nothing is sent before the backoff is over.
    assert await deliver_due(db, now=now + timedelta(seconds=30), smtp=None) == DeliveryReport()
    attempt_times = [now]
    now = row.next_attempt_at
    attempt_times.append(now)
    assert (await deliver_due(db, now=now, smtp=None)).retrying == 1
    row = only_delivery(db)
    assert row.attempts == 2
    assert row.next_attempt_at is not None
    assert row.next_attempt_at - now >= retry_delay(2) > retry_delay(1)

    now = row.next_attempt_at
    attempt_times.append(now)
    assert (await deliver_due(db, now=now, smtp=None)).sent == 1
    row = only_delivery(db)
    assert (row.state, row.attempts, row.last_error, row.next_attempt_at) == ("sent", 3, None, None)
    assert row.sent_at is not None
    assert row.sent_at >= now

    # Sent means done: later runs send nothing more.
    assert await deliver_due(db, now=now + timedelta(days=1), smtp=None) == DeliveryReport()
    assert len(receiver.requests) == 3

    for request, at in zip(receiver.requests, attempt_times, strict=True):
        headers = request.headers
        assert request.path == "/hook"
        assert headers["content-type"] == "application/json; charset=utf-8"
        assert headers["x-hunter-delivery"] == str(row.id)
        assert headers["host"] == f"127.0.0.1:{receiver.port}"
        timestamp = headers["x-hunter-timestamp"]
        assert abs(int(timestamp) - at.timestamp()) < 5  # each retry is signed afresh
        signature = headers["x-hunter-signature"]
        assert verify_signature(SECRET, timestamp, request.body, signature, now=at)
        # A tampered body, another secret or a replay ten minutes later all fail.
        tampered = request.body.replace(b"high", b"low")
        assert not verify_signature(SECRET, timestamp, tampered, signature, now=at)
        assert not verify_signature("wrong", timestamp, request.body, signature, now=at)
        replayed = at + timedelta(minutes=10)
        assert not verify_signature(SECRET, timestamp, request.body, signature, now=replayed)

    payload = json.loads(receiver.requests[-1].body)
    assert payload == {
        "id": alert_id,
        "kind": "platform_to_m365",
        "severity": "high",
        "company": {"domain": "firma.com.tr"},
        "detected_at": NOW.isoformat(),
        "text": {"tr": TR, "en": EN},
        "details": {"domain": "firma.com.tr", "before": "google", "after": "m365"},
    }


async def test_receiver_that_keeps_failing_ends_failed_after_max_attempts(
    db: Database, receiver: Receiver
) -> None:
    receiver.fail_times = 100
    add_channel(db, "webhook", receiver.url(), allow_private=True)
    record(db)
    now = NOW
    for attempt in range(1, 4):
        report = await deliver_due(db, now=now, smtp=None, max_attempts=3)
        row = only_delivery(db)
        assert row.attempts == attempt
        if attempt < 3:
            assert (report.retrying, row.state) == (1, "pending")
            assert row.next_attempt_at is not None
            now = row.next_attempt_at
    assert report == DeliveryReport(claimed=1, failed=1)
    assert (row.state, row.next_attempt_at, row.sent_at) == ("failed", None, None)
    assert row.last_error == "gave up after 3 attempts: HTTP 500: temporarily broken"
    assert await deliver_due(db, now=now + timedelta(days=7), smtp=None, max_attempts=3) == DeliveryReport()
    assert len(receiver.requests) == 3


async def test_loopback_target_is_refused_without_allow_private(db: Database, receiver: Receiver) -> None:
    add_channel(db, "webhook", receiver.url(), allow_private=False)
    record(db)
    report = await deliver_due(db, now=NOW, smtp=None)
    assert report == DeliveryReport(claimed=1, failed=1)
    row = only_delivery(db)
    assert (row.state, row.attempts, row.sent_at) == ("failed", 1, None)
    assert row.last_error is not None
    assert row.last_error.startswith("target refused: 127.0.0.1 is not a public address (loopback)")
    assert receiver.requests == []


async def test_host_name_resolving_to_loopback_is_refused_and_pinned_when_allowed(
    db: Database, receiver: Receiver
) -> None:
    resolver = MapResolver({"hooks.example.test": ["127.0.0.1"]})
    url = receiver.url(host="hooks.example.test")
    refused = add_channel(db, "webhook", url, allow_private=False)
    allowed = add_channel(db, "webhook", url, allow_private=True)
    record(db)

    report = await deliver_due(db, now=NOW, smtp=None, resolver=resolver)
    assert report == DeliveryReport(claimed=2, sent=1, failed=1)
    by_channel = {d.channel_id: d for d in deliveries(db)}
    assert by_channel[refused].state == "failed"
    assert "host hooks.example.test: 127.0.0.1 is not a public address (loopback)" in str(
        by_channel[refused].last_error
    )
    assert by_channel[allowed].state == "sent"
    # ".test" never resolves in real DNS: the request reached the receiver only through the pinned IP,
    # and it still carried the name the receiver expects.
    assert [r.headers["host"] for r in receiver.requests] == [f"hooks.example.test:{receiver.port}"]
    assert resolver.calls == ["hooks.example.test", "hooks.example.test"]


async def test_redirects_are_not_followed(db: Database, receiver: Receiver) -> None:
    receiver.status = 302
    receiver.location = "http://169.254.169.254/latest/meta-data/"
    add_channel(db, "webhook", receiver.url(), allow_private=True)
    record(db)
    report = await deliver_due(db, now=NOW, smtp=None)
    assert report.retrying == 1
    row = only_delivery(db)
    assert row.state == "pending"
    assert row.last_error == "HTTP 302: redirect to 'http://169.254.169.254/latest/meta-data/' not followed"
    assert len(receiver.requests) == 1


async def test_only_a_snippet_of_the_error_body_is_kept(db: Database, receiver: Receiver) -> None:
    receiver.status = 503
    receiver.reply_body = b"<html>" + b"x" * 200_000
    add_channel(db, "webhook", receiver.url(), allow_private=True)
    record(db)
    await deliver_due(db, now=NOW, smtp=None)
    error = only_delivery(db).last_error
    assert error is not None
    assert error.startswith("HTTP 503: <html>xxx")
    assert len(error) < 300


async def test_slow_receiver_times_out_and_is_retried(db: Database, receiver: Receiver) -> None:
    receiver.delay = 1.0
    add_channel(db, "webhook", receiver.url(), allow_private=True)
    record(db)
    report = await deliver_due(db, now=NOW, smtp=None, http_timeout=0.3)
    assert report.retrying == 1
    row = only_delivery(db)
    assert row.state == "pending"
    assert row.last_error is not None
    assert "0.3" in row.last_error or "Timeout" in row.last_error


async def test_unreachable_and_unresolvable_targets_are_retried(db: Database) -> None:
    from alerting_world import free_port

    add_channel(db, "webhook", f"http://127.0.0.1:{free_port()}/", allow_private=True)
    add_channel(db, "webhook", "https://nowhere.example.test/", allow_private=False)
    record(db)
    report = await deliver_due(db, now=NOW, smtp=None, resolver=MapResolver({}))
    assert report == DeliveryReport(claimed=2, retrying=2)
    errors = sorted(str(d.last_error) for d in deliveries(db))
    assert errors[0].startswith("ConnectError")
    assert errors[1].startswith("host nowhere.example.test did not resolve")


async def test_webhook_channel_without_secret_fails_at_once(db: Database, receiver: Receiver) -> None:
    add_channel(db, "webhook", receiver.url(), allow_private=True, secret=None)
    record(db)
    assert (await deliver_due(db, now=NOW, smtp=None)).failed == 1
    assert only_delivery(db).last_error == "webhook channel has no signing secret"
    assert receiver.requests == []


async def test_https_connects_to_the_pinned_ip_and_verifies_the_host_name(
    db: Database, tls_receiver: Receiver, client_tls: ssl.SSLContext
) -> None:
    resolver = MapResolver({"hooks.example.test": ["127.0.0.1"], "wrong.example.test": ["127.0.0.1"]})
    good = add_channel(db, "webhook", tls_receiver.url(host="hooks.example.test"), allow_private=True)
    wrong = add_channel(db, "webhook", tls_receiver.url(host="wrong.example.test"), allow_private=True)
    record(db)

    report = await deliver_due(db, now=NOW, smtp=None, resolver=resolver, ssl_context=client_tls)
    assert report == DeliveryReport(claimed=2, sent=1, retrying=1)
    by_channel = {d.channel_id: d for d in deliveries(db)}
    assert by_channel[good].state == "sent"
    # The certificate names hooks.example.test only: same IP, other name, no delivery.
    assert by_channel[wrong].state == "pending"
    assert "certificate" in str(by_channel[wrong].last_error).lower()
    assert [r.headers["host"] for r in tls_receiver.requests] == [f"hooks.example.test:{tls_receiver.port}"]
    assert "hooks.example.test" in tls_receiver.sni


async def test_two_workers_never_send_the_same_delivery(db: Database, receiver: Receiver) -> None:
    add_channel(db, "webhook", receiver.url(), allow_private=True)
    record(db, *(f"k{i}" for i in range(24)))
    other = Database(db.url)
    try:
        reports = await asyncio.gather(
            deliver_due(db, now=NOW, smtp=None, batch=16),
            deliver_due(other, now=NOW, smtp=None, batch=16),
        )
    finally:
        other.dispose()
    assert sum(r.sent for r in reports) == sum(r.claimed for r in reports)
    rest = await deliver_due(db, now=NOW, smtp=None, batch=100)
    assert sum(r.sent for r in reports) + rest.sent == 24
    delivered = [r.headers["x-hunter-delivery"] for r in receiver.requests]
    assert len(delivered) == len(set(delivered)) == 24
    assert {d.state for d in deliveries(db)} == {"sent"}


async def test_claims_of_a_lost_worker_expire_and_used_up_ones_fail(db: Database, receiver: Receiver) -> None:
    add_channel(db, "webhook", receiver.url(), allow_private=True)
    record(db, "a", "b")
    lease_end: datetime = NOW + timedelta(minutes=15)
    with db.session() as session:
        # As a worker that claimed both and died would leave them: attempt counted, lease running.
        session.execute(update(AlertDelivery).values(attempts=1, next_attempt_at=lease_end))
        session.execute(update(AlertDelivery).where(AlertDelivery.id == 2).values(attempts=3))
    during_lease = await deliver_due(db, now=NOW + timedelta(minutes=5), smtp=None, max_attempts=3)
    assert during_lease == DeliveryReport()
    report = await deliver_due(db, now=lease_end, smtp=None, max_attempts=3)
    assert report == DeliveryReport(claimed=1, sent=1, failed=1)
    rows = {d.id: d for d in deliveries(db)}
    assert (rows[1].state, rows[1].attempts) == ("sent", 2)
    assert rows[2].state == "failed"
    assert "never reported back" in str(rows[2].last_error)
