"""Fixtures for the leads, alerts and export APIs.

The signed-in client fixtures come from tests/api/conftest.py (loaded by path: test folders are
not packages). ``leads`` builds a small, deterministic set of companies and assessments directly
in the database (see leads_data.py); ``sandbox`` is the loopback DNS world for the tests that go
through the real scan path.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from leads_data import LeadSet, build_leads

from hunter.sandbox.testing import SandboxWorld, sandbox_world
from hunter.store.db import Database


def _load_api_fixtures() -> object:
    path = Path(__file__).parent.parent / "api" / "conftest.py"
    spec = importlib.util.spec_from_file_location("hunter_tests_api_fixtures", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_api = _load_api_fixtures()
_fast_password_hashing = _api._fast_password_hashing  # type: ignore[attr-defined]
app = _api.app  # type: ignore[attr-defined]
_clients = _api._clients  # type: ignore[attr-defined]
anon_client = _api.anon_client  # type: ignore[attr-defined]
client_for = _api.client_for  # type: ignore[attr-defined]
admin_client = _api.admin_client  # type: ignore[attr-defined]
sales_client = _api.sales_client  # type: ignore[attr-defined]
viewer_client = _api.viewer_client  # type: ignore[attr-defined]
token_for = _api.token_for  # type: ignore[attr-defined]
bearer_client_for = _api.bearer_client_for  # type: ignore[attr-defined]


@pytest.fixture
def leads(db: Database) -> LeadSet:
    return build_leads(db)


@pytest.fixture
def sales(bearer_client_for: Callable[..., TestClient]) -> TestClient:
    """A sales user's API client (bearer token: read and write)."""
    return bearer_client_for("sales")


@pytest.fixture
def viewer(bearer_client_for: Callable[..., TestClient]) -> TestClient:
    return bearer_client_for("viewer")


@pytest.fixture
def admin(bearer_client_for: Callable[..., TestClient]) -> TestClient:
    return bearer_client_for("admin")


@pytest.fixture
def sandbox() -> Iterator[SandboxWorld]:
    with sandbox_world() as world:
        yield world
