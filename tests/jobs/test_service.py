"""Job records on SQLite and PostgreSQL: chunking, claims, counters, cancel, errors, recovery."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from jobs_support import duplicate_scans, lead, scanned_companies
from sqlalchemy import select

from hunter.config import Settings
from hunter.imports import sample_path
from hunter.jobs import service
from hunter.jobs.service import (
    MAX_ERROR_SAMPLES,
    ChunkState,
    JobKind,
    JobNotFound,
    JobState,
    WorkResult,
    cancel_job,
    claim_chunk,
    complete_chunk,
    create_job,
    final_job_state,
    job_progress,
    list_jobs,
    run_chunk,
    sweep,
)
from hunter.store.db import Database
from hunter.store.models import AuditEntry, Job, JobChunk
from hunter.store.types import utcnow

LEASE = 30.0


def _job(db: Database, job_id: int) -> Job:
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _chunks(db: Database, job_id: int) -> list[JobChunk]:
    with db.session() as session:
        return list(session.scalars(select(JobChunk).where(JobChunk.job_id == job_id).order_by(JobChunk.seq)))


def _claim(db: Database, chunk_id: int, worker: str = "w1", **kw: Any) -> service.Claim | None:
    kw.setdefault("now", utcnow())
    return claim_chunk(db, chunk_id, worker, lease_seconds=LEASE, max_attempts=3, **kw)


def _settled(job: Job) -> bool:
    return job.done + job.failed + job.skipped == job.total


# --- records and chunking ------------------------------------------------------------------------


def test_items_are_deduplicated_and_split_in_order(db: Database) -> None:
    items = [f"d{i}.com.tr" for i in range(10)] + ["d3.com.tr"]
    job = create_job(db, JobKind.BULK_SCAN, {"source": "test"}, user_id=None, items=items, chunk_size=3)
    assert (job.state, job.total, job.done) == ("queued", 10, 0)
    chunks = _chunks(db, job.id)
    assert [c.seq for c in chunks] == [0, 1, 2, 3]
    assert [c.payload["items"] for c in chunks] == [
        ["d0.com.tr", "d1.com.tr", "d2.com.tr"],
        ["d3.com.tr", "d4.com.tr", "d5.com.tr"],
        ["d6.com.tr", "d7.com.tr", "d8.com.tr"],
        ["d9.com.tr"],
    ]
    assert all(c.state == "pending" and c.attempts == 0 for c in chunks)
    with db.session() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "job.create")).one()
        assert audit.target == f"job:{job.id}"


def test_a_job_without_items_is_done_at_once_and_an_import_is_one_chunk(db: Database) -> None:
    empty = create_job(db, JobKind.RESCAN, {}, user_id=None, items=[], chunk_size=10)
    assert empty.state == "done"
    assert _chunks(db, empty.id) == []
    single = create_job(db, JobKind.IMPORT, {"path": "x.csv"}, user_id=None, items=None, chunk_size=10)
    assert single.total == 1
    assert [c.payload for c in _chunks(db, single.id)] == [{"items": []}]
    with pytest.raises(ValueError, match="unknown job kind"):
        create_job(db, "mine-bitcoin", {}, user_id=None, items=["a"], chunk_size=1)


# --- claims --------------------------------------------------------------------------------------


def test_two_claimers_one_wins(db: Database) -> None:
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=["a.com"], chunk_size=1)
    chunk_id = _chunks(db, job.id)[0].id
    first = _claim(db, chunk_id, "w1")
    assert first is not None
    assert first.attempts == 1
    assert _claim(db, chunk_id, "w2") is None
    assert _job(db, job.id).state == "running"


def test_concurrent_claimers_one_wins(db: Database) -> None:
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=["a.com"], chunk_size=1)
    chunk_id = _chunks(db, job.id)[0].id
    barrier = threading.Barrier(8)
    wins: list[service.Claim] = []

    def claimer(n: int) -> None:
        barrier.wait()
        claim = _claim(db, chunk_id, f"w{n}")
        if claim is not None:
            wins.append(claim)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    chunk = _chunks(db, job.id)[0]
    assert (chunk.state, chunk.worker, chunk.attempts) == ("running", wins[0].worker, 1)


def test_a_stale_lease_is_taken_over_and_the_old_worker_cannot_finish(db: Database) -> None:
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=["a.com", "b.com"], chunk_size=2)
    chunk_id = _chunks(db, job.id)[0].id
    old = _claim(db, chunk_id, "dead", now=utcnow() - timedelta(seconds=LEASE + 1))
    assert old is not None
    new = _claim(db, chunk_id, "alive")
    assert new is not None
    assert new.attempts == 2
    held, _cancel = service.renew_lease(db, old, utcnow())
    assert not held
    assert complete_chunk(db, old, ChunkState.DONE, WorkResult(done=2)) is None
    assert complete_chunk(db, new, ChunkState.DONE, WorkResult(done=2)) == []
    job_row = _job(db, job.id)
    assert (job_row.state, job_row.done) == ("done", 2)


def test_no_claim_after_the_last_attempt(db: Database) -> None:
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=["a.com"], chunk_size=1)
    chunk_id = _chunks(db, job.id)[0].id
    for n in range(3):  # each claimer dies; the next comes once the lease ran out
        at = utcnow() - timedelta(seconds=(3 - n) * (LEASE + 1))
        assert _claim(db, chunk_id, f"w{n}", now=at) is not None
    assert _claim(db, chunk_id, "w9") is None


# --- counters ------------------------------------------------------------------------------------


def test_completion_counts_once(db: Database) -> None:
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=["a", "b", "c"], chunk_size=2)
    first, second = (c.id for c in _chunks(db, job.id))
    claim = _claim(db, first)
    assert claim is not None
    assert complete_chunk(db, claim, ChunkState.DONE, WorkResult(done=2)) == []
    assert complete_chunk(db, claim, ChunkState.DONE, WorkResult(done=2)) is None  # a replay
    row = _job(db, job.id)
    assert (row.state, row.done) == ("running", 2)
    claim = _claim(db, second)
    assert claim is not None
    complete_chunk(db, claim, ChunkState.DONE, WorkResult(done=1, result={"complete": 1}))
    row = _job(db, job.id)
    assert (row.state, row.done, row.failed, row.skipped) == ("done", 3, 0, 0)
    assert row.finished_at is not None
    assert row.result == {"complete": 1}


def test_concurrent_completions_add_up_and_close_the_job_once(db: Database) -> None:
    items = [f"d{i}" for i in range(60)]
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=items, chunk_size=5)
    claims = [_claim(db, c.id, f"w{c.seq}") for c in _chunks(db, job.id)]
    barrier = threading.Barrier(len(claims))
    errors: list[BaseException] = []

    def finish(claim: service.Claim | None) -> None:
        assert claim is not None
        barrier.wait()
        try:
            work = WorkResult(done=4, failed=1, result={"complete": 4})
            complete_chunk(db, claim, ChunkState.DONE, work)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(c,)) for c in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    row = _job(db, job.id)
    assert (row.state, row.done, row.failed, row.total) == ("done", 48, 12, 60)
    assert row.result == {"complete": 48}
    assert service.job_outcome(row.state, row.failed) == "partial"


@pytest.mark.parametrize(
    ("cancel", "states", "done", "failed", "expected"),
    [
        (False, {"done": 3}, 30, 0, JobState.DONE),
        (False, {"done": 2, "failed": 1}, 20, 10, JobState.DONE),  # partial
        (False, {"failed": 3}, 5, 25, JobState.DONE),  # failed chunks that scanned some
        (False, {"failed": 3}, 0, 30, JobState.FAILED),
        (False, {"done": 3}, 0, 30, JobState.FAILED),  # nothing succeeded
        (False, {"done": 1}, 0, 0, JobState.DONE),  # e.g. an import whose rows were all rejected
        (True, {"done": 2, "cancelled": 1}, 20, 0, JobState.CANCELLED),
        (True, {"done": 3}, 30, 0, JobState.CANCELLED),
        (False, {"done": 2, "running": 1}, 20, 0, None),
        (True, {"pending": 1}, 0, 0, None),
        (False, {}, 0, 0, JobState.DONE),
    ],
)
def test_final_job_state(
    cancel: bool, states: dict[str, int], done: int, failed: int, expected: JobState | None
) -> None:
    assert final_job_state(cancel, states, done=done, failed=failed) == expected


# --- errors --------------------------------------------------------------------------------------


def test_error_samples_are_bounded(db: Database) -> None:
    job = create_job(
        db, JobKind.BULK_SCAN, {}, user_id=None, items=[f"d{i}" for i in range(90)], chunk_size=30
    )
    for chunk in _chunks(db, job.id):
        claim = _claim(db, chunk.id)
        assert claim is not None
        errors = [service._error_entry(f"d{n}", "x" * 2000, chunk.seq) for n in range(30)]
        complete_chunk(db, claim, ChunkState.DONE, WorkResult(done=0, failed=30, errors=errors))
    row = _job(db, job.id)
    assert row.failed == 90
    assert row.state == "failed"
    assert len(row.errors) == MAX_ERROR_SAMPLES
    assert all(len(e["error"]) <= service.MAX_ERROR_TEXT for e in row.errors)
    assert row.errors[0] == {"item": "d0", "error": "x" * service.MAX_ERROR_TEXT, "chunk": 0}


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_stops_pending_chunks_and_counts_them_skipped(db: Database) -> None:
    job = create_job(
        db, JobKind.BULK_SCAN, {}, user_id=None, items=[f"d{i}" for i in range(10)], chunk_size=3
    )
    chunks = _chunks(db, job.id)
    claim = _claim(db, chunks[0].id)
    assert claim is not None
    assert cancel_job(db, job.id, user_id=None)
    states = [c.state for c in _chunks(db, job.id)]
    assert states == ["running", "cancelled", "cancelled", "cancelled"]
    row = _job(db, job.id)
    assert (row.state, row.cancel_requested, row.skipped) == ("running", True, 7)
    # The running chunk hears about it at its next lease renewal and stops between items.
    held, cancel = service.renew_lease(db, claim, utcnow())
    assert held
    assert cancel
    complete_chunk(db, claim, ChunkState.CANCELLED, WorkResult(done=1, skipped=2, stopped=True))
    row = _job(db, job.id)
    assert (row.state, row.done, row.skipped) == ("cancelled", 1, 9)
    assert _settled(row)
    assert not cancel_job(db, job.id)  # already ended
    with pytest.raises(JobNotFound):
        cancel_job(db, 10_000)


def test_cancel_of_a_queued_job_ends_it_at_once(db: Database) -> None:
    job = create_job(db, JobKind.REEVALUATE, {}, user_id=None, items=[1, 2, 3], chunk_size=2)
    assert cancel_job(db, job.id)
    row = _job(db, job.id)
    assert (row.state, row.skipped, row.total) == ("cancelled", 3, 3)
    assert service.progress_percent(row.state, row.total, row.done, row.failed, row.skipped) == 100.0


# --- recovery ------------------------------------------------------------------------------------


def test_sweep_requeues_stale_chunks_and_fails_exhausted_ones(db: Database, make_settings: Any) -> None:
    settings: Settings = make_settings(job_lease_seconds=LEASE, job_max_attempts=2)
    job = create_job(db, JobKind.REEVALUATE, {}, user_id=None, items=[1, 2, 3, 4], chunk_size=2)
    first, second = (c.id for c in _chunks(db, job.id))
    long_ago = utcnow() - timedelta(seconds=2 * LEASE + 10)
    past = utcnow() - timedelta(seconds=LEASE + 5)
    assert claim_chunk(db, first, "dead", now=past, lease_seconds=LEASE, max_attempts=2)
    assert claim_chunk(db, second, "dead", now=long_ago, lease_seconds=LEASE, max_attempts=2)
    assert claim_chunk(db, second, "dead-again", now=past, lease_seconds=LEASE, max_attempts=2)
    report = sweep(db, settings)
    assert report.requeued == [first]
    assert report.failed == [second]
    chunks = _chunks(db, job.id)
    assert [(c.state, c.attempts, c.worker) for c in chunks] == [
        ("pending", 1, None),
        ("failed", 2, "dead-again"),
    ]
    row = _job(db, job.id)
    assert (row.state, row.failed) == ("running", 2)
    assert "stopped answering" in row.errors[0]["error"]
    # A fresh lease is left alone.
    claim = _claim(db, first, "alive")
    assert claim is not None
    assert sweep(db, settings).requeued == []


def test_sweep_closes_a_job_whose_last_chunk_ended_without_closing_it(
    db: Database, make_settings: Any
) -> None:
    job = create_job(db, JobKind.REEVALUATE, {}, user_id=None, items=[1], chunk_size=1)
    with db.session() as session:  # as if the worker died between its two transactions
        chunk = session.scalars(select(JobChunk).where(JobChunk.job_id == job.id)).one()
        chunk.state = "done"
    assert sweep(db, make_settings()).finished_jobs == [job.id]
    assert _job(db, job.id).state == "done"


# --- the chunk function --------------------------------------------------------------------------


def test_run_chunk_scans_and_reevaluates(
    db: Database, make_settings: Callable[..., Settings], world_domains: list[str]
) -> None:
    settings = make_settings()
    domains = world_domains[:40]
    job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=domains, chunk_size=25)
    outcomes = [run_chunk(db, settings, c.id, "w1") for c in _chunks(db, job.id)]
    assert [(o.state, o.done) for o in outcomes] == [("done", 25), ("done", 15)]
    assert run_chunk(db, settings, outcomes[0].chunk_id, "w2").state == "not_claimed"
    row = _job(db, job.id)
    assert (row.state, row.done, row.total) == ("done", 40, 40)
    assert row.result["complete"] + row.result["incomplete"] == 40
    assert scanned_companies(db, job.id) == 40
    assert duplicate_scans(db, job.id) == []

    ids = service.reevaluation_ids(db)
    assert len(ids) == 40
    again = create_job(db, JobKind.REEVALUATE, {}, user_id=None, items=[*ids, 999_999], chunk_size=100)
    (chunk,) = _chunks(db, again.id)
    outcome = run_chunk(db, settings, chunk.id, "w1")
    assert (outcome.state, outcome.done, outcome.skipped) == ("done", 40, 1)
    assert _job(db, again.id).state == "done"


def test_a_failing_chunk_is_retried_then_fails(
    db: Database, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(job_max_attempts=3)
    calls: list[int] = []

    def broken(ctx: service.ChunkContext) -> WorkResult:
        calls.append(ctx.job_id)
        raise RuntimeError("resolver exploded")

    monkeypatch.setitem(service.HANDLERS, JobKind.REEVALUATE.value, broken)
    job = create_job(db, JobKind.REEVALUATE, {}, user_id=None, items=[1, 2], chunk_size=5)
    (chunk,) = _chunks(db, job.id)
    first = run_chunk(db, settings, chunk.id, "w1")
    assert (first.state, first.attempts) == ("retry", 1)
    assert _chunks(db, job.id)[0].state == "pending"
    assert run_chunk(db, settings, chunk.id, "w1").state == "retry"
    last = run_chunk(db, settings, chunk.id, "w1")
    assert (last.state, last.failed) == ("failed", 2)
    assert len(calls) == 3
    row = _job(db, job.id)
    assert (row.state, row.failed) == ("failed", 2)
    assert [e["error"].split(":")[0] for e in row.errors] == [
        "attempt 1 failed, will retry",
        "attempt 2 failed, will retry",
        "RuntimeError",
    ]


def test_import_job_imports_and_starts_one_scan_job(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    job = service.submit_import(db, settings, sample_path("csv"), user_id=None, scan=True)
    (chunk,) = _chunks(db, job.id)
    outcome = run_chunk(db, settings, chunk.id, "w1")
    assert outcome.state == "done"
    assert outcome.done == 71
    assert len(outcome.created_jobs) == 1
    row = _job(db, job.id)
    assert row.state == "done"
    assert row.total == row.done + row.skipped
    assert row.skipped == outcome.skipped > 0
    assert row.result["created"] == 71
    assert row.errors  # samples of rejected rows
    scan_job = _job(db, outcome.created_jobs[0])
    assert (scan_job.kind, scan_job.state, scan_job.total) == ("bulk_scan", "queued", 71)
    assert scan_job.params["import_job_id"] == job.id
    # Delivered again, the chunk is not run again and starts no second scan.
    assert run_chunk(db, settings, chunk.id, "w2").state == "not_claimed"
    assert list_jobs(db, kind="bulk_scan")[0] == 1


def test_a_missing_import_file_fails_without_retries(db: Database, make_settings: Any, tmp_path: Any) -> None:
    settings = make_settings()
    job = service.submit_import(db, settings, tmp_path / "gone.csv", user_id=None)
    (chunk,) = _chunks(db, job.id)
    outcome = run_chunk(db, settings, chunk.id, "w1")
    assert (outcome.state, outcome.attempts) == ("failed", 1)
    row = _job(db, job.id)
    assert (row.state, row.failed, row.total) == ("failed", 1, 1)
    assert "missing" in row.errors[0]["error"]


def test_progress_and_listing(db: Database) -> None:
    first = create_job(
        db, JobKind.BULK_SCAN, {"source": "api"}, user_id=None, items=["a", "b", "c", "d"], chunk_size=2
    )
    second = create_job(db, JobKind.REEVALUATE, {}, user_id=None, items=[1], chunk_size=2)
    claim = _claim(db, _chunks(db, first.id)[0].id)
    assert claim is not None
    complete_chunk(db, claim, ChunkState.DONE, WorkResult(done=2))
    doc = job_progress(db, first.id)
    assert doc["progress"] == 50.0
    assert doc["chunks"] == {
        "pending": 1,
        "running": 0,
        "done": 1,
        "failed": 0,
        "cancelled": 0,
        "total": 2,
        "attempts": 1,
    }
    assert doc["params"] == {"source": "api"}
    assert doc["state"] == "running"
    assert doc["outcome"] is None
    total, items = list_jobs(db)
    assert total == 2
    assert [j["id"] for j in items] == [second.id, first.id]  # newest first
    assert list_jobs(db, state="running")[1][0]["id"] == first.id
    assert list_jobs(db, kind=["reevaluate"], state=["queued"])[0] == 1
    with pytest.raises(JobNotFound):
        job_progress(db, 12345)


# --- schedules -------------------------------------------------------------------------------------


def test_scheduled_rescans_start_one_job_at_a_time(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(rescan_schedule="P1-P3=7d,incomplete=1d")
    lead(db, "fresh.com.tr", "P1", days_ago=1)
    lead(db, "stale.com.tr", "P2", days_ago=8)
    lead(db, "low.com.tr", "P6", days_ago=300)  # P4–P6 are not in this schedule
    lead(db, "retry.com.tr", None, days_ago=2, complete=False)
    job_id = service.schedule_rescans(db, settings)
    assert job_id is not None
    row = _job(db, job_id)
    assert (row.kind, row.total, row.created_by) == ("rescan", 2, None)
    assert row.params == {"scheduled": True, "schedule": "P1=7d,P2=7d,P3=7d,incomplete=1d"}
    assert [i for c in _chunks(db, job_id) for i in c.payload["items"]] == ["stale.com.tr", "retry.com.tr"]
    # The previous scheduled rescan is still queued: no second one on top of it.
    assert service.schedule_rescans(db, settings) is None
    assert service.schedule_rescans(db, make_settings(rescan_schedule="")) is None


def test_alert_deliveries_are_handed_to_the_alerts_module(db: Database, make_settings: Any) -> None:
    report = service.deliver_alerts(db, make_settings())
    assert report is not None  # the module is installed; with nothing due it claims nothing
    assert report.claimed == 0
