"""Helpers for the browser tests (fixtures are in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ui"
PASSWORD = "correct-horse-battery-staple"


@dataclass
class UiServer:
    url: str
    db: Any
    settings: Any
    domains: list[str]

    def path(self, path: str = "/") -> str:
        return self.url + path


def new_page(
    browser: Any, server: UiServer, *, width: int = 1440, height: int = 900, locale: str = "en-US"
) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=locale,
        base_url=server.url,
        extra_http_headers={"Accept-Language": f"{locale},{locale.split('-')[0]};q=0.9"},
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    return page


def sign_in(page: Any, username: str = "sales", next_path: str = "/") -> None:
    """Sign in with the keyboard only: the username field has focus, Tab, Enter."""
    page.goto(f"/login?next={next_path}")
    # `autofocus` is applied a moment after load; typing earlier would lose the first letters.
    page.wait_for_function("document.activeElement && document.activeElement.name === 'username'")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    ready(page)


def ready(page: Any) -> None:
    """Wait until the page's scripts have set up every handler (app.js sets data-ready)."""
    page.wait_for_selector("body[data-ready]", state="attached")


def goto(page: Any, path: str) -> None:
    page.goto(path)
    ready(page)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    target = ARTIFACTS / f"{name}-{width}.png"
    page.screenshot(path=str(target))
    return target
