"""Jobs: records, chunking, claims, progress, and the one chunk function both runners call.

A job is a row in ``jobs`` with its work split into ``job_chunks``; each chunk carries its items
(domains, or company ids) in ``payload["items"]``. Runners only decide *where* a chunk runs:
the inline runner (asyncio inside ``hunter serve``) and Celery (``hunter worker``) both call
:func:`run_chunk`, and every state change is a guarded UPDATE, so either runner, any number of
them, and any crash in between give the same result.

State machines::

    job:    queued → running → done | failed | cancelled
    chunk:  pending → running → done | failed | cancelled
            running → pending        (a retry after an error, a released or a stale lease)

Decisions:

* A job whose chunks all ended is **done**, even when some items failed: ``failed > 0`` says so
  and :func:`job_outcome` reads ``partial``. A job is **failed** only when nothing succeeded
  (no item done, some failed). It is **cancelled** when cancel was requested before its last
  chunk ended.
* Once a job ends, ``done + failed + skipped == total``. Items a cancel kept from running count
  as skipped.
* Counters move only when a chunk ends, in the same transaction as the chunk's guarded state
  change, with ``SET done = done + :n`` — never read-modify-write — so they count each chunk once.
* A running chunk holds a lease: ``started_at`` is renewed every few seconds while it works
  (it is "claimed or last renewed at"). A chunk whose lease is older than
  ``HUNTER_JOB_LEASE_SECONDS`` lost its worker; the next claim or the sweeper takes it over.
  Scan chunks re-run idempotently: ``scans`` is unique per (job_id, company_id) and the scan
  writer skips what this job already scanned.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, and_, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from hunter.config import Settings
from hunter.jobs.schedule import INCOMPLETE, PRIORITIES, RescanSchedule, parse_schedule
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.models import Assessment, AuditEntry, Company, Job, JobChunk, Scan, User
from hunter.store.types import utcnow

log = get_logger(__name__)

MAX_ERROR_SAMPLES = 50
MAX_ERROR_TEXT = 500
REEVALUATE_BATCH = 500
"""Companies re-evaluated between two checks for cancel or a lost lease."""


class JobKind(StrEnum):
    IMPORT = "import"
    BULK_SCAN = "bulk_scan"
    RESCAN = "rescan"
    REEVALUATE = "reevaluate"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ChunkState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)
OPEN_CHUNK_STATES = (ChunkState.PENDING.value, ChunkState.RUNNING.value)
SCAN_KINDS = (JobKind.BULK_SCAN.value, JobKind.RESCAN.value)


class JobNotFound(LookupError):
    pass


class PermanentChunkError(Exception):
    """A chunk failure that another try cannot fix (a missing or unreadable file)."""


# --- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    """A job a chunk creates when it ends (an import's scan), in the same transaction."""

    kind: str
    params: dict[str, Any]
    items: list[str | int]
    chunk_size: int


def _chunks(items: Sequence[str | int], size: int) -> list[list[str | int]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def _add_job(
    session: Session,
    kind: str,
    params: dict[str, Any],
    *,
    user_id: int | None,
    items: Sequence[str | int] | None,
    chunk_size: int,
    now: datetime,
) -> Job:
    if kind not in {k.value for k in JobKind}:
        raise ValueError(f"unknown job kind {kind!r}")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    # items=None: the job is one unit of work (an import); its chunk finds its own items.
    unique = None if items is None else list(dict.fromkeys(items))
    parts = [[]] if unique is None else _chunks(unique, chunk_size)
    job = Job(
        kind=kind,
        params=dict(params),
        state=JobState.QUEUED.value,
        total=1 if unique is None else len(unique),
        created_by=user_id,
        created_at=now,
    )
    session.add(job)
    session.flush()
    session.add_all(
        JobChunk(job_id=job.id, seq=seq, state=ChunkState.PENDING.value, payload={"items": part})
        for seq, part in enumerate(parts)
    )
    if not parts:  # nothing to do: the job is done the moment it exists
        job.state = JobState.DONE.value
        job.started_at = job.finished_at = now
    session.add(
        AuditEntry(
            user_id=user_id,
            action="job.create",
            target=f"job:{job.id}",
            details={"kind": kind, "total": job.total},
        )
    )
    session.flush()
    return job


def create_job(
    db: Database,
    kind: str,
    params: dict[str, Any],
    *,
    user_id: int | None,
    items: Sequence[str | int] | None,
    chunk_size: int,
) -> Job:
    """Record a job and split ``items`` into chunks (duplicates dropped, order kept).

    ``items=None`` makes one chunk whose work is described by ``params`` (an import). The job
    is queued; a runner picks it up (call :func:`dispatch_job` for Celery).
    """
    with db.session() as session:
        job = _add_job(
            session, kind, params, user_id=user_id, items=items, chunk_size=chunk_size, now=utcnow()
        )
    return job


@dataclass(frozen=True)
class Claim:
    """A chunk this worker holds; (worker, attempts) is the lease token every update checks."""

    chunk_id: int
    job_id: int
    worker: str
    attempts: int


def _rowcount(result: Any) -> int:
    """Rows an UPDATE matched (``Session.execute`` is typed as returning a plain Result)."""
    return int(cast(CursorResult[Any], result).rowcount)


def _lease_guard(claim: Claim) -> Any:
    return and_(
        JobChunk.id == claim.chunk_id,
        JobChunk.state == ChunkState.RUNNING.value,
        JobChunk.worker == claim.worker,
        JobChunk.attempts == claim.attempts,
    )


def claim_chunk(
    db: Database, chunk_id: int, worker: str, *, now: datetime, lease_seconds: float, max_attempts: int
) -> Claim | None:
    """Take a pending chunk, or a running one whose lease expired; None when someone else has it."""
    cutoff = now - timedelta(seconds=lease_seconds)
    with db.session() as session:
        row = session.execute(
            update(JobChunk)
            .where(
                JobChunk.id == chunk_id,
                JobChunk.attempts < max_attempts,
                or_(
                    JobChunk.state == ChunkState.PENDING.value,
                    and_(JobChunk.state == ChunkState.RUNNING.value, JobChunk.started_at < cutoff),
                ),
            )
            .values(
                state=ChunkState.RUNNING.value,
                worker=worker,
                attempts=JobChunk.attempts + 1,
                started_at=now,
                finished_at=None,
            )
            .returning(JobChunk.job_id, JobChunk.attempts)
            .execution_options(synchronize_session=False)
        ).first()
        if row is None:
            return None
        job_id, attempts = row
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
            .values(state=JobState.RUNNING.value, started_at=now)
            .execution_options(synchronize_session=False)
        )
    return Claim(chunk_id=chunk_id, job_id=job_id, worker=worker, attempts=attempts)


def renew_lease(db: Database, claim: Claim, now: datetime) -> tuple[bool, bool]:
    """Extend the lease; returns (still ours, cancel requested)."""
    with db.session() as session:
        held = _rowcount(
            session.execute(
                update(JobChunk)
                .where(_lease_guard(claim))
                .values(started_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        cancel = bool(session.scalar(select(Job.cancel_requested).where(Job.id == claim.job_id)))
    return held == 1, cancel


def release_chunk(
    db: Database, claim: Claim, *, error: str | None = None, count_attempt: bool = False
) -> bool:
    """Give a chunk back (pending) for another try or another worker; False if it was not ours."""
    with db.session() as session:
        return bool(
            _rowcount(
                session.execute(
                    update(JobChunk)
                    .where(_lease_guard(claim))
                    .values(
                        state=ChunkState.PENDING.value,
                        worker=None,
                        started_at=None,
                        error=error,
                        # A release by our own shutdown is not a failed try.
                        attempts=JobChunk.attempts if count_attempt else JobChunk.attempts - 1,
                    )
                    .execution_options(synchronize_session=False)
                )
            )
        )


def _error_entry(item: Any, error: str, seq: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "item": None if item is None else str(item)[:300],
        "error": error[:MAX_ERROR_TEXT],
    }
    if seq is not None:
        entry["chunk"] = seq
    return entry


def _add_errors(session: Session, job_id: int, errors: Sequence[dict[str, Any]], dialect: str) -> None:
    if not errors:
        return
    # Row lock on PostgreSQL so two chunks ending together both get their samples in; SQLite
    # already serialises writers.
    query = select(Job.errors).where(Job.id == job_id)
    if dialect == "postgresql":
        query = query.with_for_update()
    current = list(session.scalar(query) or [])
    if len(current) >= MAX_ERROR_SAMPLES:
        return
    combined = (current + list(errors))[:MAX_ERROR_SAMPLES]
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(errors=combined)
        .execution_options(synchronize_session=False)
    )


def _bump_counters(
    session: Session, job_id: int, *, done: int = 0, failed: int = 0, skipped: int = 0, total_delta: int = 0
) -> None:
    if not (done or failed or skipped or total_delta):
        return
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            done=Job.done + done,
            failed=Job.failed + failed,
            skipped=Job.skipped + skipped,
            total=Job.total + total_delta,
        )
        .execution_options(synchronize_session=False)
    )


@dataclass
class WorkResult:
    """What a chunk handler did; counters cover the whole chunk, earlier tries included."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    total_delta: int = 0
    followups: list[FollowUp] = field(default_factory=list)
    stopped: bool = False
    """The handler stopped early (cancel, lost lease or runner shutdown)."""


def complete_chunk(
    db: Database, claim: Claim, state: ChunkState, work: WorkResult, *, error: str | None = None
) -> list[int] | None:
    """End a chunk and count it, once; returns follow-up job ids, or None when it was not ours."""
    now = utcnow()
    created: list[int] = []
    with db.session() as session:
        # The guarded state change comes first: it takes the row (and SQLite's write lock)
        # before anything is read, and it is what makes the counters move exactly once.
        owned = _rowcount(
            session.execute(
                update(JobChunk)
                .where(_lease_guard(claim))
                .values(state=state.value, finished_at=now, error=error)
                .execution_options(synchronize_session=False)
            )
        )
        if owned != 1:
            return None
        chunk = session.get(JobChunk, claim.chunk_id)
        if chunk is not None and work.result:
            chunk.payload = {**(chunk.payload or {}), "result": work.result}
        _bump_counters(
            session,
            claim.job_id,
            done=work.done,
            failed=work.failed,
            skipped=work.skipped,
            total_delta=work.total_delta,
        )
        _add_errors(session, claim.job_id, work.errors, db.dialect)
        for followup in work.followups:
            job = session.get(Job, claim.job_id)
            child = _add_job(
                session,
                followup.kind,
                followup.params,
                user_id=job.created_by if job else None,
                items=followup.items,
                chunk_size=followup.chunk_size,
                now=now,
            )
            created.append(child.id)
    finish_job_if_complete(db, claim.job_id)
    return created


def final_job_state(
    cancel_requested: bool, chunk_states: dict[str, int], *, done: int, failed: int
) -> JobState | None:
    """The state a job ends in, or None while a chunk is still open (pure)."""
    if any(chunk_states.get(s, 0) for s in OPEN_CHUNK_STATES):
        return None
    if cancel_requested or chunk_states.get(ChunkState.CANCELLED.value, 0):
        return JobState.CANCELLED
    if failed and not done:
        return JobState.FAILED
    return JobState.DONE


def _merge_results(results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for result in results:
        for key, value in result.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                merged[key] = merged.get(key, 0) + value
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


def finish_job_if_complete(db: Database, job_id: int) -> JobState | None:
    """Close a job whose chunks all ended. Run in its own transaction after a chunk commits:
    whichever chunk commits last then sees every other chunk ended."""
    with db.session() as session:
        counts = dict(
            session.execute(
                select(JobChunk.state, func.count()).where(JobChunk.job_id == job_id).group_by(JobChunk.state)
            ).all()
        )
        row = session.execute(
            select(Job.cancel_requested, Job.done, Job.failed).where(Job.id == job_id)
        ).first()
        if row is None:
            return None
        state = final_job_state(bool(row.cancel_requested), counts, done=row.done, failed=row.failed)
        if state is None:
            return None
        results = [
            (payload or {}).get("result") or {}
            for payload in session.scalars(
                select(JobChunk.payload).where(JobChunk.job_id == job_id).order_by(JobChunk.seq)
            )
        ]
        changed = _rowcount(
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.state.in_(ACTIVE_JOB_STATES))
                .values(state=state.value, finished_at=utcnow(), result=_merge_results(results))
                .execution_options(synchronize_session=False)
            )
        )
    if changed:
        log.info("job finished", job_id=job_id, state=state.value)
        return state
    return None


# --- cancel ------------------------------------------------------------------------------------


def _item_count(payload: dict[str, Any] | None) -> int:
    return len((payload or {}).get("items") or []) or 1


def cancel_job(db: Database, job_id: int, *, user_id: int | None = None) -> bool:
    """Request cancel: pending chunks are cancelled now, running ones stop between items.

    Returns False when the job had already ended. Raises JobNotFound for an unknown id.
    """
    now = utcnow()
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobNotFound(f"job {job_id} does not exist")
        if job.state not in ACTIVE_JOB_STATES:
            return False
        # Chunks first, then the job row: the same lock order as claims and completions.
        cancelled = session.execute(
            update(JobChunk)
            .where(JobChunk.job_id == job_id, JobChunk.state == ChunkState.PENDING.value)
            .values(state=ChunkState.CANCELLED.value, finished_at=now)
            .returning(JobChunk.payload)
            .execution_options(synchronize_session=False)
        ).all()
        skipped = sum(_item_count(payload) for (payload,) in cancelled)
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        _bump_counters(session, job_id, skipped=skipped)
        session.add(AuditEntry(user_id=user_id, action="job.cancel", target=f"job:{job_id}", details={}))
    finish_job_if_complete(db, job_id)
    return True


# --- the chunk function --------------------------------------------------------------------------


class StopSignal:
    """A runner's shutdown, seen by its chunks between items.

    ``release``: hand the chunk back (pending) for the next start. ``abandon``: stop writing at
    once and leave the chunk running, as a dead process would; its lease then runs out.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.mode = "release"

    def release(self) -> None:
        self.mode = "release"
        self._event.set()

    def abandon(self) -> None:
        self.mode = "abandon"
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def abandoned(self) -> bool:
        return self._event.is_set() and self.mode == "abandon"


class _Lease:
    """Renews a claim in a background thread and notices cancel requests and a lost lease."""

    def __init__(self, db: Database, claim: Claim, lease_seconds: float, stop: StopSignal | None) -> None:
        self.db = db
        self.claim = claim
        self.stop = stop
        self.interval = max(0.1, min(lease_seconds / 4, 5.0))
        self.cancel_requested = False
        self.lost = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"hunter-lease-{claim.chunk_id}", daemon=True)

    def __enter__(self) -> _Lease:
        self.refresh()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=self.interval + 5)

    def refresh(self) -> None:
        try:
            held, cancel = renew_lease(self.db, self.claim, utcnow())
        except Exception as exc:  # a database hiccup: keep working, the next beat tries again
            log.warning("lease renewal failed", chunk_id=self.claim.chunk_id, error=str(exc))
            return
        self.lost = self.lost or not held
        self.cancel_requested = self.cancel_requested or cancel

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            if self.stop is not None and self.stop.abandoned:
                return  # a dead process renews nothing
            self.refresh()

    def should_stop(self) -> bool:
        return self.cancel_requested or self.lost or (self.stop is not None and self.stop.is_set())


