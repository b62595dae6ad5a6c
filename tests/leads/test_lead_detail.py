"""GET /api/v1/leads/{domain}: the drawer's data, on built data and on a real sandbox scan."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from leads_data import NOW, LeadSet
from sqlalchemy import select

from hunter.sandbox.testing import SandboxWorld
from hunter.services.evaluation import reevaluate
from hunter.services.scanning import scan_domains
from hunter.store.db import Database
from hunter.store.models import Assessment, Company, Scan
from hunter.store.types import utcnow


def test_detail_of_built_lead(sales: TestClient, leads: LeadSet) -> None:
    sales.post("/api/v1/leads/alfa-insaat.com.tr/notes", json={"body": "Aradım, BT müdürü Ayşe Hanım."})
    sales.put("/api/v1/leads/alfa-insaat.com.tr/tags/Öncelikli")
    sales.put("/api/v1/leads/alfa-insaat.com.tr/favourite")
    response = sales.get("/api/v1/leads/alfa-insaat.com.tr", params={"brief": "false"})
    assert response.status_code == 200, response.text
    lead = response.json()
    assert lead["domain"] == "alfa-insaat.com.tr"
    assert lead["name"] == "ALFA İNŞAAT A.Ş."
    assert lead["attributes"]["city"] == "İSTANBUL"
    assert lead["emails"] == ["info@alfa-insaat.com.tr"]
    assert (lead["priority"], lead["score"], lead["segment"]) == ("P1", 88, "Migration")
    assert lead["scanned"] is True
    assert lead["complete"] is True
    assert lead["scanned_at"].startswith((NOW - timedelta(days=1)).date().isoformat())
    assert lead["classification"]["platform"] == "hosting"
    assert lead["posture"] == {"dmarc": {"status": "missing"}}
    assert [f["factor"] for f in lead["breakdown"]] == ["platform_fit", "dmarc_missing", "risk"]
    assert lead["breakdown"][0]["text"] == {
        "tr": "hosting platformu: taşıma fırsatı",
        "en": "hosting: a migration",
    }
    evidence = lead["evidence"]
    assert evidence["scan_id"] == leads.scan_ids["alfa-insaat.com.tr"]
    assert [lk["rdtype"] for lk in evidence["lookups"]] == ["MX", "TXT"]
    assert evidence["evidence_lines"] == ["MX 10 mx.alfa-insaat.com.tr"]
    assert len(lead["history"]["scans"]) == 1
    (evaluation,) = lead["history"]["evaluations"]
    assert (evaluation["priority"], evaluation["score"], evaluation["platform"]) == ("P1", 88, "hosting")
    assert [a["kind"] for a in lead["alerts"]] == ["dmarc_removed", "platform_change"]  # newest first
    assert lead["alerts"][0]["text"] == {"tr": "Değişiklik 1", "en": "Change 1"}
    (note,) = lead["notes"]
    assert note["body"] == "Aradım, BT müdürü Ayşe Hanım."
    assert note["author"] == "sales"
    assert lead["tags"]["engine"] == ["local-hosting", "security-risk", "no-dmarc"]
    assert lead["tags"]["user"] == ["öncelikli"]
    assert lead["tags"]["all"] == ["local-hosting", "security-risk", "no-dmarc", "öncelikli"]
    assert lead["favourite"] is True
    assert lead["brief"] is None


def test_detail_in_one_language(sales: TestClient, leads: LeadSet) -> None:
    lead = sales.get("/api/v1/leads/alfa-insaat.com.tr", params={"lang": "tr", "brief": "false"}).json()
    assert lead["breakdown"][0]["text"] == "hosting platformu: taşıma fırsatı"
    assert lead["alerts"][0]["text"] == "Değişiklik 1"
    assert lead["why"] == "hosting platformu: taşıma fırsatı"


def test_detail_of_unscanned_lead(sales: TestClient, leads: LeadSet) -> None:
    lead = sales.get("/api/v1/leads/gul-tarim.com.tr").json()
    assert lead["scanned"] is False
    assert lead["complete"] is None
    assert lead["priority"] is None
    assert lead["brief"] is None
    assert lead["evidence"]["lookups"] == []
    assert lead["history"] == {"scans": [], "evaluations": []}
    assert lead["tags"] == {"all": ["sicak"], "engine": [], "user": ["sicak"]}


def test_detail_finds_the_domain_however_it_is_typed(sales: TestClient, leads: LeadSet) -> None:
    for typed in ("ALFA-INSAAT.COM.TR", "www.alfa-insaat.com.tr"):
        response = sales.get(f"/api/v1/leads/{typed}", params={"brief": "false"})
        assert response.status_code == 200, typed
        assert response.json()["domain"] == "alfa-insaat.com.tr"


def test_unknown_lead_is_a_404_problem(sales: TestClient, leads: LeadSet) -> None:
    for path in ("/api/v1/leads/yok-boyle-bir-firma.com.tr", "/api/v1/leads/not a domain"):
        response = sales.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "not in the database" in response.json()["detail"]


async def test_detail_on_a_real_scan(sales: TestClient, db: Database, sandbox: SandboxWorld) -> None:
    """The one scan path (sandbox DNS → evidence → evaluation → storage), then the API reads it."""
    settings = sandbox.settings()
    await scan_domains(settings, ["natro-musteri.com.tr", "yarim-gecis.com.tr"], db=db)
    with db.session() as session:
        scan = session.scalar(select(Scan).join(Company).where(Company.domain == "natro-musteri.com.tr"))
        assert scan is not None
        assessment = session.scalar(select(Assessment).where(Assessment.scan_id == scan.id))
        assert assessment is not None
        assert assessment.scanned_at == scan.started_at  # stamped on flush from the scan

    lead = sales.get("/api/v1/leads/natro-musteri.com.tr").json()
    assert lead["priority"] == "P1"
    assert lead["segment"] == "Migration"
    assert lead["platform"] == "hosting"
    assert lead["classification"]["platform"] == "hosting"
    assert lead["classification"]["complete"] is True
    assert "spf" in lead["posture"]
    assert "dmarc" in lead["posture"]
    lookups = lead["evidence"]["lookups"]
    assert any(lk["rdtype"] == "MX" and lk["status"] == "ok" for lk in lookups)
    assert all(lk["status"] for lk in lookups)
    assert lead["evidence"]["evidence_lines"]
    assert lead["breakdown"]
    assert sum(f["points"] for f in lead["breakdown"]) > 0
    assert lead["tags"]["engine"]
    assert set(lead["brief"]) == {"tr", "en"}
    assert lead["brief"]["tr"]["lang"] == "tr"
    assert lead["brief"]["en"]["call_script"]
    assert len(lead["history"]["scans"]) == 1
    assert lead["history"]["evaluations"][0]["priority"] == "P1"
    assert lead["scanned_at"] is not None

    one = sales.get("/api/v1/leads/natro-musteri.com.tr", params={"lang": "en"}).json()
    assert one["brief"]["lang"] == "en"
    assert isinstance(one["breakdown"][0]["text"], str)

    half = sales.get("/api/v1/leads", params={"domain": "yarim-gecis.com.tr"}).json()["items"][0]
    assert half["half_migrated"] is True
    assert "half-migrated" in half["tags"]


async def test_user_tags_survive_reevaluation(sales: TestClient, db: Database, sandbox: SandboxWorld) -> None:
    await scan_domains(sandbox.settings(), ["natro-musteri.com.tr"], db=db)
    assert sales.put("/api/v1/leads/natro-musteri.com.tr/tags/sıcak-lead").status_code == 201
    before = sales.get("/api/v1/leads/natro-musteri.com.tr", params={"brief": "false"}).json()
    assert before["tags"]["user"] == ["sıcak-lead"]
    scanned_at = before["scanned_at"]

    summary = reevaluate(db, utcnow())
    assert summary.companies == 1

    after = sales.get("/api/v1/leads/natro-musteri.com.tr", params={"brief": "false"}).json()
    assert after["tags"]["user"] == ["sıcak-lead"]
    assert "sıcak-lead" in after["tags"]["all"]
    assert after["tags"]["engine"] == before["tags"]["engine"]
    assert after["scanned_at"] == scanned_at  # a re-evaluation is not a scan
    assert len(after["history"]["evaluations"]) == 2
    assert [
        i["domain"] for i in sales.get("/api/v1/leads", params={"tags": "sıcak-lead"}).json()["items"]
    ] == ["natro-musteri.com.tr"]
    # A rescan keeps them too, and moves scanned_at on.
    await scan_domains(sandbox.settings(), ["natro-musteri.com.tr"], db=db)
    rescanned = sales.get("/api/v1/leads/natro-musteri.com.tr", params={"brief": "false"}).json()
    assert rescanned["tags"]["user"] == ["sıcak-lead"]
    assert rescanned["scanned_at"] > scanned_at
