"""Distributed bulk scan: two Celery workers and a beat, real Redis and PostgreSQL, sandbox DNS.

A 5,000-domain bulk scan runs on two worker processes (``hunter worker --pool solo``). Once
some chunks are done and worker 1 is half-way through one, worker 1's process group gets
SIGKILL. The beat's sweeper notices the chunk's lease ran out, hands it back and publishes it
again; worker 2 re-runs it, skipping the domains already stored. Every domain must end up
scanned exactly once and the job must be ``done``.

Redis: ``HUNTER_TEST_REDIS_URL`` with database 13 (flushed first). PostgreSQL: a database of
its own on ``HUNTER_TEST_POSTGRES_URL``, dropped afterwards. Under CI=true an unreachable Redis
or PostgreSQL fails the test instead of skipping it.

A smaller run checks the RabbitMQ broker (``HUNTER_TEST_AMQP_URL``) with a prefork worker; it
is skipped when no RabbitMQ answers, since RabbitMQ is not one of the CI services.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from jobs_support import duplicate_scans, scanned_companies
from pydantic import SecretStr
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from hunter.config import Settings
from hunter.jobs.celery_app import PERIODIC_QUEUE, QUEUE, app_for, publish_chunks, queue_length
from hunter.jobs.service import JobKind, create_job, pending_chunk_ids
from hunter.sandbox.dns_server import DnsServer, running_dns_server
from hunter.sandbox.world import build_world, synthetic_domains
from hunter.sandbox.zones import ZoneStore
from hunter.store.db import Database
from hunter.store.models import Company, Job, JobChunk, Scan

pytestmark = pytest.mark.slow

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_BASE = os.environ.get("HUNTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_ADMIN_URL = os.environ.get(
    "HUNTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
AMQP_URL = os.environ.get("HUNTER_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_DB = 13
DOMAINS = 5000
CHUNK_SIZE = 250  # scan results are stored in batches of 200: a killed chunk is half written
LEASE_SECONDS = 5
TIME_LIMIT = 300.0
NOISE = ("hunter.jobs.sweep", "sweep-stale-chunks")


def _unreachable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: this test must run, not skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def redis_broker() -> str:
    import redis

    broker = urlunsplit(urlsplit(REDIS_BASE)._replace(path=f"/{REDIS_DB}"))
    try:
        conn = redis.Redis.from_url(broker, socket_connect_timeout=2)
        conn.flushdb()
        conn.close()
    except Exception as exc:
        _unreachable(f"Redis at {broker}", exc)
    return broker


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"hunter_dist_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        _unreachable("PostgreSQL", exc)
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def big_world() -> Iterator[tuple[list[str], DnsServer]]:
    world = build_world(synthetic_domains(DOMAINS, seed=23), seed=23)
    store = ZoneStore()
    world.populate(store)
    with running_dns_server(store) as server:
        yield [c.domain for c in world.companies], server


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        """The log's last lines, without the once-a-second sweep chatter."""
        try:
            content = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        quiet = [line for line in content if not any(noise in line for noise in NOISE)]
        return "\n".join(quiet[-lines:])

    def kill(self, sig: int = signal.SIGKILL) -> None:
        # Each process leads its own group, so this reaches it and only its children.
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)


class Cluster:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.procs: dict[str, Proc] = {}

    def start(self, name: str, *args: str) -> Proc:
        log = self.workdir / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            [sys.executable, "-m", "hunter.cli", *args],
            env=self.env,
            cwd=self.workdir,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        proc = self.procs[name] = Proc(name, popen, log)
        return proc

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (exit {p.popen.poll()}) ---\n{p.tail()}" for p in self.procs.values())

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.popen.poll() is None:
                os.killpg(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.popen.wait(timeout=5)


def _wait(what: str, check: Callable[[], Any], deadline: float, cluster: Cluster, every: float = 0.05) -> Any:
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        dead = [p.name for p in cluster.procs.values() if p.popen.poll() is not None and p.name != "w1"]
        if dead:
            pytest.fail(f"{', '.join(dead)} exited while waiting for {what}\n{cluster.logs()}", pytrace=False)
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}\n{cluster.logs()}", pytrace=False)