@dataclass
class ChunkContext:
    db: Database
    settings: Settings
    job_id: int
    kind: str
    params: dict[str, Any]
    items: list[Any]
    seq: int
    created_by: int | None
    should_stop: Callable[[], bool]


@dataclass
class ChunkOutcome:
    """What happened to one delivery of a chunk.

    ``state``: done | failed | cancelled (the chunk ended), retry (released after an error;
    run it again), released (given back by a stopping runner), abandoned (left to its lease),
    lost (another worker took the lease over), not_claimed (ended already, or someone holds it).
    """

    chunk_id: int
    job_id: int | None
    state: str
    done: int = 0
    failed: int = 0
    skipped: int = 0
    attempts: int = 0
    error: str | None = None
    created_jobs: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "job_id": self.job_id,
            "state": self.state,
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "attempts": self.attempts,
            "error": self.error,
            "created_jobs": self.created_jobs,
        }


def _scanned_counts(db: Database, job_id: int, domains: Sequence[str]) -> tuple[int, int]:
    """(scanned, complete) among ``domains`` for this job: the truth, whatever try wrote them."""
    scanned = complete = 0
    with db.session() as session:
        for start in range(0, len(domains), 500):
            part = list(domains[start : start + 500])
            for is_complete, count in session.execute(
                select(Scan.complete, func.count())
                .join(Company, Company.id == Scan.company_id)
                .where(Scan.job_id == job_id, Company.domain.in_(part))
                .group_by(Scan.complete)
            ):
                scanned += count
                complete += count if is_complete else 0
    return scanned, complete


