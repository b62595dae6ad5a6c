"""`hunter ip lookup`, and the demo with the sandbox IP databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hunter.cli import app as cli
from hunter.collect.ipintel import EnrichmentConfig
from hunter.config import Settings, get_settings
from hunter.services.demo import demo_enrichment, run_demo
from hunter.store.db import Database
from hunter.store.models import Assessment, Company, IpFact


def _database_env(monkeypatch: pytest.MonkeyPatch, ipdb: EnrichmentConfig, **paths: Path | str) -> None:
    values = {
        "HUNTER_GEOIP_CITY_PATH": ipdb.geoip_city,
        "HUNTER_GEOIP_COUNTRY_PATH": ipdb.geoip_country,
        "HUNTER_GEOIP_ASN_PATH": ipdb.geoip_asn,
        "HUNTER_IP2LOCATION_PATH": ipdb.ip2location,
        "HUNTER_IP2PROXY_PATH": ipdb.ip2proxy,
        **paths,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()


def test_ip_lookup_json_gives_per_source_facts(
    ipdb: EnrichmentConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _database_env(monkeypatch, ipdb)
    result = CliRunner().invoke(cli, ["ip", "lookup", "5.24.47.132", "45.88.2.127", "--json"])
    assert result.exit_code == 0, result.output
    isp, microsoft = (json.loads(line) for line in result.stdout.splitlines())
    assert isp["ip"] == "5.24.47.132"
    assert isp["enabled"] is False  # the flag is off; the command reads the files anyway
    assert isp["facts"]["asn"] == 9121
    assert isp["facts"]["usage_type"] == "ISP"
    assert isp["kind"] == "isp"
    assert set(isp["sources"]) == {"geoip_city", "geoip_country", "geoip_asn", "ip2location", "ip2proxy"}
    assert isp["sources"]["geoip_asn"]["found"] is True
    assert isp["sources"]["ip2location"]["database_type"] == "IP2Location DB26"
    assert microsoft["facts"]["asn"] == 8075
    assert (microsoft["facts"]["is_proxy"], microsoft["facts"]["proxy_type"]) == (2, "DCH")
    assert microsoft["sources"]["ip2proxy"]["found"] is True


def test_ip_lookup_reports_bad_addresses_and_missing_files(
    ipdb: EnrichmentConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _database_env(monkeypatch, ipdb, HUNTER_IP2PROXY_PATH=tmp_path / "missing.BIN")
    result = CliRunner().invoke(cli, ["ip", "lookup", "not-an-ip", "2001:db8::1", "--json"])
    assert result.exit_code == 2
    bad, good = (json.loads(line) for line in result.stdout.splitlines())
    assert bad == {"ip": "not-an-ip", "error": "not an IP address"}
    assert good["ip"] == "2001:db8::1"
    assert good["sources"]["ip2proxy"]["loaded"] is False
    assert "ip2proxy" in result.stderr
    assert "file not found" in result.stderr


def test_ip_lookup_text(ipdb: EnrichmentConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    _database_env(monkeypatch, ipdb)
    result = CliRunner().invoke(cli, ["ip", "lookup", "185.122.1.92"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "185.122.1.92"
    assert "asn         34619  [geoip_asn, ip2location]" in result.stdout
    assert "kind        hosting" in result.stdout
    assert "GeoLite2 City     found" in result.stdout


def test_demo_settings_build_the_sandbox_databases(tmp_path: Path) -> None:
    settings = demo_enrichment(Settings(data_dir=tmp_path))
    assert settings.enrichment_enabled
    assert settings.geoip_city_path == (tmp_path / "ipdb" / "GeoLite2-City.mmdb").resolve()
    assert settings.ip2proxy_path is not None
    assert settings.ip2proxy_path.is_file()
    assert sorted(p.name for p in (tmp_path / "ipdb").iterdir()) == [
        "GeoLite2-ASN.mmdb",
        "GeoLite2-City.mmdb",
        "GeoLite2-Country.mmdb",
        "IP2LOCATION-DB26.BIN",
        "IP2PROXY-PX11.BIN",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["ipdb"]  # no staging left behind
    again = demo_enrichment(Settings(data_dir=tmp_path))  # a second demo replaces the files
    assert again.geoip_city_path == settings.geoip_city_path


def test_demo_leads_show_ip_facts_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_demo(Settings(data_dir=tmp_path / "data"), extra_companies=10, serve=False, as_json=True)
    assert result["scanned"] > 0
    db = Database(result["database"])
    try:
        with db.session() as s:
            rows = list(s.execute(select(Company.domain, Assessment.details).join(Assessment)))
            assert s.scalar(select(IpFact.ip).limit(1)) is not None
    finally:
        db.dispose()
    assert rows
    # Registration data arrives after the scan and re-evaluates the leads: the facts stay.
    assert all("infrastructure" in details for _, details in rows)
    summaries = [details["infrastructure"]["summary"] for _, details in rows]
    assert sum(1 for s in summaries if s["tr"] and s["en"]) >= len(rows) // 2
