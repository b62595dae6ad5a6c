"""Roles: viewer reads, sales also writes, admin also manages users; audit rows for user changes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from hunter.auth.testing import create_test_user
from hunter.imports import sample_path
from hunter.store.db import Database
from hunter.store.models import AuditEntry, ImportRecord


def _upload(client: TestClient) -> int:
    path = sample_path("csv")
    with path.open("rb") as fh:
        response = client.post("/api/v1/imports", files={"file": (path.name, fh)})
    return response.status_code


def test_viewer_reads_but_cannot_import(viewer_client: TestClient) -> None:
    assert viewer_client.get("/api/v1/companies").status_code == 200
    assert viewer_client.get("/docs").status_code == 200
    assert viewer_client.get("/openapi.json").status_code == 200
    assert _upload(viewer_client) == 403
    response = viewer_client.post("/api/v1/scans", json={"domain": "example.com"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_sales_imports_and_the_audit_row_names_them(db: Database, sales_client: TestClient) -> None:
    path = sample_path("csv")
    with path.open("rb") as fh:
        preview = sales_client.post("/api/v1/imports", files={"file": (path.name, fh)}).json()
    commit = sales_client.post(f"/api/v1/imports/{preview['import_id']}/commit", json={})
    assert commit.status_code == 200
    me = sales_client.get("/api/v1/auth/me").json()
    with db.session() as session:
        assert session.get(ImportRecord, preview["import_id"]).created_by == me["id"]  # type: ignore[union-attr]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).one()
        assert entry.user_id == me["id"]


def test_sales_cannot_manage_users(sales_client: TestClient) -> None:
    assert sales_client.get("/api/v1/users").status_code == 403
    created = sales_client.post(
        "/api/v1/users", json={"username": "x", "password": "long enough pass", "role": "admin"}
    )
    assert created.status_code == 403
    assert sales_client.patch("/api/v1/users/1", json={"role": "admin"}).status_code == 403


def test_admin_manages_users_with_audit_rows(db: Database, admin_client: TestClient) -> None:
    created = admin_client.post(
        "/api/v1/users", json={"username": "Zeynep", "password": "long enough pass", "role": "sales"}
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["username"], user["role"], user["active"]) == ("zeynep", "sales", True)
    assert "password" not in str(user)

    duplicate = admin_client.post(
        "/api/v1/users", json={"username": "zeynep", "password": "long enough pass"}
    )
    assert duplicate.status_code == 409
    weak = admin_client.post("/api/v1/users", json={"username": "kemal", "password": "short"})
    assert weak.status_code == 422
    assert "10 characters" in weak.json()["detail"]
    bad_role = admin_client.post(
        "/api/v1/users", json={"username": "kemal", "password": "long enough pass", "role": "root"}
    )
    assert bad_role.status_code == 422

    assert (
        admin_client.patch(f"/api/v1/users/{user['id']}", json={"role": "viewer"}).json()["role"] == "viewer"
    )
    assert admin_client.patch(f"/api/v1/users/{user['id']}", json={"active": False}).json()["active"] is False
    assert admin_client.patch("/api/v1/users/999999", json={"active": False}).status_code == 404
    names = [u["username"] for u in admin_client.get("/api/v1/users").json()]
    assert names == ["admin", "zeynep"]

    admin_id = admin_client.get("/api/v1/auth/me").json()["id"]
    with db.session() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    rows = [(e.action, e.target, e.user_id) for e in entries]
    assert ("user.create", "zeynep", admin_id) in rows
    assert ("user.role", "zeynep", admin_id) in rows
    assert ("user.deactivate", "zeynep", admin_id) in rows
    role_change = next(e for e in entries if e.action == "user.role")
    assert role_change.details == {"old": "sales", "new": "viewer"}


def test_the_last_admin_cannot_be_removed(db: Database, admin_client: TestClient) -> None:
    me = admin_client.get("/api/v1/auth/me").json()
    response = admin_client.patch(f"/api/v1/users/{me['id']}", json={"role": "sales"})
    assert response.status_code == 409
    assert admin_client.patch(f"/api/v1/users/{me['id']}", json={"active": False}).status_code == 409
    create_test_user(db, "admin", "second")
    assert admin_client.patch(f"/api/v1/users/{me['id']}", json={"role": "sales"}).status_code == 200
    # Demoted now: the same session lost the admin scope on its very next request.
    assert admin_client.get("/api/v1/users").status_code == 403


def test_admin_token_manages_users(bearer_client_for: Callable[..., TestClient]) -> None:
    assert bearer_client_for("admin").get("/api/v1/users").status_code == 200
    limited = bearer_client_for("admin", ["read", "write"], username="admin2")
    assert limited.get("/api/v1/users").status_code == 403
