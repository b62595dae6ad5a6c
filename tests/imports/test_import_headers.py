"""Header matching, header-row detection and mappings: pure functions on plain lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hunter.core.domains import looks_like_domain
from hunter.imports import ColumnRole, ImportFileError, apply_user_mapping, build_mapping, match_header
from hunter.imports.headers import find_header_row
from hunter.imports.text import column_letter, header_key, snake_key

R = ColumnRole


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("FİRMA ÜNVANI", "firma unvani"),
        ("Firma Ünvanı", "firma unvani"),
        ("İNTERNET ADRESİ", "internet adresi"),
        ("E-POSTA", "e posta"),
        ("S.NO", "s no"),
        ("Sıra No", "sira no"),
        ("ÇALIŞAN SAYISI", "calisan sayisi"),
        ("  Web   Sitesi  ", "web sitesi"),
        ("i\u0307stanbul", "istanbul"),  # what Python's "İ".lower() leaves behind
        ("ISPARTA", "isparta"),  # dotless capital I folds to plain i
    ],
)
def test_header_key_folds_turkish(text: str, key: str) -> None:
    assert header_key(text) == key


def test_python_lower_is_not_enough() -> None:
    # The reason header_key exists: str.lower() keeps a combining dot.
    assert "FİRMA".lower() != "firma"
    assert header_key("FİRMA") == "firma"


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("FİRMA ÜNVANI", R.NAME),
        ("Firma Adı", R.NAME),
        ("Şirket Adı", R.NAME),
        ("Ticaret Ünvanı", R.NAME),
        ("WEB SİTESİ", R.WEBSITE),
        ("Web Adresi", R.WEBSITE),
        ("İnternet Adresi", R.WEBSITE),
        ("Firma Web Adresi", R.WEBSITE),
        ("E-POSTA", R.EMAIL),
        ("E-Mail", R.EMAIL),
        ("Mail", R.EMAIL),
        ("E-Posta Adresi", R.EMAIL),
        ("ADRES", R.ADDRESS),
        ("Firma Adresi", R.ADDRESS),
        ("TELEFON", R.PHONE),
        ("Tel No", R.PHONE),
        ("FAALİYET KONUSU", R.ACTIVITY),
        ("Sektör", R.ACTIVITY),
        ("DURUMU", R.STATUS),
        ("Çalışan Sayısı", R.EMPLOYEES),
        ("S.NO", R.ROW_NUMBER),
        ("Sıra No", R.ROW_NUMBER),
        ("#", R.ROW_NUMBER),
        ("İl", R.CITY),
        ("İlçe", R.DISTRICT),
        ("Company", R.NAME),
        ("Company Name", R.NAME),
        ("Website", R.WEBSITE),
        ("Email", R.EMAIL),
        ("Address", R.ADDRESS),
        # Explicit attributes: they look like e-mail / name / number columns but are not.
        ("KEP Adresi", R.ATTRIBUTE),
        ("Posta Kodu", R.ATTRIBUTE),
        ("Ad Soyad", R.ATTRIBUTE),
        ("Vergi No", R.ATTRIBUTE),
        ("Faks", R.ATTRIBUTE),
    ],
)
def test_match_header(header: str, role: ColumnRole) -> None:
    assert match_header(header) is role


@pytest.mark.parametrize(
    "text",
    [
        "ORGANİZE SANAYİ BÖLGESİ ÜYE FİRMA LİSTESİ 2024",  # "firma" is in it, but it is a title
        "YEŞİLOVA ORGANİZE SANAYİ BÖLGESİ ÜYE FİRMA LİSTESİ",
        "Güncelleme tarihi: 02.01.2024",
        "Aydınlar Tekstil San. ve Tic. A.Ş.",
        "",
        "Açıklamalar ve diğer bilgiler burada yer almaktadır, lütfen dikkatle okuyunuz",
    ],
)
def test_titles_and_data_are_not_headers(text: str) -> None:
    assert match_header(text) in (None, R.ATTRIBUTE)


def _rows(*rows: list[str]) -> list[tuple[int, list[str]]]:
    return [(i + 1, list(row)) for i, row in enumerate(rows)]


def test_header_found_below_title_blank_and_notes() -> None:
    rows = _rows(
        ["ORGANİZE SANAYİ BÖLGESİ ÜYE LİSTESİ 2024"],
        ["Güncelleme: 02.01.2024"],
        ["Bu liste bilgi amaçlıdır."],
        ["Not: Pasif firmalar dahil değildir."],
        ["Kaynak: Bölge Müdürlüğü", "", "Sayfa 1"],
        ["S.NO", "FİRMA ÜNVANI", "WEB SİTESİ", "E-POSTA"],
        ["1", "A Tekstil A.Ş.", "www.a-tekstil.com.tr", "info@a-tekstil.com.tr"],
    )
    guess = find_header_row(rows, looks_like_domain)
    assert guess is not None
    assert guess.index == 5
    assert guess.data_start == 6


def test_group_header_above_real_header_loses() -> None:
    rows = _rows(
        ["FİRMA BİLGİLERİ", "", "İLETİŞİM BİLGİLERİ", ""],
        ["Firma Adı", "Telefon", "Web Sitesi", "E-Posta"],
        ["A", "0 212", "a.com.tr", ""],
    )
    guess = find_header_row(rows, looks_like_domain)
    assert guess is not None
    assert guess.index == 1


def test_single_website_header_is_enough() -> None:
    guess = find_header_row(_rows(["Web Sitesi"], ["a.com.tr"], ["b.com.tr"]), looks_like_domain)
    assert guess is not None
    assert guess.index == 0


def test_headerless_domain_list_starts_at_first_domain() -> None:
    rows = _rows(["Müşteri listemiz"], ["a.com.tr"], ["b.com.tr"], ["https://c.com.tr/"])
    guess = find_header_row(rows, looks_like_domain)
    assert guess is not None
    assert guess.index is None
    assert guess.data_start == 1


def test_no_header_and_no_domains() -> None:
    rows = _rows(["Bir"], ["İki", "Üç"], ["Dört"])
    assert find_header_row(rows, looks_like_domain) is None


def test_mapping_prefers_website_then_email_never_address() -> None:
    header = ["Firma", "Adres", "E-Posta", "Web Sitesi", "Telefon"]
    sample = [["A", "OSB 1. Cad. www.yanlis.com.tr Bursa", "info@a.com.tr", "www.a.com.tr", "0224"]]
    mapping = build_mapping(header, sample, header_row=3, looks_like_domain=looks_like_domain)
    assert mapping.domain_sources == ["Web Sitesi", "E-Posta"]
    assert mapping.roles["Adres"] is R.ADDRESS
    assert mapping.header_row == 3


def test_mapping_detects_domain_columns_by_content() -> None:
    header = ["Firma", "Bilgi", "İletişim", "Not"]
    sample = [
        ["A", "a-firma.com.tr", "ali@a-firma.com.tr", "x"],
        ["B", "www.b-firma.com.tr", "veli@b-firma.com.tr", ""],
        ["C", "", "", "y"],
    ]
    mapping = build_mapping(header, sample, header_row=1, looks_like_domain=looks_like_domain)
    assert mapping.roles["Bilgi"] is R.WEBSITE
    assert mapping.roles["İletişim"] is R.EMAIL
    assert mapping.roles["Not"] is R.ATTRIBUTE
    assert mapping.domain_sources == ["Bilgi", "İletişim"]
    assert mapping.detected_by_content == ["Bilgi", "İletişim"]


def test_content_detection_leaves_named_columns_alone() -> None:
    # A KEP column full of e-mail addresses is still not the e-mail column.
    header = ["Firma", "KEP Adresi"]
    sample = [["A", "a@hs01.kep.tr"], ["B", "b@hs01.kep.tr"]]
    mapping = build_mapping(header, sample, header_row=1, looks_like_domain=looks_like_domain)
    assert mapping.domain_sources == []


def test_mapping_names_duplicate_and_blank_headers() -> None:
    header = ["Telefon", "Telefon", "", "Web"]
    sample = [["1", "2", "not", "a.com.tr", "extra"]]
    mapping = build_mapping(header, sample, header_row=2, looks_like_domain=looks_like_domain, col_offset=1)
    assert mapping.columns == ["Telefon", "Telefon (2)", "[D]", "Web", "[F]"]
    assert mapping.roles["[D]"] is R.ATTRIBUTE  # blank header, but it holds data
    assert mapping.roles["[F]"] is R.ATTRIBUTE


def test_user_mapping_overrides_and_replaces_domain_sources() -> None:
    header = ["Firma", "Web Sitesi", "E-Posta"]
    sample = [["A", "a.com.tr", "x@b.com.tr"]]
    detected = build_mapping(header, sample, header_row=1, looks_like_domain=looks_like_domain)
    chosen = apply_user_mapping(detected, {"E-Posta": "email"})
    assert chosen.domain_sources == ["E-Posta"]
    assert chosen.roles["Web Sitesi"] is R.ATTRIBUTE
    # A mapping that names no domain column keeps the detected domain columns.
    renamed = apply_user_mapping(detected, {"Firma": R.IGNORE})
    assert renamed.domain_sources == ["Web Sitesi", "E-Posta"]
    assert renamed.roles["Firma"] is R.IGNORE


@pytest.mark.parametrize("mapping", [{"Yok Böyle": "email"}, {"Firma": "founder"}])
def test_user_mapping_errors(mapping: dict[str, str]) -> None:
    detected = build_mapping(
        ["Firma", "Web"], [["A", "a.com.tr"]], header_row=1, looks_like_domain=looks_like_domain
    )
    with pytest.raises(ImportFileError) as info:
        apply_user_mapping(detected, mapping)
    assert info.value.code == "bad_mapping"


def test_snake_keys_and_letters() -> None:
    assert snake_key("Vergi No") == "vergi_no"
    assert snake_key("Oda Sicil No.") == "oda_sicil_no"
    assert snake_key("Üretim Kapasitesi (ton/yıl)") == "uretim_kapasitesi_ton_yil"
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


@given(st.text(max_size=40))
def test_header_key_is_stable_ascii(text: str) -> None:
    key = header_key(text)
    assert key == header_key(key)
    assert all(ch.isascii() for ch in key)
    assert match_header(text) == match_header(text)
