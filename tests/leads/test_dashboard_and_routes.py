"""GET /api/v1/dashboard counts, and that no static path is shadowed by a ``{domain}`` route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from leads_data import DEFAULT_ORDER, LeadSet

from hunter.api.exports import brief_pdf, export_csv, export_xlsx
from hunter.api.routes_leads import get_lead
from hunter.store.leads import dashboard_counts


def test_dashboard_counts(viewer: TestClient, leads: LeadSet) -> None:
    response = viewer.get("/api/v1/dashboard")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(DEFAULT_ORDER)
    assert body["by_priority"] == {"P1": 2, "P2": 1, "P3": 1, "P4": 1, "P6": 1, "none": 2}
    assert list(body["by_priority"]) == ["P1", "P2", "P3", "P4", "P6", "none"]
    assert body["by_segment"] == {"Migration": 3, "Existing": 2, "Skip": 1, "none": 2}
    assert body["by_platform"] == {
        "m365": 2,
        "google": 1,
        "hosting": 1,
        "none": 1,
        "self_hosted": 1,
    }
    assert body["by_gateway"] == {"none": 7, "proofpoint": 1}
    assert body["by_status"] == {"complete": 6, "needs_rescan": 1, "not_scanned": 1}
    tags = body["top_tags"]
    assert tags["no-dmarc"] == 2
    assert tags["security-risk"] == 2
    assert tags["m365"] == 2
    assert tags["sicak"] == 1  # a user tag of an unscanned lead counts too
    assert list(tags)[:3] == ["m365", "no-dmarc", "security-risk"]  # by count, then name


def test_dashboard_takes_the_list_filters(viewer: TestClient, leads: LeadSet) -> None:
    body = viewer.get("/api/v1/dashboard", params={"q": "istanbul"}).json()
    assert body["total"] == 2
    assert body["by_priority"] == {"P1": 1, "P3": 1}
    assert body["top_tags"] == {
        "no-dmarc": 2,
        "security-risk": 2,
        "behind-gateway": 1,
        "local-hosting": 1,
        "m365": 1,
    }


def test_a_user_tag_is_counted_once_per_company(sales: TestClient, leads: LeadSet, db: object) -> None:
    sales.put("/api/v1/leads/alfa-insaat.com.tr/tags/no-dmarc")  # also an engine tag there
    assert sales.get("/api/v1/dashboard").json()["top_tags"]["no-dmarc"] == 2


def test_dashboard_of_an_empty_database(viewer: TestClient, db: object) -> None:
    body = viewer.get("/api/v1/dashboard").json()
    assert body["total"] == 0
    assert body["by_status"] == {"complete": 0, "needs_rescan": 0, "not_scanned": 0}
    assert body["top_tags"] == {}


def test_dashboard_function_matches_the_endpoint(viewer: TestClient, leads: LeadSet, db: object) -> None:
    with db.session() as session:  # type: ignore[attr-defined]
        direct = dashboard_counts(session)
    assert viewer.get("/api/v1/dashboard").json() == direct


class _RouteRecorder:
    """ASGI wrapper that remembers which route the app dispatched a request to."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.route: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.route = scope.get("route")


def _static_api_gets(app: FastAPI) -> list[tuple[str, Any]]:
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    found = []
    for ctx in walk(app.routes) if walk else app.routes:
        route = getattr(ctx, "original_route", ctx)
        path = ctx.path
        static_api = path.startswith("/api/v1/") and "{" not in path
        if isinstance(route, APIRoute) and "GET" in (ctx.methods or ()) and static_api:
            found.append((path, route.endpoint))
    return found


def _dispatched(recorder: _RouteRecorder, client: TestClient, path: str) -> Any:
    recorder.route = None
    client.get(path)
    return recorder.route


def test_static_paths_are_not_shadowed(app: FastAPI, token_for: Callable[..., str]) -> None:
    """Every parameter-free API path reaches its own route, never a ``/leads/{domain}``-style one."""
    recorder = _RouteRecorder(app)
    statics = _static_api_gets(app)
    assert {"/api/v1/leads", "/api/v1/exports/leads.csv", "/api/v1/dashboard"} <= {p for p, _ in statics}
    with TestClient(recorder, base_url="http://localhost") as client:
        client.headers["Authorization"] = f"Bearer {token_for('admin')}"
        for path, endpoint in statics:
            route = _dispatched(recorder, client, path)
            assert route is not None, path
            assert route.endpoint is endpoint, f"{path} is shadowed by {route.path}"
        expectations = {
            "/api/v1/leads/firma.com.tr": get_lead,
            "/api/v1/leads/export": get_lead,
            "/api/v1/leads/firma.com.tr/brief.pdf": brief_pdf,
            "/api/v1/exports/leads.csv": export_csv,
            "/api/v1/exports/leads.xlsx": export_xlsx,
        }
        for path, endpoint in expectations.items():
            assert _dispatched(recorder, client, path).endpoint is endpoint, path


def test_export_paths_answer_exports_not_a_lead(sales: TestClient, leads: LeadSet) -> None:
    assert sales.get("/api/v1/exports/leads.csv").headers["content-type"].startswith("text/csv")
    # A lead called "export" (or anything) stays a lead lookup.
    assert sales.get("/api/v1/leads/export").status_code == 404


def test_openapi_documents_the_new_endpoints(admin: TestClient) -> None:
    paths = admin.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/leads",
        "/api/v1/leads/{domain}",
        "/api/v1/leads/{domain}/notes",
        "/api/v1/notes/{note_id}",
        "/api/v1/leads/{domain}/tags/{tag}",
        "/api/v1/leads/{domain}/favourite",
        "/api/v1/leads/{domain}/brief.pdf",
        "/api/v1/exports/leads.csv",
        "/api/v1/exports/leads.xlsx",
        "/api/v1/dashboard",
        "/api/v1/alerts",
        "/api/v1/alerts/{alert_id}/acknowledge",
        "/api/v1/alert-channels",
        "/api/v1/alert-channels/{channel_id}",
    ):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/v1/leads"]["get"]["parameters"]}
    assert {"priority", "segment", "tags", "tags_mode", "score_min", "q", "sort", "page_size"} <= params
    assert {"referral_status", "crm_status"} <= params
