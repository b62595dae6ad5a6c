"""XLSX and XLS: formulas, merged cells, sheets, where the data starts, cell types."""

from __future__ import annotations

import datetime as dt

import pytest
from import_files import Files

from hunter.imports import ColumnRole, ImportFileError, iter_rows, preview_file, read_file

HEADER = ["S.NO", "FİRMA ÜNVANI", "TELEFON", "WEB SİTESİ", "E-POSTA"]


def test_formulas_use_the_cached_value_and_are_never_evaluated(files: Files) -> None:
    c = files.inline
    sheet = (
        f'<row r="1">{c("A1", "Firma")}{c("B1", "Web Sitesi")}</row>'
        # Display text of a HYPERLINK is what Excel shows and stores: "x" is not a domain.
        f'<row r="2">{c("A2", "X")}<c r="B2" t="str"><f>HYPERLINK("http://x-firma.com.tr","x")</f>'
        "<v>x</v></c></row>"
        f'<row r="3">{c("A3", "A")}<c r="B3" t="str"><f>"www."&amp;"a-firma.com.tr"</f>'
        "<v>www.a-firma.com.tr</v></c></row>"
        # No cached value (a file written by a library, never opened in Excel): nothing to use.
        f'<row r="4">{c("A4", "C")}<c r="B4"><f>"www."&amp;"c-firma.com.tr"</f></c></row>'
        f'<row r="5">{c("A5", "D")}<c r="B5" t="str"><f>HYPERLINK("http://d-firma.com.tr","www.d-firma.com.tr")</f>'
        "<v>www.d-firma.com.tr</v></c></row>"
    )
    result = read_file(files.raw_xlsx(sheet))
    assert result.domains == ["a-firma.com.tr", "d-firma.com.tr"]
    assert [(r.row, r.value, r.reason) for r in result.rejected] == [
        (2, "x", "placeholder"),
        (4, "C", "no_domain"),
    ]
    assert "c-firma.com.tr" not in result.domains  # the formula text was not evaluated


def test_merged_title_and_merged_name_over_two_rows(files: Files) -> None:
    rows = [
        ["ORGANİZE SANAYİ BÖLGESİ ÜYE LİSTESİ 2024", "", "", "", ""],
        ["", "", "", "", ""],
        list(HEADER),
        ["1", "AYDINLAR TEKSTİL A.Ş.", "0224 111 11 11", "www.aydinlar-tekstil.com.tr", ""],
        ["", "", "0224 222 22 22", "", "satis@aydinlar-tekstil.com.tr"],  # same company, 2nd line
        ["2", "ÇINARLI KİMYA A.Ş.", "0262 333 33 33", "cinarli-kimya.com.tr", ""],
        ["", "", "", "cinarli-boya.com.tr", ""],  # merged name, but a domain of its own
    ]
    path = files.xlsx(rows, merges=["A1:E1", "B4:B5", "A4:A5", "B6:B7"])
    result = read_file(path)
    assert result.mapping.header_row == 3
    assert result.domains == ["aydinlar-tekstil.com.tr", "cinarli-kimya.com.tr", "cinarli-boya.com.tr"]
    aydinlar = result.companies[0]
    assert aydinlar.rows == [4]  # the continuation line is not a duplicate
    assert aydinlar.attributes["phone"] == "0224 111 11 11\n0224 222 22 22"
    assert aydinlar.emails == ["satis@aydinlar-tekstil.com.tr"]
    assert result.companies[2].names == ["ÇINARLI KİMYA A.Ş."]  # the merged name reaches row 7
    assert result.rejected == []
    assert result.duplicates == []
    assert result.total_rows == 3


def test_section_heading_rows_are_skipped(files: Files) -> None:
    rows = [
        ["FİRMA ÜNVANI", "TELEFON", "WEB SİTESİ"],
        ["TEKSTİL SEKTÖRÜ", "", ""],
        ["A", "", "a-firma.com.tr"],
        ["GIDA SEKTÖRÜ", "", ""],
        ["B", "", "b-firma.com.tr"],
        ["C (web sitesi yok)", "", ""],
    ]
    result = read_file(files.xlsx(rows, merges=["A2:C2", "A4:C4"]))
    assert result.domains == ["a-firma.com.tr", "b-firma.com.tr"]
    assert [(r.row, r.reason) for r in result.rejected] == [(6, "no_domain")]
    assert result.skipped_rows == [2, 4]


def test_data_starting_at_c5_keeps_sheet_row_numbers(files: Files) -> None:
    rows = [["Firma", "Web"], ["A", "a-firma.com.tr"], ["B", "-"]]
    path = files.xlsx(rows, first_row=5, first_col=3)
    result = read_file(path)
    assert result.mapping.header_row == 5
    assert result.companies[0].rows == [6]
    assert [(r.row, r.reason) for r in result.rejected] == [(7, "placeholder")]
    assert next(iter(iter_rows(path))) == (5, ["Firma", "Web"])


