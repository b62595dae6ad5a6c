"""Settings: prefix, .env, warnings for look-alikes, masking, and .env.example kept complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hunter.cli import app
from hunter.config import Settings, configuration_warnings, get_settings, settings_report

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^#?(HUNTER_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    expected = {f"HUNTER_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_prefixed_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HUNTER_PARTNER_NAME=Anadolu Bulut\nHUNTER_DNS_TIMEOUT=1.5\n")
    monkeypatch.setenv("HUNTER_DNS_TIMEOUT", "0.7")  # the environment wins over .env
    settings = Settings()
    assert settings.partner_name == "Anadolu Bulut"
    assert settings.dns_timeout == 0.7
    assert settings.effective_database_url.endswith("hunter.db")


def test_warnings_for_lookalikes_and_unknown_names(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("HUNTER_DNS_NAMESERVER=1.1.1.1\n")
    warnings = configuration_warnings(
        {"DATABASE_URL": "postgresql://x", "HUNTER_PORT": "1", "HUNTER_DATABSE_URL": "y"}, dotenv
    )
    text = "\n".join(warnings)
    assert "DATABASE_URL is ignored; did you mean HUNTER_DATABASE_URL?" in text
    assert "Unknown setting HUNTER_DATABSE_URL" in text
    assert "Unknown setting HUNTER_DNS_NAMESERVER " in text
    assert "HUNTER_PORT" not in text


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTER_SECRET_KEY", "s3cr3t-value")
    monkeypatch.setenv("HUNTER_DATABASE_URL", "postgresql://hunter:pa55word@db:5432/hunter")
    get_settings.cache_clear()
    report = settings_report(get_settings())
    assert report["secret_key"] == "****"
    assert "pa55word" not in str(report)
    assert "hunter:***@db:5432/hunter" in report["database_url"]
    result = CliRunner().invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    assert "pa55word" not in result.output
    assert "s3cr3t-value" not in result.output


def test_config_command_warns_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 0
    assert "did you mean HUNTER_DATABASE_URL" in result.output
