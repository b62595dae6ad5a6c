"""The one scan path end to end: sandbox DNS → evidence → classification → evaluation → storage."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hunter.cli import app
from hunter.config import get_settings
from hunter.sandbox.testing import PROFILES
from hunter.sandbox.testing import SandboxWorld as Sandbox
from hunter.sandbox.zones import Fault
from hunter.services.evaluation import reevaluate
from hunter.services.scanning import ScanReport, scan_domains
from hunter.store.db import Database
from hunter.store.models import Assessment, Company, Evaluation, Scan
from hunter.store.types import utcnow


async def test_scan_stores_evidence_classification_and_priority(db: Database, sandbox: Sandbox) -> None:
    reports: list[ScanReport] = []
    summary = await scan_domains(sandbox.settings(), list(PROFILES), db=db, on_result=reports.append)
    assert summary.total == len(PROFILES)
    assert summary.stored == len(PROFILES)
    by_domain = {r.domain: r for r in reports}
    assert by_domain["natro-musteri.com.tr"].classification.platform == "hosting"
    assert by_domain["bulut-m365.com.tr"].classification.platform == "m365"
    assert by_domain["korumali.com.tr"].classification.gateway == "proofpoint"
    assert by_domain["olmayan-firma.com.tr"].classification.platform == "unresolved"
    with db.session() as s:
        rows = {
            c.domain: a
            for c, a in s.execute(
                select(Company, Assessment).join(Assessment, Assessment.company_id == Company.id)
            )
        }
        assert set(rows) == set(PROFILES)
        assert rows["natro-musteri.com.tr"].priority == "P1"
        assert rows["natro-musteri.com.tr"].segment == "Migration"
        assert rows["yarim-gecis.com.tr"].priority == "P1"
        assert "half-migrated" in rows["yarim-gecis.com.tr"].tags
        assert rows["google-firma.com.tr"].priority == "P2"
        assert rows["posta-yok.com.tr"].priority == "P6"
        assert rows["bulut-m365.com.tr"].priority in ("P3", "P4")
        for assessment in rows.values():
            assert assessment.complete
            assert assessment.score is not None
            assert 0 <= assessment.score <= 100
            assert assessment.breakdown
            assert assessment.rules_version
        scan = s.scalar(select(Scan).join(Company).where(Company.domain == "bulut-m365.com.tr"))
        assert scan is not None
        assert scan.evidence["domain"] == "bulut-m365.com.tr"
        assert all(lk["status"] for lk in scan.evidence["lookups"])
        assert s.scalar(select(func.count()).select_from(Evaluation)) == len(PROFILES)


async def test_mx_timeout_is_incomplete_never_none(db: Database, sandbox: Sandbox) -> None:
    sandbox.store.set_fault("natro-musteri.com.tr", Fault.DROP, rdtype="MX")
    reports: list[ScanReport] = []
    settings = sandbox.settings(dns_timeout=0.2, dns_attempts=1)
    await scan_domains(settings, ["natro-musteri.com.tr"], db=db, on_result=reports.append)
    (report,) = reports
    assert not report.classification.complete
    assert report.classification.platform is None
    assert report.evaluation.priority is None
    assert report.evaluation.needs_rescan
    mx = [lk for lk in report.evidence.lookups if lk.rdtype == "MX"]
    assert [lk.status.value for lk in mx] == ["timeout"]
    with db.session() as s:
        assessment = s.scalar(select(Assessment))
        assert assessment is not None
        assert not assessment.complete
        assert assessment.priority is None
        assert assessment.score is None
        assert assessment.priority_rank == 99
        assert "needs-rescan" in assessment.tags


async def test_reevaluate_from_stored_evidence_needs_no_dns(db: Database, sandbox: Sandbox) -> None:
    await scan_domains(sandbox.settings(), list(PROFILES), db=db)
    with db.session() as s:
        before = {a.company_id: (a.score, a.priority) for a in s.scalars(select(Assessment))}
    sandbox.store.set_fault("natro-musteri.com.tr", Fault.SERVFAIL)  # DNS is not consulted again
    summary = reevaluate(db, utcnow())
    assert summary.companies == len(PROFILES)
    assert summary.changed_priority == 0
    with db.session() as s:
        after = {a.company_id: (a.score, a.priority) for a in s.scalars(select(Assessment))}
        assert after == before
        assert s.scalar(select(func.count()).select_from(Evaluation)) == 2 * len(PROFILES)


def test_scan_command_json_lines(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTER_DNS_NAMESERVERS", sandbox.server.address)
    monkeypatch.setenv("HUNTER_RDAP_ENABLED", "false")
    get_settings.cache_clear()
    result = CliRunner().invoke(
        app, ["scan", "BULUT-M365.com.tr", "https://www.natro-musteri.com.tr/x", "--json"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["domain"] for line in lines} == {"bulut-m365.com.tr", "natro-musteri.com.tr"}
    for line in lines:
        for key in (
            "complete",
            "platform",
            "gateway",
            "confidence",
            "m365_tenant",
            "half_migrated",
            "spf",
            "dmarc",
            "dkim",
            "lookups",
            "score",
            "segment",
            "priority",
            "tags",
            "breakdown",
            "rules_version",
        ):
            assert key in line, key
        assert {"record", "valid", "lookups"} <= set(line["spf"])
        assert {"policy", "subdomain_policy", "pct"} <= set(line["dmarc"])
        assert all({"name", "type", "status"} == set(lk) for lk in line["lookups"])
    m365 = next(line for line in lines if line["domain"] == "bulut-m365.com.tr")
    assert m365["platform"] == "m365"
    assert "mx" in m365["m365_tenant"]["traces"]


def test_scan_command_rejects_bad_domain() -> None:
    result = CliRunner().invoke(app, ["scan", "192.168.1.1", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["reason"] == "ip_literal"


def test_brief_command(db: Database, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    monkeypatch.setenv("HUNTER_DATABASE_URL", db.url)
    monkeypatch.setenv("HUNTER_PARTNER_NAME", "Anadolu Bulut Bilişim")
    get_settings.cache_clear()
    asyncio.run(scan_domains(sandbox.settings(), ["natro-musteri.com.tr"], db=db))
    result = CliRunner().invoke(app, ["brief", "natro-musteri.com.tr", "--lang", "tr", "--json"])
    assert result.exit_code == 0, result.output
    brief = json.loads(result.stdout)
    assert "Anadolu Bulut Bilişim" in json.dumps(brief, ensure_ascii=False)
    text = CliRunner().invoke(app, ["brief", "natro-musteri.com.tr", "--lang", "en"])
    assert text.exit_code == 0
    assert "natro-musteri.com.tr" in text.stdout
    missing = CliRunner().invoke(app, ["brief", "unknown-firma.com.tr"])
    assert missing.exit_code == 1
    assert "not in the database" in missing.output
