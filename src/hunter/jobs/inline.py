"""The inline runner: chunks run inside ``hunter serve`` with no other service.

A background asyncio task polls the database for pending chunks (and running ones whose lease
ran out, which is how chunks of a killed server are resumed) and runs up to
``HUNTER_JOB_INLINE_CONCURRENCY`` of them at once. Each chunk runs :func:`run_chunk` — the same
function Celery workers call — in a worker thread with its own event loop, so a scan's CPU work
never stalls the web server's loop. It also does what ``hunter beat`` does for Celery: sweeps
stale chunks, starts scheduled rescans and retries alert deliveries.

Wiring (FastAPI lifespan)::

    runner = start_inline_runner(app.state.db, settings)   # inside the running loop
    yield
    await runner.stop()                                    # before the database is disposed

``stop()`` hands running chunks back (pending) so the next start resumes them at once.
Cancelling the task instead behaves like a crash: chunks stay ``running`` until their lease
runs out, then any runner takes them over and skips what they had finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
import uuid
import weakref
from typing import Any

from hunter.config import Settings
from hunter.jobs import service
from hunter.jobs.schedule import is_periodic_due, parse_schedule
from hunter.logs import get_logger
from hunter.store.db import Database

log = get_logger(__name__)

_runners: weakref.WeakSet[InlineRunner] = weakref.WeakSet()
_runners_lock = threading.Lock()


def wake_inline_runners() -> None:
    """Tell runners in this process that a job was queued (they would find it on the next poll)."""
    with _runners_lock:
        runners = list(_runners)
    for runner in runners:
        runner.wake()


class InlineRunner:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        worker: str | None = None,
        concurrency: int | None = None,
        poll_interval: float | None = None,
        schedules: bool = True,
    ) -> None:
        self.db = db
        self.settings = settings
        self.worker = worker or f"inline@{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self.concurrency = concurrency or settings.job_inline_concurrency
        self.poll_interval = poll_interval or settings.job_poll_interval
        self.schedules = schedules
        self.signal = service.StopSignal()
        self.outcomes: list[service.ChunkOutcome] = []
        self._inflight: dict[asyncio.Task[service.ChunkOutcome], int] = {}
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last: dict[str, float] = {}

    def wake(self) -> None:
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        with _runners_lock:
            _runners.add(self)
        log.info("inline job runner started", worker=self.worker, concurrency=self.concurrency)
        try:
            while True:
                await self._periodic()
                await self._fill()
                self._wake.clear()
                waiters: set[asyncio.Future[Any]] = set(self._inflight)
                wake = asyncio.ensure_future(self._wake.wait())
                waiters.add(wake)
                try:
                    await asyncio.wait(
                        waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    wake.cancel()
                self._collect()
        except asyncio.CancelledError:
            # Unless stop() asked for a release, a cancelled runner acts like a dead process.
            if not self.signal.is_set():
                self.signal.abandon()
            raise
        finally:
            with _runners_lock:
                _runners.discard(self)

    async def _fill(self) -> None:
        free = self.concurrency - len(self._inflight)
        if free <= 0 or self.signal.is_set():
            return
        busy = set(self._inflight.values())
        candidates = await asyncio.to_thread(
            service.claimable_chunks, self.db, self.settings, limit=free + len(busy)
        )
        for chunk_id in candidates:
            if len(self._inflight) >= self.concurrency:
                break
            if chunk_id in busy:
                continue
            task = asyncio.create_task(
                asyncio.to_thread(
                    service.run_chunk, self.db, self.settings, chunk_id, self.worker, stop=self.signal
                ),
                name=f"hunter-chunk-{chunk_id}",
            )
            self._inflight[task] = chunk_id

    def _collect(self) -> None:
        for task in [t for t in self._inflight if t.done()]:
            chunk_id = self._inflight.pop(task)
            if task.cancelled():
                continue
            error = task.exception()
            if error is not None:  # the database failed under the chunk; its lease recovers it
                log.error("chunk crashed", chunk_id=chunk_id, error=repr(error))
                continue
            outcome = task.result()
            self.outcomes.append(outcome)
            if outcome.state != "not_claimed":
                log.info("chunk", **outcome.to_dict())

    async def _periodic(self) -> None:
        now = time.monotonic()
        duties: list[tuple[str, float, Any]] = [("sweep", self.settings.job_sweep_interval, service.sweep)]
        if self.schedules:
            if parse_schedule(self.settings.rescan_schedule).enabled:
                duties.append(("rescans", self.settings.rescan_interval, service.schedule_rescans))
            duties.append(("alerts", self.settings.alerts_delivery_interval, service.deliver_alerts))
        for name, interval, duty in duties:
            if not is_periodic_due(self._last.get(name), interval, now):
                continue
            self._last[name] = now
            try:
                await asyncio.to_thread(duty, self.db, self.settings)
            except Exception as exc:  # a duty failing must not stop the runner
                log.error("periodic job duty failed", duty=name, error=repr(exc))

    async def drain(self, grace_seconds: float) -> None:
        """Wait for running chunks to return (they stop between items once signalled)."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=grace_seconds)
            self._collect()


class InlineRunnerHandle:
    """What ``start_inline_runner`` returns: the runner and its asyncio task."""

    def __init__(self, runner: InlineRunner, task: asyncio.Task[None]) -> None:
        self.runner = runner
        self.task = task

    @property
    def worker(self) -> str:
        return self.runner.worker

    def wake(self) -> None:
        self.runner.wake()

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Graceful: running chunks stop between items and go back to pending."""
        self.runner.signal.release()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.runner.drain(grace_seconds)

    async def abandon(self, grace_seconds: float = 30.0) -> None:
        """Like a crash: stop at once and leave running chunks to their leases.

        The chunk threads write nothing more; waiting for them only keeps threads from leaking.
        """
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.runner.drain(grace_seconds)


def start_inline_runner(db: Database, settings: Settings, **options: Any) -> InlineRunnerHandle:
    """Start the runner as a task on the running event loop (call it from the app's lifespan)."""
    runner = InlineRunner(db, settings, **options)
    return InlineRunnerHandle(runner, asyncio.create_task(runner.run(), name="hunter-inline-runner"))
