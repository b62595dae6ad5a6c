"""Alerts from changes: stored once, deliveries created once per matching channel, acknowledged, listed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alerting_world import EN, NOW, TR, add_channel, add_company, change, deliveries
from sqlalchemy import func, select

from hunter.alerts.store import AlertNotFound, acknowledge, list_alerts, record_changes
from hunter.store.db import Database
from hunter.store.models import Alert, User


def test_same_change_twice_gives_one_alert_and_one_set_of_deliveries(db: Database) -> None:
    company = add_company(db)
    webhook = add_channel(db, "webhook", "https://hooks.example.com/a")
    email = add_channel(db, "email", "ops@example.com")

    with db.session() as session:
        first = record_changes(session, company, [change()], NOW)
    with db.session() as session:
        again = record_changes(session, company, [change()], NOW + timedelta(hours=1))
        twice_in_one_call = record_changes(session, company, [change("k2"), change("k2")], NOW)

    assert [a.kind for a in first] == ["platform_to_m365"]
    assert again == []
    assert len(twice_in_one_call) == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 2
    rows = deliveries(db)
    assert sorted((d.alert_id, d.channel_id) for d in rows) == sorted(
        (a, c) for a in (first[0].id, twice_in_one_call[0].id) for c in (webhook, email)
    )
    assert all(d.state == "pending" and d.attempts == 0 and d.next_attempt_at == NOW for d in rows)


def test_alert_keeps_text_details_and_state(db: Database) -> None:
    company = add_company(db)
    with db.session() as session:
        (alert,) = record_changes(session, company, [change()], NOW)
        alert_id = alert.id
    with db.session() as session:
        stored = session.get(Alert, alert_id)
        assert stored is not None
        assert stored.state == "new"
        assert stored.text == {"tr": TR, "en": EN}
        assert stored.details == {"domain": "firma.com.tr", "before": "google", "after": "m365"}
        assert stored.detected_at == NOW
        assert stored.severity == "high"
        assert stored.dedupe_key == "firma.com.tr:platform_to_m365:abc"


def test_same_key_for_another_company_is_another_alert(db: Database) -> None:
    one = add_company(db, "bir.com.tr")
    two = add_company(db, "iki.com.tr")
    with db.session() as session:
        assert len(record_changes(session, one, [change("same")], NOW)) == 1
        assert len(record_changes(session, two, [change("same")], NOW)) == 1


def test_deliveries_only_for_enabled_channels_the_severity_meets(db: Database) -> None:
    company = add_company(db)
    any_level = add_channel(db, "webhook", "https://a.example.com/", min_severity="info")
    medium_up = add_channel(db, "email", "ops@example.com", min_severity="medium")
    high_only = add_channel(db, "webhook", "https://b.example.com/", min_severity="high")
    add_channel(db, "webhook", "https://c.example.com/", enabled=False)

    with db.session() as session:
        (low,) = record_changes(session, company, [change("low", severity="low")], NOW)
        (medium,) = record_changes(session, company, [change("med", severity="medium")], NOW)
        (high,) = record_changes(session, company, [change("high", severity="high")], NOW)

    by_alert: dict[int, set[int]] = {}
    for d in deliveries(db):
        by_alert.setdefault(d.alert_id, set()).add(d.channel_id)
    assert by_alert[low.id] == {any_level}
    assert by_alert[medium.id] == {any_level, medium_up}
    assert by_alert[high.id] == {any_level, medium_up, high_only}


def test_no_channels_means_in_app_only(db: Database) -> None:
    company = add_company(db)
    with db.session() as session:
        assert len(record_changes(session, company, [change()], NOW)) == 1
        assert record_changes(session, company, [], NOW) == []
    assert deliveries(db) == []


def test_acknowledge_records_who_and_when_once(db: Database) -> None:
    company = add_company(db)
    with db.session() as session:
        user = User(username="ayse", password_hash="x", role="sales")
        session.add(user)
        session.flush()
        user_id = user.id
        (alert,) = record_changes(session, company, [change()], NOW)
        alert_id = alert.id

    later = NOW + timedelta(hours=2)
    with db.session() as session:
        acked = acknowledge(session, alert_id, user_id, later)
        assert (acked.state, acked.acknowledged_by, acked.acknowledged_at) == ("acknowledged", user_id, later)
    with db.session() as session:
        again = acknowledge(session, alert_id, None, later + timedelta(days=1))
        assert (again.acknowledged_by, again.acknowledged_at) == (user_id, later)
    with db.session() as session, pytest.raises(AlertNotFound):
        acknowledge(session, alert_id + 999, user_id, later)


def test_list_alerts_filters_pages_and_orders_newest_first(db: Database) -> None:
    company = add_company(db)
    with db.session() as session:
        alerts = record_changes(
            session,
            company,
            [change(f"k{i}", detected_at=NOW + timedelta(minutes=i)) for i in range(5)],
            NOW,
        )
        ids = [a.id for a in alerts]
    with db.session() as session:
        acknowledge(session, ids[0], None, NOW)

    with db.session() as session:
        total, page = list_alerts(session, state=None, limit=2, offset=0)
        assert total == 5
        assert [a.id for a in page] == [ids[4], ids[3]]
        total, page = list_alerts(session, state=None, limit=2, offset=4)
        assert [a.id for a in page] == [ids[0]]
        total, page = list_alerts(session, state="new", limit=50, offset=0)
        assert total == 4
        assert ids[0] not in [a.id for a in page]
        total, page = list_alerts(session, state="acknowledged", limit=50, offset=0)
        assert (total, [a.id for a in page]) == (1, [ids[0]])
        with pytest.raises(ValueError, match="unknown alert state"):
            list_alerts(session, state="bogus", limit=10, offset=0)