class _StopScan(Exception):
    pass


def _run_scan(ctx: ChunkContext) -> WorkResult:
    from hunter.services.scanning import scan_domains

    domains = [str(item) for item in ctx.items]

    def on_result(_report: Any) -> None:
        # Called after each stored batch too, so stopping here never leaves a write half done.
        if ctx.should_stop():
            raise _StopScan

    stopped = False
    try:
        asyncio.run(scan_domains(ctx.settings, domains, db=ctx.db, job_id=ctx.job_id, on_result=on_result))
    except _StopScan:
        stopped = True
    scanned, complete = _scanned_counts(ctx.db, ctx.job_id, domains)
    work = WorkResult(
        done=scanned,
        result={"complete": complete, "incomplete": scanned - complete},
        stopped=stopped,
    )
    missing = len(domains) - scanned
    if stopped:
        work.skipped = missing
    elif missing:  # every domain yields a result; a gap means something went wrong
        work.failed = missing
        work.errors.append(_error_entry(None, f"{missing} domains produced no scan", ctx.seq))
    return work


def _run_reevaluate(ctx: ChunkContext) -> WorkResult:
    from hunter.services.evaluation import reevaluate

    ids = [int(item) for item in ctx.items]
    work = WorkResult(result={"changed_priority": 0})
    processed = 0
    for start in range(0, len(ids), REEVALUATE_BATCH):
        if ctx.should_stop():
            work.stopped = True
            break
        part = ids[start : start + REEVALUATE_BATCH]
        summary = reevaluate(ctx.db, utcnow(), company_ids=part)
        processed += len(part)
        work.done += summary.companies
        work.result["changed_priority"] += summary.changed_priority
    # Companies without a stored scan (or deleted since) have nothing to re-evaluate.
    work.skipped = len(ids) - work.done
    return work


