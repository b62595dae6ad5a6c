"""The Leads screen and its drawer in Chromium: the rep's keyboard journey, URL state, widths."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from ui_support import UiServer, goto, new_page, ready, screenshot, sign_in

pytestmark = pytest.mark.slow

ROWS = "#leads-table tbody tr[data-domain]"


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def wait_for_results(page: Any) -> None:
    page.wait_for_function("!document.querySelector('#results').classList.contains('htmx-request')")


def active(page: Any, script: str) -> Any:
    return page.evaluate(f"(() => {{ const el = document.activeElement; return {script}; }})()")


def test_keyboard_journey_filter_open_copy_tag_next_and_focus_return(page: Any, ui_server: UiServer) -> None:
    sign_in(page, "sales")
    assert page.evaluate("document.documentElement.lang") == "en"
    # The chips' counts arrive right after the rows (a request of their own).
    page.wait_for_function("/^\\d+$/.test(document.getElementById('facet-priority-P1').textContent.trim())")

    # Filter P1: one request, the URL says so, every row is P1.
    with page.expect_response(lambda r: "priority=P1" in r.url) as response:
        page.get_by_role("checkbox", name=re.compile(r"^P1")).check()
    assert response.value.request.headers.get("hx-request") == "true"
    wait_for_results(page)
    assert query_of(page)["priority"] == ["P1"]
    badges = page.locator(f"{ROWS} .badge--p1").count()
    assert badges == page.locator(ROWS).count() > 0

    # j moves to the first row, Enter opens it in the drawer; focus moves into the drawer.
    page.locator("body").press("Escape")  # leave the chip: shortcuts are ignored in fields only
    page.keyboard.press("j")
    first = page.locator(ROWS).nth(0).get_attribute("data-domain")
    assert active(page, "el.dataset.domain") == first
    page.keyboard.press("Enter")
    page.wait_for_selector("#drawer[open] [data-lead]")
    assert active(page, "el.id") == "drawer-title"
    assert query_of(page)["lead"] == [first]

    # c copies the call script: the clipboard holds it and a toast confirms.
    page.keyboard.press("c")
    page.wait_for_function("document.getElementById('drawer').dataset.copied === 'copy-script'")
    copied = page.evaluate("navigator.clipboard.readText()")
    script = page.locator("#copy-script").text_content() or ""
    assert copied.strip() == script.strip()
    assert first in copied
    assert page.locator("#toasts .toast").first.is_visible()

    # Tag it with a user tag through the API; the drawer shows it.
    page.locator("#drawer-tag").fill("vip-call")
    page.locator("#drawer-tag").press("Enter")
    page.wait_for_selector('#drawer [data-user-tags] [data-tag="vip-call"]')
    from hunter.store.models import Company, CompanyTag

    with ui_server.db.session() as session:
        joined = select(CompanyTag.tag).join(Company, Company.id == CompanyTag.company_id)
        tags = session.scalars(joined.where(Company.domain == first)).all()
    assert "vip-call" in tags

    # j goes to the next lead without closing the drawer; the next button works too.
    page.locator("#drawer-title").focus()
    page.keyboard.press("j")
    second = page.locator(ROWS).nth(1).get_attribute("data-domain")
    page.wait_for_selector(f'#drawer [data-lead="{second}"]')
    assert query_of(page)["lead"] == [second]
    page.get_by_role("button", name="Next lead").click()
    third = page.locator(ROWS).nth(2).get_attribute("data-domain")
    page.wait_for_selector(f'#drawer [data-lead="{third}"]')
    screenshot(page, "lead-drawer")

    # Esc closes; focus returns to that lead's row and the URL drops the lead.
    page.keyboard.press("Escape")
    page.wait_for_selector("#drawer:not([open])", state="attached")
    assert active(page, "el.dataset.domain") == third
    assert "lead" not in query_of(page)

    # The help dialog gives focus back too.
    page.keyboard.press("?")
    page.wait_for_selector("#help[open]")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help:not([open])", state="attached")
    assert active(page, "el.dataset.domain") == third

    # The command palette opens with Ctrl+K and closes with Esc, focus back on the row.
    page.keyboard.press("Control+k")
    page.wait_for_selector("#palette[open]")
    assert active(page, "el.id") == "palette-input"
    page.keyboard.press("Escape")
    assert active(page, "el.dataset.domain") == third


def test_sort_state_lives_in_the_url_back_forward_and_reload(page: Any) -> None:
    sign_in(page, "viewer")
    header = page.locator("#leads-table th", has=page.locator("[data-focus-key='sort-score']"))
    assert page.locator("#leads-table th[aria-sort='ascending']").count() == 1  # priority, default
    assert header.get_attribute("aria-sort") == "none"

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.headers.get("hx-target") == "results" else None)
    page.locator("[data-focus-key='sort-score']").click()
    wait_for_results(page)
    assert len(requests) == 1  # one request per change
    assert query_of(page)["sort"] == ["-score"]
    assert header.get_attribute("aria-sort") == "descending"
    assert active(page, "el.dataset.focusKey") == "sort-score"  # focus survives the swap
    texts = page.locator(f"{ROWS} td.num:nth-child(3)").all_text_contents()
    scores = [int(s.strip()) for s in texts if s.strip().isdigit()]
    assert scores == sorted(scores, reverse=True)

    page.locator("[data-focus-key='sort-score']").click()
    wait_for_results(page)
    assert query_of(page)["sort"] == ["score"]
    assert header.get_attribute("aria-sort") == "ascending"

    page.go_back()
    page.wait_for_function("location.search.includes('sort=-score')")
    page.wait_for_selector("[data-focus-key='sort-score']")
    assert header.get_attribute("aria-sort") == "descending"
    page.go_back()
    page.wait_for_function("!location.search.includes('sort=')")
    page.wait_for_selector("#leads-table")
    assert header.get_attribute("aria-sort") == "none"
    page.go_forward()
    page.wait_for_function("location.search.includes('sort=-score')")
    page.reload()
    ready(page)
    assert header.get_attribute("aria-sort") == "descending"


def test_turkish_aware_search_and_the_empty_and_error_states(page: Any, ui_server: UiServer) -> None:
    sign_in(page, "sales")
    search = page.locator("#q")
    search.click()
    page.keyboard.type("istanbul", delay=20)
    page.wait_for_function("location.search.includes('q=istanbul')")
    wait_for_results(page)
    assert search.is_enabled()
    assert active(page, "el.id") == "q"
    shown = page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.domain)")
    from hunter.store.models import Company

    with ui_server.db.session() as session:
        expected = {c.domain for c in session.scalars(select(Company)) if "İSTANBUL" in str(c.attributes)}
    assert shown
    assert set(shown) <= expected
    assert len(shown) == min(len(expected), 50)

    # No matches: its own state, with a way back.
    search.fill("zzzz-no-such-company")
    page.wait_for_selector("text=No leads match these filters")
    page.get_by_role("link", name="Clear filters").last.click()
    page.wait_for_function("!location.search.includes('q=')")
    page.wait_for_selector(ROWS)
    assert search.input_value() == ""

    # A server error: inline error state with a retry that works once the server is back.
    page.route(re.compile(r".*/\?.*priority=P2.*"), lambda route: route.fulfill(status=500, body="boom"))
    page.get_by_role("checkbox", name=re.compile(r"^P2")).check()
    page.wait_for_selector("text=The leads could not be loaded")
    page.unroute(re.compile(r".*/\?.*priority=P2.*"))
    page.get_by_role("button", name="Retry").click()
    page.wait_for_selector(ROWS)


def test_selection_shift_range_and_select_all_matching(page: Any) -> None:
    sign_in(page, "sales")
    boxes = page.locator(f"{ROWS} [data-select-row]")
    boxes.nth(0).click()
    boxes.nth(3).click(modifiers=["Shift"])
    assert page.locator(f"{ROWS}[data-selected='true']").count() == 4
    assert page.locator("[data-bulk-count]").text_content() == "4 selected"
    page.locator("[data-select-page]").click()
    count = page.locator(ROWS).count()
    assert page.locator(f"{ROWS}[data-selected='true']").count() == count
    page.get_by_role("button", name=re.compile("Select all .* matching leads")).click()
    assert "matching leads are selected" in (page.locator("[data-bulk-count]").text_content() or "")
    export = page.locator("[data-action='bulk-export'][data-format='csv']")
    assert export.get_attribute("aria-disabled") is None  # the export endpoint is installed
    # x with the keyboard toggles the current row.
    page.get_by_role("button", name="Clear selection").click()
    page.locator("body").press("j")
    page.keyboard.press("x")
    assert page.locator(f"{ROWS}[data-selected='true']").count() == 1


WIDTHS = (360, 768, 1024, 1366, 1440)


def test_every_width_fits_without_page_level_horizontal_scroll(browser: Any, ui_server: UiServer) -> None:
    page = new_page(browser, ui_server)
    sign_in(page, "admin")
    lead = ui_server.domains[0]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/", f"/?lead={lead}", "/ui/styleguide", "/imports"):
            goto(page, path)
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"{path} at {width}px scrolls sideways by {overflow}px"
    # Narrow: cards instead of a table, filters in a sheet, the drawer full-screen.
    page.set_viewport_size({"width": 390, "height": 844})
    goto(page, "/")
    assert page.locator("#leads-table thead").is_hidden()
    assert page.locator("#filters-panel").is_hidden()
    page.get_by_role("button", name="Show filters").click()
    assert page.locator("#filters-panel").is_visible()
    page.keyboard.press("Escape")
    screenshot(page, "leads")
    goto(page, f"/?lead={lead}")
    box = page.locator("#drawer").bounding_box()
    assert box is not None
    assert box["width"] >= 389
    screenshot(page, "lead-drawer")
    page.context.close()


def test_density_and_screenshots_at_1440(page: Any, ui_server: UiServer) -> None:
    sign_in(page, "admin")
    visible = page.evaluate(
        "[...document.querySelectorAll('#leads-table tbody tr')]"
        ".filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert visible >= 12
    # Numbers: right-aligned with tabular figures.
    style = page.locator(f"{ROWS} td.num").first.evaluate(
        "el => [getComputedStyle(el).textAlign, getComputedStyle(el).fontVariantNumeric]"
    )
    assert style == ["right", "tabular-nums"]
    screenshot(page, "leads")
    goto(page, "/ui/styleguide")
    screenshot(page, "styleguide")
    goto(page, "/referrals")
    assert page.get_by_text("Referrals is not configured").is_visible()
    goto(page, "/insights")
    screenshot(page, "placeholder")
    page.emulate_media(color_scheme="dark")
    goto(page, "/")
    screenshot(page, "leads-dark")


def test_quick_scan_from_the_command_palette_opens_the_lead(page: Any, ui_server: UiServer) -> None:
    sign_in(page, "sales")
    domain = ui_server.domains[5]
    page.keyboard.press("Control+k")
    page.keyboard.type(domain)
    assert (
        page.locator("#palette-list [aria-selected='true']")
        .inner_text()
        .startswith(f"Scan {domain} and open it")
    )
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"lead="))
    ready(page)
    page.wait_for_selector(f'#drawer[open] [data-lead="{domain}"]')
    assert query_of(page)["lead"] == [domain]
