"""The sign-in form: cookie flags, wrong passwords, throttling, redirects, sign-out, expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hunter.api.app import create_app
from hunter.auth.sessions import LOGIN_COOKIE, SESSION_COOKIE
from hunter.auth.testing import DEFAULT_PASSWORD, create_test_user, login_form_token
from hunter.config import get_settings
from hunter.store.db import Database
from hunter.store.models import ApiToken
from hunter.store.types import utcnow

HTML = {"accept": "text/html"}


def _post_login(
    client: TestClient, username: str, password: str, next_path: str | None = None
) -> tuple[int, dict[str, str], str]:
    client.cookies.delete(SESSION_COOKIE)  # signed in, /login would just redirect
    token = login_form_token(client)
    data = {"username": username, "password": password, "csrf_token": token}
    if next_path is not None:
        data["next"] = next_path
    response = client.post("/login", data=data, follow_redirects=False)
    return response.status_code, dict(response.headers), response.headers.get("location", "")


def _set_cookies(response_headers: list[tuple[str, str]]) -> dict[str, SimpleCookie]:
    cookies: dict[str, SimpleCookie] = {}
    for name, value in response_headers:
        if name.lower() == "set-cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            for key in jar:
                cookies[key] = jar
    return cookies


def _login_response(client: TestClient, username: str) -> list[tuple[str, str]]:
    token = login_form_token(client)
    response = client.post(
        "/login",
        data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return list(response.headers.multi_items())


def test_login_page_renders_with_a_form(anon_client: TestClient) -> None:
    response = anon_client.get("/login")
    assert response.status_code == 200
    assert '<form method="post"' in response.text
    assert 'name="csrf_token"' in response.text
    assert 'lang="en"' in response.text
    assert LOGIN_COOKIE in response.cookies


def test_session_cookie_flags_on_localhost(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "viewer")
    cookie = _set_cookies(_login_response(anon_client, "viewer"))[SESSION_COOKIE][SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert not cookie["secure"]  # plain HTTP on the loopback in development
    assert int(cookie["max-age"]) == get_settings().session_lifetime
    assert cookie["path"] == "/"


@pytest.mark.parametrize(
    "base_url", ["http://hunter.example.com", "https://10.1.2.3:8443", "https://localhost"]
)
def test_session_cookie_is_secure_off_localhost_or_over_https(
    db: Database, app: FastAPI, base_url: str
) -> None:
    create_test_user(db, "viewer")
    with TestClient(app, base_url=base_url) as client:
        # The client is not told the cookie is Secure over plain HTTP: read the header.
        token = login_form_token(client)
        headers = _login_response_with(client, token)
    cookie = _set_cookies(headers)[SESSION_COOKIE][SESSION_COOKIE]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"


def _login_response_with(client: TestClient, token: str) -> list[tuple[str, str]]:
    # Over http://non-localhost the client keeps the Secure login cookie to itself; hand it over.
    client.cookies.set(LOGIN_COOKIE, client.cookies.get(LOGIN_COOKIE) or "")
    response = client.post(
        "/login",
        data={"username": "viewer", "password": DEFAULT_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return list(response.headers.multi_items())


def test_secure_can_be_forced(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTER_SESSION_COOKIE_SECURE", "true")
    get_settings.cache_clear()
    create_test_user(db, "viewer")
    with TestClient(create_app(get_settings(), db), base_url="http://localhost") as client:
        token = login_form_token(client)
        headers = _login_response_with(client, token)
    assert _set_cookies(headers)[SESSION_COOKIE][SESSION_COOKIE]["secure"] is True


def test_wrong_password_is_401_and_right_one_redirects(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "sales")
    status, _, _ = _post_login(anon_client, "sales", "not the password")
    assert status == 401
    assert SESSION_COOKIE not in anon_client.cookies
    status, _, _ = _post_login(anon_client, "nobody", "not the password")
    assert status == 401
    status, _, location = _post_login(anon_client, "SALES", DEFAULT_PASSWORD)
    assert (status, location) == (303, "/")
    assert anon_client.get("/api/v1/auth/me").json()["username"] == "sales"


def test_throttled_after_five_failures_and_success_resets(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "sales")
    for _ in range(4):
        assert _post_login(anon_client, "sales", "wrong password")[0] == 401
    assert _post_login(anon_client, "sales", DEFAULT_PASSWORD)[0] == 303  # resets the count
    for _ in range(5):
        assert _post_login(anon_client, "sales", "wrong password")[0] == 401
    status, headers, _ = _post_login(anon_client, "sales", DEFAULT_PASSWORD)
    assert status == 429  # even the right password waits: otherwise guessing could go on
    assert 1 <= int(headers["retry-after"]) <= 300
    # The token exchange shares the count.
    body = {"username": "sales", "password": DEFAULT_PASSWORD}
    response = anon_client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1


def test_throttled_per_client_ip(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTER_LOGIN_MAX_FAILURES_PER_IP", "3")
    get_settings.cache_clear()
    create_test_user(db, "sales")
    with TestClient(create_app(get_settings(), db), base_url="http://localhost") as client:
        for name in ("a", "b", "c"):
            assert _post_login(client, name, "wrong password")[0] == 401
        status, headers, _ = _post_login(client, "sales", DEFAULT_PASSWORD)
    assert status == 429
    assert int(headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "//evil.com/",
        "https://evil.com/x",
        "/\\evil.com",
        "\\\\evil.com",
        "/\r\nLocation: https://evil.com",
        "/\t/evil.com",
        "javascript:alert(1)",
        "evil.com",
        "/login",
    ],
)
def test_next_never_leaves_the_site(db: Database, anon_client: TestClient, target: str) -> None:
    create_test_user(db, "viewer")
    status, _, location = _post_login(anon_client, "viewer", DEFAULT_PASSWORD, next_path=target)
    assert status == 303
    assert location == "/"


def test_next_relative_path_is_followed(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "viewer")
    first = anon_client.get("/?q=istanbul&page=2", headers=HTML, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=%2F%3Fq%3Distanbul%26page%3D2"
    _, _, location = _post_login(anon_client, "viewer", DEFAULT_PASSWORD, next_path="/?q=istanbul&page=2")
    assert location == "/?q=istanbul&page=2"
    # Signed in, /login goes straight on (and still refuses other sites).
    again = anon_client.get("/login", params={"next": "//evil.com"}, follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, "/")


def test_login_form_needs_its_csrf_token(db: Database, anon_client: TestClient) -> None:
    create_test_user(db, "viewer")
    login_form_token(anon_client)
    response = anon_client.post(
        "/login",
        data={"username": "viewer", "password": DEFAULT_PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies
    # Without the login cookie (a cross-site post) a token from elsewhere does not help either.
    token = login_form_token(anon_client)
    anon_client.cookies.delete(LOGIN_COOKIE)
    response = anon_client.post(
        "/login",
        data={"username": "viewer", "password": DEFAULT_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_logout_invalidates_the_cookie(db: Database, client_for: Callable[..., TestClient]) -> None:
    client = client_for("sales")
    stolen = client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/v1/companies").status_code == 200
    response = client.post("/logout", headers=HTML, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert SESSION_COOKIE not in client.cookies
    # Replaying the old cookie (copied before sign-out) no longer works.
    client.cookies.set(SESSION_COOKIE, stolen or "")
    assert client.get("/api/v1/companies").status_code == 401
    page = client.get("/", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


def test_logout_needs_the_csrf_token(client_for: Callable[..., TestClient]) -> None:
    client = client_for("viewer")
    del client.headers["X-CSRF-Token"]
    assert client.post("/logout").status_code == 403  # no forced sign-out from another site
    assert client.get("/api/v1/auth/me").status_code == 200


def test_password_change_ends_sessions(
    db: Database, client_for: Callable[..., TestClient], admin_client: TestClient
) -> None:
    client = client_for("sales")
    me = client.get("/api/v1/auth/me").json()
    response = admin_client.patch(f"/api/v1/users/{me['id']}", json={"password": "a brand new password"})
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/auth/me").status_code == 401
    assert _post_login(client, "sales", "a brand new password")[0] == 303


def test_expired_session_is_refused(db: Database, client_for: Callable[..., TestClient]) -> None:
    client = client_for("sales")
    with db.session() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.prefix.startswith("s."))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = client.get("/api/v1/companies")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_tampered_cookie_is_refused_and_cleared(client_for: Callable[..., TestClient]) -> None:
    client = client_for("sales")
    value = client.cookies.get(SESSION_COOKIE) or ""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    response = client.get("/api/v1/companies")
    assert response.status_code == 401
    assert 'hunter_session=""' in response.headers.get("set-cookie", "")


def test_sessions_are_rows_with_hashed_nonces(db: Database, client_for: Callable[..., TestClient]) -> None:
    client = client_for("viewer")
    with db.session() as session:
        rows = list(session.scalars(select(ApiToken)))
    assert len(rows) == 1
    assert rows[0].scopes == ["session"]
    assert rows[0].token_hash not in (client.cookies.get(SESSION_COOKIE) or "")
    assert client.get("/api/v1/tokens").json() == []  # sessions are not listed as API tokens


def test_deactivated_user_is_signed_out(
    db: Database, client_for: Callable[..., TestClient], admin_client: TestClient
) -> None:
    client = client_for("viewer")
    me = client.get("/api/v1/auth/me").json()
    assert admin_client.patch(f"/api/v1/users/{me['id']}", json={"active": False}).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401
    assert _post_login(client, "viewer", DEFAULT_PASSWORD)[0] == 401


def test_request_state_user_is_set(client_for: Callable[..., TestClient]) -> None:
    client = client_for("viewer")
    app = client.app
    assert isinstance(app, FastAPI)
    seen: list[object] = []

    @app.get("/state-probe")
    def probe(request: Request) -> dict[str, str]:
        seen.append(request.state.user)
        return {"csrf": request.state.csrf_token}

    response = client.get("/state-probe")
    assert response.status_code == 200
    assert response.json()["csrf"] == client.headers["X-CSRF-Token"]
    assert getattr(seen[0], "username", None) == "viewer"
