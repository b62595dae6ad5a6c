"""Shared fixtures: databases on both dialects, settings isolation.

PostgreSQL: each test session creates its own database on HUNTER_TEST_POSTGRES_URL (default: the
local trust-auth server) and drops it at the end. Under CI=true an unreachable PostgreSQL fails
the run instead of skipping, so the dual-dialect promise cannot silently lapse.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hunter.store.db import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "HUNTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _require_or_skip(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: this test must run, not skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's .env or HUNTER_* variables, or writes to their data dir."""
    for name in list(os.environ):
        if name.startswith("HUNTER_") and name != "HUNTER_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUNTER_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    from hunter.config import get_settings

    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    name = f"hunter_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        _require_or_skip("PostgreSQL", exc)
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _postgres_schema(postgres_database_url: str) -> Iterator[str]:
    db = Database(postgres_database_url)
    db.upgrade()
    db.dispose()
    return postgres_database_url


def _truncate_all(db: Database) -> None:
    from hunter.store.models import Base

    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database on each dialect."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'hunter.db'}")
        database.upgrade()
    else:
        url = request.getfixturevalue("_postgres_schema")
        database = Database(url)
        _truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'hunter.db'}")
    database.upgrade()
    yield database
    database.dispose()
