"""The server-rendered UI: the app shell, Leads with its drawer, placeholders, the style guide.

Routers (each included by ``hunter.api.app`` behind an auth dependency):

* ``router``        — pages and fragments any signed-in role may read (``authorize``).
* ``admin_router``  — the style guide and the settings placeholder (``require_admin``).
* ``prefs_router``  — the language switch: a session of any role may change its own language.

htmx asks for fragments with ``HX-Request``; the same URL without it renders the whole page, so
every state the browser pushes into its history reloads to the same screen.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from hunter.auth.dependencies import PrincipalDep
from hunter.auth.roles import Scope
from hunter.auth.sessions import cookie_path, cookie_secure, safe_next
from hunter.config import Settings
from hunter.core.scoring import default_rules
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.web.i18n import (
    LOCALE_COOKIE,
    LOCALES,
    THEME_COOKIE,
    THEMES,
    Translator,
    pick_locale,
)
from hunter.web.listing import NO_PRIORITY, PAGE_SIZES, PLATFORMS, PRIORITIES, SEGMENTS, ListState

log = get_logger(__name__)

WEB_DIR: Final = Path(__file__).parent
STATIC_DIR: Final = WEB_DIR / "static"
VENDOR_DIR: Final = STATIC_DIR / "vendor"
HTMX_SOURCE: Final = ("htmx.org", "dist", "htmx.min.js")
LOCALE_COOKIE_MAX_AGE: Final = 365 * 86400
MATCHING_LIMIT: Final = 50_000


# --- static files -----------------------------------------------------------------------------


def ensure_vendor_assets() -> bool:
    """htmx comes from npm (package-lock.json); `make setup` copies it into static/vendor.

    A source checkout whose setup predates that copy still works: the file is copied from
    node_modules at start-up. Returns whether htmx is in place.
    """
    target = VENDOR_DIR / HTMX_SOURCE[-1]
    if target.is_file():
        return True
    for base in (Path.cwd(), *WEB_DIR.parents):
        source = base.joinpath("node_modules", *HTMX_SOURCE)
        if source.is_file():
            try:
                VENDOR_DIR.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                return True
            except OSError as exc:
                log.warning("could not copy htmx into static/vendor", error=str(exc))
                return False
    log.warning("htmx is missing: run `make setup` (npm ci) so the UI can update in place")
    return False


@cache
def asset_version() -> str:
    """Changes whenever a static file does, so browsers never keep a stale stylesheet."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(str(path.stat().st_size).encode())
            digest.update(str(int(path.stat().st_mtime)).encode())
    return digest.hexdigest()[:10]


# --- template context ---------------------------------------------------------------------------


def root_of(request: Request) -> str:
    return (request.scope.get("root_path") or "").rstrip("/")


def locale_of(request: Request) -> str:
    user = getattr(request.state, "user", None)
    return pick_locale(
        getattr(user, "locale", None),
        request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
    )


def web_context(request: Request) -> dict[str, Any]:
    """What every template may use (also installed on the sign-in page's templates)."""
    locale = locale_of(request)
    theme = request.cookies.get(THEME_COOKIE, "system")
    return {
        "t": Translator(locale),
        "locale": locale,
        "locales": LOCALES,
        "root": root_of(request),
        "theme": theme if theme in THEMES else "system",
        "v": asset_version(),
    }


TEMPLATES: Final = Jinja2Templates(directory=str(WEB_DIR / "templates"), context_processors=[web_context])
TEMPLATES.env.trim_blocks = True
TEMPLATES.env.lstrip_blocks = True


def install_template_context(templates: Jinja2Templates) -> None:
    """Give another Jinja2Templates (the sign-in page's) the same language and theme context."""
    if web_context not in templates.context_processors:
        templates.context_processors.append(web_context)


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


# --- what the API offers (buttons for endpoints that are not there are shown disabled) -----------

CAPABILITIES: Final = {
    "rescan": (("post", "/api/v1/scans"),),
    "bulk_scan": (("post", "/api/v1/scans/bulk"),),
    "export_csv": (("get", "/api/v1/exports/leads.csv"),),
    "export_xlsx": (("get", "/api/v1/exports/leads.xlsx"),),
    "tags": (("put", "/api/v1/leads/{domain}/tags/{tag}"),),
    "untag": (("delete", "/api/v1/leads/{domain}/tags/{tag}"),),
    "favourite": (("put", "/api/v1/leads/{domain}/favorite"), ("put", "/api/v1/leads/{domain}/favourite")),
    "notes": (("post", "/api/v1/leads/{domain}/notes"),),
}


