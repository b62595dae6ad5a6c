"""The inline runner against the sandbox DNS server, on SQLite and PostgreSQL.

Killing a runner half-way (its task cancelled, its chunks left ``running`` as a dead process
leaves them) and starting a new one must finish the job with every domain scanned exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from jobs_support import duplicate_scans, lead, scanned_companies
from sqlalchemy import func, select

from hunter.config import Settings
from hunter.jobs.inline import start_inline_runner
from hunter.jobs.service import JobKind, cancel_job, create_job, submit_job
from hunter.store.db import Database
from hunter.store.models import Company, Job, JobChunk, Scan

TIMEOUT = 120.0


def _job(db: Database, job_id: int) -> Job:
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _chunks(db: Database, job_id: int) -> list[JobChunk]:
    with db.session() as session:
        return list(session.scalars(select(JobChunk).where(JobChunk.job_id == job_id).order_by(JobChunk.seq)))


def _scans_in_chunk(db: Database, job_id: int, chunk: JobChunk) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Scan)
                .join(Company, Company.id == Scan.company_id)
                .where(Scan.job_id == job_id, Company.domain.in_(chunk.payload["items"]))
            )
            or 0
        )


async def _until(what: str, check: Callable[[], Any], limit: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {limit:.0f}s waiting for {what}")


def _assert_scanned_once(db: Database, job_id: int, expected: int) -> Job:
    job = _job(db, job_id)
    assert duplicate_scans(db, job_id) == []
    assert scanned_companies(db, job_id) == expected
    assert (job.state, job.done, job.failed, job.skipped, job.total) == ("done", expected, 0, 0, expected)
    return job


async def test_inline_runner_runs_a_bulk_scan(
    db: Database, make_settings: Callable[..., Settings], world_domains: list[str]
) -> None:
    settings = make_settings(job_inline_concurrency=3)
    runner = start_inline_runner(db, settings, schedules=False)
    try:
        job = await asyncio.to_thread(
            submit_job, db, settings, JobKind.BULK_SCAN, {}, user_id=None, items=world_domains, chunk_size=100
        )
        await _until("the job to end", lambda: _job(db, job.id).state in ("done", "failed", "cancelled"))
    finally:
        await runner.stop()
    row = _assert_scanned_once(db, job.id, len(world_domains))
    assert row.result["complete"] + row.result["incomplete"] == len(world_domains)
    assert {c.state for c in _chunks(db, job.id)} == {"done"}
    assert {o.state for o in runner.runner.outcomes} == {"done"}


async def test_a_killed_runner_is_resumed_by_the_next_one(
    db: Database, make_settings: Callable[..., Settings], world_domains: list[str]
) -> None:
    # A short lease, so the dead runner's chunk is taken over quickly.
    settings = make_settings(job_lease_seconds=2.0, job_inline_concurrency=1)
    # 250-domain chunks store results in batches of 200, so the killed chunk is half written.
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=world_domains, chunk_size=250)
    first = start_inline_runner(db, settings, schedules=False, worker="inline@test/first")

    def half_written() -> JobChunk | None:
        chunks = _chunks(db, job.id)
        if not any(c.state == "done" for c in chunks):
            return None
        running = [c for c in chunks if c.state == "running"]
        return next((c for c in running if _scans_in_chunk(db, job.id, c) > 0), None)

    victim = await _until("a chunk done and the next one half written", half_written)
    await first.abandon()  # the process "dies": no release, no further writes

    left = {c.seq: c for c in _chunks(db, job.id)}[victim.seq]
    assert (left.state, left.worker) == ("running", "inline@test/first")
    stored_before = _scans_in_chunk(db, job.id, left)
    assert stored_before > 0
    assert _job(db, job.id).state == "running"

    second = start_inline_runner(db, settings, schedules=False, worker="inline@test/second")
    try:
        await _until("the job to end", lambda: _job(db, job.id).state != "running")
    finally:
        await second.stop()

    _assert_scanned_once(db, job.id, len(world_domains))
    resumed = {c.seq: c for c in _chunks(db, job.id)}[victim.seq]
    assert (resumed.state, resumed.worker, resumed.attempts) == ("done", "inline@test/second", 2)
    taken_over = [o for o in second.runner.outcomes if o.chunk_id == victim.id]
    assert taken_over[0].done == len(left.payload["items"])  # counted whole: both tries' work


async def test_a_stopped_runner_hands_its_chunks_back(
    db: Database, make_settings: Callable[..., Settings], world_domains: list[str]
) -> None:
    settings = make_settings(job_inline_concurrency=2)
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=world_domains, chunk_size=150)
    runner = start_inline_runner(db, settings, schedules=False)
    await _until("chunks running", lambda: any(c.state == "running" for c in _chunks(db, job.id)))
    await runner.stop()
    chunks = _chunks(db, job.id)
    assert "running" not in {c.state for c in chunks}
    # A release is not a failed try: the chunk starts its next run as a first attempt.
    assert all(c.attempts == (1 if c.state == "done" else 0) for c in chunks)

    again = start_inline_runner(db, settings, schedules=False)
    try:
        await _until("the job to end", lambda: _job(db, job.id).state != "running")
    finally:
        await again.stop()
    _assert_scanned_once(db, job.id, len(world_domains))


async def test_cancel_stops_a_running_job_between_domains(
    db: Database, make_settings: Callable[..., Settings], world_domains: list[str]
) -> None:
    settings = make_settings(job_inline_concurrency=1, job_lease_seconds=2.0)
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=world_domains, chunk_size=300)
    runner = start_inline_runner(db, settings, schedules=False)
    try:
        await _until("the first chunk running", lambda: _chunks(db, job.id)[0].state == "running")
        await asyncio.to_thread(cancel_job, db, job.id)
        await _until("the job to end", lambda: _job(db, job.id).state != "running", limit=30)
    finally:
        await runner.stop()
    row = _job(db, job.id)
    assert row.state == "cancelled"
    assert row.done + row.skipped == row.total == len(world_domains)
    assert row.skipped >= 300  # the second chunk never ran
    assert scanned_companies(db, job.id) == row.done
    assert [c.state for c in _chunks(db, job.id)] == ["cancelled", "cancelled"]


@pytest.mark.parametrize("kind", [JobKind.REEVALUATE])
async def test_reevaluation_job_inline(
    db: Database, make_settings: Callable[..., Settings], world_domains: list[str], kind: JobKind
) -> None:
    from hunter.jobs.service import reevaluation_ids

    settings = make_settings()
    runner = start_inline_runner(db, settings, schedules=False)
    try:
        scan = await asyncio.to_thread(
            submit_job, db, settings, JobKind.BULK_SCAN, {}, user_id=None, items=world_domains[:50]
        )
        await _until("the scan to end", lambda: _job(db, scan.id).state == "done")
        ids = await asyncio.to_thread(reevaluation_ids, db)
        job = await asyncio.to_thread(
            submit_job, db, settings, kind, {}, user_id=None, items=ids, chunk_size=20
        )
        await _until("the re-evaluation to end", lambda: _job(db, job.id).state == "done")
    finally:
        await runner.stop()
    row = _job(db, job.id)
    assert (row.done, row.total, len(_chunks(db, job.id))) == (50, 50, 3)


async def test_the_runner_starts_scheduled_rescans(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    # Leads outside the sandbox world: their rescans end quickly with NXDOMAIN evidence.
    for n in range(3):
        lead(db, f"old{n}.com.tr", "P1", days_ago=30)
    settings = make_settings(rescan_schedule="P1=7d", rescan_interval=3600)
    runner = start_inline_runner(db, settings, schedules=True)

    def rescan_done() -> Job | None:
        with db.session() as session:
            job = session.scalars(select(Job).where(Job.kind == "rescan")).first()
        return job if job is not None and job.state == "done" else None

    try:
        job = await _until("a scheduled rescan to finish", rescan_done, limit=60)
    finally:
        await runner.stop()
    assert (job.total, job.done, job.params["scheduled"]) == (3, 3, True)
