"""FastAPI application: health, JSON API under /api/v1, and the server-rendered pages."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from hunter.api.exports import exports_router
from hunter.api.routes_alerts import alerts_router, channels_router
from hunter.api.routes_auth import TEMPLATES as auth_templates
from hunter.api.routes_auth import (
    account_router,
    docs_router,
    login_router,
    token_exchange_router,
    tokens_router,
    users_router,
)
from hunter.api.routes_debug import router as debug_router
from hunter.api.routes_jobs import router as jobs_router
from hunter.api.routes_leads import leads_router
from hunter.auth.dependencies import (
    PrincipalDep,
    authenticated,
    authorize,
    require_admin,
    require_metrics_token,
    unauthenticated_response,
)
from hunter.auth.middleware import AuthMiddleware
from hunter.auth.ratelimit import make_login_throttle
from hunter.config import Settings, get_settings
from hunter.logs import get_logger
from hunter.metrics import router as metrics_router
from hunter.store.db import Database
from hunter.web import routes as web_routes

log = get_logger(__name__)
MAX_UPLOAD_BYTES_DEFAULT = 64 * 1024 * 1024


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    """RFC 9457 problem details; never a stack trace."""
    body = {"type": "about:blank", "title": title, "status": status, **extra}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


# --- health --------------------------------------------------------------------------------------

health = APIRouter(tags=["health"])


@health.get("/healthz/live")
def live() -> dict[str, str]:
    return {"status": "ok"}


@health.get("/healthz/ready")
def ready(db: DbDep, settings: SettingsDep) -> JSONResponse:
    from hunter.store.db import is_up_to_date

    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if not is_up_to_date(db.engine):
            return problem(503, "Database schema is out of date", "Run `hunter db upgrade`.")
    except Exception as exc:
        log.warning("readiness check failed", error=str(exc))
        return problem(503, "Database unavailable", type(exc).__name__)
    body: dict[str, Any] = {"status": "ok", "database": db.dialect}
    if settings.enrichment_enabled:  # a missing IP database is worth a line, not a 503
        from hunter.services.enrichment import readiness_warnings

        body["warnings"] = readiness_warnings(settings)
    return JSONResponse(body)


# --- companies -----------------------------------------------------------------------------------

api = APIRouter(prefix="/api/v1")


class CompanyOut(BaseModel):
    domain: str
    display_domain: str
    name: str | None
    names: list[str]
    attributes: dict[str, Any]
    complete: bool | None = None
    platform: str | None = None
    gateway: str | None = None
    scanned_at: str | None = None


class CompanyPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[CompanyOut]


def _company_out(company: Any, assessment: Any) -> CompanyOut:
    return CompanyOut(
        domain=company.domain,
        display_domain=company.display_domain,
        name=company.name,
        names=company.names or [],
        attributes=company.attributes or {},
        complete=assessment.complete if assessment else None,
        platform=assessment.platform if assessment else None,
        gateway=assessment.gateway if assessment else None,
        scanned_at=assessment.evaluated_at.isoformat() if assessment else None,
    )


@api.get("/companies", response_model=CompanyPage, tags=["companies"])
def list_companies_route(
    db: DbDep,
    q: Annotated[str | None, Query(max_length=200, description="Turkish-aware search.")] = None,
    platform: Annotated[list[str] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CompanyPage:
    from hunter.store.companies import CompanyFilter, list_companies

    with db.session() as session:
        total, rows = list_companies(
            session,
            CompanyFilter(search=q, platform=platform or ()),
            limit=page_size,
            offset=(page - 1) * page_size,
        )
        items = [_company_out(c, a) for c, a in rows]
    return CompanyPage(total=total, page=page, page_size=page_size, items=items)


# --- imports -------------------------------------------------------------------------------------


class ImportPreviewOut(BaseModel):
    import_id: int
    filename: str
    format: str
    encoding: str | None
    sheet: str | None
    sheets: list[str]
    header_row: int
    mapping: dict[str, str]
    header: list[str]
    rows: list[list[str]]
    roles: list[str] = Field(description="Roles a column can be given.")


class ImportCommitIn(BaseModel):
    mapping: dict[str, str] | None = Field(
        default=None, description="Column → role; omit to accept detection."
    )
    sheet: str | None = None


def _save_upload(upload: UploadFile, limit: int) -> Path:
    """Copy the upload to a temp file, refusing it as soon as it passes the size limit."""
    fd, name = tempfile.mkstemp(suffix=Path(upload.filename or "").suffix)
    path = Path(name)
    size = 0
    with open(fd, "wb") as handle:
        while chunk := upload.file.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                break
            handle.write(chunk)
    if size > limit:
        path.unlink(missing_ok=True)
        raise HTTPException(413, f"the file is larger than the {limit // (1024 * 1024)} MB limit")
    return path


@api.post("/imports", response_model=ImportPreviewOut, status_code=201, tags=["imports"])
def create_import(
    db: DbDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="CSV, XLSX or XLS")],
) -> ImportPreviewOut:
    """Upload a list and get the detected mapping and first rows; commit it afterwards."""
    from hunter.imports import ColumnRole, ImportFileError
    from hunter.services.imports import preview_upload, store_upload

    temp = _save_upload(file, settings.import_max_bytes)
    try:
        stored = store_upload(settings, file.filename or "upload", temp)
    finally:
        temp.unlink(missing_ok=True)
    try:
        import_id, preview = preview_upload(
            db, settings, file.filename or stored.name, stored, user_id=principal.user_id
        )
    except ImportFileError as exc:
        stored.unlink(missing_ok=True)
        raise HTTPException(422, str(exc)) from None
    return ImportPreviewOut(
        import_id=import_id,
        filename=file.filename or stored.name,
        format=preview.format,
        encoding=preview.encoding,
        sheet=preview.sheet,
        sheets=list(preview.sheets or []),
        header_row=preview.mapping.header_row,
        mapping={k: str(v) for k, v in preview.mapping.roles.items()},
        header=preview.header,
        rows=preview.rows,
        roles=[r.value for r in ColumnRole],
    )


@api.post("/imports/{import_id}/commit", tags=["imports"])
def commit_import(
    import_id: int, body: ImportCommitIn, db: DbDep, settings: SettingsDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Import the previewed file with the confirmed (or changed) mapping."""
    from hunter.imports import ImportFileError
    from hunter.services.imports import ImportNotFound, commit_upload, parse_mapping

    try:
        mapping = parse_mapping(body.mapping)
        outcome = commit_upload(
            db, settings, import_id, mapping=mapping, sheet=body.sheet, user_id=principal.user_id
        )
    except ImportNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except (ValueError, ImportFileError) as exc:
        raise HTTPException(422, str(exc)) from None
    result = outcome.result.to_dry_run_json()
    return {**outcome.to_json(), "rejected_rows": result["rejected"], "duplicates": result["duplicates"]}


