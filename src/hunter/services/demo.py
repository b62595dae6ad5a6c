"""`hunter demo`: sandbox + sample import + scan + UI, on an embedded SQLite database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hunter.config import Settings
from hunter.logs import get_logger

log = get_logger(__name__)
DEMO_DIR = Path(".demo")
DEMO_USER = "demo"
DEMO_PASSWORD = "hunter-demo-2026"


def demo_settings(settings: Settings, sandbox_env: dict[str, str]) -> Settings:
    """The user's settings, pointed at the sandbox and (unless they chose one) a demo database."""
    update: dict[str, Any] = {
        "dns_nameservers": sandbox_env["HUNTER_DNS_NAMESERVERS"],
        "rdap_servers": sandbox_env["HUNTER_RDAP_SERVERS"],
        "whois_servers": sandbox_env["HUNTER_WHOIS_SERVERS"],
        # The sandbox answers at once; short timeouts keep the demo brisk.
        "dns_timeout": min(settings.dns_timeout, 1.0),
        "rdap_timeout": min(settings.rdap_timeout, 3.0),
        # The emulators are ours, so registry politeness pacing is not needed.
        "rdap_server_interval": 0.0,
        "rdap_server_concurrency": 16,
    }
    if not settings.database_url:
        DEMO_DIR.mkdir(exist_ok=True)
        update["data_dir"] = DEMO_DIR.resolve()
        update["database_url"] = f"sqlite:///{(DEMO_DIR / 'hunter-demo.db').resolve()}"
    return settings.model_copy(update=update)


def demo_enrichment(settings: Settings) -> Settings:
    """Build the sandbox IP databases into ``<data dir>/ipdb/`` and turn IP enrichment on."""
    import os
    import shutil

    from hunter.sandbox.ipdb import build_sandbox_databases

    dest = settings.data_dir / "ipdb"
    dest.mkdir(parents=True, exist_ok=True)
    # Built aside, then renamed over the old files: a server from an earlier demo may still have
    # them memory-mapped, and rewriting a mapped file in place can crash that process.
    staging = settings.data_dir / f"ipdb.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    built = build_sandbox_databases(staging)
    update: dict[str, Any] = {"enrichment_enabled": True}
    for source, setting in (
        ("geoip_city", "geoip_city_path"),
        ("geoip_country", "geoip_country_path"),
        ("geoip_asn", "geoip_asn_path"),
        ("ip2location", "ip2location_path"),
        ("ip2proxy", "ip2proxy_path"),
    ):
        path = built.path_for(source)
        assert path is not None
        os.replace(path, dest / path.name)
        update[setting] = (dest / path.name).resolve()
    shutil.rmtree(staging, ignore_errors=True)
    return settings.model_copy(update=update)


def _say(as_json: bool, message: str, **fields: Any) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"event": message, **fields}, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
    else:
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        print(f"▸ {message} {extra}".rstrip(), flush=True)


def _progress(as_json: bool, doc: dict[str, Any]) -> None:
    _say(
        as_json,
        f"{doc['kind']} job {doc['id']}",
        state=doc["state"],
        done=doc["done"],
        failed=doc["failed"],
        total=doc["total"],
    )


def run_pending_jobs(db: Any, settings: Settings, report: Any) -> list[dict[str, Any]]:
    """Run queued job chunks in this process until none is left, reporting progress per chunk.

    The demo has no worker; it calls the one chunk function the runners call.
    """
    from hunter.jobs.service import job_progress, run_chunk
    from hunter.store.models import JobChunk

    finished: dict[int, dict[str, Any]] = {}
    while True:
        with db.session() as session:
            chunk = session.execute(
                select(JobChunk.id, JobChunk.job_id).where(JobChunk.state == "pending").order_by(JobChunk.id)
            ).first()
        if chunk is None:
            return list(finished.values())
        run_chunk(db, settings, chunk[0], "demo")
        doc = job_progress(db, chunk[1])
        report(doc)
        finished[chunk[1]] = {k: doc[k] for k in ("id", "kind", "state", "done", "failed", "total")}


def run_demo(
    settings: Settings,
    *,
    port: int = 8000,
    extra_companies: int = 200,
    serve: bool = True,
    as_json: bool = False,
) -> dict[str, Any]:
    from hunter.imports import sample_path
    from hunter.jobs.service import submit_import
    from hunter.sandbox.runner import Sandbox, sample_world
    from hunter.store.db import Database
    from hunter.store.models import Assessment

    world = sample_world(extra=extra_companies)
    sandbox = Sandbox(world)
    with sandbox.running() as info:
        _say(
            as_json,
            "sandbox started",
            dns=info.dns,
            rdap=info.rdap,
            whois=info.whois,
            companies=info.companies,
        )
        demo = demo_enrichment(demo_settings(settings, info.settings_env()))
        _say(as_json, "ip databases built", path=str(demo.data_dir / "ipdb"))
        db = Database(demo.effective_database_url)
        db.upgrade()
        _say(as_json, "database ready", url=demo.effective_database_url)
        from hunter.auth.users import ensure_user

        # A local demo account; the password is printed because it protects only sandbox data.
        ensure_user(db, DEMO_USER, DEMO_PASSWORD, "admin")

        sample = sample_path("xlsx")
        # The same jobs a user starts from the UI: an import job that queues a bulk-scan job.
        job = submit_import(db, demo, sample, user_id=None, scan=True)
        _say(as_json, "import job queued", job=job.id, file=sample.name)
        finished = run_pending_jobs(db, demo, lambda doc: _progress(as_json, doc))
        counts: dict[str, Any] = {}
        with db.session() as session:
            for platform, n in session.execute(
                select(Assessment.platform, func.count()).group_by(Assessment.platform)
            ):
                counts[platform or "incomplete"] = n
        _say(as_json, "scan finished", jobs=finished, platforms=counts)
        result = {
            "username": DEMO_USER,
            "password": DEMO_PASSWORD,
            "jobs": finished,
            "scanned": sum(counts.values()),
            "platforms": counts,
            "database": demo.effective_database_url,
        }
        if serve:
            import uvicorn

            from hunter.api.app import create_app

            _say(
                as_json,
                "serving",
                url=f"http://127.0.0.1:{port}/",
                api=f"http://127.0.0.1:{port}/docs",
                username=DEMO_USER,
                password=DEMO_PASSWORD,
            )
            uvicorn.run(create_app(demo, db, run_jobs=True), host="127.0.0.1", port=port, log_level="warning")
        db.dispose()
        return result