def test_cell_types_become_text(files: Files) -> None:
    rows: list[list[object]] = [
        ["S.NO", "Firma", "Telefon", "Kuruluş Tarihi", "Web", "Aktif"],
        [1, "A", 2124441234, dt.datetime(1998, 5, 4), "a-firma.com.tr", True],
        [2.0, "B", 5.5, dt.date(2001, 1, 2), "b-firma.com.tr", False],
    ]
    result = read_file(files.xlsx(rows))
    first, second = result.companies
    assert first.attributes["row_number"] == "1"
    assert first.attributes["phone"] == "2124441234"  # not "2124441234.0"
    assert first.attributes["kurulus_tarihi"] == "1998-05-04"
    assert first.attributes["aktif"] == "TRUE"
    assert second.attributes["row_number"] == "2"
    assert second.attributes["phone"] == "5.5"


def test_xls_with_turkish_text_and_merges(files: Files) -> None:
    rows: list[list[object]] = [
        ["ÜYE FİRMA LİSTESİ", "", "", "", ""],
        ["", "", "", "", ""],
        list(HEADER),
        [1, "ŞAHİNKAYA GIDA LTD. ŞTİ.", "0212", "WWW.SAHINKAYA-GIDA.COM.TR", ""],
        [2, "ÖRNEK KALIP SAN. TİC. LTD. ŞTİ.", "0262", "www.örnek-kalıp.com.tr", ""],
        [3, "İNCELER METAL A.Ş.", "0224", "", "info@inceler-metal.com.tr"],
    ]
    path = files.xls(rows, merges=[(0, 0, 0, 4)])
    result = read_file(path)
    assert result.format == "xls"
    assert result.mapping.header_row == 3
    assert result.domains == ["sahinkaya-gida.com.tr", "xn--rnek-kalp-z7a17d.com.tr", "inceler-metal.com.tr"]
    assert result.companies[1].display_domain == "örnek-kalıp.com.tr"
    assert result.companies[0].names == ["ŞAHİNKAYA GIDA LTD. ŞTİ."]
    assert result.companies[0].attributes["row_number"] == "1"


def test_sheet_choice(files: Files) -> None:
    notes = [["Açıklama"], ["Bu dosyada iki sayfa var."]]
    members = [["Firma Adı", "Web Adresi"], ["A", "a-firma.com.tr"]]
    secret = [["Firma", "Web"], ["Gizli", "gizli-firma.com.tr"]]
    path = files.xlsx(
        notes, sheet="Açıklama", more_sheets={"Üyeler": members, "Gizli": secret}, hidden=["Gizli"]
    )
    preview = preview_file(path)
    assert preview.sheets == ["Açıklama", "Üyeler"]  # hidden sheets are not offered
    assert preview.sheet == "Üyeler"  # the first sheet with a list of domains
    assert read_file(path).domains == ["a-firma.com.tr"]
    assert read_file(path, sheet="Gizli").domains == ["gizli-firma.com.tr"]  # but can be asked for
    with pytest.raises(ImportFileError) as info:
        read_file(path, sheet="Yok")
    assert info.value.code == "sheet_not_found"
    with pytest.raises(ImportFileError) as info:
        read_file(path, sheet="Açıklama")
    assert info.value.code == "no_header"


def test_empty_workbook(files: Files) -> None:
    with pytest.raises(ImportFileError) as info:
        read_file(files.xlsx([]))
    assert info.value.code == "empty_file"


def test_preview_of_workbook(files: Files) -> None:
    rows = [["LİSTE"], [], HEADER] + [[i, f"Firma {i}", "", f"firma{i}.com.tr", ""] for i in range(1, 31)]
    preview = preview_file(files.xlsx(rows), limit=3)
    assert preview.format == "xlsx"
    assert preview.encoding is None
    assert preview.header == HEADER
    assert preview.rows == [
        ["1", "Firma 1", "", "firma1.com.tr", ""],
        ["2", "Firma 2", "", "firma2.com.tr", ""],
        ["3", "Firma 3", "", "firma3.com.tr", ""],
    ]
    assert preview.row_numbers == [4, 5, 6]
    assert preview.total_rows_estimate == 30
    assert preview.mapping.roles["WEB SİTESİ"] is ColumnRole.WEBSITE


def test_user_header_row(files: Files) -> None:
    rows = [["Firma", "Web"], ["Ad", "Alan adı"], ["A", "a-firma.com.tr"]]
    path = files.xlsx(rows)
    assert read_file(path).mapping.header_row == 1
    chosen = read_file(path, header_row=2)
    assert chosen.mapping.columns == ["Ad", "Alan adı"]
    assert chosen.domains == ["a-firma.com.tr"]
    with pytest.raises(ImportFileError):
        read_file(path, header_row=40)
