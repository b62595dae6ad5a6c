"""Fixtures for the auth tests: the same HTTP fixtures as tests/api/conftest.py, plus Redis.

(pytest shares fixtures only through the root conftest or plugins, so the few lines are repeated.)

* ``app``            — ``create_app(get_settings(), db)``.
* ``anon_client``    — a TestClient with no credentials.
* ``client_for``     — ``client_for(role="sales", *, username=None, app=None, base_url=LOCAL)``: a
  TestClient signed in through the /login form (cookie session) with ``X-CSRF-Token`` preset.
* ``admin_client`` / ``sales_client`` / ``viewer_client`` — ``client_for`` of that role.
* ``token_for``      — ``token_for(role="sales", scopes=None, *, username=None)``: a bearer token.
* ``bearer_client_for`` — ``bearer_client_for(role="sales", scopes=None)``: a TestClient sending
  ``Authorization: Bearer <token>`` (no cookie, no CSRF token needed).
* ``run_cli``        — ``run_cli(*args, input=None)``: the ``hunter`` CLI in-process.
* ``redis_url``      — the test Redis (fails instead of skipping under CI=true).

Users are named after their role unless ``username`` is given; their password is
``hunter.auth.testing.DEFAULT_PASSWORD``. Password hashing uses cheap argon2 parameters here.
Clients talk to ``http://localhost`` because cookies are Secure on any other host, and a plain-HTTP
client would then not send them back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from hunter.api.app import create_app
from hunter.auth import passwords
from hunter.auth.testing import create_test_user, fast_hasher, issue_token, sign_in
from hunter.config import get_settings
from hunter.store.db import Database

LOCAL = "http://localhost"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_URL = os.environ.get("HUNTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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


@pytest.fixture
def redis_url() -> str:
    """The test Redis; under CI=true an unreachable Redis fails the test instead of skipping."""
    import redis

    try:
        conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        conn.ping()
        conn.close()
    except Exception as exc:
        message = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: this test must run, not skip)", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """``run_cli(*args, input=None)``: invoke ``hunter`` in-process and return the typer Result.

    The CLI points structlog at the stderr it sees, which CliRunner replaces and then closes;
    logging is re-pointed at the real stderr afterwards so later log lines in the test still work.
    """
    from hunter.cli import app as cli
    from hunter.logs import configure_logging

    def run(*args: str, input: str | None = None) -> Result:
        try:
            return CliRunner().invoke(cli, list(args), input=input)
        finally:
            configure_logging()

    return run
