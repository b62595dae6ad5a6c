"""Notes, user tags and favourites: who may do what, and what the engine may never touch."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from leads_data import LeadSet
from sqlalchemy import select

from hunter.store.db import Database
from hunter.store.models import Assessment, AuditEntry, CompanyTag

LEAD = "/api/v1/leads/alfa-insaat.com.tr"


def detail(client: TestClient, path: str = LEAD) -> dict:  # type: ignore[type-arg]
    response = client.get(path, params={"brief": "false"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_notes_author_or_admin_may_delete(
    sales: TestClient, admin: TestClient, bearer_client_for: Callable[..., TestClient], leads: LeadSet
) -> None:
    created = sales.post(f"{LEAD}/notes", json={"body": "  İlk görüşme yapıldı.  "})
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["body"] == "İlk görüşme yapıldı."
    assert note["author"] == "sales"

    other = bearer_client_for("sales", username="other-rep")
    refused = other.delete(f"/api/v1/notes/{note['id']}")
    assert refused.status_code == 403
    assert "author" in refused.json()["detail"]
    assert sales.delete(f"/api/v1/notes/{note['id']}").status_code == 204
    assert detail(sales)["notes"] == []
    assert sales.delete(f"/api/v1/notes/{note['id']}").status_code == 404

    second = other.post(f"{LEAD}/notes", json={"body": "Teklif gönderildi"}).json()
    assert admin.delete(f"/api/v1/notes/{second['id']}").status_code == 204


def test_note_validation(sales: TestClient, leads: LeadSet) -> None:
    assert sales.post(f"{LEAD}/notes", json={"body": ""}).status_code == 422
    assert sales.post(f"{LEAD}/notes", json={"body": "   "}).status_code == 422
    assert sales.post(f"{LEAD}/notes", json={"body": "x" * 10_001}).status_code == 422
    assert sales.post(f"{LEAD}/notes", json={}).status_code == 422
    missing = sales.post("/api/v1/leads/yok.com.tr/notes", json={"body": "x"})
    assert missing.status_code == 404


def test_admin_deleting_someone_elses_note_is_audited(
    sales: TestClient, admin: TestClient, db: Database, leads: LeadSet
) -> None:
    note = sales.post(f"{LEAD}/notes", json={"body": "not"}).json()
    admin.delete(f"/api/v1/notes/{note['id']}")
    with db.session() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert "note.delete" in actions


def test_user_tags(sales: TestClient, db: Database, leads: LeadSet) -> None:
    added = sales.put(f"{LEAD}/tags/{quote('Sıcak')}")
    assert added.status_code == 201, added.text
    assert added.json()["tag"] == "sıcak"
    assert added.json()["user_tags"] == ["sıcak"]
    again = sales.put(f"{LEAD}/tags/{quote('sıcak')}")
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert sales.put(f"{LEAD}/tags/{quote('İhale')}").json()["tag"] == "ihale"

    lead = detail(sales)
    assert lead["tags"]["user"] == ["sıcak", "ihale"]
    assert lead["tags"]["engine"] == ["local-hosting", "security-risk", "no-dmarc"]
    item = sales.get("/api/v1/leads", params={"tags": "ihale"}).json()["items"]
    assert [i["domain"] for i in item] == ["alfa-insaat.com.tr"]
    assert item[0]["user_tags"] == ["sıcak", "ihale"]
    with db.session() as session:
        company_id = leads.ids["alfa-insaat.com.tr"]
        stored = session.scalar(select(Assessment.tags).where(Assessment.company_id == company_id))
    assert stored == ["local-hosting", "security-risk", "no-dmarc", "sıcak", "ihale"]

    assert sales.delete(f"{LEAD}/tags/{quote('sıcak')}").status_code == 204
    assert detail(sales)["tags"]["user"] == ["ihale"]
    assert sales.get("/api/v1/leads", params={"tags": "sıcak"}).json()["total"] == 0
    # Engine tags follow the evidence: a user cannot delete them.
    engine = sales.delete(f"{LEAD}/tags/no-dmarc")
    assert engine.status_code == 404
    assert "engine tags" in engine.json()["detail"]
    assert "no-dmarc" in detail(sales)["tags"]["engine"]


def test_a_user_tag_equal_to_an_engine_tag_stays_when_removed_as_user_tag(
    sales: TestClient, leads: LeadSet
) -> None:
    assert sales.put(f"{LEAD}/tags/no-dmarc").status_code == 201
    assert detail(sales)["tags"]["all"].count("no-dmarc") == 1
    assert sales.delete(f"{LEAD}/tags/no-dmarc").status_code == 204
    assert "no-dmarc" in detail(sales)["tags"]["all"]  # still true of the evidence


def test_tags_on_an_unscanned_lead(sales: TestClient, db: Database, leads: LeadSet) -> None:
    path = "/api/v1/leads/gul-tarim.com.tr"
    assert sales.put(f"{path}/tags/bayi").status_code == 201
    assert detail(sales, path)["tags"]["user"] == ["sicak", "bayi"]
    assert sales.delete(f"{path}/tags/sicak").status_code == 204
    with db.session() as session:
        assert list(session.scalars(select(CompanyTag.tag))) == ["bayi"]


@pytest.mark.parametrize(
    "tag",
    ["two words", "-leading", ".dot", "a" * 65, "tab\there", "semi;colon", "qu'ote", "_under"],
)
def test_invalid_tags_are_refused(sales: TestClient, leads: LeadSet, tag: str) -> None:
    response = sales.put(f"{LEAD}/tags/{quote(tag, safe='')}")
    assert response.status_code == 422, tag
    assert "invalid tag" in response.json()["detail"]


def test_favourites_are_per_user(
    sales: TestClient, bearer_client_for: Callable[..., TestClient], leads: LeadSet
) -> None:
    assert sales.put(f"{LEAD}/favourite").json() == {"domain": "alfa-insaat.com.tr", "favourite": True}
    assert sales.put(f"{LEAD}/favourite").status_code == 200  # idempotent
    assert detail(sales)["favourite"] is True
    other = bearer_client_for("viewer", username="viewer-2")
    assert detail(other)["favourite"] is False
    assert sales.delete(f"{LEAD}/favourite").json()["favourite"] is False
    assert sales.delete(f"{LEAD}/favourite").status_code == 200
    assert detail(sales)["favourite"] is False
    assert sales.put("/api/v1/leads/yok.com.tr/favourite").status_code == 404


def test_viewer_cannot_write(viewer: TestClient, sales: TestClient, leads: LeadSet) -> None:
    note = sales.post(f"{LEAD}/notes", json={"body": "x"}).json()
    for method, path, body in (
        ("POST", f"{LEAD}/notes", {"body": "x"}),
        ("DELETE", f"/api/v1/notes/{note['id']}", None),
        ("PUT", f"{LEAD}/tags/hot", None),
        ("DELETE", f"{LEAD}/tags/hot", None),
        ("PUT", f"{LEAD}/favourite", None),
        ("DELETE", f"{LEAD}/favourite", None),
    ):
        response = viewer.request(method, path, json=body)
        assert response.status_code == 403, (method, path)
        assert "'write' scope" in response.json()["detail"]
    assert detail(viewer)["notes"][0]["body"] == "x"


def test_cookie_session_writes_need_the_csrf_token(sales_client: TestClient, leads: LeadSet) -> None:
    assert sales_client.put(f"{LEAD}/tags/csrf-ok").status_code == 201
    token = sales_client.headers.pop("X-CSRF-Token")
    refused = sales_client.put(f"{LEAD}/tags/csrf-missing")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    sales_client.headers["X-CSRF-Token"] = token
