"""Alerts inbox (list, acknowledge) and admin-only channel CRUD with the SSRF guard."""

from __future__ import annotations

import typing

from fastapi.testclient import TestClient
from leads_data import LeadSet
from sqlalchemy import select

from hunter.api.routes_alerts import Severity
from hunter.core.changes import SEVERITIES
from hunter.store.db import Database
from hunter.store.models import AlertChannel, AuditEntry

ALERTS = "/api/v1/alerts"
CHANNELS = "/api/v1/alert-channels"
PUBLIC_HOOK = "https://93.184.215.14/hooks/hunter"  # a public IP literal: no DNS lookup, never contacted


def test_list_alerts_newest_first_with_state_filter(viewer: TestClient, leads: LeadSet) -> None:
    body = viewer.get(ALERTS).json()
    assert body["total"] == 3
    assert [a["kind"] for a in body["items"]] == ["priority_change", "dmarc_removed", "platform_change"]
    first = body["items"][0]
    assert first["domain"] == "cam-gida.com.tr"
    assert first["text"] == {"tr": "Öncelik değişti", "en": "Priority changed"}
    assert first["severity"] == "low"
    assert first["state"] == "new"

    new = viewer.get(ALERTS, params={"state": "new"}).json()
    assert new["total"] == 2
    assert {a["state"] for a in new["items"]} == {"new"}
    acknowledged = viewer.get(ALERTS, params={"state": "acknowledged"}).json()
    assert [a["kind"] for a in acknowledged["items"]] == ["dmarc_removed"]

    page2 = viewer.get(ALERTS, params={"page": 2, "page_size": 2}).json()
    assert page2["total"] == 3
    assert [a["kind"] for a in page2["items"]] == ["platform_change"]
    mine = viewer.get(ALERTS, params={"domain": "alfa-insaat.com.tr", "lang": "tr"}).json()
    assert mine["total"] == 2
    assert mine["items"][0]["text"] == "Değişiklik 1"
    assert viewer.get(ALERTS, params={"state": "read"}).status_code == 422
    assert viewer.get(ALERTS, params={"domain": "yok.com.tr"}).status_code == 404


def test_acknowledge(sales: TestClient, viewer: TestClient, leads: LeadSet) -> None:
    alert_id = leads.alert_ids[0]
    assert viewer.post(f"{ALERTS}/{alert_id}/acknowledge").status_code == 403
    response = sales.post(f"{ALERTS}/{alert_id}/acknowledge")
    assert response.status_code == 200, response.text
    acked = response.json()
    assert acked["state"] == "acknowledged"
    assert acked["acknowledged_at"] is not None
    assert acked["domain"] == "alfa-insaat.com.tr"
    again = sales.post(f"{ALERTS}/{alert_id}/acknowledge").json()
    assert again["acknowledged_at"] == acked["acknowledged_at"]  # the first acknowledgement stays
    assert sales.get(ALERTS, params={"state": "new"}).json()["total"] == 1
    missing = sales.post(f"{ALERTS}/999999/acknowledge")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_channels_are_admin_only(sales: TestClient, viewer: TestClient, leads: LeadSet) -> None:
    for client in (sales, viewer):
        assert client.get(CHANNELS).status_code == 403
        response = client.post(CHANNELS, json={"kind": "webhook", "target": PUBLIC_HOOK})
        assert response.status_code == 403
        assert "'admin' scope" in response.json()["detail"]
        assert client.patch(f"{CHANNELS}/1", json={"enabled": False}).status_code == 403
        assert client.delete(f"{CHANNELS}/1").status_code == 403


