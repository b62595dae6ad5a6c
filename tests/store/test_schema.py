"""Schema: migrations match the models on both dialects; SQLite runs in WAL mode."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from hunter.store.db import Database, current_revision, downgrade, head_revision, upgrade
from hunter.store.models import Base


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"
    assert current_revision(db.engine) == head_revision()


def test_downgrade_to_base_and_back(sqlite_db: Database) -> None:
    downgrade(sqlite_db.engine, "base")
    with sqlite_db.engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert "companies" not in tables
    upgrade(sqlite_db.engine)
    assert current_revision(sqlite_db.engine) == head_revision()


def test_sqlite_uses_wal_and_foreign_keys(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