# --- scans ---------------------------------------------------------------------------------------


class ScanIn(BaseModel):
    domain: str = Field(min_length=1, max_length=2000)


@api.post("/scans", tags=["scans"])
async def scan_one(body: ScanIn, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Scan one domain synchronously; returns the evidence and the classification."""
    from hunter.core.domains import DomainError, normalise_domain
    from hunter.services.scanning import scan_domains

    try:
        domain = normalise_domain(body.domain).ascii
    except DomainError as exc:
        raise HTTPException(422, str(exc)) from None
    reports: list[Any] = []
    summary = await scan_domains(settings, [domain], db=db, on_result=reports.append)
    if not reports:  # pragma: no cover - scan_domains always reports each domain
        raise HTTPException(500, "scan produced no result")
    report = reports[0]
    report.registration = summary.registrations.get(domain)
    return report.to_api_json()


# --- app -----------------------------------------------------------------------------------------


def create_app(
    settings: Settings | None = None, db: Database | None = None, *, run_jobs: bool = False
) -> FastAPI:
    """The app. ``run_jobs`` starts the inline job runner (``hunter serve`` / ``hunter demo``);
    tests and Celery deployments leave it off."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = None
        if run_jobs and settings.job_runner == "inline":
            from hunter.jobs.inline import start_inline_runner

            runner = start_inline_runner(app.state.db, settings)
        yield
        if runner is not None:
            await runner.stop()
        await app.state.login_throttle.aclose()
        if owns_db:
            app.state.db.dispose()

    owns_db = db is None
    app = FastAPI(
        title="Hunter",
        version="0.1.0",
        description="Lead intelligence for Microsoft cloud partners.",
        lifespan=lifespan,
        # Served by routes_auth.docs_router instead, behind sign-in like everything else.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.effective_database_url)
    app.state.login_throttle = make_login_throttle(settings)

    # Added before request_id, so it runs inside it: its 401s get a request id too.
    app.add_middleware(AuthMiddleware)

    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unhandled error", path=request.url.path, request_id=rid)
            response = problem(500, "Internal error", "The error was logged.", request_id=rid)
        response.headers["X-Request-ID"] = rid
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code == 401:
            # Pages redirect to /login; the API answers problem+json with a Bearer challenge.
            return unauthenticated_response(request, str(exc.detail) if exc.detail else None)
        response = problem(exc.status_code, _title(exc.status_code), str(exc.detail) if exc.detail else None)
        response.headers.update(exc.headers or {})  # e.g. Retry-After, WWW-Authenticate
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(422, "Invalid request", "See errors.", errors=errors)

    # Public: health, the sign-in form and the password → token exchange (PUBLIC_PATHS in
    # hunter.auth.dependencies). Everything else is behind router-level dependencies;
    # tests/auth/test_route_table.py walks app.routes to keep it that way.
    app.include_router(health)
    app.include_router(login_router)
    app.include_router(token_exchange_router)
    app.include_router(api, dependencies=[Depends(authorize)])
    # The web UI (hunter.web): pages for any role, admin pages, own preferences, public /static.
    app.include_router(web_routes.router, dependencies=[Depends(authorize)])
    app.include_router(web_routes.admin_router, dependencies=[Depends(require_admin)])
    app.include_router(web_routes.prefs_router, dependencies=[Depends(authenticated)])
    web_routes.install_template_context(auth_templates)
    web_routes.ensure_vendor_assets()
    app.mount("/static", StaticFiles(directory=web_routes.STATIC_DIR), name="static")
    app.include_router(docs_router)
    app.include_router(account_router)
    app.include_router(tokens_router)
    app.include_router(users_router)
    app.include_router(leads_router, dependencies=[Depends(authorize)])
    app.include_router(jobs_router, prefix="/api/v1", dependencies=[Depends(authorize)])
    app.include_router(exports_router, dependencies=[Depends(authorize)])
    app.include_router(alerts_router, dependencies=[Depends(authorize)])
    app.include_router(channels_router, dependencies=[Depends(require_admin)])
    app.include_router(debug_router, dependencies=[Depends(require_admin)])
    app.include_router(metrics_router, dependencies=[Depends(require_metrics_token)])
    return app


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
