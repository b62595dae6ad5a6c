"""ASGI middleware: who is calling (API token or session cookie), and no entry without it.

It runs before any body is read, so an anonymous client cannot make the app parse (or spool to
disk) an upload. It sets ``request.state.principal``, ``request.state.user`` (a ``CurrentUser``
or None, for templates) and ``request.state.csrf_token`` on every request. What a caller may do
is decided by the router dependencies in ``hunter.auth.dependencies``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from hunter.auth.dependencies import is_public, route_path, unauthenticated_response
from hunter.auth.principal import Principal
from hunter.auth.sessions import SESSION_COOKIE, csrf_for_session, decode_session
from hunter.auth.tokens import resolve_api_token, resolve_session
from hunter.config import Settings
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.types import utcnow

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Resolution:
    principal: Principal | None = None
    bad_token: bool = False
    bad_cookie: bool = False


async def resolve_credentials(conn: HTTPConnection, settings: Settings, db: Database) -> Resolution:
    authorization = conn.headers.get("authorization")
    if authorization:
        # Explicit credentials decide alone: a bad token is refused even next to a good cookie.
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Resolution(bad_token=True)
        principal = await run_in_threadpool(resolve_api_token, db, token.strip(), now=utcnow())
        return Resolution(principal, bad_token=principal is None)
    cookie = conn.cookies.get(SESSION_COOKIE)
    if not cookie:
        return Resolution()
    decoded = decode_session(settings, cookie)
    if decoded is None:
        return Resolution(bad_cookie=True)
    user_id, session_id, nonce = decoded
    principal = await run_in_threadpool(
        resolve_session,
        db,
        user_id,
        session_id,
        nonce,
        now=utcnow(),
        csrf_token=csrf_for_session(settings, session_id, nonce),
    )
    return Resolution(principal, bad_cookie=principal is None)


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        state = scope.setdefault("state", {})
        state.update(principal=None, user=None, csrf_token=None)
        public = is_public(route_path(scope))
        settings: Settings = conn.app.state.settings
        db: Database = conn.app.state.db
        if public:
            # Health checks must answer even when the database is down and a stale cookie is sent.
            try:
                resolution = await resolve_credentials(conn, settings, db)
            except Exception as exc:
                log.warning("credentials not checked on a public path", error=str(exc))
                resolution = Resolution()
        else:
            resolution = await resolve_credentials(conn, settings, db)
        principal = resolution.principal
        if principal is not None:
            state.update(principal=principal, user=principal.user, csrf_token=principal.csrf_token)
        if public or principal is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = unauthenticated_response(
            conn, invalid_token=resolution.bad_token, clear_session=resolution.bad_cookie
        )
        await response(scope, receive, send)
