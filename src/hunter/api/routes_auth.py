"""Sign-in and sign-out, the token exchange, users and API tokens, and the (protected) API docs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hunter.auth.dependencies import (
    PrincipalDep,
    authenticated,
    authorize,
    manage_own_tokens,
    problem_response,
    require_admin,
)
from hunter.auth.passwords import MAX_PASSWORD_LENGTH, WeakPassword
from hunter.auth.principal import CurrentUser
from hunter.auth.ratelimit import LoginThrottle
from hunter.auth.roles import Role, Scope, parse_scopes
from hunter.auth.sessions import (
    LOGIN_COOKIE,
    LOGIN_COOKIE_MAX_AGE,
    SESSION_COOKIE,
    clear_cookie,
    csrf_for_login,
    encode_session,
    new_login_secret,
    safe_next,
    set_cookie,
    tokens_match,
)
from hunter.auth.tokens import (
    create_api_token,
    create_session,
    get_api_token,
    list_api_tokens,
    revoke_api_token,
    revoke_session,
)
from hunter.auth.users import (
    LastAdmin,
    UserError,
    UserExists,
    authenticate,
    create_user,
    list_users,
    update_user,
)
from hunter.config import Settings
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.models import ApiToken, User
from hunter.store.types import utcnow

log = get_logger(__name__)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "web" / "templates"))


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def _throttle(request: Request) -> LoginThrottle:
    return request.app.state.login_throttle  # type: ignore[no-any-return]


def _client_ip(request: Request) -> str:
    # Behind a proxy this is the proxy unless uvicorn runs with --proxy-headers/--forwarded-allow-ips.
    return request.client.host if request.client else "unknown"


def _root(request: Request) -> str:
    return (request.scope.get("root_path") or "").rstrip("/")


async def _sign_in(request: Request, username: str, password: str) -> tuple[CurrentUser | None, int]:
    """The user, or None and a Retry-After (0 for a plain wrong password)."""
    attempt = await _throttle(request).attempt(username, _client_ip(request))
    if not attempt.allowed:
        log.warning("sign-in throttled", username=username[:150], ip=_client_ip(request))
        return None, attempt.retry_after
    user = await run_in_threadpool(authenticate, _db(request), username, password)
    if user is None:
        # Logged, not audited: failures are frequent and would drown the audit trail.
        log.warning("sign-in failed", username=username[:150], ip=_client_ip(request))
        return None, 0
    await _throttle(request).succeeded(attempt)
    return user, 0


def _expiry(days: int | None) -> datetime | None:
    return utcnow() + timedelta(days=days) if days else None


# --- sign-in page --------------------------------------------------------------------------------

login_router = APIRouter(include_in_schema=False)


def _render_login(
    request: Request,
    *,
    next_path: str,
    status: int = 200,
    error: str | None = None,
    username: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    settings = _settings(request)
    secret = request.cookies.get(LOGIN_COOKIE) or ""
    if not 20 <= len(secret) <= 64:
        secret = new_login_secret()
    response = TEMPLATES.TemplateResponse(
        request,
        "login.html",
        {
            "csrf_token": csrf_for_login(settings, secret),
            "next": next_path,
            "error": error,
            "username": username,
            "action": f"{_root(request)}/login",
        },
        status_code=status,
        headers=headers,
    )
    set_cookie(response, request, settings, LOGIN_COOKIE, secret, LOGIN_COOKIE_MAX_AGE)
    return response


@login_router.get("/login", response_class=HTMLResponse, name="login_form")
def login_form(request: Request, next_: Annotated[str | None, Query(alias="next")] = None) -> Response:
    target = safe_next(next_)
    if request.state.user is not None:
        return RedirectResponse(_root(request) + target, status_code=303)
    return _render_login(request, next_path=target)


@login_router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_: Annotated[str, Form(alias="next")] = "",
) -> Response:
    settings = _settings(request)
    target = safe_next(next_)
    username = username.strip()[:300]
    secret = request.cookies.get(LOGIN_COOKIE)
    if not secret or not tokens_match(csrf_for_login(settings, secret), csrf_token):
        return _render_login(
            request,
            next_path=target,
            status=403,
            error="The sign-in form expired. Please try again.",
            username=username,
        )
    if not username or not password:
        return _render_login(
            request,
            next_path=target,
            status=422,
            error="Enter your username and password.",
            username=username,
        )
    user, retry_after = await _sign_in(request, username, password)
    if retry_after:
        minutes = max(1, -(-retry_after // 60))
        return _render_login(
            request,
            next_path=target,
            status=429,
            error=f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            username=username,
            headers={"Retry-After": str(retry_after)},
        )
    if user is None:
        return _render_login(
            request, next_path=target, status=401, error="Wrong username or password.", username=username
        )
    lifetime = timedelta(seconds=settings.session_lifetime)
    db = _db(request)

    def start() -> Any:
        with db.session() as session:
            return create_session(session, user, now=utcnow(), lifetime=lifetime)

    new = await run_in_threadpool(start)
    response = RedirectResponse(_root(request) + target, status_code=303)
    cookie = encode_session(settings, user.id, new.session_id, new.nonce)
    set_cookie(response, request, settings, SESSION_COOKIE, cookie, settings.session_lifetime)
    clear_cookie(response, request, settings, LOGIN_COOKIE)
    log.info("signed in", user=user.username)
    return response


# --- token exchange ------------------------------------------------------------------------------

token_exchange_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenExchangeIn(BaseModel):
    username: str = Field(min_length=1, max_length=300)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    name: str = Field(default="api", min_length=1, max_length=200, description="Shown in token lists.")
    scopes: list[str] | None = Field(
        default=None, description="read, write, admin; within your role. Omit for all your role allows."
    )
    expires_in_days: int | None = Field(default=30, ge=1, le=3650, description="null: never expires.")


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    user_id: int
    username: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only a hash is kept.")
    token_type: str = "bearer"


def _token_out(row: ApiToken, username: str) -> TokenOut:
    return TokenOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=list(row.scopes),
        user_id=row.user_id,
        username=username,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _scopes_or_error(values: list[str] | None, role: str) -> frozenset[Scope]:
    try:
        return parse_scopes(values, role)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _issue_token(
    db: Database, user: CurrentUser, name: str, scopes: frozenset[Scope], expires_at: datetime | None
) -> TokenCreated:
    try:
        with db.session() as session:
            new = create_api_token(
                session, user, name, scopes, now=utcnow(), expires_at=expires_at, actor_id=user.id
            )
            created = TokenCreated(token=new.token, **_token_out(new.row, user.username).model_dump())
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return created


@token_exchange_router.post("/token", status_code=201, response_model=TokenCreated)
async def exchange_password_for_token(request: Request, body: TokenExchangeIn) -> Any:
    """Trade a username and password for a bearer API token (shown once)."""
    user, retry_after = await _sign_in(request, body.username, body.password)
    if retry_after:
        return problem_response(
            429,
            "Too Many Requests",
            "Too many failed sign-ins; wait before trying again.",
            {"Retry-After": str(retry_after)},
        )
    if user is None:
        return problem_response(401, "Unauthorized", "Wrong username or password.")
    scopes = _scopes_or_error(body.scopes, user.role)
    return await run_in_threadpool(
        _issue_token, _db(request), user, body.name, scopes, _expiry(body.expires_in_days)
    )


# --- the signed-in caller ------------------------------------------------------------------------

account_router = APIRouter(dependencies=[Depends(authenticated)])


class MeOut(BaseModel):
    id: int
    username: str
    role: str
    scopes: list[str]
    via: str
    csrf_token: str | None = Field(
        description="For cookie sessions: send as X-CSRF-Token on unsafe requests."
    )


@account_router.get("/api/v1/auth/me", response_model=MeOut, tags=["auth"])
def me(principal: PrincipalDep) -> MeOut:
    return MeOut(
        id=principal.user.id,
        username=principal.user.username,
        role=principal.user.role,
        scopes=sorted(principal.scopes),
        via=principal.via,
        csrf_token=principal.csrf_token,
    )


@account_router.post("/logout", include_in_schema=False)
async def logout(request: Request, principal: PrincipalDep) -> Response:
    settings = _settings(request)
    if principal.via == "session":
        await run_in_threadpool(revoke_session, _db(request), principal.credential_id, now=utcnow())
        log.info("signed out", user=principal.user.username)
    response: Response
    if "text/html" in request.headers.get("accept", ""):
        response = RedirectResponse(f"{_root(request)}/login", status_code=303)
    else:
        response = Response(status_code=204)
    clear_cookie(response, request, settings, SESSION_COOKIE)
    return response


# --- API tokens ----------------------------------------------------------------------------------

tokens_router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"], dependencies=[Depends(manage_own_tokens)])


class TokenCreateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] | None = Field(default=None, description="read, write, admin; within your role.")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="Omit: never expires.")


@tokens_router.get("", response_model=list[TokenOut])
def list_tokens_route(request: Request, principal: PrincipalDep) -> list[TokenOut]:
    """Your tokens; an admin sees everyone's."""
    owner = None if principal.has(Scope.ADMIN) else principal.user_id
    with _db(request).session() as session:
        return [_token_out(row, username) for row, username in list_api_tokens(session, owner)]


