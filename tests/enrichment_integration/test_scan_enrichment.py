"""IP enrichment inside the one scan path: facts, summary, storage, network hint, cache, failures."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from integration_world import (
    IP_KEYS,
    NATRO_IP,
    NATRO_WEB_IP,
    SCAN_JSON_KEYS,
    TT_ISP_IP,
    enrichment_settings,
    point_apex,
    point_primary_mx,
    without_duration,
)
from sqlalchemy import func, select
from typer.testing import CliRunner

from hunter.cli import app as cli
from hunter.collect.ipintel import EnrichmentConfig
from hunter.config import Settings, get_settings
from hunter.core.evaluation import evaluate, inputs_from_evidence
from hunter.sandbox.testing import PROFILES, SandboxWorld, sandbox_world
from hunter.services import enrichment
from hunter.services.briefs import brief_for
from hunter.services.enrichment import enrichment_status, get_ip_intel, select_ips
from hunter.services.evaluation import reevaluate
from hunter.services.scanning import ScanReport, scan_domains
from hunter.store.db import Database
from hunter.store.models import Assessment, Company, IpFact
from hunter.store.types import utcnow

SELF_HOSTED = "kendi-sunucu.com.tr"


async def _scan(settings: Settings, domains: list[str], db: Database | None = None) -> dict[str, ScanReport]:
    reports: list[ScanReport] = []
    await scan_domains(settings, domains, db=db, on_result=reports.append)
    return {r.domain: r for r in reports}


def _assessments(db: Database) -> dict[str, Assessment]:
    with db.session() as s:
        rows = s.execute(
            select(Company.domain, Assessment).join(Assessment, Assessment.company_id == Company.id)
        )
        found = {domain: a for domain, a in rows}
        for a in found.values():
            s.expunge(a)
        return found


def _ip_fact_rows(db: Database) -> dict[str, IpFact]:
    with db.session() as s:
        rows = {r.ip: r for r in s.scalars(select(IpFact))}
        for r in rows.values():
            s.expunge(r)
        return rows


# --------------------------------------------------------------------------------------------
# All databases configured


async def test_scan_stores_ips_and_summary_with_the_assessment(db: Database, settings: Settings) -> None:
    reports = await _scan(settings, list(PROFILES), db)

    report = reports[SELF_HOSTED]
    line = report.to_json()
    assert set(line) == SCAN_JSON_KEYS | {"ips", "infrastructure_summary"}
    mail = [ip for ip in line["ips"] if ip["role"] == "mail"]
    web = [ip for ip in line["ips"] if ip["role"] == "web"]
    assert [ip["ip"] for ip in mail] == ["5.24.47.132"]  # the primary MX only, not the backup
    assert mail[0] | {"sources": None} == {
        "ip": "5.24.47.132",
        "role": "mail",
        "country": "TR",
        "city": "Ankara",
        "asn": 9121,
        "asn_org": "Turk Telekomunikasyon Anonim Sirketi",
        "isp": "Turk Telekomunikasyon A.S.",
        "usage_type": "ISP",
        "is_proxy": 0,
        "proxy_type": None,
        "kind": "isp",
        "sources": None,
    }
    assert mail[0]["sources"]["asn"] == ["geoip_asn", "ip2location"]
    assert mail[0]["sources"]["is_proxy"] == ["ip2proxy"]
    assert [ip["asn"] for ip in web] == [34619]
    assert line["infrastructure_summary"] == {
        "tr": "Posta: Türk Telekom (AS9121), Ankara TR; web: Natro (AS34619), İstanbul TR",
        "en": "Mail hosted by Türk Telekom (AS9121) in Ankara, TR; "
        "web hosted by Natro (AS34619) in Istanbul, TR",
    }
    # A cloud MX listed by IP2Proxy as a data centre: stated, never an accusation.
    google = reports["google-firma.com.tr"].to_json()
    assert {ip["proxy_type"] for ip in google["ips"] if ip["role"] == "mail"} == {"DCH"}
    assert "IP2Proxy" not in (google["infrastructure_summary"]["en"] or "")
    # A domain that does not exist has no addresses, and says nothing.
    missing = reports["olmayan-firma.com.tr"].to_json()
    assert missing["ips"] == []
    assert missing["infrastructure_summary"] == {"tr": None, "en": None}

    stored = _assessments(db)
    details = stored[SELF_HOSTED].details["infrastructure"]
    assert set(details) == {"ips", "summary"}
    assert details == {"ips": line["ips"], "summary": line["infrastructure_summary"]}
    for domain, assessment in stored.items():
        infra = assessment.details["infrastructure"]
        assert all(set(entry) == IP_KEYS for entry in infra["ips"]), domain
        assert set(infra["summary"]) == {"tr", "en"}

    rows = _ip_fact_rows(db)
    addresses = {ip["ip"] for r in reports.values() for ip in r.to_json()["ips"]}
    assert set(rows) == addresses  # one row per address, however many leads use it
    row = rows["5.24.47.132"]
    assert (row.country, row.asn) == ("TR", 9121)
    assert row.facts["city"] == "Ankara"
    assert row.facts["sources"]["country"][0] == "geoip_city"
    assert row.fetched_at <= utcnow()


def test_scan_command_json_lines_gain_ips_and_summary(
    sandbox: SandboxWorld, ipdb: EnrichmentConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scan_env(monkeypatch, sandbox)
    monkeypatch.setenv("HUNTER_ENRICHMENT_ENABLED", "true")
    monkeypatch.setenv("HUNTER_GEOIP_CITY_PATH", str(ipdb.geoip_city))
    monkeypatch.setenv("HUNTER_GEOIP_ASN_PATH", str(ipdb.geoip_asn))
    monkeypatch.setenv("HUNTER_IP2LOCATION_PATH", str(ipdb.ip2location))
    monkeypatch.setenv("HUNTER_IP2PROXY_PATH", "")  # empty: not configured
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["scan", SELF_HOSTED, "natro-musteri.com.tr", "--json", "--no-store"])
    assert result.exit_code == 0, result.output
    lines = {line["domain"]: line for line in map(json.loads, result.stdout.splitlines())}
    natro = lines["natro-musteri.com.tr"]
    assert set(natro) == SCAN_JSON_KEYS | {"ips", "infrastructure_summary"}
    assert natro["infrastructure_summary"]["en"] == (
        "Mail hosted by Natro (AS34619) in Istanbul, TR; web on the same network"
    )
    assert natro["infrastructure_summary"]["tr"] == "Posta: Natro (AS34619), İstanbul TR; web: aynı ağda"
    assert all(ip["is_proxy"] is None for ip in natro["ips"])  # no IP2Proxy database: unknown, not 0


# --------------------------------------------------------------------------------------------
# Flag off: nothing changes


def _scan_env(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxWorld) -> None:
    monkeypatch.setenv("HUNTER_DNS_NAMESERVERS", sandbox.server.address)
    monkeypatch.setenv("HUNTER_DNS_TIMEOUT", "0.5")
    monkeypatch.setenv("HUNTER_RDAP_ENABLED", "false")
    get_settings.cache_clear()


def _cli_scan(domains: list[str]) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["scan", *domains, "--json", "--no-store"])
    assert result.exit_code == 0, result.output
    return sorted((json.loads(line) for line in result.stdout.splitlines()), key=lambda line: line["domain"])


def test_flag_off_scans_are_what_they_were_before_enrichment(
    db: Database,
    sandbox: SandboxWorld,
    ipdb: EnrichmentConfig,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    domains = sorted(PROFILES)
    # Database paths configured, flag off: the paths alone must not switch anything on.
    _scan_env(monkeypatch, sandbox)
    monkeypatch.setenv("HUNTER_GEOIP_CITY_PATH", str(ipdb.geoip_city))
    get_settings.cache_clear()
    flag_off = _cli_scan(domains)

    # The same scan with every enrichment code path made impossible to reach.
    def unreachable(*args: object, **kwargs: object) -> Any:
        raise AssertionError("enrichment code ran with the flag off")

    for name in ("get_ip_intel", "enrich_evidence", "persist_ip_facts", "select_ips"):
        monkeypatch.setattr(enrichment, name, unreachable)
    bypassed = _cli_scan(domains)
    assert [without_duration(x) for x in flag_off] == [without_duration(x) for x in bypassed]
    for line in flag_off:
        assert set(line) == SCAN_JSON_KEYS
        assert "ips" not in line
        assert "infrastructure_summary" not in line

    # And equal to the core's verdict on the same evidence without any network hint.
    reports = asyncio.run(_scan(make_settings(enrichment_enabled=False), domains, db))
    by_domain = {line["domain"]: line for line in flag_off}
    for domain, report in reports.items():
        assert report.infrastructure is None
        inputs = inputs_from_evidence(report.evidence)
        plain = ScanReport(report.evidence, inputs, evaluate(inputs)).to_json()
        assert without_duration(report.to_json()) == without_duration(plain)
        assert without_duration(report.to_json()) == without_duration(by_domain[domain])
    assert _ip_fact_rows(db) == {}
    for assessment in _assessments(db).values():
        assert "infrastructure" not in assessment.details
        assert set(assessment.details) == {"classification", "posture", "evaluation", "comparison_base"}


# --------------------------------------------------------------------------------------------
# The network hint


async def test_self_hosted_mx_on_a_hosting_network_becomes_hosting(
    db: Database, sandbox: SandboxWorld, make_settings: Callable[..., Settings]
) -> None:
    host = point_primary_mx(sandbox, SELF_HOSTED, NATRO_IP)

    off = await _scan(make_settings(enrichment_enabled=False), [SELF_HOSTED])
    assert off[SELF_HOSTED].classification.platform == "self_hosted"

    on = await _scan(make_settings(), [SELF_HOSTED], db)
    c = on[SELF_HOSTED].classification
    assert c.platform == "hosting"
    assert any(
        f"{host}. resolves to {NATRO_IP}, an address on a hosting network" in x for x in c.evidence_lines
    )
    assert (
        on[SELF_HOSTED]
        .to_json()["infrastructure_summary"]["en"]
        .startswith("Mail hosted by Natro (AS34619) in Istanbul, TR")
    )

    # Re-evaluation (rules change, registration data) works from stored data, without the
    # databases: it keeps the scan's IP facts and so the same verdict.
    reevaluate(db, utcnow())
    assessment = _assessments(db)[SELF_HOSTED]
    assert assessment.platform == "hosting"
    assert assessment.details["infrastructure"]["ips"][0]["ip"] == NATRO_IP
    brief = brief_for(db, make_settings(enrichment_enabled=False), SELF_HOSTED, "en")
    assert brief.to_dict()  # built from the same classification as the stored lead


async def test_self_hosted_mx_on_an_isp_network_stays_self_hosted_with_more_confidence(
    sandbox: SandboxWorld, make_settings: Callable[..., Settings]
) -> None:
    point_primary_mx(sandbox, SELF_HOSTED, TT_ISP_IP)
    off = (await _scan(make_settings(enrichment_enabled=False), [SELF_HOSTED]))[SELF_HOSTED]
    on = (await _scan(make_settings(), [SELF_HOSTED]))[SELF_HOSTED]
    assert off.classification.platform == on.classification.platform == "self_hosted"
    assert on.classification.confidence >= off.classification.confidence
    assert any(f"isp network ({TT_ISP_IP})" in x for x in on.classification.evidence_lines)


# --------------------------------------------------------------------------------------------
# Cache


async def test_two_domains_on_one_address_cost_one_lookup_and_one_row(
    db: Database, ipdb: EnrichmentConfig
) -> None:
    domains = ["bir-firma.com.tr", "iki-firma.com.tr"]
    with sandbox_world(dict.fromkeys(domains, "self_hosted")) as world:
        for domain in domains:
            point_primary_mx(world, domain, NATRO_IP)
            point_apex(world, domain, NATRO_WEB_IP)
        settings = world.settings(**enrichment_settings(ipdb))
        reports = await _scan(settings, domains, db)
        stats = get_ip_intel(settings).cache_stats
        assert stats.misses == 2  # one mail address, one web address
        assert stats.hits == 2
        assert stats.source_lookups["geoip_asn"] == 2
        rows = _ip_fact_rows(db)
        assert set(rows) == {NATRO_IP, NATRO_WEB_IP}
        first_fetch = rows[NATRO_IP].fetched_at
        for report in reports.values():
            assert [(ip["ip"], ip["role"]) for ip in report.to_json()["ips"]] == [
                (NATRO_IP, "mail"),
                (NATRO_WEB_IP, "web"),
            ]

        # A rescan within the TTL: all from the cache; the rows are not rewritten.
        await _scan(settings, domains, db)
        stats = get_ip_intel(settings).cache_stats
        assert (stats.misses, stats.hits) == (2, 6)
        assert _ip_fact_rows(db)[NATRO_IP].fetched_at == first_fetch

        # Past the TTL both caches refresh.
        short = world.settings(**enrichment_settings(ipdb), enrichment_cache_ttl=0.000_001)
        await _scan(short, domains, db)
        assert get_ip_intel(short).cache_stats.misses >= 2
        rows = _ip_fact_rows(db)
        assert len(rows) == 2
        assert rows[NATRO_IP].fetched_at > first_fetch


def test_address_selection_takes_primary_mx_a_and_aaaa_and_the_apex() -> None:
    from datetime import UTC, datetime

    from hunter.core.evidence import Evidence, Lookup, LookupPurpose, LookupStatus

    def lk(name: str, rdtype: str, purpose: LookupPurpose, answers: list[str], ok: bool = True) -> Lookup:
        status = LookupStatus.OK if ok else LookupStatus.TIMEOUT
        return Lookup(name=name, rdtype=rdtype, purpose=purpose, status=status, answers=answers)

    evidence = Evidence(
        domain="firma.com.tr",
        collected_at=datetime(2025, 1, 1, tzinfo=UTC),
        lookups=[
            lk(
                "firma.com.tr",
                "MX",
                LookupPurpose.MX,
                ["10 mx1.firma.com.tr.", "10 mx2.firma.com.tr.", "20 b.x."],
            ),
            lk("mx1.firma.com.tr", "A", LookupPurpose.MX_HOST_ADDRESS, ["192.0.2.1", "192.0.2.2"]),
            lk("mx1.firma.com.tr", "AAAA", LookupPurpose.MX_HOST_ADDRESS, ["2001:db8::1"]),
            lk("mx2.firma.com.tr", "A", LookupPurpose.MX_HOST_ADDRESS, ["192.0.2.1"]),
            lk("mx2.firma.com.tr", "AAAA", LookupPurpose.MX_HOST_ADDRESS, [], ok=False),
            lk("b.x", "A", LookupPurpose.MX_HOST_ADDRESS, ["192.0.2.99"]),  # not a primary host
            lk("firma.com.tr", "A", LookupPurpose.APEX_ADDRESS, ["192.0.2.1", "198.51.100.7"]),
        ],
    )
    assert [(x.ip, x.role) for x in select_ips(evidence)] == [
        ("192.0.2.1", "mail"),
        ("192.0.2.2", "mail"),
        ("2001:db8::1", "mail"),
        ("192.0.2.1", "web"),
        ("198.51.100.7", "web"),
    ]


# --------------------------------------------------------------------------------------------
# Missing, corrupt, truncated and wrong-type databases


async def test_one_database_missing_the_others_work_and_the_status_line_names_it(
    db: Database, ipdb: EnrichmentConfig, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(ip2proxy_path=tmp_path / "IP2PROXY-PX11.BIN")  # not there
    reports = await _scan(settings, [SELF_HOSTED], db)
    entry = reports[SELF_HOSTED].to_json()["ips"][0]
    assert (entry["asn"], entry["city"], entry["isp"]) == (9121, "Ankara", "Turk Telekomunikasyon A.S.")
    assert entry["is_proxy"] is None  # unknown without IP2Proxy, not "not listed"
    assert "ip2proxy" not in {s for sources in entry["sources"].values() for s in sources}

    lines = enrichment_status(settings)
    warnings = [line for line in lines if line.level == "warning"]
    assert [(w.source, w.setting) for w in warnings] == [("ip2proxy", "HUNTER_IP2PROXY_PATH")]
    assert (
        warnings[0].en
        == "IP2Proxy database is missing: HUNTER_IP2PROXY_PATH names a file that does not exist"
    )
    assert "IP2Proxy veritabanı eksik" in warnings[0].tr
    assert str(tmp_path) not in warnings[0].en  # readiness shows these to anyone: no paths
    assert {line.source for line in lines if line.level == "ok"} == {
        "geoip_city",
        "geoip_country",
        "geoip_asn",
        "ip2location",
    }

    # Nothing configured at all: one clear line on top.
    bare = make_settings(
        geoip_city_path=None,
        geoip_country_path=None,
        geoip_asn_path=None,
        ip2location_path=None,
        ip2proxy_path=None,
    )
    lines = enrichment_status(bare)
    assert lines[0].level == "warning"
    assert "no IP database is loaded" in lines[0].en
    assert {line.level for line in lines[1:]} == {"info"}
    assert enrichment_status(make_settings(enrichment_enabled=False)) == []


async def test_corrupt_truncated_and_wrong_type_files_never_stop_a_scan(
    db: Database,
    ipdb: EnrichmentConfig,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
) -> None:
    truncated = tmp_path / "IP2LOCATION-DB26.BIN"
    assert ipdb.ip2location is not None
    truncated.write_bytes(ipdb.ip2location.read_bytes()[:200])
    garbage = tmp_path / "GeoLite2-Country.mmdb"
    garbage.write_bytes(b"\x00not a database\xff" * 64)
    settings = make_settings(
        geoip_city_path=ipdb.geoip_asn,  # an ASN database where City is expected
        geoip_country_path=garbage,
        ip2location_path=truncated,
    )
    reports = await _scan(settings, list(PROFILES), db)
    assert len(reports) == len(PROFILES)
    entry = reports[SELF_HOSTED].to_json()["ips"][0]
    assert entry["asn"] == 9121  # GeoLite2 ASN still answers
    assert entry["sources"]["asn"] == ["geoip_asn"]
    assert entry["is_proxy"] == 0  # and so does IP2Proxy ("not listed")
    by_source = {line.source: line for line in enrichment_status(settings)}
    for source in ("geoip_city", "geoip_country", "ip2location"):
        assert by_source[source].level == "warning"
        assert "cannot be used" in by_source[source].en
    assert by_source["geoip_asn"].level == by_source["ip2proxy"].level == "ok"
    assert all("infrastructure" in a.details for a in _assessments(db).values())


async def test_a_failing_lookup_is_logged_and_the_scan_goes_on(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    intel = get_ip_intel(settings)

    def broken(ip: str) -> Any:
        raise RuntimeError("reader bug")

    monkeypatch.setattr(intel, "lookup", broken)
    reports = await _scan(settings, [SELF_HOSTED, "natro-musteri.com.tr"], db)
    for report in reports.values():
        assert report.classification.complete
        assert report.to_json()["ips"] == []  # enrichment empty, scan intact
    assert _ip_fact_rows(db) == {}


def test_stored_network_hint_reads_the_details() -> None:
    details = {
        "infrastructure": {
            "ips": [
                {"ip": "2001:DB8::1", "role": "mail", "kind": "hosting"},
                {"ip": "192.0.2.5", "role": "web", "kind": "cdn"},
            ]
        }
    }
    hint = enrichment.stored_network_hint(details)
    assert hint is not None
    assert hint("2001:db8::1") == "hosting"
    assert hint("192.0.2.5") is None  # web addresses do not describe the MX
    assert enrichment.stored_network_hint({"classification": {}}) is None
    assert enrichment.stored_network_hint(None) is None


def test_infrastructure_details_round_trip_through_json() -> None:
    infra = enrichment.Infrastructure(
        ips=({"ip": "192.0.2.1", "role": "mail"},), summary_tr="Posta: X", summary_en="Mail hosted by X"
    )
    assert json.loads(json.dumps(infra.to_details())) == {
        "ips": [{"ip": "192.0.2.1", "role": "mail"}],
        "summary": {"tr": "Posta: X", "en": "Mail hosted by X"},
    }
    assert dataclasses.replace(infra, hint_kinds={}).network_hint is None


async def test_writers_storing_the_same_addresses_do_not_collide(db: Database, settings: Settings) -> None:
    # Job chunks write on their own; an address another chunk stored is updated, not a key error.
    from hunter.services.scan_store import ScanWriter

    reports = await _scan(settings, [SELF_HOSTED])
    report = reports[SELF_HOSTED]
    for _ in range(2):
        writer = ScanWriter(db, ip_facts_ttl=0.000_001)
        writer.prepare([SELF_HOSTED])
        assert writer.write([report]) == 1
    assert report.infrastructure is not None
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IpFact)) == len(report.infrastructure.facts)


def test_persist_ip_facts_upserts_in_chunks_and_keeps_fresh_rows(db: Database) -> None:
    from datetime import timedelta

    from hunter.collect.ipintel import IpFacts

    now = utcnow()

    def facts(i: int, asn: int) -> IpFacts:
        ip = f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"
        return IpFacts.from_dict({"ip": ip, "asn": asn, "country": "TR", "fetched_at": now.isoformat()})

    many = [facts(i, 64512) for i in range(2500)]
    unknown = IpFacts.from_dict({"ip": "192.0.2.1"})  # nothing known: not worth a row
    with db.session() as s:
        assert enrichment.persist_ip_facts(s, [*many, many[0], unknown], ttl=3600, now=now) == 2500
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IpFact)) == 2500
        # Within the TTL a row is not rewritten, even with other facts.
        enrichment.persist_ip_facts(s, [facts(0, 9121)], ttl=3600, now=now + timedelta(seconds=10))
    with db.session() as s:
        row = s.get(IpFact, "10.0.0.0")
        assert row is not None
        assert (row.asn, row.fetched_at) == (64512, now)
        enrichment.persist_ip_facts(s, [facts(0, 9121)], ttl=3600, now=now + timedelta(hours=2))
    with db.session() as s:
        row = s.get(IpFact, "10.0.0.0")
        assert row is not None
        assert (row.asn, row.facts["asn"], row.country) == (9121, 9121, "TR")
