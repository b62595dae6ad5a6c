"""Rows to companies: domain choice per row, rejections, dedupe, user mappings, streaming."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_files import Files

from hunter.imports import (
    AcceptedRow,
    ColumnRole,
    ImportFileError,
    RejectedRow,
    read_file,
    stream_import,
)

HEADER = ["Firma Adı", "Web Sitesi", "E-Posta", "Adres", "Telefon"]


def test_website_first_email_as_fallback_per_row(files: Files) -> None:
    rows = [
        HEADER,
        ["A", "www.a-site.com.tr", "info@a-mail.com.tr", "", ""],  # website wins
        ["B", "", "info@b-firma.com.tr", "", ""],  # no website: e-mail
        ["C", "YOK", "satis@c-firma.com.tr", "", ""],  # placeholder website: e-mail
        ["D", "www.d-firma", "info@d-firma.com.tr", "", ""],  # broken website: e-mail
        ["E", "https://www.instagram.com/e.firma", "e.firma@gmail.com", "", ""],  # neither is the company's
        ["F", "", "", "www.f-firma.com.tr adresinde", ""],  # the address is never used
    ]
    result = read_file(files.csv(rows))
    assert result.domains == ["a-site.com.tr", "b-firma.com.tr", "c-firma.com.tr", "d-firma.com.tr"]
    assert result.companies[0].emails == ["info@a-mail.com.tr"]  # kept as a contact
    assert [(r.row, r.reason, r.value) for r in result.rejected] == [
        (6, "shared_host", "https://www.instagram.com/e.firma"),
        (7, "no_domain", "F"),
    ]
    assert "gmail.com" in result.rejected[0].message  # the e-mail's refusal is mentioned too


def test_multi_value_cells(files: Files) -> None:
    rows = [
        HEADER,
        ["A", "www. a-firma.com.tr", "", "", ""],  # a stray space after www.
        ["B", "", "info@b-firma.com.tr; satis@b-firma.com.tr", "", ""],
        ["C", "c-firma.com.tr / c-firma.net", "", "", ""],
    ]
    result = read_file(files.csv(rows))
    assert result.domains == ["a-firma.com.tr", "b-firma.com.tr", "c-firma.com.tr"]
    assert result.companies[1].emails == ["info@b-firma.com.tr", "satis@b-firma.com.tr"]


def test_free_mail_and_kep_are_not_company_domains(files: Files) -> None:
    rows = [
        ["Firma", "E-Posta"],
        ["A", "a.firma@hotmail.com"],
        ["B", "b@yandex.com.tr"],
        ["C", "c-firma@hs01.kep.tr"],
        ["D", "d@d-firma.com.tr"],
    ]
    result = read_file(files.csv(rows))
    assert result.domains == ["d-firma.com.tr"]
    assert [r.reason for r in result.rejected] == ["free_mail", "free_mail", "free_mail"]
    assert "KEP" in result.rejected[2].message


def test_dedupe_keeps_names_rows_emails_and_first_attributes(files: Files) -> None:
    rows = [
        ["Firma", "Web", "E-Posta", "Telefon", "Şehir"],
        ["Aydınlar Tekstil A.Ş.", "aydinlar-tekstil.com.tr", "info@aydinlar-tekstil.com.tr", "0224 1", ""],
        ["AYDINLAR TEKSTİL A.Ş.", "WWW.AYDINLAR-TEKSTIL.COM.TR", "", "0224 2", "BURSA"],  # same name, folded
        ["Aydınlar Tekstil San. ve Tic. A.Ş.", "", "satis@aydinlar-tekstil.com.tr", "", ""],
        ["Başka", "baska-firma.com.tr", "", "", ""],
    ]
    result = read_file(files.csv(rows), filename="Üyeler 2024.csv")
    first = result.companies[0]
    assert first.names == ["Aydınlar Tekstil A.Ş.", "Aydınlar Tekstil San. ve Tic. A.Ş."]
    assert first.rows == [2, 3, 4]
    assert first.emails == ["info@aydinlar-tekstil.com.tr", "satis@aydinlar-tekstil.com.tr"]
    assert first.attributes == {"phone": "0224 1", "city": "BURSA"}  # first value wins, gaps filled
    assert first.source == "Üyeler 2024.csv"
    assert [(d.domain, d.rows) for d in result.duplicates] == [("aydinlar-tekstil.com.tr", [2, 3, 4])]


def test_attribute_keys(files: Files) -> None:
    rows = [
        [
            "Sıra No",
            "Şirket Adı",
            "İnternet Adresi",
            "Vergi No",
            "Üretim Kapasitesi (ton/yıl)",
            "Not",
            "Gizli",
        ],
        ["7", "A", "a-firma.com.tr", "1234567890", "500", "arayın", "x"],
    ]
    result = read_file(files.csv(rows), mapping={"Gizli": ColumnRole.IGNORE})
    assert result.companies[0].attributes == {
        "row_number": "7",
        "vergi_no": "1234567890",
        "uretim_kapasitesi_ton_yil": "500",
        "not": "arayın",
    }


def test_user_mapping_as_strings_and_unknown_columns(files: Files) -> None:
    rows = [["Firma", "Web", "İletişim"], ["A", "a-firma.com.tr", "ali@b-firma.com.tr"]]
    path = files.csv(rows)
    assert read_file(path).domains == ["a-firma.com.tr"]
    changed = read_file(path, mapping={"İletişim": "email", "Firma": "name"})
    assert changed.domains == ["b-firma.com.tr"]
    assert changed.companies[0].attributes == {"web": "a-firma.com.tr"}  # now a plain attribute
    with pytest.raises(ImportFileError) as info:
        read_file(path, mapping={"Web Sitesi": "website"})
    assert info.value.code == "bad_mapping"
    with pytest.raises(ImportFileError) as info:
        read_file(path, mapping={"Web": "ignore"})
    assert info.value.code == "no_domain_column"


def test_stream_import_outcomes(files: Files) -> None:
    rows = [
        ["Firma", "Web"],
        ["A", "a-firma.com.tr"],
        ["B", "-"],
        ["A2", "https://a-firma.com.tr/"],
    ]
    with stream_import(files.csv(rows)) as stream:
        assert stream.mapping.domain_sources == ["Web"]
        assert stream.format == "csv"
        outcomes = list(stream)
    assert [type(o) for o in outcomes] == [AcceptedRow, RejectedRow, AcceptedRow]
    first, rejected, again = outcomes
    assert isinstance(first, AcceptedRow)
    assert isinstance(again, AcceptedRow)
    assert (first.row, first.domain, first.duplicate_of) == (2, "a-firma.com.tr", None)
    assert (again.row, again.duplicate_of) == (4, 2)
    assert isinstance(rejected, RejectedRow)
    assert rejected.reason == "placeholder"
    assert stream.total_rows == 3


def test_stream_import_raises_on_open(files: Files) -> None:
    with pytest.raises(ImportFileError) as info:
        stream_import(files.csv([["Ad", "Soyad"], ["Ali", "Veli"]]))
    assert info.value.code == "no_header"


_NAMES = ["", "A A.Ş.", "AYDINLAR TEKSTİL", "Aydınlar Tekstil", "TOPLAM 3 FİRMA", "TOTAL ENERJİ"]
_SITES = ["", "-", "YOK", "a-firma.com.tr", "WWW.A-FIRMA.COM.TR", "http://b-firma.com.tr/x",
          "www.örnek.com.tr", "gmail.com", "www.kirik", "mail.b-firma.com.tr", "facebook.com/a"]  # fmt: skip
_MAILS = [
    "",
    "YOK",
    "info@a-firma.com.tr",
    "ali@gmail.com",
    "satis@c-firma.com.tr",
    "bozuk@",
    "x@d.com.tr; y@d.com.tr",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(_NAMES), st.sampled_from(_SITES), st.sampled_from(_MAILS)),
        min_size=1,
        max_size=25,
    )
)
def test_every_row_is_accounted_for_once(files: Files, rows: list[tuple[str, str, str]]) -> None:
    result = read_file(files.csv([("Firma", "Web Sitesi", "E-Posta"), *rows]))
    data_rows = {number for number, row in enumerate(rows, start=2) if any(row)}
    accepted = [r for c in result.companies for r in c.rows]
    rejected = [r.row for r in result.rejected]
    placed = accepted + rejected + result.skipped_rows
    assert sorted(placed) == sorted(data_rows)  # each row exactly once
    assert result.total_rows == len(accepted) + len(rejected)
    assert len(set(result.domains)) == len(result.domains)
    assert all(d.isascii() and d == d.lower() for d in result.domains)
    assert not {"gmail.com", "facebook.com"} & set(result.domains)
    for duplicate in result.duplicates:
        assert len(duplicate.rows) > 1
