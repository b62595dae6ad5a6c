"""API tokens: the password exchange, the CLI, scopes, revocation, expiry, storage and listing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import Result

from hunter.auth.testing import DEFAULT_PASSWORD, create_test_user, issue_token
from hunter.auth.tokens import resolve_api_token
from hunter.config import get_settings
from hunter.store.db import Database
from hunter.store.models import ApiToken, AuditEntry
from hunter.store.types import utcnow

TOKEN_FORMAT = re.compile(r"^hnt_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_exchange_password_for_token(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "sales")
    response = anon_client.post(
        "/api/v1/auth/token", json={"username": "sales", "password": DEFAULT_PASSWORD, "name": "crm sync"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert TOKEN_FORMAT.match(body["token"])
    assert body["token"].startswith(f"hnt_{body['prefix']}_")
    assert body["scopes"] == ["read", "write"]  # all the sales role allows
    assert body["token_type"] == "bearer"
    assert body["expires_at"] is not None  # exchanged tokens expire (30 days by default)
    me = anon_client.get("/api/v1/auth/me", headers=_bearer(body["token"])).json()
    assert (me["username"], me["via"], me["csrf_token"]) == ("sales", "token", None)
    # Only a hash is stored, and the plain token is never shown again.
    with db.session() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.prefix == body["prefix"])).one()
        assert body["token"] not in row.token_hash
        assert len(row.token_hash) == 64
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "token.create")).one()
    listed = anon_client.get("/api/v1/tokens", headers=_bearer(body["token"]))
    assert listed.status_code == 403  # managing tokens with a token needs the admin scope


def test_exchange_refuses_wrong_password_and_foreign_scopes(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "viewer")
    wrong = anon_client.post("/api/v1/auth/token", json={"username": "viewer", "password": "wrong password"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    beyond = anon_client.post(
        "/api/v1/auth/token", json={"username": "viewer", "password": DEFAULT_PASSWORD, "scopes": ["write"]}
    )
    assert beyond.status_code == 403
    unknown = anon_client.post(
        "/api/v1/auth/token", json={"username": "viewer", "password": DEFAULT_PASSWORD, "scopes": ["root"]}
    )
    assert unknown.status_code == 422


def test_cli_token_works_on_the_api(
    db: Database, anon_client: TestClient, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Result]
) -> None:
    create_test_user(db, "admin")
    monkeypatch.setenv("HUNTER_DATABASE_URL", db.url)
    get_settings.cache_clear()
    result = run_cli("tokens", "create", "--username", "admin", "--name", "ci", "--scope", "read", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert TOKEN_FORMAT.match(doc["token"])
    assert doc["scopes"] == ["read"]
    assert anon_client.get("/api/v1/companies", headers=_bearer(doc["token"])).status_code == 200
    refused = anon_client.post("/api/v1/scans", json={"domain": "example.com"}, headers=_bearer(doc["token"]))
    assert refused.status_code == 403
    # Listing never shows secrets.
    listed = run_cli("tokens", "list", "--json")
    assert doc["prefix"] in listed.stdout
    assert doc["token"] not in listed.stdout
    revoked = run_cli("tokens", "revoke", doc["prefix"], "--json")
    assert revoked.exit_code == 0, revoked.output
    assert anon_client.get("/api/v1/companies", headers=_bearer(doc["token"])).status_code == 401


def test_read_token_cannot_post(bearer_client_for: Callable[..., TestClient]) -> None:
    client = bearer_client_for("admin", ["read"])
    assert client.get("/api/v1/companies").status_code == 200
    response = client.post("/api/v1/scans", json={"domain": "example.com"})
    assert response.status_code == 403
    assert "write" in response.json()["detail"]
    assert client.get("/api/v1/users").status_code == 403  # admin user, but not an admin-scoped token


def test_revoke_via_api(sales_client: TestClient, anon_client: TestClient) -> None:
    created = sales_client.post("/api/v1/tokens", json={"name": "laptop", "scopes": ["read"]}).json()
    assert anon_client.get("/api/v1/companies", headers=_bearer(created["token"])).status_code == 200
    assert [t["prefix"] for t in sales_client.get("/api/v1/tokens").json()] == [created["prefix"]]
    assert "token" not in sales_client.get("/api/v1/tokens").json()[0]
    assert sales_client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    response = anon_client.get("/api/v1/companies", headers=_bearer(created["token"]))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert sales_client.get("/api/v1/tokens").json()[0]["revoked_at"] is not None


def test_expired_token_is_401(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "sales")
    token = issue_token(db, "sales", expires_at=utcnow() + timedelta(hours=1))
    assert anon_client.get("/api/v1/companies", headers=_bearer(token)).status_code == 200
    with db.session() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert anon_client.get("/api/v1/companies", headers=_bearer(token)).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer hnt_abcdefgh_" + "x" * 43, "Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer "],
)
def test_bad_credentials_are_401(anon_client: TestClient, header: str) -> None:
    response = anon_client.get("/api/v1/companies", headers={"Authorization": header})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_token_does_not_work_with_another_secret(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "sales")
    token = issue_token(db, "sales")
    forged = token[:13] + ("A" if token[13] != "A" else "B") + token[14:]
    assert anon_client.get("/api/v1/companies", headers=_bearer(forged)).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(db: Database) -> None:
    create_test_user(db, "sales")
    token = issue_token(db, "sales")
    start = utcnow()

    def last_used() -> object:
        with db.session() as session:
            return session.scalars(select(ApiToken.last_used_at)).one()

    assert resolve_api_token(db, token, now=start) is not None
    assert last_used() == start
    assert resolve_api_token(db, token, now=start + timedelta(seconds=59)) is not None
    assert last_used() == start
    later = start + timedelta(seconds=61)
    assert resolve_api_token(db, token, now=later) is not None
    assert last_used() == later


def test_demotion_narrows_existing_tokens(
    db: Database, admin_client: TestClient, anon_client: TestClient
) -> None:
    user = create_test_user(db, "sales")
    token = issue_token(db, "sales")
    assert admin_client.patch(f"/api/v1/users/{user.id}", json={"role": "viewer"}).status_code == 200
    assert anon_client.get("/api/v1/companies", headers=_bearer(token)).status_code == 200
    response = anon_client.post("/api/v1/scans", json={"domain": "example.com"}, headers=_bearer(token))
    assert response.status_code == 403


def test_admin_sees_and_revokes_every_token(
    db: Database, admin_client: TestClient, sales_client: TestClient, viewer_client: TestClient
) -> None:
    mine = sales_client.post("/api/v1/tokens", json={"name": "sales token"}).json()
    theirs = viewer_client.post("/api/v1/tokens", json={"name": "viewer token"}).json()
    assert theirs["scopes"] == ["read"]
    assert {t["name"] for t in sales_client.get("/api/v1/tokens").json()} == {"sales token"}
    assert {t["username"] for t in admin_client.get("/api/v1/tokens").json()} == {"sales", "viewer"}
    # Someone else's token looks like a missing one.
    assert sales_client.delete(f"/api/v1/tokens/{theirs['id']}").status_code == 404
    assert admin_client.delete(f"/api/v1/tokens/{mine['id']}").status_code == 204
    with db.session() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("token.create") == 2
    assert actions.count("token.revoke") == 1