def test_bulk_scan_survives_a_killed_worker(
    redis_broker: str,
    postgres_url: str,
    big_world: tuple[list[str], DnsServer],
    tmp_path: Path,
    record_property: Callable[[str, Any], None],
) -> None:
    started = time.monotonic()
    deadline = started + TIME_LIMIT
    domains, dns_server = big_world
    db = Database(postgres_url)
    db.upgrade()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUNTER_")}
    env.update(
        HUNTER_DATABASE_URL=postgres_url,
        HUNTER_BROKER_URL=redis_broker,
        HUNTER_JOB_RUNNER="celery",
        HUNTER_DNS_NAMESERVERS=dns_server.address,
        HUNTER_RDAP_ENABLED="false",
        HUNTER_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        HUNTER_JOB_SWEEP_INTERVAL="1",
        HUNTER_RESCAN_SCHEDULE="",
        HUNTER_DATA_DIR=str(tmp_path / "data"),
        HUNTER_LOG_LEVEL="info",
    )
    settings = Settings(
        database_url=postgres_url,
        broker_url=SecretStr(redis_broker),
        job_runner="celery",
        data_dir=tmp_path / "data",
    )
    cluster = Cluster(env, tmp_path)
    try:
        w1 = cluster.start("w1", "worker", "--pool", "solo", "--hostname", "w1@%h")
        cluster.start("w2", "worker", "--pool", "solo", "--hostname", "w2@%h")
        cluster.start("beat", "beat", "--schedule-file", str(tmp_path / "beat-schedule"))

        job = create_job(
            db, JobKind.BULK_SCAN, {"source": "test"}, user_id=None, items=domains, chunk_size=CHUNK_SIZE
        )
        published = publish_chunks(settings, pending_chunk_ids(db, job.id))
        assert published == DOMAINS // CHUNK_SIZE
        scan_started = time.monotonic()

        def victim() -> JobChunk | None:
            with db.session() as session:
                if session.scalar(select(Job.state).where(Job.id == job.id)) not in ("queued", "running"):
                    pytest.fail(
                        f"the job ended before a worker could be killed\n{cluster.logs()}", pytrace=False
                    )
                done = session.scalar(
                    select(func.count()).where(JobChunk.job_id == job.id, JobChunk.state == "done")
                )
                if (done or 0) < 3:
                    return None
                for chunk in session.scalars(
                    select(JobChunk).where(
                        JobChunk.job_id == job.id, JobChunk.state == "running", JobChunk.worker.like("w1@%")
                    )
                ):
                    stored = session.scalar(
                        select(func.count())
                        .select_from(Scan)
                        .join(Company, Company.id == Scan.company_id)
                        .where(Scan.job_id == job.id, Company.domain.in_(chunk.payload["items"]))
                    )
                    if stored:
                        return chunk
            return None

        killed = _wait("worker 1 half-way through a chunk after 3 chunks are done", victim, deadline, cluster)
        w1.kill(signal.SIGKILL)
        w1.popen.wait(timeout=10)
        killed_at = time.monotonic()

        def ended() -> str | None:
            with db.session() as session:
                state = session.scalar(select(Job.state).where(Job.id == job.id))
            return state if state in ("done", "failed", "cancelled") else None

        state = _wait("the job to end", ended, deadline, cluster, every=0.2)
        finished = time.monotonic()

        duplicates = duplicate_scans(db, job.id)
        distinct = scanned_companies(db, job.id)
        with db.session() as session:
            row = session.get(Job, job.id)
            chunk = session.get(JobChunk, killed.id)
            assert row is not None
            assert chunk is not None
            summary = (row.state, row.done, row.failed, row.skipped, row.total)
            resumed = (chunk.state, chunk.attempts, chunk.worker or "")
        problems = []
        if duplicates:
            problems.append(f"companies scanned more than once: {duplicates[:10]}")
        if distinct != DOMAINS:
            problems.append(f"{distinct} companies scanned, expected {DOMAINS}")
        if summary != ("done", DOMAINS, 0, 0, DOMAINS):
            problems.append(f"job (state, done, failed, skipped, total) = {summary}")
        if resumed[:2] != ("done", 2) or not resumed[2].startswith("w2@"):
            problems.append(f"killed chunk (state, attempts, worker) = {resumed}")
        if problems:
            pytest.fail("\n".join(problems) + f"\n{cluster.logs()}", pytrace=False)
        assert state == "done"
    finally:
        cluster.stop()
        db.dispose()

    wall = time.monotonic() - started
    scan_seconds = finished - scan_started
    record_property("wall_seconds", round(wall, 1))
    record_property("scan_seconds", round(scan_seconds, 1))
    record_property("recovery_seconds", round(finished - killed_at, 1))
    print(
        f"\ndistribution: {DOMAINS} domains in {scan_seconds:.1f}s ({DOMAINS / scan_seconds:.0f}/s) "
        f"on 2 workers, one killed; recovery after kill {finished - killed_at:.1f}s; "
        f"test wall time {wall:.1f}s"
    )


