"""Browser tests: the real app on a loopback port, filled by the real pipeline, driven in Chromium.

* ``ui_server`` (session) — the sandbox (DNS, RDAP, WHOIS emulators) keeps running; a temp SQLite
  database gets the shipped sample list through ``import_file`` and ``scan_domains``; uvicorn
  serves ``create_app`` from a background thread on a free port.
* ``browser`` (session) — Debian's Chromium (``/usr/bin/chromium``; never a downloaded build).
  ``launch`` gives every run a fresh, temporary user-data dir.
* ``page`` — a fresh context (no cookies) at 1440×900 with clipboard permissions.
* ``sign_in(page, username)`` — signs in by keyboard through the real form.

Without Chromium (or the playwright package) the browser tests skip locally and FAIL under
CI=true, so the promise that they run cannot lapse silently.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_support import CHROMIUM, CHROMIUM_ARGS, PASSWORD, UiServer, new_page

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    import uvicorn

    from hunter.api.app import create_app
    from hunter.auth import passwords
    from hunter.auth.testing import create_test_user, fast_hasher
    from hunter.config import Settings
    from hunter.imports import sample_path
    from hunter.sandbox.runner import Sandbox, sample_world
    from hunter.services.demo import demo_settings
    from hunter.services.imports import import_file
    from hunter.services.scanning import scan_domains
    from hunter.store.db import Database

    base = tmp_path_factory.mktemp("ui")
    saved_hasher = passwords.HASHER
    passwords.HASHER = fast_hasher()
    sandbox = Sandbox(sample_world(extra=10))
    with sandbox.running() as info:
        settings = demo_settings(
            Settings(data_dir=base, database_url=f"sqlite:///{base / 'ui.db'}", secret_key="ui-tests"),
            info.settings_env(),
        )
        db = Database(settings.effective_database_url)
        db.upgrade()
        outcome = import_file(db, sample_path("xlsx"), settings=settings)
        domains = [c.domain for c in outcome.result.companies]
        # A thread of its own: Playwright's sync API may already run an event loop in this one.
        scanner = threading.Thread(target=lambda: asyncio.run(scan_domains(settings, domains, db=db)))
        scanner.start()
        scanner.join()
        for role in ("admin", "sales", "viewer"):
            create_test_user(db, role, password=PASSWORD)

        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the UI test server did not start")
            time.sleep(0.05)
        try:
            yield UiServer(url=f"http://127.0.0.1:{port}", db=db, settings=settings, domains=domains)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            db.dispose()
            passwords.HASHER = saved_hasher


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: `make setup` installs the dev extra")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, ui_server: UiServer) -> Iterator[Any]:
    page = new_page(browser, ui_server)
    yield page
    errors = page.errors  # type: ignore[attr-defined]
    page.context.close()
    assert errors == [], f"script errors on the page: {errors}"
