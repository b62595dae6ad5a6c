"""Fixtures for HTTP tests: the app on the ``db`` fixture, and signed-in clients per role.

* ``app``            — ``create_app(get_settings(), db)``.
* ``anon_client``    — a TestClient with no credentials.
* ``client_for``     — ``client_for(role="sales", *, username=None, app=None, base_url=LOCAL)``: a
  TestClient signed in through the /login form (cookie session) with ``X-CSRF-Token`` preset.
* ``admin_client`` / ``sales_client`` / ``viewer_client`` — ``client_for`` of that role.
* ``token_for``      — ``token_for(role="sales", scopes=None, *, username=None)``: a bearer token.
* ``bearer_client_for`` — ``bearer_client_for(role="sales", scopes=None)``: a TestClient sending
  ``Authorization: Bearer <token>`` (no cookie, no CSRF token needed).

Users are named after their role unless ``username`` is given; their password is
``hunter.auth.testing.DEFAULT_PASSWORD``. Password hashing uses cheap argon2 parameters here.
Clients talk to ``http://localhost`` because cookies are Secure on any other host, and a plain-HTTP
client would then not send them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hunter.api.app import create_app
from hunter.auth import passwords
from hunter.auth.testing import create_test_user, fast_hasher, issue_token, sign_in
from hunter.config import get_settings
from hunter.store.db import Database

LOCAL = "http://localhost"


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", fast_hasher())


@pytest.fixture
def app(db: Database) -> FastAPI:
    return create_app(get_settings(), db)


@pytest.fixture
def _clients() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.fixture
def anon_client(app: FastAPI, _clients: ExitStack) -> TestClient:
    return _clients.enter_context(TestClient(app, base_url=LOCAL))


@pytest.fixture
def client_for(app: FastAPI, db: Database, _clients: ExitStack) -> Callable[..., TestClient]:
    def make(
        role: str = "sales", *, username: str | None = None, app: FastAPI = app, base_url: str = LOCAL
    ) -> TestClient:
        user = create_test_user(db, role, username)
        client = _clients.enter_context(TestClient(app, base_url=base_url))
        sign_in(client, user.username)
        return client

    return make


@pytest.fixture
def admin_client(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for("admin")


@pytest.fixture
def sales_client(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for("sales")


@pytest.fixture
def viewer_client(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for("viewer")


@pytest.fixture
def token_for(db: Database) -> Callable[..., str]:
    def make(role: str = "sales", scopes: list[str] | None = None, *, username: str | None = None) -> str:
        user = create_test_user(db, role, username)
        return issue_token(db, user.username, scopes)

    return make


@pytest.fixture
def bearer_client_for(
    app: FastAPI, token_for: Callable[..., str], _clients: ExitStack
) -> Callable[..., TestClient]:
    def make(
        role: str = "sales", scopes: list[str] | None = None, *, username: str | None = None
    ) -> TestClient:
        client = _clients.enter_context(TestClient(app, base_url=LOCAL))
        client.headers["Authorization"] = f"Bearer {token_for(role, scopes, username=username)}"
        return client

    return make