def _run_import(ctx: ChunkContext) -> WorkResult:
    from hunter.imports import ImportFileError
    from hunter.services.imports import import_file, parse_mapping

    params = ctx.params
    path = Path(str(params.get("path", "")))
    if not path.is_file():
        raise PermanentChunkError(f"import file {path.name or path} is missing")
    try:
        outcome = import_file(
            ctx.db,
            path,
            mapping=parse_mapping(params.get("mapping")),
            sheet=params.get("sheet"),
            settings=ctx.settings,
            user_id=ctx.created_by,
            import_id=params.get("import_id"),
        )
    except (ImportFileError, ValueError) as exc:
        raise PermanentChunkError(str(exc)) from exc
    domains = [c.domain for c in outcome.result.companies]
    rejected = outcome.result.rejected
    work = WorkResult(
        done=len(domains),
        skipped=len(rejected),
        # The job was counted as one file; now it counts rows.
        total_delta=len(domains) + len(rejected) - 1,
        result=outcome.to_json(),
        errors=[_error_entry(f"row {r.row}: {r.value}", r.message) for r in rejected[:MAX_ERROR_SAMPLES]],
    )
    if params.get("scan") and domains:
        work.followups.append(
            FollowUp(
                kind=JobKind.BULK_SCAN.value,
                params={
                    "source": "import",
                    "import_job_id": ctx.job_id,
                    "import_id": params.get("import_id"),
                },
                items=list(domains),
                chunk_size=int(params.get("chunk_size") or ctx.settings.job_chunk_size),
            )
        )
    return work


HANDLERS: dict[str, Callable[[ChunkContext], WorkResult]] = {
    JobKind.BULK_SCAN.value: _run_scan,
    JobKind.RESCAN.value: _run_scan,
    JobKind.REEVALUATE.value: _run_reevaluate,
    JobKind.IMPORT.value: _run_import,
}


def _settle_counts(db: Database, kind: str, job_id: int, items: Sequence[Any]) -> tuple[int, int]:
    """(done, not done) of a chunk that ends without its handler's word (failed, or cancelled)."""
    if kind in SCAN_KINDS and items:
        scanned, _ = _scanned_counts(db, job_id, [str(i) for i in items])
        return scanned, len(items) - scanned
    return 0, len(items) or 1


