"""CSV / XLSX exports (parsed back) and the PDF brief."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from leads_data import DEFAULT_ORDER, LeadSet
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import insert

from hunter.api import exports
from hunter.sandbox.testing import SandboxWorld
from hunter.services.scanning import scan_domains
from hunter.store.db import Database
from hunter.store.models import Assessment, Company

CSV = "/api/v1/exports/leads.csv"
XLSX = "/api/v1/exports/leads.xlsx"


def read_csv(response: object, delimiter: str = ",") -> list[dict[str, str]]:
    raw: bytes = response.content  # type: ignore[attr-defined]
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so that Excel picks UTF-8"
    return list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8")), delimiter=delimiter))


def read_xlsx(response: object) -> tuple[list[str], list[list[object]], object]:
    workbook = load_workbook(io.BytesIO(response.content), read_only=False)  # type: ignore[attr-defined]
    sheet = workbook["Leads"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:], sheet


def test_csv_export(sales: TestClient, leads: LeadSet) -> None:
    response = sales.get(CSV)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="hunter-leads-')
    rows = read_csv(response)
    assert [r["Domain"] for r in rows] == list(DEFAULT_ORDER)  # the list's order
    alfa = rows[0]
    assert alfa["Company"] == "ALFA İNŞAAT A.Ş."  # Turkish text intact
    assert alfa["City"] == "İSTANBUL"
    assert alfa["District"] == "Şişli"
    assert alfa["Priority"] == "P1"
    assert alfa["Score"] == "88"
    assert alfa["Tags"] == "local-hosting, security-risk, no-dmarc"
    assert alfa["Scan status"] == "complete"
    assert alfa["Scanned (UTC)"].startswith("2026-11-19T12:00:00")
    assert alfa["E-mail"] == "info@alfa-insaat.com.tr"
    assert alfa["Why"] == "hosting: a migration"
    by_domain = {r["Domain"]: r for r in rows}
    assert by_domain["gul-tarim.com.tr"]["City"] == "Şanlıurfa"
    assert by_domain["gul-tarim.com.tr"]["Scan status"] == "not_scanned"
    assert by_domain["gul-tarim.com.tr"]["Tags"] == "sicak"
    assert by_domain["firma-yok.com.tr"]["Scan status"] == "needs_rescan"


def test_csv_neutralises_formulas(sales: TestClient, leads: LeadSet) -> None:
    rows = {r["Domain"]: r for r in read_csv(sales.get(CSV))}
    delta = rows["delta-lojistik.com.tr"]
    assert delta["Company"] == '\'=HYPERLINK("http://evil.example","click")'
    assert delta["Phone"] == "'@SUM(1+1)"
    assert delta["Activity"] == "'-2+3"
    assert rows["ege-mermer.com.tr"]["Phone"] == "'+90 258 000 00 00"
    for row in rows.values():
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_csv_honours_filters_sort_delimiter_and_lang(sales: TestClient, leads: LeadSet) -> None:
    rows = read_csv(sales.get(CSV, params={"segment": "Migration", "sort": "domain"}))
    assert [r["Domain"] for r in rows] == ["alfa-insaat.com.tr", "beta-tekstil.com.tr", "ege-mermer.com.tr"]
    rows = read_csv(sales.get(CSV, params={"q": "istanbul", "delimiter": "semicolon", "lang": "tr"}), ";")
    assert [r["Alan adı"] for r in rows] == ["alfa-insaat.com.tr", "cam-gida.com.tr"]
    assert rows[0]["Firma"] == "ALFA İNŞAAT A.Ş."
    assert rows[0]["Neden"] == "hosting platformu: taşıma fırsatı"
    assert rows[0]["İl"] == "İSTANBUL"
    empty = read_csv(sales.get(CSV, params={"tags": "nothing"}))
    assert empty == []
    assert sales.get(CSV, params={"priority": "P0"}).status_code == 422


def test_xlsx_export(sales: TestClient, leads: LeadSet) -> None:
    response = sales.get(XLSX, params={"lang": "tr"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    header, rows, sheet = read_xlsx(response)
    assert header[:4] == ["Alan adı", "Firma", "Öncelik", "Puan"]
    assert [r[0] for r in rows] == list(DEFAULT_ORDER)
    alfa = dict(zip(header, rows[0], strict=True))
    assert alfa["Firma"] == "ALFA İNŞAAT A.Ş."
    assert alfa["Puan"] == 88  # a number, not text
    assert alfa["İlçe"] == "Şişli"
    assert alfa["Taranma (UTC)"].isoformat().startswith("2026-11-19T12:00")  # type: ignore[union-attr]
    delta_index = list(DEFAULT_ORDER).index("delta-lojistik.com.tr")
    delta = dict(zip(header, rows[delta_index], strict=True))
    assert delta["Firma"] == '\'=HYPERLINK("http://evil.example","click")'
    assert delta["Telefon"] == "'@SUM(1+1)"
    # No cell is a formula.
    for row in sheet.iter_rows():  # type: ignore[attr-defined]
        for cell in row:
            assert cell.data_type != "f", cell.coordinate


def test_xlsx_honours_filters(sales: TestClient, leads: LeadSet) -> None:
    _header, rows, _sheet = read_xlsx(sales.get(XLSX, params=[("priority", "P1"), ("priority", "P4")]))
    assert [r[0] for r in rows] == ["alfa-insaat.com.tr", "ege-mermer.com.tr", "delta-lojistik.com.tr"]
    _header, rows, _sheet = read_xlsx(sales.get(XLSX, params={"domain": "gul-tarim.com.tr"}))
    assert [r[0] for r in rows] == ["gul-tarim.com.tr"]


def test_exports_stream_in_batches(sales: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than a batch: every row once, in order (yield_per / server-side cursor)."""
    monkeypatch.setattr(exports, "BATCH", 7)
    monkeypatch.setattr(exports, "CHUNK", 256)
    with db.session() as session:
        session.execute(
            insert(Company),
            [
                {
                    "domain": f"firma{i:03d}.com.tr",
                    "display_domain": f"firma{i:03d}.com.tr",
                    "name": f"Firma {i}",
                    "names": [],
                    "sources": [],
                    "attributes": {"city": "İzmir"},
                    "emails": [],
                    "search_text": f"firma{i:03d}.com.tr firma {i} izmir",
                }
                for i in range(53)
            ],
        )
        ids = dict(
            session.execute(Company.__table__.select().with_only_columns(Company.domain, Company.id)).all()
        )
        session.execute(
            insert(Assessment),
            [
                {
                    "company_id": ids[f"firma{i:03d}.com.tr"],
                    "complete": True,
                    "priority": "P2",
                    "priority_rank": 2,
                    "score": i % 10,
                    "segment": "Migration",
                    "platform": "google",
                    "breakdown": [],
                    "tags": [],
                    "details": {},
                }
                for i in range(53)
            ],
        )
    expected = sales.get("/api/v1/leads", params={"page_size": 500}).json()["items"]
    rows = read_csv(sales.get(CSV))
    assert [r["Domain"] for r in rows] == [i["domain"] for i in expected]
    assert len(rows) == 53
    _header, xrows, _sheet = read_xlsx(sales.get(XLSX, params={"q": "izmir"}))
    assert len(xrows) == 53


