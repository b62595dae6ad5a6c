"""CSV as Turkish Excel writes it: encodings, separators, quoting, and the mess around the data."""

from __future__ import annotations

import csv
import io
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_files import Files

from hunter.imports import ColumnRole, ImportFileError, iter_rows, preview_file, read_file
from hunter.imports.text import clean_text

HEADER = ["S.NO", "FİRMA ÜNVANI", "FAALİYET KONUSU", "ADRES", "WEB SİTESİ", "E-POSTA", "İl", "İlçe"]
ROWS = [
    [
        "1",
        "AYDINLAR TEKSTİL SAN. VE TİC. A.Ş.",
        "Tekstil",
        "OSB 1. Cad. No:3 Nilüfer/BURSA",
        "www.aydinlar-tekstil.com.tr",
        "info@aydinlar-tekstil.com.tr",
        "BURSA",
        "Nilüfer",
    ],
    [
        "2",
        "ŞAHİNKAYA GIDA LTD. ŞTİ.",
        "Gıda",
        "İkitelli OSB Başakşehir/İSTANBUL",
        "",
        "satis@sahinkaya-gida.com.tr",
        "İSTANBUL",
        "Başakşehir",
    ],
    [
        "3",
        "ÇINARLI KİMYA A.Ş.",
        "Kimya",
        "Gebze/KOCAELİ",
        "http://www.cinarli-kimya.com.tr/",
        "",
        "KOCAELİ",
        "Gebze",
    ],
]