def run_chunk(
    db: Database, settings: Settings, chunk_id: int, worker: str, *, stop: StopSignal | None = None
) -> ChunkOutcome:
    """Claim one chunk, do its work and record the outcome. Idempotent; safe to deliver twice.

    Call it from a thread without a running event loop (scan chunks run their own loop).
    """
    claim = claim_chunk(
        db,
        chunk_id,
        worker,
        now=utcnow(),
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
    )
    if claim is None:
        return ChunkOutcome(chunk_id, None, "not_claimed")
    with db.session() as session:
        chunk = session.get(JobChunk, chunk_id)
        job = session.get(Job, claim.job_id)
        if chunk is None or job is None:  # deleted between the claim and now
            return ChunkOutcome(chunk_id, claim.job_id, "not_claimed")
        kind, params, created_by, seq = job.kind, dict(job.params or {}), job.created_by, chunk.seq
        items = list((chunk.payload or {}).get("items") or [])
    outcome = ChunkOutcome(chunk_id, claim.job_id, "done", attempts=claim.attempts)
    with _Lease(db, claim, settings.job_lease_seconds, stop) as lease:
        ctx = ChunkContext(
            db, settings, claim.job_id, kind, params, items, seq, created_by, lease.should_stop
        )
        try:
            if lease.cancel_requested:  # cancelled while queued: count what earlier tries did
                done, rest = _settle_counts(db, kind, claim.job_id, items)
                work = WorkResult(done=done, skipped=rest, stopped=True)
            else:
                work = HANDLERS[kind](ctx)
        except PermanentChunkError as exc:
            return _fail_chunk(db, claim, kind, items, seq, str(exc), outcome)
        except Exception as exc:
            if lease.lost or (stop is not None and stop.abandoned):
                outcome.state = "lost" if lease.lost else "abandoned"
                return outcome
            message = f"{type(exc).__name__}: {exc}"
            log.warning(
                "chunk failed", chunk_id=chunk_id, job_id=claim.job_id, attempt=claim.attempts, error=message
            )
            if claim.attempts >= settings.job_max_attempts:
                return _fail_chunk(db, claim, kind, items, seq, message, outcome)
            outcome.state, outcome.error = "retry", message
            if release_chunk(db, claim, error=message[:MAX_ERROR_TEXT], count_attempt=True):
                with db.session() as session:
                    note = f"attempt {claim.attempts} failed, will retry: {message}"
                    _add_errors(session, claim.job_id, [_error_entry(None, note, seq)], db.dialect)
            return outcome
        if work.stopped:
            lease.refresh()  # the freshest word on cancel before deciding how to end
        # A dead process records nothing, however far it got; nor does a worker that lost
        # its lease (the new holder counts the chunk, skipping what is already stored).
        if stop is not None and stop.abandoned:
            outcome.state = "abandoned"
            return outcome
        if lease.lost:
            outcome.state = "lost"
            return outcome
        if work.stopped and not lease.cancel_requested and stop is not None and stop.is_set():
            outcome.state = "released" if release_chunk(db, claim) else "lost"
            return outcome
    # Stopped here means cancelled: the handler counted what ran and skipped the rest.
    state = ChunkState.CANCELLED if work.stopped else ChunkState.DONE
    created = complete_chunk(db, claim, state, work)
    if created is None:
        outcome.state = "lost"
        return outcome
    outcome.state = state.value
    outcome.done, outcome.failed, outcome.skipped = work.done, work.failed, work.skipped
    outcome.created_jobs = created
    return outcome


def _fail_chunk(
    db: Database, claim: Claim, kind: str, items: Sequence[Any], seq: int, message: str, outcome: ChunkOutcome
) -> ChunkOutcome:
    done, failed = _settle_counts(db, kind, claim.job_id, items)
    work = WorkResult(done=done, failed=failed, errors=[_error_entry(None, message, seq)])
    created = complete_chunk(db, claim, ChunkState.FAILED, work, error=message[:MAX_ERROR_TEXT])
    outcome.state = "failed" if created is not None else "lost"
    outcome.done, outcome.failed, outcome.error = done, failed, message
    return outcome


# --- recovery ------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)
    """Stale chunks given back as pending (a Celery runner publishes them again)."""
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    finished_jobs: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requeued": self.requeued,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "finished_jobs": self.finished_jobs,
        }