@pytest.fixture
def rabbit_broker() -> str:
    from kombu import Connection

    try:
        with Connection(AMQP_URL, connect_timeout=2) as conn:
            conn.connect()
            for queue in (QUEUE, PERIODIC_QUEUE):
                channel = conn.channel()
                try:
                    channel.queue_purge(queue)
                except Exception:  # never declared yet: nothing to purge
                    pass
                finally:
                    channel.close()
    except Exception as exc:
        pytest.skip(f"RabbitMQ at {AMQP_URL} is not reachable: {exc}")
    return AMQP_URL


def test_rabbitmq_broker_runs_a_bulk_scan(
    rabbit_broker: str, postgres_url: str, big_world: tuple[list[str], DnsServer], tmp_path: Path
) -> None:
    deadline = time.monotonic() + 180
    domains = big_world[0][:500]
    db = Database(postgres_url)
    db.upgrade()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUNTER_")}
    env.update(
        HUNTER_DATABASE_URL=postgres_url,
        HUNTER_BROKER_URL=rabbit_broker,
        HUNTER_JOB_RUNNER="celery",
        HUNTER_DNS_NAMESERVERS=big_world[1].address,
        HUNTER_RDAP_ENABLED="false",
        HUNTER_DATA_DIR=str(tmp_path / "data"),
    )
    settings = Settings(database_url=postgres_url, broker_url=SecretStr(rabbit_broker), job_runner="celery")
    cluster = Cluster(env, tmp_path)
    try:
        cluster.start("w1", "worker", "--pool", "prefork", "--concurrency", "2", "--hostname", "rabbit@%h")
        job = create_job(db, JobKind.BULK_SCAN, {}, user_id=None, items=domains, chunk_size=100)
        assert publish_chunks(settings, pending_chunk_ids(db, job.id)) == 5

        def ended() -> str | None:
            with db.session() as session:
                state = session.scalar(select(Job.state).where(Job.id == job.id))
            return state if state in ("done", "failed", "cancelled") else None

        state = _wait("the job to end", ended, deadline, cluster, every=0.2)
        if state != "done" or duplicate_scans(db, job.id) or scanned_companies(db, job.id) != len(domains):
            pytest.fail(
                f"job {state}, scanned {scanned_companies(db, job.id)}\n{cluster.logs()}", pytrace=False
            )
        with db.session() as session:
            workers = set(session.scalars(select(JobChunk.worker).where(JobChunk.job_id == job.id)))
        assert all(w and w.startswith("rabbit@") for w in workers)
        assert len(workers) == 2  # both prefork children took chunks
        assert queue_length(app_for(settings)) == 0  # what the sweeper asks before republishing
    finally:
        cluster.stop()
        db.dispose()
