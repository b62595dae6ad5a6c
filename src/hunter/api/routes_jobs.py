"""Jobs API: list, inspect and cancel jobs; start bulk scans, rescans and re-evaluations.

Paths carry no prefix; the app mounts the router under ``/api/v1`` with its auth dependencies.
Starting work answers ``202 Accepted`` with the job and a ``Location`` header: the job runs in
the background (inline runner or Celery) and ``GET /jobs/{id}`` shows its progress.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from hunter.config import Settings
from hunter.jobs import service
from hunter.jobs.schedule import parse_schedule
from hunter.store.db import Database
from hunter.store.types import utcnow

router = APIRouter(tags=["jobs"])

MAX_ITEMS = 500_000
"""The most domains or company ids one request may name (a large import is a file, not a body)."""

PriorityName = Literal["P1", "P2", "P3", "P4", "P5", "P6", "incomplete"]
JobStateName = Literal["queued", "running", "done", "failed", "cancelled"]
JobKindName = Literal["import", "bulk_scan", "rescan", "reevaluate"]


def _db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _user_id(request: Request) -> int | None:
    """Who started it: the signed-in principal, if the auth layer set one."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return int(principal.user.id)
    user = getattr(request.state, "user", None)
    return getattr(user, "id", None)


DbDep = Annotated[Database, Depends(_db)]
SettingsDep = Annotated[Settings, Depends(_settings)]
UserIdDep = Annotated[int | None, Depends(_user_id)]


# --- models --------------------------------------------------------------------------------------


class JobOut(BaseModel):
    id: int
    kind: str
    state: str
    outcome: str | None = Field(description="complete | partial | failed | cancelled once the job ended.")
    params: dict[str, Any]
    total: int
    done: int
    failed: int
    skipped: int
    progress: float = Field(description="Percent of items processed (done, failed or skipped).")
    cancel_requested: bool
    created_by: int | None
    created_by_username: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any]


class ChunkSummary(BaseModel):
    pending: int
    running: int
    done: int
    failed: int
    cancelled: int
    total: int
    attempts: int = Field(description="Tries over all chunks; more than the chunk count means retries.")


class RunningChunk(BaseModel):
    seq: int
    worker: str | None
    attempts: int
    lease_renewed_at: str | None


class JobError(BaseModel):
    item: str | None = None
    error: str
    chunk: int | None = None


class JobDetail(JobOut):
    chunks: ChunkSummary
    running: list[RunningChunk]
    errors: list[JobError] = Field(description="A bounded sample of errors.")
    elapsed_seconds: float
    rate_per_second: float | None
    eta_seconds: int | None


class JobPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[JobOut]


class RejectedDomain(BaseModel):
    value: str
    reason: str
    message: str


class JobAccepted(BaseModel):
    job: JobOut
    rejected: list[RejectedDomain] = Field(default_factory=list, description="Domains that were not valid.")


class BulkScanIn(BaseModel):
    """Name the domains, or pick known companies by id and/or current priority."""

    domains: list[str] | None = Field(default=None, max_length=MAX_ITEMS)
    company_ids: list[int] | None = Field(default=None, max_length=MAX_ITEMS)
    priorities: list[PriorityName] | None = Field(default=None, description="Leads with these priorities.")
    chunk_size: int | None = Field(
        default=None, ge=1, le=10_000, description="Default: HUNTER_JOB_CHUNK_SIZE."
    )

    @model_validator(mode="after")
    def _one_selection(self) -> BulkScanIn:
        picks = self.company_ids is not None or self.priorities is not None
        if self.domains is None and not picks:
            raise ValueError("give domains, company_ids or priorities")
        if self.domains is not None and picks:
            raise ValueError("give domains, or company_ids/priorities, not both")
        return self


class RescanIn(BaseModel):
    """Without priorities or older_than_days, HUNTER_RESCAN_SCHEDULE decides who is due."""

    priorities: list[PriorityName] | None = None
    older_than_days: float | None = Field(default=None, gt=0, le=3650)
    limit: int | None = Field(
        default=None, ge=1, le=MAX_ITEMS, description="Default: HUNTER_RESCAN_MAX_COMPANIES."
    )


class ReevaluateIn(BaseModel):
    company_ids: list[int] | None = Field(
        default=None, max_length=MAX_ITEMS, description="Default: every company with a stored scan."
    )


# --- reading -------------------------------------------------------------------------------------


