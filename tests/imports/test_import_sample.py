"""The bundled sample member list, in both formats, gives the same, known import."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hunter.imports import ColumnRole, ImportResult, iter_rows, preview_file, read_file, sample_path
from hunter.imports.text import header_key

REPO = Path(__file__).resolve().parents[2]


def _row(sno: int) -> int:
    # Header on row 4; the header repeats on row 49 after S.NO 44.
    return 4 + sno if sno <= 44 else 5 + sno


@pytest.fixture(scope="module", params=["xlsx", "csv"])
def result(request: pytest.FixtureRequest) -> ImportResult:
    return read_file(sample_path(request.param))


def _cells(kind: str, sno: int) -> list[str]:
    wanted = _row(sno)
    return next(cells for number, cells in iter_rows(sample_path(kind)) if number == wanted)


def test_mapping_chooses_website_then_email_never_address(result: ImportResult) -> None:
    assert result.mapping.header_row == 4
    assert result.mapping.to_json() == {
        "S.NO": "row_number",
        "FİRMA ÜNVANI": "name",
        "FAALİYET KONUSU": "activity",
        "TELEFON": "phone",
        "ADRES": "address",
        "WEB SİTESİ": "website",
        "E-POSTA": "email",
        "DURUMU": "status",
    }
    assert result.mapping.domain_sources == ["WEB SİTESİ", "E-POSTA"]
    # Row S.NO 21 mentions a web address in its address only: it is rejected, not imported.
    assert "gurbuzler-ambalaj.com.tr" not in result.domains
    assert (_row(21), "no_domain") in [(r.row, r.reason) for r in result.rejected]


def test_rejected_rows_with_row_numbers(result: ImportResult) -> None:
    assert [(r.row, r.reason) for r in result.rejected] == [
        (_row(14), "no_domain"),
        (_row(19), "placeholder"),  # "YOK" / "YOK"
        (_row(21), "no_domain"),
        (_row(23), "free_mail"),  # only a gmail.com address
        (_row(30), "invalid_tld"),  # "www.demirtepe-metal"
        (_row(41), "no_domain"),
        (_row(78), "no_domain"),
    ]
    by_row = {r.row: r for r in result.rejected}
    assert by_row[_row(19)].value == "YOK"
    assert by_row[_row(30)].value == "www.demirtepe-metal"
    assert by_row[_row(14)].value.endswith(("A.Ş.", "LTD. ŞTİ."))  # the company's name, to find the row
    assert all(r.message for r in result.rejected)


def test_duplicates_merged_with_all_names_and_rows(result: ImportResult) -> None:
    assert [(d.domain, d.rows) for d in result.duplicates] == [
        ("aydinlar-tekstil.com.tr", [_row(3), _row(36)]),
        ("bozkurtlar-otomotiv.com.tr", [_row(52), _row(67)]),  # the second one by e-mail only
    ]
    company = next(c for c in result.companies if c.domain == "aydinlar-tekstil.com.tr")
    assert company.names == ["AYDINLAR TEKSTİL SAN. VE TİC. A.Ş.", "Aydınlar Tekstil Sanayi ve Ticaret AŞ"]
    assert company.rows == [_row(3), _row(36)]
    assert company.emails == ["info@aydinlar-tekstil.com.tr", "ihracat@aydinlar-tekstil.com.tr"]
    assert result.domains.count("aydinlar-tekstil.com.tr") == 1


def test_totals_add_up(result: ImportResult) -> None:
    assert result.total_rows == 80
    assert result.skipped_rows == [49, 87]  # the repeated header and "TOPLAM 80 FİRMA"
    assert len(result.companies) == 80 - 7 - 2
    assert sum(len(c.rows) for c in result.companies) + len(result.rejected) == result.total_rows
    assert len(set(result.domains)) == len(result.domains)


def test_idn_as_punycode_with_unicode_display(result: ImportResult) -> None:
    company = next(c for c in result.companies if c.rows == [_row(12)])
    assert company.domain == "xn--rnek-kalp-z7a17d.com.tr"
    assert company.display_domain == "örnek-kalıp.com.tr"
    assert company.names == ["ÖRNEK KALIP SAN. TİC. LTD. ŞTİ."]
    assert all(domain.isascii() for domain in result.domains)


def test_email_fallback(result: ImportResult) -> None:
    by_row = {c.rows[0]: c for c in result.companies}
    kind = "xlsx" if result.format == "xlsx" else "csv"
    for sno in (11, 17, 26, 28, 73):  # no website, "-", two e-mails, a broken website, a Facebook page
        email = _cells(kind, sno)[6]
        expected = email.split(";")[0].split("@")[1].strip().lower()
        assert by_row[_row(sno)].domain == expected, sno
    facebook = by_row[_row(73)]
    assert facebook.attributes["website"].startswith("https://www.facebook.com/")
    assert "facebook.com" not in result.domains


def test_messy_urls_normalised(result: ImportResult) -> None:
    by_row = {c.rows[0]: c for c in result.companies}
    kind = "xlsx" if result.format == "xlsx" else "csv"
    for sno in (3, 5, 7, 8, 9, 15, 33):  # WWW.UPPER, http://x/, path, trailing space/dot, mail., HTTP://
        website = _cells(kind, sno)[5]
        domain = by_row[_row(sno)].domain
        assert domain in website.lower()
        assert not domain.startswith(("www.", "mail.", "http"))
        assert not domain.endswith(".")


def test_attributes_keep_the_other_columns(result: ImportResult) -> None:
    company = result.companies[0]
    assert set(company.attributes) >= {"row_number", "activity", "phone", "address", "status"}
    assert company.source == f"osb-uye-listesi.{result.format}"
    addresses = [c.attributes.get("address", "") for c in result.companies]
    assert any("İSTANBUL" in address for address in addresses)
    # A later search for "istanbul" has to fold: plain lower() does not find it.
    assert not any("istanbul" in address.lower() for address in addresses)
    assert any("istanbul" in header_key(address) for address in addresses)


def test_both_formats_agree() -> None:
    xlsx, csv = (read_file(sample_path(kind)) for kind in ("xlsx", "csv"))
    assert xlsx.to_dry_run_json()["domains"] == csv.to_dry_run_json()["domains"]
    assert [(r.row, r.reason) for r in xlsx.rejected] == [(r.row, r.reason) for r in csv.rejected]
    assert csv.encoding == "cp1254"
    assert xlsx.sheet == "Üye Listesi"


def test_dry_run_json(result: ImportResult) -> None:
    data = result.to_dry_run_json()
    assert set(data) == {
        "mapping",
        "domains",
        "rejected",
        "duplicates",
        "total_rows",
        "header_row",
        "format",
        "encoding",
    }
    assert data["mapping"]["WEB SİTESİ"] == "website"
    assert data["rejected"][0] == {
        "row": _row(14),
        "value": result.rejected[0].value,
        "reason": "no_domain",
        "message": result.rejected[0].message,
    }
    assert data["duplicates"][0] == {"domain": "aydinlar-tekstil.com.tr", "rows": [_row(3), _row(36)]}
    assert data["header_row"] == 4


def test_user_mapping_email_only_changes_the_result() -> None:
    result = read_file(sample_path("xlsx"), mapping={"E-POSTA": ColumnRole.EMAIL})
    assert result.mapping.domain_sources == ["E-POSTA"]
    assert result.mapping.roles["WEB SİTESİ"] is ColumnRole.ATTRIBUTE
    detected = read_file(sample_path("xlsx"))
    assert len(result.domains) < len(detected.domains)
    # Rows that had only a website are now rejected for lack of a domain.
    assert (_row(8), "no_domain") in [(r.row, r.reason) for r in result.rejected]
    # The IDN row had no e-mail at all.
    assert "xn--rnek-kalp-z7a17d.com.tr" not in result.domains


def test_preview_of_sample() -> None:
    preview = preview_file(sample_path("xlsx"), limit=5)
    assert preview.header[5] == "WEB SİTESİ"
    assert preview.row_numbers == [5, 6, 7, 8, 9]
    assert preview.rows[2][1] == "AYDINLAR TEKSTİL SAN. VE TİC. A.Ş."
    assert preview.sheets == ["Üye Listesi"]
    assert 80 <= preview.total_rows_estimate <= 85


def test_sample_path_kinds() -> None:
    assert sample_path().suffix == ".xlsx"
    assert sample_path("csv").name == "osb-uye-listesi.csv"
    with pytest.raises(ValueError, match="kind"):
        sample_path("pdf")


def test_generator_is_reproducible_and_committed_files_are_current(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "samples" / "make_samples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first = module.write_samples(tmp_path / "a")
    second = module.write_samples(tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    committed_csv = REPO / "samples" / "osb-uye-listesi.csv"
    assert (tmp_path / "a" / "osb-uye-listesi.csv").read_bytes() == committed_csv.read_bytes()
    # The XLSX bytes depend on the openpyxl version; its cells must match.
    assert list(iter_rows(tmp_path / "a" / "osb-uye-listesi.xlsx")) == list(
        iter_rows(REPO / "samples" / "osb-uye-listesi.xlsx")
    )
    packaged = REPO / "src" / "hunter" / "data" / "samples"
    for name in ("osb-uye-listesi.csv", "osb-uye-listesi.xlsx"):
        assert (packaged / name).read_bytes() == (REPO / "samples" / name).read_bytes()
