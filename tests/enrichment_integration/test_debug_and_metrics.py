"""Admin debug endpoints, /metrics and the readiness warnings for IP enrichment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from integration_world import LOCAL, METRICS_TOKEN
from prometheus_client.parser import text_string_to_metric_families

from hunter.api.app import create_app
from hunter.config import Settings
from hunter.sandbox.testing import PROFILES
from hunter.services.scanning import scan_domains
from hunter.store.db import Database

SELF_HOSTED_MX_IP = "5.24.47.132"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


# --------------------------------------------------------------------------------------------
# Debug endpoints


def test_debug_endpoints_are_admin_only(
    anon_client: TestClient, sales_client: TestClient, bearer_client_for: Callable[..., TestClient]
) -> None:
    for path in ("/api/v1/debug/ip-config", f"/api/v1/debug/ip/{SELF_HOSTED_MX_IP}"):
        assert anon_client.get(path).status_code == 401
        denied = sales_client.get(path)
        assert denied.status_code == 403
        assert "admin" in denied.json()["detail"]
        assert bearer_client_for("sales").get(path).status_code == 403
        assert bearer_client_for("admin", ["read"]).get(path).status_code == 403
        assert bearer_client_for("admin", ["read", "admin"]).get(path).status_code == 200


def test_ip_config_lists_the_loaded_databases(admin_client: TestClient) -> None:
    response = admin_client.get("/api/v1/debug/ip-config")
    assert response.status_code == 200
    body = response.json()
    assert body["enabled"] is True
    databases = {d["source"]: d for d in body["databases"]}
    assert set(databases) == {"geoip_city", "geoip_country", "geoip_asn", "ip2location", "ip2proxy"}
    for item in databases.values():
        assert item["state"] == "loaded"
        assert item["build_date"] == "2025-01-01"
    assert databases["geoip_city"]["database_type"] == "GeoLite2-City"
    assert databases["geoip_city"]["nodes"] > 0
    assert databases["ip2location"]["database_type"] == "IP2Location DB26"
    assert databases["ip2location"]["records"] > 0
    assert databases["ip2proxy"]["database_type"] == "IP2Proxy PX11"
    assert {line["level"] for line in body["status"]} == {"ok"}
    assert body["cache"]["capacity"] == 100_000
    assert body["cache"]["ttl_seconds"] == 7 * 86400


def test_ip_config_is_not_captured_by_the_ip_route(app: FastAPI, admin_client: TestClient) -> None:
    # FastAPI >= 0.137 keeps included routers nested; iter_route_contexts sees through them.
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    paths = [ctx.path for ctx in (walk(app.routes) if walk else app.routes)]
    assert paths.index("/api/v1/debug/ip-config") < paths.index("/api/v1/debug/ip/{ip}")
    # "ip-config" is no address: were it routed to /ip/{ip} this would be a 422.
    assert "databases" in admin_client.get("/api/v1/debug/ip-config").json()
    assert admin_client.get("/api/v1/debug/ip/ip-config").status_code == 422
    assert admin_client.get("/api/v1/debug/ip/").status_code == 404


def test_ip_lookup_shows_each_source_and_the_cache_state(
    db: Database, settings: Settings, admin_client: TestClient
) -> None:
    first = admin_client.get(f"/api/v1/debug/ip/{SELF_HOSTED_MX_IP}").json()
    assert first["facts"]["asn"] == 9121
    assert first["facts"]["city"] == "Ankara"
    assert first["kind"] == "isp"
    assert set(first["sources"]) == {"geoip_city", "geoip_country", "geoip_asn", "ip2location", "ip2proxy"}
    assert first["sources"]["geoip_asn"]["loaded"] is True
    assert first["sources"]["geoip_asn"]["found"] is True
    assert first["sources"]["ip2location"]["database_type"] == "IP2Location DB26"
    assert first["cache"] == {"in_process": "miss", "ip_facts_row": None}
    second = admin_client.get(f"/api/v1/debug/ip/{SELF_HOSTED_MX_IP}").json()
    assert second["cache"]["in_process"] == "hit"

    asyncio.run(scan_domains(settings, ["kendi-sunucu.com.tr"], db=db))
    row = admin_client.get(f"/api/v1/debug/ip/{SELF_HOSTED_MX_IP}").json()["cache"]["ip_facts_row"]
    assert row["fresh"] is True
    assert row["facts"]["asn"] == 9121
    assert row["age_seconds"] >= 0

    v6 = admin_client.get("/api/v1/debug/ip/2001:DB8:0::1")
    assert v6.status_code == 200
    assert v6.json()["ip"] == "2001:db8::1"
    assert admin_client.get("/api/v1/debug/ip/999.1.1.1").status_code == 422


def test_debug_endpoints_with_the_flag_off(
    db: Database, make_settings: Callable[..., Settings], admin_token: str
) -> None:
    app = create_app(make_settings(enrichment_enabled=False), db)
    admin = TestClient(app, base_url=LOCAL, headers={"Authorization": f"Bearer {admin_token}"})
    body = admin.get("/api/v1/debug/ip-config").json()
    assert body["enabled"] is False
    assert {d["state"] for d in body["databases"]} == {"disabled"}
    assert body["status"] == []
    lookup = admin.get(f"/api/v1/debug/ip/{SELF_HOSTED_MX_IP}").json()
    assert lookup["enabled"] is False
    assert lookup["facts"]["asn"] is None


# --------------------------------------------------------------------------------------------
# Readiness


def test_readiness_carries_a_warning_for_a_missing_database(
    db: Database, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "GeoLite2-ASN.mmdb"
    app = create_app(make_settings(geoip_asn_path=missing), db)
    with TestClient(app, base_url=LOCAL) as client:
        response = client.get("/healthz/ready")
    assert response.status_code == 200  # a warning, never a failure
    body = response.json()
    assert body["status"] == "ok"
    assert [(w["source"], w["level"], w["setting"]) for w in body["warnings"]] == [
        ("geoip_asn", "warning", "HUNTER_GEOIP_ASN_PATH")
    ]
    assert "GeoLite2 ASN database is missing" in body["warnings"][0]["en"]
    assert str(tmp_path) not in response.text  # public endpoint: no server paths


def test_readiness_is_unchanged_with_the_flag_off(
    db: Database, make_settings: Callable[..., Settings], anon_client: TestClient
) -> None:
    app = create_app(make_settings(enrichment_enabled=False), db)
    with TestClient(app, base_url=LOCAL) as client:
        assert client.get("/healthz/ready").json() == {"status": "ok", "database": db.dialect}
    assert anon_client.get("/healthz/ready").json()["warnings"] == []  # flag on, all loaded


# --------------------------------------------------------------------------------------------
# /metrics


def test_metrics_need_the_token(
    db: Database, make_settings: Callable[..., Settings], anon_client: TestClient, admin_client: TestClient
) -> None:
    assert anon_client.get("/metrics").status_code == 401
    assert anon_client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert admin_client.get("/metrics").status_code == 401  # an API token is not the metrics token
    ok = anon_client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain")

    unset = create_app(make_settings(metrics_token=""), db)
    with TestClient(unset, base_url=LOCAL) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_metrics_count_lookups_hits_misses_errors_and_scans(
    db: Database, settings: Settings, anon_client: TestClient
) -> None:
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    before = _samples(anon_client.get("/metrics", headers=headers).text)
    # The databases are opened for the scrape: their gauges show before any scan.
    assert before[("hunter_ip_database_loaded", (("source", "ip2proxy"),))] == 1
    assert before[("hunter_ip_database_build_timestamp_seconds", (("source", "geoip_city"),))] == 1735689600
    assert before[("hunter_ip_enrichment_cache_misses_total", ())] == 0

    asyncio.run(scan_domains(settings, list(PROFILES)))
    asyncio.run(scan_domains(settings, list(PROFILES)))
    after = _samples(anon_client.get("/metrics", headers=headers).text)

    misses = after[("hunter_ip_enrichment_cache_misses_total", ())]
    hits = after[("hunter_ip_enrichment_cache_hits_total", ())]
    assert misses > 0
    assert hits >= misses  # the second scan is all hits
    ratio = after[("hunter_ip_enrichment_cache_hit_ratio", ())]
    assert ratio == pytest.approx(hits / (hits + misses))
    assert after[("hunter_ip_enrichment_lookups_total", (("source", "geoip_asn"),))] == misses
    assert after[("hunter_ip_enrichment_errors_total", (("source", "geoip_asn"),))] == 0
    assert after[("hunter_ip_enrichment_cache_entries", ())] == misses

    scanned = ("hunter_scan_domains_total", (("outcome", "complete"),))
    assert after[scanned] - before.get(scanned, 0) == 2 * len(PROFILES)
    ok = ("hunter_scan_dns_lookups_total", (("status", "ok"),))
    nxdomain = ("hunter_scan_dns_lookups_total", (("status", "nxdomain"),))
    assert after[ok] > before[ok]
    assert after[nxdomain] > before[nxdomain]
    assert ("hunter_scan_dns_lookups_total", (("status", "timeout"),)) in after  # exists at 0