def test_viewer_may_export(viewer: TestClient, leads: LeadSet) -> None:
    assert viewer.get(CSV).status_code == 200


def test_neutralise() -> None:
    assert exports.neutralise("=1+1") == "'=1+1"
    assert exports.neutralise("\t=1") == "'\t=1"
    assert exports.neutralise("\rx") == "'\rx"
    assert exports.neutralise("İstanbul") == "İstanbul"
    assert exports.neutralise(-5) == -5  # numbers stay numbers
    assert exports.neutralise(None) is None


async def test_pdf_brief(sales: TestClient, viewer: TestClient, db: Database, sandbox: SandboxWorld) -> None:
    await scan_domains(sandbox.settings(), ["natro-musteri.com.tr"], db=db)
    response = sales.get("/api/v1/leads/natro-musteri.com.tr/brief.pdf", params={"lang": "tr"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/FontFile2" in response.content  # the TrueType font is embedded
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "natro-musteri.com.tr" in text
    assert "Neden bu öncelik" in text
    assert "Arama senaryosu" in text
    for letter in "ğşıİ":
        assert letter in text, letter
    english = viewer.get("/api/v1/leads/natro-musteri.com.tr/brief.pdf", params={"lang": "en"})
    assert english.status_code == 200
    english_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(english.content)).pages)
    assert "Why this priority" in english_text


async def test_pdf_without_a_font_is_a_clean_503(
    sales: TestClient, db: Database, sandbox: SandboxWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await scan_domains(sandbox.settings(), ["natro-musteri.com.tr"], db=db)
    monkeypatch.setattr(exports, "FONT_CANDIDATES", ())
    response = sales.get("/api/v1/leads/natro-musteri.com.tr/brief.pdf")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "fonts-dejavu-core" in response.json()["detail"]


def test_pdf_of_unknown_or_unscanned_lead(sales: TestClient, leads: LeadSet) -> None:
    missing = sales.get("/api/v1/leads/yok.com.tr/brief.pdf")
    assert missing.status_code == 404
    unscanned = sales.get("/api/v1/leads/gul-tarim.com.tr/brief.pdf")
    assert unscanned.status_code == 409
    assert "has not been scanned" in unscanned.json()["detail"]
    assert sales.get("/api/v1/leads/alfa-insaat.com.tr/brief.pdf", params={"lang": "de"}).status_code == 422


def test_pdf_font_is_found() -> None:
    regular, bold = exports.brief_font()
    assert regular.is_file()
    assert bold.is_file()


def test_export_routes_need_sign_in(anon_client: TestClient) -> None:
    assert anon_client.get(CSV).status_code == 401
    assert anon_client.get(XLSX).status_code == 401
