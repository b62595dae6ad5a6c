"""/metrics takes its own bearer token (HUNTER_METRICS_TOKEN) and is absent (404) without one."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hunter.api.app import create_app
from hunter.config import get_settings
from hunter.store.db import Database


def _app_with_metrics(db: Database) -> FastAPI:
    # The real endpoint (hunter.metrics), included with require_metrics_token.
    return create_app(get_settings(), db)


def test_metrics_is_404_without_a_configured_token(db: Database) -> None:
    with TestClient(_app_with_metrics(db)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


def test_metrics_needs_the_token(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTER_METRICS_TOKEN", "scrape-secret-123")
    get_settings.cache_clear()
    with TestClient(_app_with_metrics(db)) as client:
        assert client.get("/metrics").status_code == 401
        # A browser is not sent to /login: signing in would not help here.
        assert (
            client.get("/metrics", headers={"accept": "text/html"}, follow_redirects=False).status_code == 401
        )
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
        assert ok.status_code == 200
        assert "hunter_scan_domains_total" in ok.text


def test_metrics_token_is_masked_in_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from hunter.config import settings_report

    monkeypatch.setenv("HUNTER_METRICS_TOKEN", "scrape-secret-123")
    get_settings.cache_clear()
    assert settings_report(get_settings())["metrics_token"] == "****"
