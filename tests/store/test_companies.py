"""Company upserts are idempotent on the domain and merge what each source knows."""

from __future__ import annotations

from sqlalchemy import func, select

from hunter.store.companies import CompanyFilter, CompanyInput, list_companies, upsert_companies
from hunter.store.db import Database
from hunter.store.models import Company


def _item(domain: str, name: str, row: int, **attrs: str) -> CompanyInput:
    return CompanyInput(
        domain=domain,
        display_domain=domain,
        names=[name],
        source={"kind": "import", "file": "list.xlsx", "rows": [row]},
        attributes=attrs,
    )


def test_upsert_creates_then_merges(db: Database) -> None:
    with db.session() as s:
        first = upsert_companies(s, [_item("firma.com.tr", "FİRMA A.Ş.", 3, adres="İSTANBUL")])
    assert (first.created, first.updated) == (1, 0)
    with db.session() as s:
        second = upsert_companies(
            s,
            [
                _item("firma.com.tr", "Firma Anonim Şirketi", 9, telefon="0212"),
                _item("firma.com.tr", "FİRMA A.Ş.", 3),
            ],
        )
    assert (second.created, second.updated) == (0, 1)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Company)) == 1
        company = s.scalar(select(Company))
        assert company is not None
        assert company.names == ["FİRMA A.Ş.", "Firma Anonim Şirketi"]
        assert company.attributes == {"adres": "İSTANBUL", "telefon": "0212"}
        assert len(company.sources) == 2
    with db.session() as s:
        again = upsert_companies(s, [_item("firma.com.tr", "FİRMA A.Ş.", 3)])
    assert again.unchanged == 1


def test_search_is_turkish_aware(db: Database) -> None:
    with db.session() as s:
        upsert_companies(
            s,
            [
                _item("a.com.tr", "AYDIN TEKSTİL", 1, adres="İKİTELLİ OSB İSTANBUL"),
                _item("b.com.tr", "Bursa Makine", 2, adres="NİLÜFER BURSA"),
            ],
        )
    with db.session() as s:
        total, rows = list_companies(s, CompanyFilter(search="istanbul"))
        assert total == 1
        assert rows[0][0].domain == "a.com.tr"
        total, _ = list_companies(s, CompanyFilter(search="tekstil aydın"))
        assert total == 1
        total, _ = list_companies(s, CompanyFilter(search="%"))
        assert total == 0
