"""Every route needs sign-in except a short allow-list, enforced by walking the live route table.

The walk covers every APIRoute, plain Route and Mount FastAPI reports (however routers nest), and
checks four things, so a route added without protection fails here rather than in production:

1. its router carries one of the auth dependencies (protection is not per-route discipline);
2. an anonymous request gets 401 problem+json (API) or a redirect to /login (pages);
3. an unsafe method with a read-only token gets 403 (the scope check is wired);
4. an unsafe method with a session cookie but no CSRF token gets 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from hunter.auth import dependencies as auth_deps
from hunter.auth.dependencies import authenticated, authorize, manage_own_tokens, require_admin

PUBLIC = {
    ("GET", "/healthz/live"),
    ("GET", "/healthz/ready"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/api/v1/auth/token"),
}
PUBLIC_MOUNTS = {"/static"}
OWN_TOKEN = {"/metrics"}  # public to the session layer; guarded by HUNTER_METRICS_TOKEN instead
VIEWER_MAY = {("POST", "/logout")}
AUTH_DEPENDENCIES = {authenticated, authorize, require_admin, manage_own_tokens}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Endpoint:
    kind: str  # api | route | mount | websocket
    method: str
    path: str
    router_dependencies: tuple[Any, ...] = ()

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", "1", self.path)

    @property
    def public(self) -> bool:
        if self.kind == "mount":
            return self.path in PUBLIC_MOUNTS
        return (self.method, self.path) in PUBLIC or self.path in OWN_TOKEN

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.kind})"


def _contexts(app: FastAPI) -> Iterator[Any]:
    # FastAPI ≥ 0.137 keeps included routers as opaque entries in app.routes; older releases
    # flattened them. iter_route_contexts sees through the nesting with prefixes applied.
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    yield from (walk(app.routes) if walk else app.routes)


def endpoints(app: FastAPI) -> list[Endpoint]:
    found: list[Endpoint] = []
    for ctx in _contexts(app):
        route = getattr(ctx, "original_route", ctx)
        path = ctx.path
        if isinstance(route, Mount):
            found.append(Endpoint("mount", "GET", path))
        elif isinstance(route, WebSocketRoute):
            found.append(Endpoint("websocket", "WEBSOCKET", path))
        elif isinstance(route, APIRoute):
            deps = tuple(d.dependency for d in (ctx.dependencies or []))
            found.extend(Endpoint("api", m, path, deps) for m in sorted(ctx.methods or ()))
        elif isinstance(route, Route):
            found.extend(Endpoint("route", m, path) for m in sorted(ctx.methods or ()) if m != "HEAD")
        else:  # pragma: no cover - a route type this walk does not know must not pass silently
            found.append(Endpoint(type(route).__name__, "?", str(path)))
    return found


def missing_router_dependencies(app: FastAPI) -> list[str]:
    problems = []
    for ep in endpoints(app):
        if ep.public or ep.kind in ("mount", "websocket"):
            continue
        if ep.kind != "api" or not AUTH_DEPENDENCIES.intersection(ep.router_dependencies):
            problems.append(f"{ep}: its router has no auth dependency")
    return problems


def anonymous_problems(client: TestClient, app: FastAPI) -> list[str]:
    problems = []
    for ep in endpoints(app):
        if ep.kind == "mount":
            if ep.public:
                continue
            response = client.get(ep.url.rstrip("/") + "/probe", follow_redirects=False)
        elif ep.kind == "websocket":
            try:
                with client.websocket_connect(ep.url):
                    problems.append(f"{ep}: accepted without credentials")
            except Exception:
                pass
            continue
        elif ep.path in OWN_TOKEN:
            response = client.request(ep.method, ep.url, follow_redirects=False)
            if response.status_code not in (401, 404):
                problems.append(f"{ep}: {response.status_code} without the metrics token")
            continue
        elif ep.public:
            continue
        else:
            page = ep.method == "GET" and not ep.path.startswith("/api/")
            headers = {"accept": "text/html"} if page else {}
            response = client.request(ep.method, ep.url, headers=headers, follow_redirects=False)
            if page:
                if response.status_code != 303 or not response.headers.get("location", "").startswith(
                    "/login"
                ):
                    problems.append(f"{ep}: {response.status_code}, not a redirect to /login")
                continue
        if response.status_code != 401:
            problems.append(f"{ep}: {response.status_code} without credentials")
        elif not response.headers.get("content-type", "").startswith("application/problem+json"):
            problems.append(f"{ep}: 401 is not problem+json")
    return problems


def unsafe_problems(
    client: TestClient, app: FastAPI, *, expect: str, exempt: set[tuple[str, str]]
) -> list[str]:
    problems = []
    for ep in endpoints(app):
        if ep.method not in UNSAFE or ep.public or (ep.method, ep.path) in exempt:
            continue
        response = client.request(ep.method, ep.url, follow_redirects=False)
        if response.status_code != 403 or expect not in response.text:
            problems.append(f"{ep}: {response.status_code} {response.text[:80]}")
    return problems


def test_the_walk_sees_every_route(app: FastAPI) -> None:
    walked = {ep.path for ep in endpoints(app)}
    assert set(app.openapi()["paths"]) <= walked
    assert {"/", "/docs", "/openapi.json", "/logout", "/api/v1/users", "/api/v1/companies"} <= walked
    assert len(walked) >= 15


def test_every_route_is_behind_a_router_dependency(app: FastAPI) -> None:
    assert missing_router_dependencies(app) == []


def test_anonymous_requests_are_refused(app: FastAPI, anon_client: TestClient) -> None:
    assert anonymous_problems(anon_client, app) == []


def test_read_only_tokens_cannot_change_anything(
    app: FastAPI, bearer_client_for: Callable[..., TestClient]
) -> None:
    client = bearer_client_for("viewer", ["read"])
    assert unsafe_problems(client, app, expect="scope", exempt=VIEWER_MAY) == []


def test_cookie_requests_without_csrf_token_are_refused(
    app: FastAPI, client_for: Callable[..., TestClient]
) -> None:
    client = client_for("admin")
    del client.headers["X-CSRF-Token"]
    assert unsafe_problems(client, app, expect="CSRF", exempt=set()) == []


def test_public_endpoints_answer_without_credentials(anon_client: TestClient) -> None:
    assert anon_client.get("/healthz/live").status_code == 200
    assert anon_client.get("/healthz/ready").status_code == 200
    assert anon_client.get("/login").status_code == 200
    token = anon_client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"})
    assert token.status_code == 401  # reached the endpoint: wrong password, not "sign in first"
    assert anon_client.get("/metrics").status_code in (401, 404)


def test_the_walk_catches_unprotected_additions(
    app: FastAPI,
    anon_client: TestClient,
    bearer_client_for: Callable[..., TestClient],
    client_for: Callable[..., TestClient],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    def handler() -> dict[str, str]:
        return {"ok": "yes"}

    careless = APIRouter()
    careless.add_api_route("/api/v1/peek", handler, methods=["GET"])
    careless.add_api_route("/api/v1/oops", handler, methods=["POST"])
    app.include_router(careless)
    app.add_route("/plain", lambda request: PlainTextResponse("hi"))
    app.mount("/files", StaticFiles(directory=tmp_path))
    # Someone also widens the public list by hand.
    monkeypatch.setattr(auth_deps, "PUBLIC_PATHS", auth_deps.PUBLIC_PATHS | {"/api/v1/peek"})

    missing = missing_router_dependencies(app)
    assert any("/api/v1/peek" in p for p in missing)
    assert any("/api/v1/oops" in p for p in missing)
    assert any("/plain" in p for p in missing)
    anonymous = anonymous_problems(anon_client, app)
    assert any("/api/v1/peek" in p for p in anonymous)
    assert not any("/files" in p for p in anonymous)  # the middleware still guards mounts
    viewer = bearer_client_for("viewer", ["read"])
    assert any("/api/v1/oops" in p for p in unsafe_problems(viewer, app, expect="scope", exempt=VIEWER_MAY))
    admin = client_for("admin")
    del admin.headers["X-CSRF-Token"]
    assert any("/api/v1/oops" in p for p in unsafe_problems(admin, app, expect="CSRF", exempt=set()))
