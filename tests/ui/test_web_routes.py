"""The web router without a browser: roles, fragments vs pages, the language switch, path prefix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hunter.api.app import create_app
from hunter.auth import passwords
from hunter.auth.testing import create_test_user, fast_hasher, issue_token, sign_in
from hunter.config import Settings
from hunter.store.companies import CompanyInput, upsert_companies
from hunter.store.db import Database
from hunter.store.models import User
from hunter.web.listing import ListState

LOCAL = "http://localhost"
FRAGMENT = {"HX-Request": "true", "HX-Target": "results"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", fast_hasher())


@pytest.fixture
def settings(tmp_path: object) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="web-tests")  # type: ignore[arg-type]


@pytest.fixture
def client_for(sqlite_db: Database, settings: Settings) -> Iterator[Callable[..., TestClient]]:
    with ExitStack() as stack:

        def make(role: str = "sales", *, root_path: str = "", **overrides: object) -> TestClient:
            app = create_app(settings.model_copy(update=overrides), sqlite_db)
            # Behind a prefix the browser sees /hunter/…; the app gets root_path="/hunter".
            client = stack.enter_context(TestClient(app, base_url=LOCAL + root_path, root_path=root_path))
            sign_in(client, create_test_user(sqlite_db, role).username)
            return client

        yield make


def test_an_empty_database_shows_the_no_data_yet_state(client_for: Callable[..., TestClient]) -> None:
    page = client_for("viewer").get("/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "No leads yet" in page.text
    assert 'lang="en"' in page.text
    assert "Import a list" in page.text


def test_htmx_gets_the_results_fragment_and_history_restores_get_the_page(
    client_for: Callable[..., TestClient], sqlite_db: Database
) -> None:
    with sqlite_db.session() as session:
        upsert_companies(session, [CompanyInput("firma.com.tr", "firma.com.tr", ["FİRMA A.Ş."])])
    client = client_for("viewer")
    fragment = client.get("/?q=firma", headers=FRAGMENT)
    assert "<html" not in fragment.text
    assert 'id="leads-table"' in fragment.text
    assert 'hx-swap-oob="true"' in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    restore = client.get("/?q=firma", headers={**FRAGMENT, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text
    nothing = client.get("/?q=zzzz", headers=FRAGMENT)
    assert "nomatch" not in nothing.text  # a CSS class name must not leak; the state has its own text
    assert (
        "No leads match these filters"
        in client.get("/?q=zzzz", headers={**FRAGMENT, "Accept-Language": "en"}).text
    )


def test_admin_pages_need_the_admin_role(client_for: Callable[..., TestClient]) -> None:
    sales = client_for("sales")
    assert sales.get("/ui/styleguide").status_code == 403
    assert sales.get("/settings").status_code == 403
    admin = client_for("admin")
    assert admin.get("/ui/styleguide").status_code == 200
    assert "Style guide" in admin.get("/ui/styleguide", headers={"Accept-Language": "en"}).text


def test_integration_screens_follow_their_feature_flags(client_for: Callable[..., TestClient]) -> None:
    off = client_for("viewer").get("/referrals", headers={"Accept-Language": "en"})
    assert "Referrals is not configured" in off.text
    assert "HUNTER_PARTNER_CENTER_ENABLED" in off.text
    on = client_for("viewer", partner_center_enabled=True).get(
        "/referrals", headers={"Accept-Language": "en"}
    )
    assert "Referrals is coming soon" in on.text


def test_the_language_switch_remembers_the_choice(
    client_for: Callable[..., TestClient], sqlite_db: Database
) -> None:
    client = client_for("viewer")
    answer = client.post("/ui/locale", data={"locale": "en", "next": "/?priority=P1"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?priority=P1"
    assert client.cookies.get("hunter_lang") == "en"
    with sqlite_db.session() as session:
        assert session.scalar(select(User.locale).where(User.username == "viewer")) == "en"
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "tr"}).text  # the user's choice wins
    assert client.post("/ui/locale", data={"locale": "xx"}).status_code == 422
    outside = client.post(
        "/ui/locale", data={"locale": "tr", "next": "https://evil.example/"}, follow_redirects=False
    )
    assert outside.headers["location"] == "/"


def test_read_only_tokens_cannot_change_preferences(
    client_for: Callable[..., TestClient], sqlite_db: Database, settings: Settings
) -> None:
    create_test_user(sqlite_db, "viewer")
    with TestClient(create_app(settings, sqlite_db), base_url=LOCAL) as client:
        client.headers["Authorization"] = f"Bearer {issue_token(sqlite_db, 'viewer', ['read'])}"
        answer = client.post("/ui/locale", data={"locale": "en"})
    assert answer.status_code == 403
    assert "scope" in answer.text


def test_static_files_and_htmx_are_served_without_sign_in(settings: Settings, sqlite_db: Database) -> None:
    with TestClient(create_app(settings, sqlite_db), base_url=LOCAL) as client:
        assert client.get("/static/hunter.css").status_code == 200
        htmx = client.get("/static/vendor/htmx.min.js")
        assert htmx.status_code == 200
        assert "htmx" in htmx.text[:2000]
        login = client.get("/login", headers={"Accept-Language": "tr-TR"})
        assert 'lang="tr"' in login.text
        assert "Oturum aç" in login.text


def test_unknown_lead_panel_says_so(client_for: Callable[..., TestClient]) -> None:
    panel = client_for("viewer").get("/leads/yok.com.tr/panel", headers={"Accept-Language": "en"})
    assert panel.status_code == 200
    assert "does not exist" in panel.text


def test_links_keep_a_proxy_path_prefix(client_for: Callable[..., TestClient]) -> None:
    page = client_for("viewer", root_path="/hunter").get("/")
    assert 'href="/hunter/static/hunter.css' in page.text
    assert 'data-root="/hunter"' in page.text
    assert 'action="/hunter/ui/locale"' in page.text


def test_list_state_round_trips_through_the_url() -> None:
    state = ListState.from_query(
        {"q": "istanbul", "priority": ["P1", "P2", "P9"], "sort": "-score", "page": "3", "page_size": "25"}
    )
    assert state.priority == ("P1", "P2")
    assert (state.sort, state.desc, state.page, state.size) == ("score", True, 3, 25)
    url = state.url()
    assert url == "?q=istanbul&priority=P1&priority=P2&sort=-score&page=3&page_size=25"
    assert (
        ListState.from_query(dict(p.split("=") for p in url[1:].split("&") if "priority" not in p)).sort
        == "score"
    )
    assert "page=" not in state.url(segment=("Migration",))  # a filter change goes back to page 1
    assert state.aria_sort("score") == "descending"
    assert state.sort_url("score").count("sort=score") == 1