def sweep(db: Database, settings: Settings, now: datetime | None = None) -> SweepReport:
    """Recover from dead workers: stale running chunks go back to pending (or fail after the
    last attempt, or end cancelled), and jobs whose chunks all ended are closed."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=settings.job_lease_seconds)
    report = SweepReport()
    with db.session() as session:
        stale = session.execute(
            select(JobChunk.id, JobChunk.worker, JobChunk.attempts, JobChunk.seq, JobChunk.payload)
            .add_columns(Job.id, Job.kind, Job.cancel_requested)
            .join(Job, Job.id == JobChunk.job_id)
            .where(JobChunk.state == ChunkState.RUNNING.value, JobChunk.started_at < cutoff)
            .order_by(JobChunk.job_id, JobChunk.seq)
        ).all()
    for chunk_id, worker, attempts, seq, payload, job_id, kind, cancel in stale:
        claim = Claim(chunk_id=chunk_id, job_id=job_id, worker=worker or "", attempts=attempts)
        items = list((payload or {}).get("items") or [])
        if cancel or attempts >= settings.job_max_attempts:
            done, rest = _settle_counts(db, kind, job_id, items)
            if cancel:
                work, state, error = WorkResult(done=done, skipped=rest), ChunkState.CANCELLED, None
            else:
                error = f"worker {worker} stopped answering; {attempts} attempts used"
                work = WorkResult(done=done, failed=rest, errors=[_error_entry(None, error, seq)])
                state = ChunkState.FAILED
            if _complete_stale(db, claim, cutoff, state, work, error):
                (report.cancelled if cancel else report.failed).append(chunk_id)
            continue
        with db.session() as session:
            reset = _rowcount(
                session.execute(
                    update(JobChunk)
                    .where(_lease_guard(claim), JobChunk.started_at < cutoff)
                    .values(state=ChunkState.PENDING.value, worker=None, started_at=None)
                    .execution_options(synchronize_session=False)
                )
            )
        if reset:
            log.warning("stale chunk requeued", chunk_id=chunk_id, job_id=job_id, worker=worker)
            report.requeued.append(chunk_id)
    with db.session() as session:
        open_jobs = list(
            session.scalars(
                select(Job.id)
                .where(Job.state.in_(ACTIVE_JOB_STATES))
                .where(
                    ~select(JobChunk.id)
                    .where(JobChunk.job_id == Job.id, JobChunk.state.in_(OPEN_CHUNK_STATES))
                    .exists()
                )
            )
        )
    for job_id in open_jobs:
        if finish_job_if_complete(db, job_id) is not None:
            report.finished_jobs.append(job_id)
    return report


def _complete_stale(
    db: Database, claim: Claim, cutoff: datetime, state: ChunkState, work: WorkResult, error: str | None
) -> bool:
    with db.session() as session:
        owned = _rowcount(
            session.execute(
                update(JobChunk)
                .where(_lease_guard(claim), JobChunk.started_at < cutoff)
                .values(state=state.value, finished_at=utcnow(), error=error)
                .execution_options(synchronize_session=False)
            )
        )
        if owned != 1:
            return False
        _bump_counters(session, claim.job_id, done=work.done, failed=work.failed, skipped=work.skipped)
        _add_errors(session, claim.job_id, work.errors, db.dialect)
    finish_job_if_complete(db, claim.job_id)
    return True


def claimable_chunks(
    db: Database, settings: Settings, *, limit: int, now: datetime | None = None
) -> list[int]:
    """Pending chunks (oldest job first) and running ones whose lease ran out."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=settings.job_lease_seconds)
    with db.session() as session:
        return list(
            session.scalars(
                select(JobChunk.id)
                .where(
                    JobChunk.attempts < settings.job_max_attempts,
                    or_(
                        JobChunk.state == ChunkState.PENDING.value,
                        and_(JobChunk.state == ChunkState.RUNNING.value, JobChunk.started_at < cutoff),
                    ),
                )
                .order_by(JobChunk.job_id, JobChunk.seq)
                .limit(limit)
            )
        )


def pending_chunk_ids(
    db: Database, job_id: int | None = None, *, created_before: datetime | None = None
) -> list[int]:
    """Pending chunks of unfinished jobs (what a Celery runner publishes)."""
    with db.session() as session:
        query = (
            select(JobChunk.id)
            .join(Job, Job.id == JobChunk.job_id)
            .where(JobChunk.state == ChunkState.PENDING.value, Job.state.in_(ACTIVE_JOB_STATES))
            .order_by(JobChunk.job_id, JobChunk.seq)
        )
        if job_id is not None:
            query = query.where(JobChunk.job_id == job_id)
        if created_before is not None:
            query = query.where(Job.created_at < created_before)
        return list(session.scalars(query))


def dispatch_job(db: Database, settings: Settings, job_id: int) -> int:
    """Hand a new job to the configured runner; returns how many chunks were published.

    Inline: the runner polls the database, so this only wakes runners in this process.
    Celery: one task per pending chunk. A publish that fails is logged, not raised: the job is
    recorded and the sweeper publishes its chunks once the broker answers again.
    """
    if settings.job_runner != "celery":
        from hunter.jobs.inline import wake_inline_runners

        wake_inline_runners()
        return 0
    from hunter.jobs.celery_app import publish_chunks

    chunk_ids = pending_chunk_ids(db, job_id)
    try:
        return publish_chunks(settings, chunk_ids)
    except Exception as exc:
        log.error("could not publish job chunks; the sweeper will retry", job_id=job_id, error=str(exc))
        return 0


# --- selection (bulk scans, rescans, re-evaluation) ------------------------------------------------


def _priority_clause(priorities: Sequence[str]) -> Any:
    keys = set(priorities)
    named = [p for p in PRIORITIES if p in keys]
    clauses = []
    if named:
        clauses.append(and_(Assessment.complete.is_(True), Assessment.priority.in_(named)))
    if INCOMPLETE in keys:
        clauses.append(Assessment.complete.is_(False))
    return or_(*clauses) if clauses else false()


