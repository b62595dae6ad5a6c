"""Helpers for tests that need signed-in users (API tests here, browser tests elsewhere).

They go through the real sign-in form and token code, so a test that uses them also exercises
what a user would.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from hunter.auth.principal import CurrentUser
from hunter.auth.roles import parse_scopes
from hunter.auth.tokens import create_api_token
from hunter.auth.users import create_user, current_user, get_user
from hunter.store.db import Database
from hunter.store.types import utcnow

DEFAULT_PASSWORD: Final = "correct-horse-battery-staple"
_CSRF_INPUT: Final = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_test_user(
    db: Database, role: str, username: str | None = None, password: str = DEFAULT_PASSWORD
) -> CurrentUser:
    """The user ``username`` (default: the role's name), created with ``role`` if missing."""
    with db.session() as session:
        user = get_user(session, username or role)
        if user is None:
            user = create_user(session, username or role, password, role)
        return current_user(user)


def login_form_token(client: Any, next_path: str | None = None) -> str:
    """GET /login (which sets the login cookie) and return the form's CSRF token."""
    response = client.get("/login", params={"next": next_path} if next_path else None)
    match = _CSRF_INPUT.search(response.text)
    if response.status_code != 200 or match is None:
        raise AssertionError(f"no sign-in form: {response.status_code} {response.text[:200]}")
    return match.group(1)


def sign_in(client: Any, username: str, password: str = DEFAULT_PASSWORD) -> str:
    """Sign ``client`` (a TestClient or httpx.Client) in through the form; returns the CSRF token.

    The token is also set as the client's default ``X-CSRF-Token`` header, so unsafe requests
    of a signed-in test client pass the CSRF check like a page's requests would.
    """
    token = login_form_token(client)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise AssertionError(f"sign-in as {username!r} failed: {response.status_code} {response.text[:200]}")
    csrf: str = client.get("/api/v1/auth/me").json()["csrf_token"]
    client.headers["X-CSRF-Token"] = csrf
    return csrf


def issue_token(
    db: Database,
    username: str,
    scopes: list[str] | None = None,
    *,
    name: str = "test",
    expires_at: datetime | None = None,
) -> str:
    """A bearer token for an existing user (scopes default to all the role allows)."""
    with db.session() as session:
        user = get_user(session, username)
        if user is None:
            raise LookupError(f"no user {username!r}")
        new = create_api_token(
            session, user, name, parse_scopes(scopes, user.role), now=utcnow(), expires_at=expires_at
        )
        return new.token


def fast_hasher() -> Any:
    """argon2 with the cheapest parameters: production cost (~0.3 s a hash) adds up over a suite.

    Use with ``monkeypatch.setattr(hunter.auth.passwords, "HASHER", fast_hasher())``.
    """
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
