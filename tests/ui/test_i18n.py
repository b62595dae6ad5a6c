"""Catalogues and locale formats (pure Python; the browser side is in test_language_browser.py)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from hunter.web.i18n import (
    LOCALES,
    Translator,
    catalogue,
    format_date,
    format_number,
    lower,
    negotiate,
    pick_locale,
    upper,
)


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    tr, en = catalogue("tr"), catalogue("en")
    assert set(tr) == set(en)
    placeholders = re.compile(r"\{(\w+)\}")
    mismatched = [k for k in en if set(placeholders.findall(en[k])) != set(placeholders.findall(tr[k]))]
    assert mismatched == []
    assert all(value.strip() for value in [*tr.values(), *en.values()])


def _template_keys() -> set[str]:
    root = Path(str(resources.files("hunter.web").joinpath("templates")))
    keys: set[str] = set()
    for path in root.rglob("*.html"):
        keys.update(re.findall(r"\bt\('([a-z0-9_.]+)'\s*[,)]", path.read_text(encoding="utf-8")))
    return keys


def test_every_key_the_templates_name_is_in_the_catalogues() -> None:
    keys = _template_keys()
    assert len(keys) > 150
    assert sorted(keys - set(catalogue("en"))) == []


def test_every_string_the_scripts_show_comes_from_the_page_data() -> None:
    root = Path(str(resources.files("hunter.web").joinpath("templates")))
    handed_over = set(re.findall(r'"(\w+)": t\(', (root / "base.html").read_text(encoding="utf-8")))
    used: set[str] = set()
    for path in Path(str(resources.files("hunter.web").joinpath("static", "js"))).glob("*.js"):
        used.update(re.findall(r'\btext\("(\w+)"', path.read_text(encoding="utf-8")))
    assert used
    assert used <= handed_over


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("tr-TR,tr;q=0.9,en-US;q=0.8", "tr"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE,en;q=0.5,tr;q=0.7", "tr"),
        ("fr-FR", None),
        ("", None),
        ("en;q=0, tr;q=0.1", "tr"),
    ],
)
def test_accept_language_negotiation(header: str, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_the_users_choice_beats_the_cookie_beats_the_browser() -> None:
    assert pick_locale("en", "tr", "tr-TR") == "en"
    assert pick_locale(None, "en", "tr-TR") == "en"
    assert pick_locale(None, None, "en-US") == "en"
    assert pick_locale(None, "xx", "fr") == "en"  # neither asked for: English
    assert pick_locale(None, None, "fr-FR,tr;q=0.3") == "tr"


def test_turkish_and_english_number_and_date_formats() -> None:
    assert format_number(1234.5, "tr", 1) == "1.234,5"
    assert format_number(1234.5, "en", 1) == "1,234.5"
    assert format_number(1234567, "tr") == "1.234.567"
    assert format_number(None, "tr") == "—"
    assert format_date("2026-11-05T10:00:00Z", "tr") == "05.11.2026"
    assert format_date("2026-11-05", "en") == "5 Nov 2026"
    assert Translator("tr").money(22.0, "USD") == "22,00 USD"
    assert Translator("en").money(1250.5, "USD") == "USD 1,250.50"


def test_turkish_casing() -> None:
    assert upper("istanbul", "tr") == "İSTANBUL"
    assert lower("ISPARTA İZMİR", "tr") == "ısparta izmir"
    assert upper("istanbul", "en") == "ISTANBUL"


def test_messages_from_other_layers_are_translated() -> None:
    tr = Translator("tr")
    assert tr.message("Wrong username or password.") == "Kullanıcı adı veya parola hatalı."
    assert tr.message("Too many failed attempts. Try again in 5 minutes.") == (
        "Çok fazla hatalı deneme. 5 dakika sonra tekrar deneyin."
    )
    assert tr.message("Something nobody translated.") == "Something nobody translated."


@pytest.mark.parametrize("locale", LOCALES)
def test_a_missing_key_shows_itself(locale: str) -> None:
    assert Translator(locale)("no.such.key") == "no.such.key"