@router.get("/jobs", response_model=JobPage)
def list_jobs_route(
    db: DbDep,
    state: Annotated[list[JobStateName] | None, Query()] = None,
    kind: Annotated[list[JobKindName] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> JobPage:
    """Jobs, newest first."""
    total, items = service.list_jobs(db, state=state, kind=kind, limit=limit, offset=offset)
    return JobPage(total=total, limit=limit, offset=offset, items=[JobOut(**i) for i in items])


def _detail(db: Database, job_id: int) -> JobDetail:
    try:
        return JobDetail(**service.job_progress(db, job_id))
    except service.JobNotFound:
        raise HTTPException(404, f"job {job_id} does not exist") from None


@router.get("/jobs/{job_id}", response_model=JobDetail)
def get_job(job_id: int, db: DbDep) -> JobDetail:
    """Counters, chunk summary, running chunks, error samples and progress."""
    return _detail(db, job_id)


@router.post("/jobs/{job_id}/cancel", response_model=JobDetail, status_code=202)
def cancel_job_route(job_id: int, db: DbDep, user_id: UserIdDep) -> JobDetail:
    """Cancel: queued chunks are dropped now, running ones stop between domains."""
    try:
        accepted = service.cancel_job(db, job_id, user_id=user_id)
    except service.JobNotFound:
        raise HTTPException(404, f"job {job_id} does not exist") from None
    if not accepted:
        raise HTTPException(409, f"job {job_id} has already ended")
    return _detail(db, job_id)


# --- starting work -------------------------------------------------------------------------------


def _accepted(
    request: Request, response: Response, job: Any, rejected: list[RejectedDomain] | None = None
) -> JobAccepted:
    response.headers["Location"] = str(request.url_for("get_job", job_id=job.id))
    return JobAccepted(job=JobOut(**service.get_job(_db(request), job.id)), rejected=rejected or [])


@router.post("/scans/bulk", response_model=JobAccepted, status_code=202)
def bulk_scan(
    body: BulkScanIn,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    user_id: UserIdDep,
) -> JobAccepted:
    """Scan many domains in the background."""
    from hunter.core.domains import DomainError, try_normalise_domain

    rejected: list[RejectedDomain] = []
    params: dict[str, Any] = {"source": "api"}
    if body.domains is not None:
        domains: list[str] = []
        for value in body.domains:
            parsed = try_normalise_domain(value)
            if isinstance(parsed, DomainError):
                rejected.append(
                    RejectedDomain(value=value[:300], reason=parsed.reason, message=parsed.message)
                )
            else:
                domains.append(parsed.ascii)
        if not domains:
            raise HTTPException(422, "none of the domains is valid")
    else:
        domains = service.select_domains(db, company_ids=body.company_ids, priorities=body.priorities)
        params.update(priorities=body.priorities, company_ids=len(body.company_ids or []) or None)
    job = service.submit_job(
        db,
        settings,
        service.JobKind.BULK_SCAN,
        {k: v for k, v in params.items() if v is not None},
        user_id=user_id,
        items=domains,
        chunk_size=body.chunk_size,
    )
    return _accepted(request, response, job, rejected)


@router.post("/rescans", response_model=JobAccepted, status_code=202)
def rescan(
    body: RescanIn, request: Request, response: Response, db: DbDep, settings: SettingsDep, user_id: UserIdDep
) -> JobAccepted:
    """Rescan leads whose latest scan is old: by priority and age, or by the configured schedule."""
    from datetime import timedelta

    limit = body.limit or settings.rescan_max_companies
    now = utcnow()
    params: dict[str, Any] = {"source": "api"}
    if body.priorities is None and body.older_than_days is None:
        try:
            schedule = parse_schedule(settings.rescan_schedule)
        except ValueError as exc:
            raise HTTPException(422, f"HUNTER_RESCAN_SCHEDULE is invalid: {exc}") from None
        if not schedule.enabled:
            raise HTTPException(422, "no rescan schedule is configured; give priorities or older_than_days")
        domains = service.due_for_rescan(db, now, schedule=schedule, limit=limit)
        params["schedule"] = schedule.describe()
    else:
        older = timedelta(days=body.older_than_days) if body.older_than_days else None
        domains = service.due_for_rescan(db, now, priorities=body.priorities, older_than=older, limit=limit)
        params.update(priorities=body.priorities, older_than_days=body.older_than_days)
    job = service.submit_job(
        db,
        settings,
        service.JobKind.RESCAN,
        {k: v for k, v in params.items() if v is not None},
        user_id=user_id,
        items=domains,
    )
    return _accepted(request, response, job)


@router.post("/reevaluate", response_model=JobAccepted, status_code=202)
def reevaluate_route(
    body: ReevaluateIn,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    user_id: UserIdDep,
) -> JobAccepted:
    """Re-score companies from their stored scans (no DNS), e.g. after a rules change."""
    ids = service.reevaluation_ids(db, body.company_ids)
    params = {"source": "api", "scope": "selected" if body.company_ids is not None else "all"}
    job = service.submit_job(db, settings, service.JobKind.REEVALUATE, params, user_id=user_id, items=ids)
    return _accepted(request, response, job)