def _domains(path, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    return read_file(path, **kwargs).to_dry_run_json()["domains"]


EXPECTED = ["aydinlar-tekstil.com.tr", "sahinkaya-gida.com.tr", "cinarli-kimya.com.tr"]


@pytest.mark.parametrize(
    ("encoding", "bom", "reported"),
    [
        ("utf-8", False, "utf-8"),
        ("utf-8", True, "utf-8-sig"),
        ("cp1254", False, "cp1254"),
        ("iso-8859-9", False, "cp1254"),  # same bytes for every Turkish letter
        ("utf-16", False, "utf-16"),  # Excel "Unicode Text" (BOM written by the codec)
    ],
)
def test_encodings(files: Files, encoding: str, bom: bool, reported: str) -> None:
    delimiter = "\t" if encoding == "utf-16" else ";"
    path = files.csv([HEADER, *ROWS], encoding=encoding, bom=bom, delimiter=delimiter)
    result = read_file(path)
    assert result.encoding == reported
    assert result.mapping.columns == HEADER  # Turkish letters in the headers survived decoding
    assert result.domains == EXPECTED
    assert result.companies[1].names == ["ŞAHİNKAYA GIDA LTD. ŞTİ."]
    assert result.companies[1].attributes["city"] == "İSTANBUL"
    assert result.companies[1].attributes["district"] == "Başakşehir"


def test_utf8_decided_by_the_whole_file(files: Files) -> None:
    # The only non-ASCII byte sits far beyond any sniffing window: cp1254 must still be detected.
    rows = [["Firma", "Web"]] + [[f"Firma {i}", f"firma{i}.com.tr"] for i in range(20_000)]
    rows.append(["Son Firma ŞİŞE", "son-sise.com.tr"])
    path = files.csv(rows, encoding="cp1254")
    result = read_file(path)
    assert result.encoding == "cp1254"
    assert result.companies[-1].names == ["Son Firma ŞİŞE"]


def test_charset_normalizer_is_the_last_resort(files: Files) -> None:
    # Serbian Cyrillic in cp1251 uses bytes cp1254 leaves undefined (0x90 "ђ", 0x9E "ћ").
    rows = "".join(
        f"Ђорђе Ћирић и синови д.о.о. {i};djordje-ciric{i}.rs\r\nПредузеће Љубомир Њешић;ljubomir{i}.rs\r\n"
        for i in range(5)
    )
    path = files.bytes("liste.csv", ("Firma;Web\r\n" + rows).encode("cp1251"))
    result = read_file(path)
    assert result.encoding == "cp1251"
    assert result.companies[0].names == ["Ђорђе Ћирић и синови д.о.о. 0"]
    assert len(result.domains) == 10


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_delimiters(files: Files, delimiter: str) -> None:
    path = files.csv([HEADER, *ROWS], delimiter=delimiter)
    assert _domains(path) == EXPECTED


def test_commas_inside_a_semicolon_file(files: Files) -> None:
    rows = [
        ["Firma", "Adres", "Web"],
        ["A", "Cad. No: 5, Kat 2, Nilüfer, BURSA", "a-firma.com.tr"],
        ["B", "Sok. 7, Gebze", "b-firma.com.tr"],
    ]
    assert _domains(files.csv(rows, delimiter=";")) == ["a-firma.com.tr", "b-firma.com.tr"]


def test_quoted_fields_with_newlines_keep_row_numbers(files: Files) -> None:
    rows = [
        ["Firma", "Adres", "Web"],
        ["A", "1. satır\n2. satır\n3. satır", "a-firma.com.tr"],
        ["B", 'Tırnaklı "adres"; noktalı virgül', "yok-boyle"],
        ["C", "", "c-firma.com.tr"],
    ]
    path = files.csv(rows)
    result = read_file(path)
    assert result.domains == ["a-firma.com.tr", "c-firma.com.tr"]
    assert result.companies[0].attributes["address"] == "1. satır\n2. satır\n3. satır"
    assert [r.row for r in result.rejected] == [3]  # a record with line breaks is one row, as in Excel
    assert result.companies[1].rows == [4]


def test_ragged_rows(files: Files) -> None:
    text = "Firma;Web;Tel\r\nA;a-firma.com.tr\r\nB;b-firma.com.tr;0212;fazla;daha fazla\r\nC\r\n"
    path = files.bytes("liste.csv", text.encode())
    result = read_file(path)
    assert result.domains == ["a-firma.com.tr", "b-firma.com.tr"]
    assert [(r.row, r.reason) for r in result.rejected] == [(4, "no_domain")]
    assert result.companies[1].attributes["phone"] == "0212"


def test_title_notes_blank_rows_repeated_header_and_totals(files: Files) -> None:
    rows = [
        ["ORGANİZE SANAYİ BÖLGESİ ÜYE LİSTESİ 2024", "", "", ""],
        ["", "", "", ""],
        ["Güncelleme: 02.01.2024", "", "", ""],
        ["", "", "", ""],
        ["Bu liste Bölge Müdürlüğünce hazırlanmıştır.", "", "", ""],
        ["S.NO", "FİRMA ÜNVANI", "WEB SİTESİ", "E-POSTA"],  # row 6
        ["1", "A A.Ş.", "a-firma.com.tr", ""],
        ["2", "B A.Ş.", "", "info@b-firma.com.tr"],
        ["S.NO", "FİRMA ÜNVANI", "WEB SİTESİ", "E-POSTA"],  # row 9: page break in the original
        ["3", "C A.Ş.", "c-firma.com.tr", ""],
        ["4", "", "", ""],  # pre-numbered, empty: not a company
        ["", "", "", ""],
        ["", "TOPLAM 250 FİRMA", "", ""],
        ["Genel Toplam:", "3", "", ""],
    ]
    result = read_file(files.csv(rows))
    assert result.mapping.header_row == 6
    assert result.domains == ["a-firma.com.tr", "b-firma.com.tr", "c-firma.com.tr"]
    assert result.rejected == []
    assert result.skipped_rows == [9, 13, 14]
    assert result.total_rows == 3


def test_english_headers(files: Files) -> None:
    rows = [
        ["Company", "Website", "Email", "Address", "Phone"],
        [
            "Acme Ltd",
            "https://www.acme-widgets.co.uk/about",
            "sales@acme-widgets.co.uk",
            "www.wrong.example",
            "+44",
        ],
        ["Beta GmbH", "", "info@beta-maschinen.de", "Berlin", ""],
    ]
    result = read_file(files.csv(rows, delimiter=","))
    assert result.mapping.to_json() == {
        "Company": "name",
        "Website": "website",
        "Email": "email",
        "Address": "address",
        "Phone": "phone",
    }
    assert result.domains == ["acme-widgets.co.uk", "beta-maschinen.de"]


def test_headerless_list_of_domains(files: Files) -> None:
    path = files.bytes(
        "alanlar.csv", b"firma-bir.com.tr\r\nwww.firma-iki.com.tr\r\nhttps://firma-uc.com.tr/\r\n"
    )
    result = read_file(path)
    assert result.mapping.header_row == 0
    assert result.mapping.columns == ["[A]"]
    assert result.domains == ["firma-bir.com.tr", "firma-iki.com.tr", "firma-uc.com.tr"]
    assert [c.rows for c in result.companies] == [[1], [2], [3]]


def test_no_header_no_domains(files: Files) -> None:
    path = files.csv([["Ad", "Soyad"], ["Ali", "Veli"], ["Ayşe", "Fatma"]])
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "no_header"


def test_header_without_domain_column(files: Files) -> None:
    path = files.csv([["Firma Adı", "Telefon", "Adres"], ["A", "0212", "www.a-firma.com.tr Bursa"]])
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "no_domain_column"
    assert "Firma Adı" in info.value.message


def test_preview(files: Files) -> None:
    rows = [["LİSTE"], [], ["S.NO", "FİRMA ÜNVANI", "WEB SİTESİ"]] + [
        [str(i), f"Firma {i}", f"firma{i}.com.tr"] for i in range(1, 101)
    ]
    preview = preview_file(files.csv(rows), limit=5)
    assert preview.header == ["S.NO", "FİRMA ÜNVANI", "WEB SİTESİ"]
    assert preview.mapping.header_row == 3
    assert preview.mapping.roles["WEB SİTESİ"] is ColumnRole.WEBSITE
    assert preview.rows[0] == ["1", "Firma 1", "firma1.com.tr"]
    assert len(preview.rows) == 5
    assert preview.row_numbers == [4, 5, 6, 7, 8]
    assert 80 <= preview.total_rows_estimate <= 120
    assert preview.format == "csv"
    assert preview.sheets == []
    assert preview.to_json()["header_row"] == 3


def test_iter_rows_numbers_as_the_file_shows_them(files: Files) -> None:
    text = 'Başlık;;\r\n;;\r\n\r\nFirma;Web;\r\n"A\r\nçok satır";a.com.tr;\r\nB;b.com.tr;\r\n'
    path = files.bytes("liste.csv", text.encode("utf-8"))
    assert list(iter_rows(path)) == [
        (1, ["Başlık", "", ""]),
        (4, ["Firma", "Web", ""]),
        (5, ["A\nçok satır", "a.com.tr", ""]),
        (6, ["B", "b.com.tr", ""]),
    ]


def test_binary_junk_after_text_bom_is_refused(files: Files) -> None:
    path = files.bytes("liste.csv", b"\xff\xfe" + bytes(range(1, 32)) * 100)
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code in ("unsupported_format", "empty_file", "no_header")


_CELL_CHARS = string.ascii_letters + string.digits + " \"'\n.-@/çğıöşüÇĞİÖŞÜâ"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), encoding=st.sampled_from(["utf-8", "cp1254", "utf-16"]))
def test_csv_round_trip(files: Files, data: st.DataObject, encoding: str) -> None:
    """Whatever Excel quotes, iter_rows gives back the cells (cleaned) with Excel's row numbers."""
    delimiter = data.draw(st.sampled_from([";", ",", "\t"]))
    # Cells may hold the file's own separator (it gets quoted), not the other candidates.
    cell = st.text(alphabet=st.sampled_from(_CELL_CHARS + delimiter), max_size=25)
    rows = data.draw(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=12))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path = files.bytes("rt.csv", buffer.getvalue().encode(encoding))
    read = dict(iter_rows(path))
    expected = {}
    for number, row in enumerate(rows, start=1):
        cleaned = [clean_text(value) for value in row]
        if any(cleaned):
            expected[number] = cleaned
    assert read == expected


def test_excel_sep_line_names_the_separator_and_is_not_a_row(files: Files) -> None:
    text = 'sep=,\r\nFirma,Web,Adres\r\nA,a-firma.com.tr,"Cad. 5; Kat 2"\r\nB,-,x\r\n'
    result = read_file(files.bytes("liste.csv", text.encode()))
    assert result.mapping.header_row == 1
    assert result.domains == ["a-firma.com.tr"]
    assert [r.row for r in result.rejected] == [3]


def test_totals_are_skipped_but_a_company_named_total_is_reported(files: Files) -> None:
    rows = [
        ["Firma", "Web"],
        ["TOTAL ENERJİ A.Ş.", ""],
        ["A", "a-firma.com.tr"],
        ["Toplam firma sayısı: 2", ""],
        ["Sayfa 1 / 1", ""],
    ]
    result = read_file(files.csv(rows))
    assert [(r.row, r.value) for r in result.rejected] == [(2, "TOTAL ENERJİ A.Ş.")]
    assert result.skipped_rows == [4, 5]
