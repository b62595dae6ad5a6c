"""FastAPI dependencies that authorise requests, and the 401 answer (problem+json or sign-in redirect).

Wiring: ``AuthMiddleware`` works out who is calling (and turns away anonymous callers before a
body is read); these dependencies, attached to whole routers, decide what the caller may do:

* ``authenticated`` — a principal is required; cookie-authenticated unsafe requests must carry
  the CSRF token. Bearer-token requests need none: a browser never adds the header by itself.
* ``authorize``     — plus the scope the HTTP method needs (GET → read, anything else → write).
* ``require_admin`` — plus the ``admin`` scope.
* ``manage_own_tokens`` — a web session of any role, or a token with the ``admin`` scope
  (a leaked read or write token must not be able to mint more tokens).
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response

from hunter.auth.principal import Principal
from hunter.auth.roles import SAFE_METHODS, Scope, required_scope
from hunter.auth.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, clear_cookie, tokens_match

PUBLIC_PATHS: Final = frozenset(
    {"/healthz/live", "/healthz/ready", "/login", "/api/v1/auth/token", "/metrics"}
)
PUBLIC_PREFIXES: Final = ("/static/",)

# Declared for OpenAPI only (the "Authorize" button in /docs); the middleware does the work.
bearer_scheme = HTTPBearer(auto_error=False, description="An API token: `hnt_<prefix>_<secret>`.")
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="Web session; unsafe methods need X-CSRF-Token."
)


def route_path(scope: Any) -> str:
    """The path inside the app, without a proxy's path prefix (``root_path``)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "") or ""
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def wants_html(conn: HTTPConnection) -> bool:
    """A browser navigating to a page (not the API, not an htmx fragment request)."""
    path = route_path(conn.scope)
    # A public path that refuses (e.g. /metrics without its token) gains nothing from /login.
    if conn.scope.get("method", "GET") not in ("GET", "HEAD") or path.startswith("/api/") or is_public(path):
        return False
    if conn.headers.get("hx-request"):
        return False
    return "text/html" in conn.headers.get("accept", "")


def login_url(conn: HTTPConnection, *, back: bool = True) -> str:
    root = (conn.scope.get("root_path") or "").rstrip("/")
    if not back:
        return f"{root}/login"
    target = route_path(conn.scope)
    if conn.url.query:
        target += f"?{conn.url.query}"
    return f"{root}/login?next={quote(target, safe='')}"


def problem_response(
    status: int, title: str, detail: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def unauthenticated_response(
    conn: HTTPConnection,
    detail: str | None = None,
    *,
    invalid_token: bool = False,
    clear_session: bool = False,
) -> Response:
    response: Response
    if wants_html(conn):
        response = RedirectResponse(login_url(conn), status_code=303)
    else:
        challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
        headers = {"WWW-Authenticate": challenge}
        if conn.headers.get("hx-request"):
            headers["HX-Redirect"] = login_url(conn, back=False)
        default = "The token is invalid, expired or revoked." if invalid_token else "Sign in or send a token."
        response = problem_response(401, "Unauthorized", detail or default, headers)
    if clear_session:
        clear_cookie(response, conn, conn.app.state.settings, SESSION_COOKIE)
    return response


def current_principal(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)


async def _csrf_token_of(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # Starlette caches the parsed form, so the endpoint's own Form/File fields reuse it.
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def authenticated(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    _cookie: Annotated[str | None, Security(cookie_scheme)],
) -> Principal:
    principal = current_principal(request)
    if principal is None:
        raise HTTPException(401, "Sign in or send a token.")
    unsafe_via_cookie = principal.via == "session" and request.method not in SAFE_METHODS
    if unsafe_via_cookie and not tokens_match(principal.csrf_token, await _csrf_token_of(request)):
        raise HTTPException(
            403, f"CSRF token missing or invalid: send it as the {CSRF_HEADER} header or {CSRF_FIELD} field."
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticated)]


def _require(principal: Principal, scope: Scope) -> Principal:
    if not principal.has(scope):
        via = "token" if principal.via == "token" else f"role {principal.user.role!r}"
        raise HTTPException(403, f"This needs the {scope.value!r} scope, which your {via} does not have.")
    return principal


async def authorize(request: Request, principal: PrincipalDep) -> Principal:
    return _require(principal, required_scope(request.method))


async def require_admin(principal: PrincipalDep) -> Principal:
    return _require(principal, Scope.ADMIN)


async def manage_own_tokens(principal: PrincipalDep) -> Principal:
    if principal.via == "session":
        return principal
    return _require(principal, Scope.ADMIN)


def require_metrics_token(request: Request) -> None:
    """For the /metrics endpoint: ``Authorization: Bearer <HUNTER_METRICS_TOKEN>``; 404 when unset."""
    expected = request.app.state.settings.metrics_token.get_secret_value()
    if not expected:
        raise HTTPException(404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not tokens_match(expected, given.strip()):
        raise HTTPException(401, "Send the metrics token.", headers={"WWW-Authenticate": "Bearer"})
