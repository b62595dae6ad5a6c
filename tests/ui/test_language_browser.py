"""Switching the language in the browser: no raw keys, no words of the other language in the UI
chrome, the choice remembered for the user (User.locale) and in a cookie, ``lang`` set."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from ui_support import UiServer, goto, new_page, screenshot, sign_in

from hunter.web.i18n import catalogue

pytestmark = pytest.mark.slow

# The UI's own text: header, navigation, filters, table headings, pagination, drawer headings.
CHROME = (
    "header, nav, .page-head, #filters, #leads-table thead, .pagination, "
    "#drawer .drawer__actions, #drawer h3, #drawer h4, #drawer dt, #drawer .drawer__nav"
)
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def words(texts: Any) -> set[str]:
    return {w.casefold() for text in texts for w in WORD.findall(text)}


def only_in(locale: str) -> set[str]:
    other = "en" if locale == "tr" else "tr"
    return words(catalogue(locale).values()) - words(catalogue(other).values())


def chrome_text(page: Any) -> str:
    """The chrome's text without user data (the username in the account menu)."""
    return str(
        page.evaluate(
            """selector => [...document.querySelectorAll(selector)].map(el => {
                 const copy = el.cloneNode(true);
                 copy.querySelectorAll('[data-user-content]').forEach(n => n.remove());
                 return copy.textContent;
               }).join('\\n')""",
            CHROME,
        )
    )


def assert_clean(page: Any, locale: str) -> None:
    other = "en" if locale == "tr" else "tr"
    assert page.evaluate("document.documentElement.lang") == locale
    body = page.locator("body").inner_text()
    raw_keys = [k for k in catalogue(locale) if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w.])", body)]
    assert raw_keys == []
    foreign = words([chrome_text(page)]) & only_in(other)
    assert foreign == set(), f"{locale} page shows {other}-only words: {sorted(foreign)}"


def test_language_switch_without_untranslated_strings(browser: Any, ui_server: UiServer) -> None:
    page = new_page(browser, ui_server, locale="tr-TR")
    sign_in(page, "viewer", next_path=f"/?lead={ui_server.domains[0]}")
    page.wait_for_selector("#drawer[open] [data-lead]")
    assert_clean(page, "tr")
    assert "Fırsatlar" in page.locator(".app-nav").inner_text()
    screenshot(page, "lead-drawer-tr")

    page.keyboard.press("Escape")
    page.get_by_role("button", name="Arayüzü İngilizceye çevir").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert_clean(page, "en")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("hunter_lang") == "en"
    from hunter.store.models import User

    with ui_server.db.session() as session:
        assert session.scalar(select(User.locale).where(User.username == "viewer")) == "en"

    goto(page, f"/?lead={ui_server.domains[0]}")
    page.wait_for_selector("#drawer[open] [data-lead]")
    assert_clean(page, "en")

    # Back to Turkish; the sign-in page follows the cookie too.
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Switch the interface to Turkish").click()
    page.wait_for_function("document.documentElement.lang === 'tr'")
    assert_clean(page, "tr")
    page.context.clear_cookies()
    page.goto("/login")
    assert page.evaluate("document.documentElement.lang") == "tr"  # Accept-Language: tr-TR
    page.get_by_role("button", name="English").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("button", name="Sign in").is_visible()
    page.context.close()
