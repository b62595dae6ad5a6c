"""Fixtures for IP enrichment in the scan path, the API and the CLI.

* ``ipdb``      — the sandbox world's five IP databases (session-wide, read-only).
* ``sandbox``   — the sandbox DNS world of ``hunter.sandbox.testing`` on a loopback port.
* ``settings``  — sandbox settings with enrichment on, every database configured and a metrics
  token; ``make_settings(**overrides)`` builds variants (``enrichment_enabled=False`` …).
* ``app``, ``anon_client`` and bearer-token clients as in ``tests/api/conftest.py`` (copied:
  pytest does not share fixtures between sibling folders), on ``settings`` and ``db``. Tokens
  rather than the sign-in form keep these tests about enrichment, not about the login page.

The process-wide ``IpIntel`` is reset around every test so counters start at zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from integration_world import LOCAL, METRICS_TOKEN, enrichment_settings

from hunter.api.app import create_app
from hunter.auth import passwords
from hunter.auth.testing import create_test_user, fast_hasher, issue_token
from hunter.collect.ipintel import EnrichmentConfig
from hunter.config import Settings
from hunter.sandbox.ipdb import build_sandbox_databases
from hunter.sandbox.testing import SandboxWorld, sandbox_world
from hunter.services.enrichment import reset_ip_intel
from hunter.store.db import Database


@pytest.fixture(scope="session")
def ipdb(tmp_path_factory: pytest.TempPathFactory) -> EnrichmentConfig:
    return build_sandbox_databases(tmp_path_factory.mktemp("ipdb"))


@pytest.fixture(autouse=True)
def _fresh_ip_intel() -> Iterator[None]:
    reset_ip_intel()
    yield
    reset_ip_intel()


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", fast_hasher())


@pytest.fixture
def sandbox() -> Iterator[SandboxWorld]:
    with sandbox_world() as world:
        yield world


@pytest.fixture
def make_settings(sandbox: SandboxWorld, ipdb: EnrichmentConfig) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values = {**enrichment_settings(ipdb), "metrics_token": METRICS_TOKEN, **overrides}
        return sandbox.settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def app(db: Database, settings: Settings) -> FastAPI:
    return create_app(settings, db)


@pytest.fixture
def _clients() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.fixture
def anon_client(app: FastAPI, _clients: ExitStack) -> TestClient:
    return _clients.enter_context(TestClient(app, base_url=LOCAL))


@pytest.fixture
def bearer_client_for(app: FastAPI, db: Database, _clients: ExitStack) -> Callable[..., TestClient]:
    """A client sending ``Authorization: Bearer`` for a user of ``role`` (scopes: the role's)."""

    def make(role: str = "sales", scopes: list[str] | None = None) -> TestClient:
        user = create_test_user(db, role)
        client = _clients.enter_context(TestClient(app, base_url=LOCAL))
        client.headers["Authorization"] = f"Bearer {issue_token(db, user.username, scopes)}"
        return client

    return make


@pytest.fixture
def admin_token(db: Database) -> str:
    return issue_token(db, create_test_user(db, "admin").username)


@pytest.fixture
def admin_client(bearer_client_for: Callable[..., TestClient]) -> TestClient:
    return bearer_client_for("admin")


@pytest.fixture
def sales_client(bearer_client_for: Callable[..., TestClient]) -> TestClient:
    return bearer_client_for("sales")