def capabilities(request: Request) -> dict[str, str | None]:
    """Capability → the API path that provides it (None when the endpoint is not installed)."""
    cached: dict[str, str | None] | None = getattr(request.app.state, "web_capabilities", None)
    if cached is not None:
        return cached
    paths: dict[str, Any] = request.app.openapi().get("paths", {})
    found: dict[str, str | None] = {}
    for name, options in CAPABILITIES.items():
        found[name] = next((path for method, path in options if method in paths.get(path, {})), None)
    request.app.state.web_capabilities = found
    return found


# --- navigation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    key: str
    path: str
    group: str
    admin: bool = False
    flag: str | None = None


NAV: Final = (
    NavItem("leads", "/", "work"),
    NavItem("imports", "/imports", "work"),
    NavItem("insights", "/insights", "work"),
    NavItem("jobs", "/jobs", "work"),
    NavItem("alerts", "/alerts", "work"),
    NavItem("referrals", "/referrals", "more", flag="partner_center_enabled"),
    NavItem("dynamics", "/dynamics", "more", flag="d365_enabled"),
    NavItem("settings", "/settings", "admin", admin=True),
    NavItem("styleguide", "/ui/styleguide", "admin", admin=True),
)


def nav_items(request: Request) -> list[dict[str, Any]]:
    user = request.state.user
    settings = _settings(request)
    items = []
    for item in NAV:
        if item.admin and not (user and user.is_admin):
            continue
        items.append(
            {
                "key": item.key,
                "href": root_of(request) + item.path,
                "group": item.group,
                "off": bool(item.flag and not getattr(settings, item.flag)),
            }
        )
    return items


def render(
    request: Request, template: str, current: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    user = request.state.user
    base = {
        "user": user,
        "csrf_token": request.state.csrf_token,
        "nav": nav_items(request),
        "current": current,
        "caps": capabilities(request),
        "can_write": bool(request.state.principal and request.state.principal.has(Scope.WRITE)),
    }
    response = TEMPLATES.TemplateResponse(request, template, {**base, **context}, status_code=status_code)
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- labels the templates need ---------------------------------------------------------------------


def priority_labels(locale: str) -> dict[str, str]:
    rules = default_rules()
    return {p: str(rules.priority_labels.get(p, {}).get(locale, p)) for p in PRIORITIES}


def filter_options() -> dict[str, Any]:
    return {
        "priorities": (*PRIORITIES, NO_PRIORITY),
        "segments": SEGMENTS,
        "platforms": PLATFORMS,
        "page_sizes": PAGE_SIZES,
    }


# --- routers ----------------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)
admin_router = APIRouter(include_in_schema=False)


def _is_fragment(request: Request, target: str) -> bool:
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-history-restore-request") != "true"
        and headers.get("hx-target") == target
    )


@router.get("/", response_class=HTMLResponse, name="leads")
async def leads_page(request: Request) -> HTMLResponse:
    state = ListState.from_query(request.query_params)
    fragment = _is_fragment(request, "results")
    locale = locale_of(request)
    user_id = request.state.user.id if request.state.user else None
    page, error = await run_in_threadpool(_load_page, _db(request), state, user_id, locale)
    if page is not None and page.total and state.page > page.pages(state.size):
        state = replace(state, page=page.pages(state.size))
        page, error = await run_in_threadpool(_load_page, _db(request), state, user_id, locale)
    lead = None
    if state.lead and not fragment:
        lead = await run_in_threadpool(_load_lead, request, state.lead, locale)
    context = {
        "state": state,
        "page": page,
        "error": error,
        "lead": lead,
        "labels": priority_labels(locale),
        "options": filter_options(),
        "flags": _settings(request),
        "requested": state.lead,
    }
    template = "leads/_results.html" if fragment else "leads/page.html"
    return render(request, template, "leads", **context)


def _load_page(db: Database, state: ListState, user_id: int | None, lang: str) -> tuple[Any, str | None]:
    """The page, or None and why not (shown in the error state with a retry)."""
    from hunter.web.listing import fetch_page

    try:
        return fetch_page(db, state, user_id=user_id, lang=lang), None
    except ValueError as exc:  # a filter the query refuses, e.g. a malformed tag
        return None, str(exc)
    except SQLAlchemyError as exc:
        log.warning("leads query failed", error=f"{type(exc).__name__}: {exc}")
        return None, "database"


def _load_lead(request: Request, domain: str, locale: str) -> Any:
    from hunter.web.lead_view import load_lead

    user = request.state.user
    return load_lead(_db(request), _settings(request), domain, user_id=user.id if user else None, lang=locale)