def select_domains(
    db: Database,
    *,
    company_ids: Sequence[int] | None = None,
    priorities: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[str]:
    """Domains of companies picked by id and/or current priority (P1–P6, ``incomplete``)."""
    query = select(Company.domain).order_by(Company.id)
    if company_ids is not None:
        query = query.where(Company.id.in_(list(company_ids)))
    if priorities is not None:
        query = query.join(Assessment, Assessment.company_id == Company.id).where(
            _priority_clause(priorities)
        )
    if limit is not None:
        query = query.limit(limit)
    with db.session() as session:
        return list(session.scalars(query))


def due_for_rescan(
    db: Database,
    now: datetime,
    *,
    schedule: RescanSchedule | None = None,
    priorities: Sequence[str] | None = None,
    older_than: timedelta | None = None,
    limit: int,
) -> list[str]:
    """Domains whose latest scan is too old: by ``schedule``, or by ``priorities``/``older_than``.

    Highest priority first, then the oldest scan first.
    """
    scanned_at = Scan.finished_at

    def scanned_by(cutoff: datetime) -> Any:
        return or_(scanned_at.is_(None), scanned_at <= cutoff)

    if schedule is not None:
        clauses = [
            and_(_priority_clause([key]), scanned_by(cutoff)) for key, cutoff in schedule.cutoffs(now).items()
        ]
        condition: Any = or_(*clauses) if clauses else false()
    else:
        condition = _priority_clause(priorities) if priorities is not None else true()
        if older_than is not None:
            condition = and_(condition, scanned_by(now - older_than))
    query = (
        select(Company.domain)
        .join(Assessment, Assessment.company_id == Company.id)
        .outerjoin(Scan, Scan.id == Assessment.scan_id)
        .where(condition)
        .order_by(Assessment.priority_rank, scanned_at.asc().nulls_first(), Company.id)
        .limit(limit)
    )
    with db.session() as session:
        return list(session.scalars(query))


def reevaluation_ids(db: Database, company_ids: Sequence[int] | None = None) -> list[int]:
    """Companies with a stored scan to re-evaluate (all of them unless ids are given)."""
    query = (
        select(Assessment.company_id).where(Assessment.scan_id.is_not(None)).order_by(Assessment.company_id)
    )
    if company_ids is not None:
        query = query.where(Assessment.company_id.in_(list(company_ids)))
    with db.session() as session:
        return list(session.scalars(query))


# --- submitting (create + dispatch) ----------------------------------------------------------------


def submit_job(
    db: Database,
    settings: Settings,
    kind: str,
    params: dict[str, Any],
    *,
    user_id: int | None,
    items: Sequence[str | int] | None,
    chunk_size: int | None = None,
) -> Job:
    size = chunk_size or (
        settings.reevaluate_chunk_size if kind == JobKind.REEVALUATE.value else settings.job_chunk_size
    )
    job = create_job(db, kind, params, user_id=user_id, items=items, chunk_size=size)
    dispatch_job(db, settings, job.id)
    return job


def submit_import(
    db: Database,
    settings: Settings,
    path: Path,
    *,
    user_id: int | None,
    mapping: dict[str, str] | None = None,
    sheet: str | None = None,
    import_id: int | None = None,
    scan: bool = False,
) -> Job:
    params = {
        "path": str(path),
        "filename": path.name,
        "mapping": mapping,
        "sheet": sheet,
        "import_id": import_id,
        "scan": scan,
    }
    return submit_job(db, settings, JobKind.IMPORT.value, params, user_id=user_id, items=None)


def schedule_rescans(db: Database, settings: Settings, now: datetime | None = None) -> int | None:
    """Start a rescan job for leads the schedule says are due; None when there is nothing to do
    or the previous scheduled rescan is still running."""
    now = now or utcnow()
    schedule = parse_schedule(settings.rescan_schedule)
    if not schedule.enabled:
        return None
    with db.session() as session:
        active = session.scalars(
            select(Job.params).where(Job.kind == JobKind.RESCAN.value, Job.state.in_(ACTIVE_JOB_STATES))
        ).all()
    if any((params or {}).get("scheduled") for params in active):
        return None
    domains = due_for_rescan(db, now, schedule=schedule, limit=settings.rescan_max_companies)
    if not domains:
        return None
    job = submit_job(
        db,
        settings,
        JobKind.RESCAN.value,
        {"scheduled": True, "schedule": schedule.describe()},
        user_id=None,
        items=domains,
    )
    log.info("scheduled rescan started", job_id=job.id, companies=len(domains))
    return job.id


def deliver_alerts(db: Database, settings: Settings, now: datetime | None = None) -> Any:
    """Send alert deliveries that are due (first tries and retries), when the alerts module is
    installed; the job runners only decide when this runs."""
    try:
        from hunter.alerts.delivery import SmtpConfig, deliver_due
    except ImportError:
        return None
    smtp = None
    if settings.smtp_host:
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            ssl=settings.smtp_ssl,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() or None,
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout,
        )
    return asyncio.run(
        deliver_due(
            db,
            now=now or utcnow(),
            smtp=smtp,
            http_timeout=settings.alerts_http_timeout,
            max_attempts=settings.alerts_max_attempts,
        )
    )


# --- reading ------------------------------------------------------------------------------------


def job_outcome(state: str, failed: int) -> str | None:
    if state == JobState.DONE.value:
        return "partial" if failed else "complete"
    if state in (JobState.FAILED.value, JobState.CANCELLED.value):
        return state
    return None


