"""The Celery side of recovery against a real Redis: publishing, and the sweeper republishing.

Runs the tasks in-process (no worker): the sweep task requeues a stale chunk and publishes it,
and publishes pending chunks whose messages were lost, but only when the queue is empty.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from pydantic import SecretStr
from sqlalchemy import select

from hunter.config import Settings
from hunter.jobs import celery_app
from hunter.jobs.service import JobKind, claim_chunk, create_job, submit_job
from hunter.store.db import Database
from hunter.store.models import JobChunk
from hunter.store.types import utcnow

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_BASE = os.environ.get("HUNTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_DB = 14


@pytest.fixture
def broker() -> Iterator[str]:
    url = urlunsplit(urlsplit(REDIS_BASE)._replace(path=f"/{REDIS_DB}"))
    try:
        conn = redis.Redis.from_url(url, socket_connect_timeout=2)
        conn.flushdb()
    except Exception as exc:
        message = f"Redis at {url} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: this test must run, not skip)", pytrace=False)
        pytest.skip(message)
    yield url
    conn.flushdb()
    conn.close()


def test_publish_and_sweep(broker: str, sqlite_db: Database, tmp_path: Path) -> None:
    settings = Settings(
        database_url=sqlite_db.url,
        broker_url=SecretStr(broker),
        job_runner="celery",
        data_dir=tmp_path,
        job_lease_seconds=30,
        job_sweep_interval=0.01,
    )
    app = celery_app.make_celery(settings)
    sweep = app.tasks[celery_app.TASK_SWEEP]
    try:
        # The API path: a job submitted in celery mode is published at once, one task per chunk.
        job = submit_job(
            sqlite_db, settings, JobKind.BULK_SCAN, {}, user_id=None, items=["a.com", "b.com"], chunk_size=1
        )
        assert celery_app.queue_length(app) == 2
        # Messages still queued: the sweeper leaves pending chunks alone.
        assert sweep()["published"] == 0

        # A broker that lost its messages (flushed): pending chunks are published again.
        redis.Redis.from_url(broker).flushdb()
        assert celery_app.queue_length(app) == 0
        assert sweep()["published"] == 2
        assert celery_app.queue_length(app) == 2

        # A worker that died mid-chunk: its stale chunk goes back to pending and is published.
        other = create_job(sqlite_db, JobKind.REEVALUATE, {}, user_id=None, items=[1], chunk_size=1)
        with sqlite_db.session() as session:
            chunk_id = session.scalar(select(JobChunk.id).where(JobChunk.job_id == other.id))
        assert chunk_id is not None
        long_ago = utcnow() - timedelta(seconds=60)
        assert claim_chunk(sqlite_db, chunk_id, "dead@host/1", now=long_ago, lease_seconds=30, max_attempts=3)
        report = sweep()
        assert report["requeued"] == [chunk_id]
        assert report["published"] == 1
        assert celery_app.queue_length(app) == 3
        assert job.state == "queued"
    finally:
        for db in celery_app._databases.values():
            db.dispose()
        celery_app._databases.clear()
