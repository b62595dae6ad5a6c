"""The jobs API over HTTP, signed in with real tokens, on SQLite and PostgreSQL.

The router is mounted here the way the app mounts it (``/api/v1``, router-level ``authorize``)
unless the app already includes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from jobs_support import lead as _lead
from sqlalchemy import select

from hunter.api.app import create_app
from hunter.api.routes_jobs import router
from hunter.auth import passwords
from hunter.auth.dependencies import authorize
from hunter.auth.testing import create_test_user, fast_hasher, issue_token
from hunter.config import Settings, get_settings
from hunter.jobs.service import run_chunk
from hunter.store.db import Database
from hunter.store.models import JobChunk

LOCAL = "http://localhost"


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", fast_hasher())


@pytest.fixture
def app(db: Database) -> FastAPI:
    app = create_app(get_settings(), db)
    if not any(getattr(r, "path", "") == "/api/v1/jobs" for r in app.routes):
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(authorize)])
    return app


@pytest.fixture
def client_for(app: FastAPI, db: Database) -> Callable[..., TestClient]:
    def make(role: str = "sales", scopes: list[str] | None = None) -> TestClient:
        user = create_test_user(db, role)
        client = TestClient(app, base_url=LOCAL)
        client.headers["Authorization"] = f"Bearer {issue_token(db, user.username, scopes)}"
        return client

    return make


@pytest.fixture
def client(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for("sales")


def _items(db: Database, job_id: int) -> list[Any]:
    with db.session() as session:
        payloads = session.scalars(
            select(JobChunk.payload).where(JobChunk.job_id == job_id).order_by(JobChunk.seq)
        )
        return [item for payload in payloads for item in payload["items"]]


def test_bulk_scan_of_domains(client: TestClient, db: Database) -> None:
    response = client.post(
        "/api/v1/scans/bulk",
        json={
            "domains": ["Örnek-Tekstil.com.tr", "https://www.acme.com/contact", "acme.com", "not a domain"]
        },
    )
    assert response.status_code == 202, response.text
    doc = response.json()
    job = doc["job"]
    assert (job["kind"], job["state"], job["total"], job["progress"]) == ("bulk_scan", "queued", 2, 0.0)
    assert job["created_by_username"] == "sales"
    assert [r["value"] for r in doc["rejected"]] == ["not a domain"]
    assert response.headers["location"] == f"{LOCAL}/api/v1/jobs/{job['id']}"
    assert _items(db, job["id"]) == ["xn--rnek-tekstil-3ib.com.tr", "acme.com"]

    detail = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert detail["chunks"]["pending"] == 1
    assert detail["errors"] == []
    assert detail["params"] == {"source": "api"}


@pytest.mark.parametrize(
    "body",
    [{}, {"domains": ["a.com"], "company_ids": [1]}, {"domains": ["???"]}, {"priorities": ["P9"]}],
)
def test_bulk_scan_refuses_bad_requests(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/api/v1/scans/bulk", json=body).status_code == 422


def test_bulk_scan_by_priority_and_ids(client: TestClient, db: Database) -> None:
    p1 = _lead(db, "p1.com.tr", "P1", days_ago=1)
    _lead(db, "p4.com.tr", "P4", days_ago=1)
    broken = _lead(db, "broken.com.tr", None, days_ago=1, complete=False)
    by_priority = client.post("/api/v1/scans/bulk", json={"priorities": ["P1", "incomplete"]}).json()["job"]
    assert sorted(_items(db, by_priority["id"])) == ["broken.com.tr", "p1.com.tr"]
    by_ids = client.post("/api/v1/scans/bulk", json={"company_ids": [p1, broken, 999]}).json()["job"]
    assert by_ids["total"] == 2


def test_rescans_by_age_and_by_schedule(client: TestClient, db: Database) -> None:
    _lead(db, "fresh-p1.com.tr", "P1", days_ago=2)
    _lead(db, "old-p1.com.tr", "P1", days_ago=9)
    _lead(db, "old-p5.com.tr", "P5", days_ago=9)
    _lead(db, "ancient-p5.com.tr", "P5", days_ago=40)
    _lead(db, "failed.com.tr", None, days_ago=2, complete=False)

    response = client.post("/api/v1/rescans", json={"priorities": ["P1", "P5"], "older_than_days": 5})
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert job["kind"] == "rescan"
    # Highest priority first, then the oldest scan first.
    assert _items(db, job["id"]) == ["old-p1.com.tr", "ancient-p5.com.tr", "old-p5.com.tr"]

    # The default schedule: P1–P3 weekly, P4–P6 monthly, incomplete daily.
    scheduled = client.post("/api/v1/rescans", json={}).json()["job"]
    assert _items(db, scheduled["id"]) == ["old-p1.com.tr", "ancient-p5.com.tr", "failed.com.tr"]
    assert scheduled["params"]["schedule"].startswith("P1=7d")

    limited = client.post("/api/v1/rescans", json={"older_than_days": 1, "limit": 2}).json()["job"]
    assert limited["total"] == 2


def test_reevaluate(client: TestClient, db: Database) -> None:
    ids = [_lead(db, f"lead{n}.com.tr", "P2", days_ago=1) for n in range(3)]
    everything = client.post("/api/v1/reevaluate", json={}).json()["job"]
    assert (everything["kind"], everything["total"], everything["params"]["scope"]) == (
        "reevaluate",
        3,
        "all",
    )
    some = client.post("/api/v1/reevaluate", json={"company_ids": ids[:1]}).json()["job"]
    assert _items(db, some["id"]) == ids[:1]


def test_list_filter_and_cancel(client: TestClient) -> None:
    first = client.post("/api/v1/scans/bulk", json={"domains": ["a.com", "b.com"], "chunk_size": 1}).json()[
        "job"
    ]
    second = client.post("/api/v1/reevaluate", json={}).json()["job"]  # nothing to do: done at once
    page = client.get("/api/v1/jobs").json()
    assert page["total"] == 2
    assert [j["id"] for j in page["items"]] == [second["id"], first["id"]]
    assert [j["id"] for j in client.get("/api/v1/jobs", params={"state": "queued"}).json()["items"]] == [
        first["id"]
    ]
    assert client.get("/api/v1/jobs", params={"kind": ["reevaluate", "rescan"]}).json()["total"] == 1
    assert client.get("/api/v1/jobs", params={"state": "sleeping"}).status_code == 422

    cancelled = client.post(f"/api/v1/jobs/{first['id']}/cancel")
    assert cancelled.status_code == 202
    detail = cancelled.json()
    assert (detail["state"], detail["outcome"], detail["skipped"], detail["progress"]) == (
        "cancelled",
        "cancelled",
        2,
        100.0,
    )
    assert detail["chunks"]["cancelled"] == 2
    assert client.post(f"/api/v1/jobs/{first['id']}/cancel").status_code == 409
    assert client.post("/api/v1/jobs/9999/cancel").status_code == 404
    assert client.get("/api/v1/jobs/9999").status_code == 404


def test_reading_needs_read_and_starting_needs_write(
    client_for: Callable[..., TestClient], app: FastAPI
) -> None:
    viewer = client_for("viewer")
    assert viewer.get("/api/v1/jobs").status_code == 200
    assert viewer.post("/api/v1/scans/bulk", json={"domains": ["a.com"]}).status_code == 403
    assert TestClient(app, base_url=LOCAL).get("/api/v1/jobs").status_code == 401


def test_a_job_started_over_http_runs_to_the_end(
    client: TestClient, db: Database, make_settings: Callable[..., Settings], world_domains: list[str]
) -> None:
    job = client.post("/api/v1/scans/bulk", json={"domains": world_domains[:30], "chunk_size": 20}).json()[
        "job"
    ]
    with db.session() as session:
        chunk_ids = list(session.scalars(select(JobChunk.id).where(JobChunk.job_id == job["id"])))
    settings = make_settings()
    for chunk_id in chunk_ids:
        assert run_chunk(db, settings, chunk_id, "test-worker").state == "done"
    detail = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert (detail["state"], detail["outcome"], detail["done"], detail["progress"]) == (
        "done",
        "complete",
        30,
        100.0,
    )
    assert detail["chunks"] == {
        "pending": 0,
        "running": 0,
        "done": 2,
        "failed": 0,
        "cancelled": 0,
        "total": 2,
        "attempts": 2,
    }
    assert detail["result"]["complete"] + detail["result"]["incomplete"] == 30
    assert detail["rate_per_second"] > 0