def test_webhook_channel_crud(admin: TestClient, db: Database) -> None:
    created = admin.post(CHANNELS, json={"kind": "webhook", "target": PUBLIC_HOOK, "min_severity": "medium"})
    assert created.status_code == 201, created.text
    channel = created.json()
    secret = channel["secret"]
    assert secret
    assert len(secret) >= 40
    assert channel["has_secret"] is True
    assert channel["allow_private"] is False
    assert channel["min_severity"] == "medium"

    listed = admin.get(CHANNELS).json()
    assert [c["id"] for c in listed] == [channel["id"]]
    assert "secret" not in listed[0]  # shown once, at creation
    assert "secret" not in admin.get(f"{CHANNELS}/{channel['id']}").json()

    patched = admin.patch(f"{CHANNELS}/{channel['id']}", json={"enabled": False, "min_severity": "high"})
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    assert patched.json()["secret"] is None  # no new secret unless asked
    rotated = admin.patch(f"{CHANNELS}/{channel['id']}", json={"rotate_secret": True}).json()
    assert rotated["secret"]
    assert rotated["secret"] != secret
    with db.session() as session:
        row = session.get(AlertChannel, channel["id"])
        assert row is not None
        assert row.secret == rotated["secret"]
        assert row.enabled is False

    assert admin.delete(f"{CHANNELS}/{channel['id']}").status_code == 204
    assert admin.get(f"{CHANNELS}/{channel['id']}").status_code == 404
    assert admin.delete(f"{CHANNELS}/{channel['id']}").status_code == 404
    with db.session() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"alert_channel.create", "alert_channel.update", "alert_channel.delete"} <= actions


def test_ssrf_targets_are_refused_with_the_reason(admin: TestClient) -> None:
    loopback = admin.post(CHANNELS, json={"kind": "webhook", "target": "http://127.0.0.1:8080/hook"})
    assert loopback.status_code == 422
    assert loopback.headers["content-type"].startswith("application/problem+json")
    detail = loopback.json()["detail"]
    assert detail.startswith("refused webhook target:")
    assert "loopback" in detail
    assert "unless the channel allows private" in detail

    for target, reason in (
        ("http://10.1.2.3/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::ffff:127.0.0.1]/x", "loopback"),
        ("http://0x7f000001/x", "ambiguous numeric host"),
        ("ftp://93.184.215.14/x", "scheme"),
        ("https://user:pw@93.184.215.14/x", "credentials"),
    ):
        response = admin.post(CHANNELS, json={"kind": "webhook", "target": target})
        assert response.status_code == 422, target
        assert reason in response.json()["detail"], target
    assert admin.get(CHANNELS).json() == []

    # An admin may allow a private receiver explicitly (an on-premises system) …
    allowed = admin.post(
        CHANNELS, json={"kind": "webhook", "target": "http://127.0.0.1:8080/hook", "allow_private": True}
    )
    assert allowed.status_code == 201
    assert allowed.json()["allow_private"] is True
    # … but never an unspecified or multicast address.
    never = admin.post(
        CHANNELS, json={"kind": "webhook", "target": "http://0.0.0.0/x", "allow_private": True}
    )
    assert never.status_code == 422
    assert "never a webhook target" in never.json()["detail"]

    # Withdrawing the permission re-checks the target.
    channel_id = allowed.json()["id"]
    withdrawn = admin.patch(f"{CHANNELS}/{channel_id}", json={"allow_private": False})
    assert withdrawn.status_code == 422
    public = admin.post(CHANNELS, json={"kind": "webhook", "target": PUBLIC_HOOK}).json()
    moved = admin.patch(f"{CHANNELS}/{public['id']}", json={"target": "http://192.168.1.10/x"})
    assert moved.status_code == 422
    assert "private" in moved.json()["detail"]


def test_email_channels(admin: TestClient) -> None:
    created = admin.post(
        CHANNELS, json={"kind": "email", "target": "satis@example.com, Ayşe <ayse@example.com>"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["secret"] is None
    assert created.json()["has_secret"] is False
    bad = admin.post(CHANNELS, json={"kind": "email", "target": "not an address"})
    assert bad.status_code == 422
    assert "refused e-mail target" in bad.json()["detail"]
    rotate = admin.patch(f"{CHANNELS}/{created.json()['id']}", json={"rotate_secret": True})
    assert rotate.status_code == 422
    assert admin.post(CHANNELS, json={"kind": "sms", "target": "+90"}).status_code == 422


def test_severity_choices_match_the_core() -> None:
    assert typing.get_args(Severity) == tuple(SEVERITIES)