@tokens_router.post("", status_code=201, response_model=TokenCreated)
def create_token_route(request: Request, body: TokenCreateIn, principal: PrincipalDep) -> TokenCreated:
    """A new token for yourself; the plain token is in this answer only."""
    scopes = _scopes_or_error(body.scopes, principal.user.role)
    return _issue_token(_db(request), principal.user, body.name, scopes, _expiry(body.expires_in_days))


@tokens_router.delete("/{token_id}", status_code=204)
def revoke_token_route(request: Request, token_id: int, principal: PrincipalDep) -> Response:
    with _db(request).session() as session:
        row = get_api_token(session, token_id)
        # Someone else's token answers like a missing one: ids are not for probing.
        if row is None or (row.user_id != principal.user_id and not principal.has(Scope.ADMIN)):
            raise HTTPException(404, f"token {token_id} does not exist")
        revoke_api_token(session, row, now=utcnow(), actor_id=principal.user_id)
    return Response(status_code=204)


# --- users (admin) -------------------------------------------------------------------------------

users_router = APIRouter(prefix="/api/v1/users", tags=["users"], dependencies=[Depends(require_admin)])


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    active: bool
    locale: str | None
    created_at: datetime


class UserCreateIn(BaseModel):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    role: Role = Role.VIEWER


