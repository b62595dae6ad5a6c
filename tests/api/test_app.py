"""The HTTP surface of the foundation: health, import preview → commit, companies, the page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from hunter.api.app import create_app
from hunter.config import get_settings
from hunter.imports import sample_path
from hunter.store.db import Database


@pytest.fixture
def client(sales_client: TestClient) -> TestClient:
    """Signed in as a sales user: the least role that may import (see tests/api/conftest.py)."""
    return sales_client


def test_health(client: TestClient) -> None:
    assert client.get("/healthz/live").json() == {"status": "ok"}
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    assert "X-Request-ID" in ready.headers


def test_ready_fails_cleanly_when_database_is_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with TestClient(create_app(get_settings(), broken)) as c:
        response = c.get("/healthz/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text


def test_import_preview_then_commit(client: TestClient) -> None:
    path = sample_path("xlsx")
    with path.open("rb") as fh:
        response = client.post("/api/v1/imports", files={"file": (path.name, fh)})
    assert response.status_code == 201, response.text
    preview = response.json()
    assert preview["mapping"]["WEB SİTESİ"] == "website"
    assert preview["header_row"] == 4
    assert len(preview["rows"]) == 20
    assert "FİRMA ÜNVANI" in preview["header"]
    assert "website" in preview["roles"]

    # Nothing is written until the user commits.
    assert client.get("/api/v1/companies").json()["total"] == 0

    commit = client.post(f"/api/v1/imports/{preview['import_id']}/commit", json={})
    assert commit.status_code == 200, commit.text
    body = commit.json()
    assert body["created"] == 71
    assert any(r["reason"] == "no_domain" for r in body["rejected_rows"])

    page = client.get("/api/v1/companies", params={"q": "istanbul", "page_size": 5}).json()
    assert page["total"] > 0
    assert len(page["items"]) <= 5
    assert all(item["complete"] is None for item in page["items"])  # imported, not yet scanned


def test_commit_with_changed_mapping(client: TestClient) -> None:
    path = sample_path("csv")
    with path.open("rb") as fh:
        preview = client.post("/api/v1/imports", files={"file": (path.name, fh)}).json()
    commit = client.post(
        f"/api/v1/imports/{preview['import_id']}/commit",
        json={"mapping": {"WEB SİTESİ": "attribute", "E-POSTA": "email"}},
    )
    assert commit.status_code == 200
    assert 0 < commit.json()["created"] < 71
    bad = client.post(f"/api/v1/imports/{preview['import_id']}/commit", json={"mapping": {"X": "nope"}})
    assert bad.status_code == 422
    assert "unknown role" in bad.json()["detail"]


def test_bad_uploads(client: TestClient) -> None:
    response = client.post("/api/v1/imports", files={"file": ("list.xlsx", b"PK\x03\x04garbage")})
    assert response.status_code == 422
    assert response.json()["status"] == 422
    assert response.json()["detail"]
    empty = client.post("/api/v1/imports", files={"file": ("list.csv", b"")})
    assert empty.status_code == 422
    assert client.post("/api/v1/imports/999999/commit", json={}).status_code == 404


def test_upload_size_limit(
    db: Database, monkeypatch: pytest.MonkeyPatch, client_for: Callable[..., TestClient]
) -> None:
    monkeypatch.setenv("HUNTER_IMPORT_MAX_BYTES", "2048")
    get_settings.cache_clear()
    c = client_for("sales", app=create_app(get_settings(), db))
    response = c.post("/api/v1/imports", files={"file": ("big.csv", b"a;b\n" * 1000)})
    assert response.status_code == 413


def test_leads_page_renders(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "No leads yet" in response.text  # hunter.web's Leads screen, empty database
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Hunter"
