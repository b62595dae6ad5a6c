"""`hunter import` as a user runs it: dry-run JSON, real import into the database, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hunter.cli import app
from hunter.imports import sample_path
from hunter.store.db import Database
from hunter.store.models import Company

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_dry_run_json_reports_mapping_domains_rejects_and_duplicates() -> None:
    code, out = _run("import", str(sample_path("xlsx")), "--dry-run", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert set(doc) >= {"mapping", "domains", "rejected", "duplicates"}
    assert doc["mapping"]["WEB SİTESİ"] == "website"
    assert doc["mapping"]["ADRES"] == "address"
    assert len(doc["domains"]) == len(set(doc["domains"])) == 71
    assert all(d == d.lower() and not d.startswith("www.") for d in doc["domains"])
    no_website = [r for r in doc["rejected"] if r["reason"] == "no_domain"]
    assert no_website
    assert all(isinstance(r["row"], int) and r["row"] > 4 for r in no_website)
    assert {"domain": "aydinlar-tekstil.com.tr", "rows": [7, 40]} in doc["duplicates"]
    # A dry run writes nothing, not even an empty database file.
    from hunter.config import get_settings

    assert not (get_settings().data_dir / "hunter.db").exists()


def test_import_writes_companies_and_is_idempotent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HUNTER_DATABASE_URL", url)
    from hunter.config import get_settings

    get_settings.cache_clear()
    code, out = _run("import", str(sample_path("csv")), "--json")
    assert code == 0, out
    first = json.loads(out)["written"]
    assert first["created"] == 71
    code, out = _run("import", str(sample_path("xlsx")), "--json")
    assert code == 0, out
    assert json.loads(out)["written"]["created"] == 0
    db = Database(url)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Company)) == 71
        merged = s.scalar(select(Company).where(Company.domain == "aydinlar-tekstil.com.tr"))
        assert merged is not None
        assert len(merged.names) >= 2
    db.dispose()


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"", "empty.csv", "empty_file"),
        (b"\x00\x01\x02\xff\xfe\xfa" * 2000, "junk.csv", None),
        (b"not a zip at all", "fake.xlsx", None),
    ],
)
def test_broken_files_give_a_clear_error(
    tmp_path: Path, content: bytes, name: str, reason: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["import", str(path), "--dry-run", "--json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["error"]
    if reason:
        assert doc["reason"] == reason
    assert "Traceback" not in result.output


def test_mapping_override_and_bad_mapping(tmp_path: Path) -> None:
    code, out = _run(
        "import",
        str(sample_path("csv")),
        "--dry-run",
        "--json",
        "--map",
        "E-POSTA=email",
        "--map",
        "WEB SİTESİ=attribute",
    )
    assert code == 0, out
    doc = json.loads(out)
    assert doc["mapping"]["WEB SİTESİ"] == "attribute"
    assert len(doc["domains"]) < 71  # only rows with an e-mail now give a domain
    result = runner.invoke(app, ["import", str(sample_path("csv")), "--dry-run", "--map", "WEB=bogus"])
    assert result.exit_code == 1
    assert "unknown role 'bogus'" in result.output


def test_missing_file() -> None:
    result = runner.invoke(app, ["import", "/nonexistent/list.xlsx"])
    assert result.exit_code == 1
    assert "does not exist" in result.output