class UserPatchIn(BaseModel):
    role: Role | None = None
    active: bool | None = Field(default=None, description="false deactivates and signs the user out.")
    password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD_LENGTH)


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        active=user.active,
        locale=user.locale,
        created_at=user.created_at,
    )


@users_router.get("", response_model=list[UserOut])
def list_users_route(request: Request) -> list[UserOut]:
    with _db(request).session() as session:
        return [_user_out(u) for u in list_users(session)]


@users_router.post("", status_code=201, response_model=UserOut)
def create_user_route(request: Request, body: UserCreateIn, principal: PrincipalDep) -> UserOut:
    try:
        with _db(request).session() as session:
            user = create_user(session, body.username, body.password, body.role, actor_id=principal.user_id)
            return _user_out(user)
    except UserExists as exc:
        raise HTTPException(409, str(exc)) from None
    except (WeakPassword, UserError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None


@users_router.patch("/{user_id}", response_model=UserOut)
def update_user_route(request: Request, user_id: int, body: UserPatchIn, principal: PrincipalDep) -> UserOut:
    """Change a user's role, (de)activate them, or set a new password (which signs them out)."""
    try:
        with _db(request).session() as session:
            user = session.get(User, user_id)
            if user is None:
                raise HTTPException(404, f"user {user_id} does not exist")
            update_user(
                session,
                user,
                role=body.role.value if body.role else None,
                active=body.active,
                password=body.password,
                actor_id=principal.user_id,
            )
            return _user_out(user)
    except LastAdmin as exc:
        raise HTTPException(409, str(exc)) from None
    except (WeakPassword, UserError) as exc:
        raise HTTPException(422, str(exc)) from None


# --- API docs (any signed-in role may read them) ----------------------------------------------

docs_router = APIRouter(include_in_schema=False, dependencies=[Depends(authorize)])


@docs_router.get("/openapi.json")
def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@docs_router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=f"{_root(request)}/openapi.json", title="Hunter · API")
