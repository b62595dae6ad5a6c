"""`hunter jobs list/show/cancel --json` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hunter.cli import app
from hunter.config import get_settings
from hunter.jobs.service import JobKind, create_job
from hunter.store.db import Database

runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HUNTER_DATABASE_URL", url)
    get_settings.cache_clear()
    db = Database(url)
    db.upgrade()
    return db


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_list_show_and_cancel(cli_db: Database) -> None:
    scan = create_job(
        cli_db, JobKind.BULK_SCAN, {}, user_id=None, items=["a.com", "b.com", "c.com"], chunk_size=2
    )
    create_job(cli_db, JobKind.REEVALUATE, {}, user_id=None, items=[], chunk_size=10)

    code, doc = _json("jobs", "list")
    assert code == 0
    assert doc["total"] == 2
    assert [(j["kind"], j["state"]) for j in doc["items"]] == [
        ("reevaluate", "done"),
        ("bulk_scan", "queued"),
    ]

    code, doc = _json("jobs", "list", "--state", "queued", "--kind", "bulk_scan")
    assert (code, doc["total"]) == (0, 1)

    code, doc = _json("jobs", "show", str(scan.id))
    assert code == 0
    assert (doc["total"], doc["progress"], doc["chunks"]["pending"]) == (3, 0.0, 2)

    code, doc = _json("jobs", "cancel", str(scan.id))
    assert code == 0
    assert (doc["state"], doc["skipped"], doc["cancel_accepted"]) == ("cancelled", 3, True)
    code, doc = _json("jobs", "cancel", str(scan.id))
    assert (code, doc["cancel_accepted"]) == (0, False)


def test_unknown_job(cli_db: Database) -> None:
    code, doc = _json("jobs", "show", "404")
    assert code == 2
    assert doc == {"error": "job 404 does not exist"}
    assert runner.invoke(app, ["jobs", "cancel", "404"]).exit_code == 2
