"""The Celery runner: one task per chunk, acknowledged late; ``hunter beat`` runs the schedules.

``hunter worker`` starts ``app`` below (``celery -A hunter.jobs.celery_app worker`` works too).
The broker is ``HUNTER_BROKER_URL`` (Redis or RabbitMQ), else ``HUNTER_REDIS_URL``, else local
Redis. Results are not stored: progress lives in the database, where both runners write it.

Delivery guarantees, and why a chunk still runs once:

* ``task_acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged after it ran, so a
  worker that dies mid-chunk does not lose it; Redis redelivers it once the visibility timeout
  passes, RabbitMQ when the connection drops.
* The sweeper (a beat task) does not wait for that: a chunk whose lease ran out goes back to
  pending and is published again, so recovery takes about one lease.
* Any duplicate delivery is harmless: :func:`hunter.jobs.service.run_chunk` claims the chunk with
  a guarded UPDATE first, and a scan chunk skips domains this job already scanned.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from celery import Celery, Task
from kombu import Queue

from hunter.config import Settings, get_settings
from hunter.jobs.schedule import parse_schedule
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.types import utcnow

log = get_logger(__name__)

QUEUE = "hunter"
PERIODIC_QUEUE = "hunter.periodic"
"""Sweeps and schedules have their own queue, so they never wait behind a long backlog of chunks."""
TASK_RUN_CHUNK = "hunter.jobs.run_chunk"
TASK_SWEEP = "hunter.jobs.sweep"
TASK_SCHEDULE_RESCANS = "hunter.jobs.schedule_rescans"
TASK_DELIVER_ALERTS = "hunter.jobs.deliver_alerts"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
RETRY_BACKOFF_MAX = 60


def broker_url(settings: Settings) -> str:
    if settings.broker_url is not None and settings.broker_url.get_secret_value():
        return settings.broker_url.get_secret_value()
    return settings.redis_url or DEFAULT_BROKER


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Periodic tasks. Each expires after one period, so a backlog never piles up while no
    worker runs."""

    def every(task: str, seconds: float) -> dict[str, Any]:
        return {"task": task, "schedule": seconds, "options": {"expires": seconds}}

    schedule = {
        "sweep-stale-chunks": every(TASK_SWEEP, settings.job_sweep_interval),
        "deliver-alerts": every(TASK_DELIVER_ALERTS, settings.alerts_delivery_interval),
    }
    if parse_schedule(settings.rescan_schedule).enabled:
        schedule["schedule-rescans"] = every(TASK_SCHEDULE_RESCANS, settings.rescan_interval)
    return schedule


def make_celery(settings: Settings) -> Celery:
    app = Celery("hunter", set_as_current=False)
    app.conf.update(
        broker_url=broker_url(settings),
        broker_connection_retry_on_startup=True,
        # Redis: how long a delivered but unacknowledged task waits before it is delivered again.
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout},
        task_default_queue=QUEUE,
        task_queues=(Queue(QUEUE), Queue(PERIODIC_QUEUE)),
        task_routes={
            name: {"queue": PERIODIC_QUEUE}
            for name in (TASK_SWEEP, TASK_SCHEDULE_RESCANS, TASK_DELIVER_ALERTS)
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
        # Hunter logs through structlog to stdout already; Celery would re-log each line as WARNING.
        worker_redirect_stdouts=False,
        beat_schedule=beat_schedule(settings),
    )
    _register_tasks(app, settings)
    return app


# One engine per process: prefork children must not share the parent's connections.
_databases: dict[tuple[int, str], Database] = {}


def worker_database(settings: Settings) -> Database:
    key = (os.getpid(), settings.effective_database_url)
    db = _databases.get(key)
    if db is None:
        db = _databases[key] = Database(settings.effective_database_url)
    return db


def _register_tasks(app: Celery, settings: Settings) -> None:
    # shared=False: each app binds its tasks to its own settings (a test or API process may
    # build an app beside the module's one).
    from hunter.jobs import service

    @app.task(name=TASK_RUN_CHUNK, bind=True, shared=False)
    def run_chunk_task(task: Task, chunk_id: int) -> dict[str, Any]:
        worker = f"{task.request.hostname or 'celery'}/{os.getpid()}"
        db = worker_database(settings)
        outcome = service.run_chunk(db, settings, chunk_id, worker)
        if outcome.state == "retry":
            countdown = min(RETRY_BACKOFF_MAX, 2**outcome.attempts)
            task.apply_async((chunk_id,), countdown=countdown)
        for job_id in outcome.created_jobs:
            service.dispatch_job(db, settings, job_id)
        log.info("chunk", **outcome.to_dict())
        return outcome.to_dict()

    @app.task(name=TASK_SWEEP, shared=False)
    def sweep_task() -> dict[str, Any]:
        db = worker_database(settings)
        report = service.sweep(db, settings)
        republish = list(report.requeued)
        # Pending chunks with no message left in the queue were lost (a flushed broker, a
        # publish that failed): publish them again. With messages still queued, wait.
        if queue_length(app) == 0:
            grace = utcnow() - _seconds(settings.job_sweep_interval)
            republish += service.pending_chunk_ids(db, created_before=grace)
        published = publish_chunks(settings, list(dict.fromkeys(republish)), app=app)
        if published or report.failed or report.finished_jobs:
            log.info("sweep", published=published, **report.to_dict())
        return {**report.to_dict(), "published": published}

    @app.task(name=TASK_SCHEDULE_RESCANS, shared=False)
    def schedule_rescans_task() -> int | None:
        return service.schedule_rescans(worker_database(settings), settings)

    @app.task(name=TASK_DELIVER_ALERTS, shared=False)
    def deliver_alerts_task() -> None:
        service.deliver_alerts(worker_database(settings), settings)


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)


def queue_length(app: Celery, queue: str = QUEUE) -> int | None:
    """Messages waiting in the queue (not the ones workers hold); None when the broker is down."""
    try:
        with app.connection_for_write() as conn:
            channel = conn.channel()
            try:
                return int(channel.queue_declare(queue=queue, passive=True).message_count)
            except Exception:  # a queue never declared, or emptied and dropped (Redis)
                return 0
            finally:
                channel.close()
    except Exception as exc:
        log.warning("broker unreachable", error=str(exc))
        return None


_apps: dict[str, Celery] = {}


def app_for(settings: Settings) -> Celery:
    """A publishing app for these settings (the API process, the CLI, tests)."""
    url = broker_url(settings)
    if url not in _apps:
        _apps[url] = make_celery(settings)
    return _apps[url]


def publish_chunks(settings: Settings, chunk_ids: Sequence[int], *, app: Celery | None = None) -> int:
    """Send one run-chunk task per chunk id over one connection."""
    if not chunk_ids:
        return 0
    app = app or app_for(settings)
    with app.producer_or_acquire() as producer:
        for chunk_id in chunk_ids:
            app.send_task(TASK_RUN_CHUNK, args=(chunk_id,), queue=QUEUE, producer=producer)
    return len(chunk_ids)


app = make_celery(get_settings())