@router.get("/leads/{domain}/panel", response_class=HTMLResponse)
async def lead_panel(request: Request, domain: str) -> HTMLResponse:
    """The drawer's content for one lead (htmx fragment)."""
    locale = locale_of(request)
    lead = await run_in_threadpool(_load_lead, request, domain[:300], locale)
    return render(
        request,
        "leads/_drawer.html",
        "leads",
        lead=lead,
        requested=domain[:300],
        labels=priority_labels(locale),
        flags=_settings(request),
    )


@router.get("/leads/facets", response_class=HTMLResponse)
async def lead_facets_fragment(request: Request) -> HTMLResponse:
    """The filter chips' counts as out-of-band swaps, loaded after the rows."""
    from hunter.web.leads_source import facet_counts

    state = ListState.from_query(request.query_params)
    user_id = request.state.user.id if request.state.user else None
    try:
        counts = await run_in_threadpool(facet_counts, _db(request), state, user_id=user_id)
    except (ValueError, SQLAlchemyError):
        counts = {}
    return render(request, "leads/_facets.html", "leads", counts=counts, options=filter_options())


@router.get("/leads/matching")
async def matching_leads(request: Request) -> JSONResponse:
    """Domains matching the filters in the query string (for "select all N matching")."""
    from hunter.web.leads_source import matching_domains

    state = ListState.from_query(request.query_params)
    user_id = request.state.user.id if request.state.user else None

    def load() -> list[str]:
        with _db(request).session() as session:
            return matching_domains(session, state, MATCHING_LIMIT, user_id=user_id)

    domains = await run_in_threadpool(load)
    return JSONResponse({"domains": domains, "truncated": len(domains) >= MATCHING_LIMIT})


# Screens of the follow-up: the shell and navigation already point at them.
SOON: Final = {"imports": "/imports", "insights": "/insights", "jobs": "/jobs", "alerts": "/alerts"}
FLAGGED: Final = {
    "referrals": ("/referrals", "partner_center_enabled", "HUNTER_PARTNER_CENTER_ENABLED"),
    "dynamics": ("/dynamics", "d365_enabled", "HUNTER_D365_ENABLED"),
}


def _placeholder(key: str, flag: str | None = None, env: str | None = None) -> Any:
    async def page(request: Request) -> HTMLResponse:
        off = flag is not None and not getattr(_settings(request), flag)
        return render(request, "placeholder.html", key, screen=key, off=off, env=env)

    page.__name__ = f"{key}_page"
    return page


for _key, _path in SOON.items():
    router.add_api_route(_path, _placeholder(_key), methods=["GET"], response_class=HTMLResponse)
for _key, (_path, _flag, _env) in FLAGGED.items():
    router.add_api_route(_path, _placeholder(_key, _flag, _env), methods=["GET"], response_class=HTMLResponse)
admin_router.add_api_route(
    "/settings", _placeholder("settings"), methods=["GET"], response_class=HTMLResponse
)


@admin_router.get("/ui/styleguide", response_class=HTMLResponse)
async def styleguide(request: Request) -> HTMLResponse:
    locale = locale_of(request)
    return render(
        request,
        "styleguide.html",
        "styleguide",
        labels=priority_labels(locale),
        options=filter_options(),
        state=ListState(priority=("P1",), sort="score", desc=True),
    )


# --- preferences --------------------------------------------------------------------------------------


async def own_preferences(principal: PrincipalDep) -> None:
    """A web session of any role may change its own language; an API token needs ``write``."""
    if principal.via != "session" and not principal.has(Scope.WRITE):
        raise HTTPException(403, "This needs the 'write' scope, which your token does not have.")


prefs_router = APIRouter(include_in_schema=False, dependencies=[Depends(own_preferences)])


@prefs_router.post("/ui/locale")
async def set_locale(
    request: Request,
    principal: PrincipalDep,
    locale: Annotated[str, Form()] = "",
    next_: Annotated[str, Form(alias="next")] = "",
) -> Response:
    if locale not in LOCALES:
        raise HTTPException(422, f"unknown language {locale!r}; choose one of {', '.join(LOCALES)}")

    def remember() -> None:
        from hunter.store.models import User

        with _db(request).session() as session:
            row = session.get(User, principal.user_id)
            if row is not None:
                row.locale = locale

    await run_in_threadpool(remember)
    response = RedirectResponse(root_of(request) + safe_next(next_), status_code=303)
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=LOCALE_COOKIE_MAX_AGE,
        path=cookie_path(request),
        secure=cookie_secure(request, _settings(request)),
        httponly=False,  # the sign-in page's switch sets it from script too
        samesite="lax",
    )
    return response