def progress_percent(state: str, total: int, done: int, failed: int, skipped: int) -> float:
    if state in (JobState.DONE.value, JobState.FAILED.value, JobState.CANCELLED.value):
        return 100.0
    if total <= 0:
        return 0.0
    return round(min(100.0, 100.0 * (done + failed + skipped) / total), 1)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_to_dict(job: Job, username: str | None = None) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "outcome": job_outcome(job.state, job.failed),
        "params": {k: v for k, v in (job.params or {}).items() if k != "path"},
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "skipped": job.skipped,
        "progress": progress_percent(job.state, job.total, job.done, job.failed, job.skipped),
        "cancel_requested": job.cancel_requested,
        "created_by": job.created_by,
        "created_by_username": username,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "result": job.result or {},
    }


def get_job(db: Database, job_id: int) -> dict[str, Any]:
    """One job as :func:`job_to_dict` shows it (with who started it)."""
    with db.session() as session:
        row = session.execute(
            select(Job, User.username).outerjoin(User, User.id == Job.created_by).where(Job.id == job_id)
        ).first()
        if row is None:
            raise JobNotFound(f"job {job_id} does not exist")
        return job_to_dict(*row)


def job_progress(db: Database, job_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """The job with its counters, chunk summary, error samples, rate and estimate."""
    now = now or utcnow()
    with db.session() as session:
        row = session.execute(
            select(Job, User.username).outerjoin(User, User.id == Job.created_by).where(Job.id == job_id)
        ).first()
        if row is None:
            raise JobNotFound(f"job {job_id} does not exist")
        job, username = row
        chunk_rows = session.execute(
            select(JobChunk.state, func.count(), func.coalesce(func.sum(JobChunk.attempts), 0))
            .where(JobChunk.job_id == job_id)
            .group_by(JobChunk.state)
        ).all()
        running = session.execute(
            select(JobChunk.seq, JobChunk.worker, JobChunk.attempts, JobChunk.started_at)
            .where(JobChunk.job_id == job_id, JobChunk.state == ChunkState.RUNNING.value)
            .order_by(JobChunk.seq)
            .limit(50)
        ).all()
    doc = job_to_dict(job, username)
    chunks = {state.value: 0 for state in ChunkState}
    attempts = 0
    for state, count, tries in chunk_rows:
        chunks[state] = count
        attempts += int(tries)
    processed = job.done + job.failed + job.skipped
    elapsed = ((job.finished_at or now) - job.started_at).total_seconds() if job.started_at else 0.0
    rate = processed / elapsed if elapsed > 0 else None
    remaining = max(0, job.total - processed)
    doc.update(
        chunks={**chunks, "total": sum(chunks.values()), "attempts": attempts},
        running=[
            {"seq": seq, "worker": worker, "attempts": tries, "lease_renewed_at": _iso(at)}
            for seq, worker, tries, at in running
        ],
        errors=list(job.errors or []),
        elapsed_seconds=round(elapsed, 1),
        rate_per_second=round(rate, 2) if rate else None,
        eta_seconds=round(remaining / rate) if rate and job.state in ACTIVE_JOB_STATES else None,
    )
    return doc


def list_jobs(
    db: Database,
    *,
    state: Sequence[str] | str | None = None,
    kind: Sequence[str] | str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Jobs, newest first, with the total matching the filters."""
    states = [state] if isinstance(state, str) else list(state or [])
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    query = select(Job, User.username).outerjoin(User, User.id == Job.created_by)
    count = select(func.count()).select_from(Job)
    if states:
        query, count = query.where(Job.state.in_(states)), count.where(Job.state.in_(states))
    if kinds:
        query, count = query.where(Job.kind.in_(kinds)), count.where(Job.kind.in_(kinds))
    with db.session() as session:
        total = session.scalar(count) or 0
        rows = session.execute(query.order_by(Job.id.desc()).limit(limit).offset(offset)).all()
        return total, [job_to_dict(job, username) for job, username in rows]


def wait_for_job(db: Database, job_id: int, timeout: float, interval: float = 0.2) -> str:
    """Block until the job ends (for the CLI and tests); returns its state."""
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as session:
            state = session.scalar(select(Job.state).where(Job.id == job_id))
        if state is None:
            raise JobNotFound(f"job {job_id} does not exist")
        if state not in ACTIVE_JOB_STATES or time.monotonic() >= deadline:
            return state
        time.sleep(interval)


__all__ = [
    "ACTIVE_JOB_STATES",
    "MAX_ERROR_SAMPLES",
    "ChunkOutcome",
    "ChunkState",
    "Claim",
    "JobKind",
    "JobNotFound",
    "JobState",
    "PermanentChunkError",
    "StopSignal",
    "SweepReport",
    "cancel_job",
    "claim_chunk",
    "claimable_chunks",
    "complete_chunk",
    "create_job",
    "deliver_alerts",
    "dispatch_job",
    "due_for_rescan",
    "final_job_state",
    "finish_job_if_complete",
    "get_job",
    "job_progress",
    "list_jobs",
    "reevaluation_ids",
    "run_chunk",
    "schedule_rescans",
    "select_domains",
    "submit_import",
    "submit_job",
    "sweep",
]
