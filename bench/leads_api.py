"""Leads list speed: the one leads query on 100,000 companies, PostgreSQL and SQLite.

    .venv/bin/python bench/leads_api.py [--rows 100000] [--runs 60]
                                        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                        [--skip-postgres] [--skip-sqlite] [--reuse]

1. Fills a fresh PostgreSQL database (``hunter_bench_leads``, dropped and created on the server
   of ``--postgres``) and a fresh SQLite file (bench/out/leads.db), both migrated to head, with
   ``--rows`` companies plus their assessments: bulk INSERTs, realistic mixes of priority,
   segment, platform, gateways and tags, Turkish company names and cities (İSTANBUL / İstanbul /
   istanbul spellings) in the imported attributes, and 3 % never scanned / 5 % needing a rescan.
   ``--reuse`` keeps databases a previous run filled.
2. Times :func:`hunter.store.leads.query_leads` (count + first page, a new session each run) for
   the default list query — first page, priority then score, ``segment=Migration`` and the
   search ``istanbul`` — and a few neighbours (no filter, search only, a rare name, tags,
   facets, a deep page), ``--runs`` times each after 3 warm-up runs; p50 / p95 / max in ms.
3. Times the same default query through ``GET /api/v1/leads`` with FastAPI's TestClient and a
   bearer token, for the HTTP overhead (auth, validation, JSON).
4. Writes the statements and their plans to bench/out/leads_plans_<dialect>.txt:
   ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite.

Nothing is asserted; targets (p95): PostgreSQL < 100 ms, SQLite < 250 ms.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import create_engine, event, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from hunter.core.priority import priority_rank  # noqa: E402
from hunter.core.text import fold  # noqa: E402
from hunter.store.db import Database  # noqa: E402
from hunter.store.leads import LeadFilter, query_leads  # noqa: E402
from hunter.store.models import Assessment, Company, CompanyTag  # noqa: E402

OUT = ROOT / "bench" / "out"
PG_DB = "hunter_bench_leads"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BATCH = 5000

CITIES = (  # (name, weight): roughly where Turkish companies are
    ("İstanbul", 25),
    ("Ankara", 10),
    ("İzmir", 8),
    ("Bursa", 5),
    ("Kocaeli", 4),
    ("Antalya", 4),
    ("Konya", 3),
    ("Gaziantep", 3),
    ("Kayseri", 2),
    ("Denizli", 2),
    ("Manisa", 2),
    ("Şanlıurfa", 2),
    ("Eskişehir", 2),
    ("Tekirdağ", 2),
    ("Sakarya", 2),
    ("Adana", 3),
    ("Mersin", 2),
    ("Samsun", 2),
    ("Trabzon", 2),
    ("Diyarbakır", 1),
    ("Çorum", 1),
    ("Muğla", 2),
    ("Aydın", 2),
    ("Balıkesir", 2),
)
DISTRICTS = ("Merkez", "Şişli", "Kadıköy", "Çankaya", "Bornova", "Nilüfer", "Gebze", "Muratpaşa", "Selçuklu")
WORDS = (
    "Anadolu", "Ege", "Marmara", "Yıldız", "Güneş", "Özkan", "Çelik", "Şahin", "Doğan", "Kılıç",
    "Akdeniz", "Karadeniz", "Başak", "Gül", "Ay", "Deniz", "Kartal", "Aslan", "Öztürk", "Aydın",
    "Yılmaz", "Kaya", "Demir", "Arslan", "Koç", "Uğur", "Işık", "Tuna", "Ergin", "Bulut",
)  # fmt: skip
SECTORS = (
    "İnşaat", "Tekstil", "Gıda", "Lojistik", "Makina", "Otomotiv", "Turizm", "Mobilya",
    "Elektrik", "Kimya", "Plastik", "Tarım", "Medikal", "Yazılım", "Enerji", "Ambalaj",
)  # fmt: skip
SUFFIXES = ("A.Ş.", "Ltd. Şti.", "San. ve Tic. A.Ş.", "San. Tic. Ltd. Şti.")
# (priority or None for incomplete, "-" for never scanned, weight)
PRIORITY_MIX = (("P1", 12), ("P2", 15), ("P3", 20), ("P4", 18), ("P5", 15), ("P6", 12), (None, 5), ("-", 3))
SEGMENT_OF = {
    "P1": "Migration",
    "P2": "Migration",
    "P3": "Existing",
    "P4": "Existing",
    "P5": "Cold",
    "P6": "Skip",
}
PLATFORMS_OF = {
    "P1": ("hosting", "hosting", "hosting", "self_hosted"),
    "P2": ("google", "google", "zoho", "yandex", "other_cloud"),
    "P3": ("m365",),
    "P4": ("m365",),
    "P5": ("unknown", "unknown", "other_cloud"),
    "P6": ("none", "unresolved"),
}
SCORES_OF = {"P1": (70, 98), "P2": (60, 90), "P3": (50, 85), "P4": (35, 70), "P5": (15, 45), "P6": (0, 10)}
PLATFORM_TAG = {
    "hosting": "local-hosting",
    "self_hosted": "self-hosted",
    "google": "google-workspace",
    "zoho": "zoho-mail",
    "yandex": "yandex-mail",
    "other_cloud": "other-cloud",
    "m365": "m365",
    "unknown": "unknown-platform",
    "none": "no-mail",
    "unresolved": "unresolved",
}
GATEWAYS = ("proofpoint", "mimecast", "barracuda", "trendmicro", "hornetsecurity")
GAP_TAGS = ("no-dmarc", "weak-dmarc", "weak-spf", "dkim-missing")
USER_TAGS = ("sicak", "ihale", "bayi", "referans", "takip")


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _slug(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isalnum())


def _city_spelling(rng: random.Random, city: str) -> str:
    """Imports spell cities every way: İSTANBUL, İstanbul, istanbul."""
    style = rng.random()
    if style < 0.45:
        return city.replace("i", "İ").replace("ı", "I").upper()
    if style < 0.9:
        return city
    return city.lower().replace("i̇", "i")


# Sandbox profile whose stored verdict stands in for each platform: the details and breakdown
# JSON of real evaluations (4–11 KB), so rows are as wide (and TOASTed) as in production.
TEMPLATE_OF = {
    "hosting": "natro-musteri.com.tr",
    "self_hosted": "kendi-sunucu.com.tr",
    "google": "google-firma.com.tr",
    "zoho": "google-firma.com.tr",
    "yandex": "google-firma.com.tr",
    "other_cloud": "google-firma.com.tr",
    "m365": "bulut-m365.com.tr",
    "unknown": "korumali.com.tr",
    "none": "posta-yok.com.tr",
    "unresolved": "olmayan-firma.com.tr",
    "half-migrated": "yarim-gecis.com.tr",
    "gateway": "korumali.com.tr",
    "incomplete": "posta-yok.com.tr",
}


def real_templates() -> dict[str, tuple[str, str]]:
    """Scan the sandbox world once: domain → (details JSON, breakdown JSON) as stored."""
    import asyncio
    import json
    import tempfile

    from hunter.sandbox.testing import sandbox_world
    from hunter.services.scanning import scan_domains

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/templates.db")
        db.upgrade()
        with sandbox_world() as world:
            asyncio.run(scan_domains(world.settings(), list(world.profiles), db=db))
        with db.session() as session:
            rows = session.execute(
                select(Company.domain, Assessment.details, Assessment.breakdown).join(Assessment)
            )
            found = {d: (json.dumps(details), json.dumps(breakdown)) for d, details, breakdown in rows}
        db.dispose()
    return found


def generate(
    rows: int, templates: dict[str, tuple[str, str]], seed: int = 7
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None, list[str]]]:
    """(company row, assessment row or None, user tags) — deterministic for a seed."""
    import json

    rng = random.Random(seed)
    for i in range(rows):
        first, second = rng.sample(WORDS, 2)
        sector = rng.choice(SECTORS)
        name = f"{first} {second} {sector} {rng.choice(SUFFIXES)}"
        domain = f"{_slug(first)}{_slug(sector)}{i}.com.tr"
        city = _weighted(rng, CITIES)
        attributes = {
            "city": _city_spelling(rng, city),
            "district": rng.choice(DISTRICTS),
            "activity": sector,
            "phone": f"0{rng.randint(212, 488)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        }
        search = fold(" ".join([domain, domain, name, *attributes.values()]))
        company = {
            "domain": domain,
            "display_domain": domain,
            "name": name,
            "names": [name],
            "sources": [{"kind": "import", "file": "bench.xlsx", "rows": [i + 2]}],
            "attributes": attributes,
            "emails": [f"info@{domain}"],
            "search_text": search,
            "created_at": NOW - timedelta(days=90),
            "updated_at": NOW - timedelta(days=90),
        }
        priority = _weighted(rng, PRIORITY_MIX)
        user_tags = [rng.choice(USER_TAGS)] if rng.random() < 0.02 else []
        if priority == "-":
            yield company, None, user_tags
            continue
        scanned = NOW - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1439))
        complete = priority is not None
        platform = rng.choice(PLATFORMS_OF[priority]) if complete else None
        gateway = rng.choice(GATEWAYS) if complete and platform == "m365" and rng.random() < 0.15 else None
        score = rng.randint(*SCORES_OF[priority]) if complete else None
        tags: list[str] = []
        if complete:
            tags.append(PLATFORM_TAG[platform])
            if gateway:
                tags.append("behind-gateway")
            gaps = [t for t in GAP_TAGS if rng.random() < 0.3]
            if gaps and priority in ("P1", "P3"):
                tags.append("security-risk")
            tags += gaps
            if priority == "P1" and rng.random() < 0.2:
                tags.append("half-migrated")
        else:
            tags.append("needs-rescan")
        tags += user_tags
        if not complete:
            template = TEMPLATE_OF["incomplete"]
        elif "half-migrated" in tags:
            template = TEMPLATE_OF["half-migrated"]
        else:
            template = TEMPLATE_OF["gateway" if gateway else platform]
        details_json, breakdown_json = templates[template]
        details = json.loads(details_json.replace(template, domain))
        classification = details.setdefault("classification", {})
        classification["platform"] = platform
        classification["confidence"] = round(rng.uniform(0.5, 1.0), 2) if complete else 0.0
        classification["half_migrated"] = "half-migrated" in tags
        details.setdefault("evaluation", {})["user_tags"] = user_tags
        assessment = {
            "complete": complete,
            "platform": platform,
            "gateway": gateway,
            "segment": SEGMENT_OF.get(priority or ""),
            "priority": priority,
            "priority_rank": priority_rank(priority),
            "score": score,
            "breakdown": json.loads(breakdown_json.replace(template, domain)),
            "tags": tags,
            "rules_version": "bench",
            "evaluated_at": scanned,
            "scanned_at": scanned,
            "details": details,
        }
        yield company, assessment, user_tags


def fill(db: Database, rows: int, templates: dict[str, tuple[str, str]]) -> float:
    """Bulk INSERTs in batches; returns seconds."""
    began = time.perf_counter()
    batch: list[tuple[dict[str, Any], dict[str, Any] | None, list[str]]] = []

    def flush() -> None:
        with db.session() as session:
            session.execute(insert(Company), [c for c, _a, _t in batch])
            ids = dict(
                session.execute(
                    select(Company.domain, Company.id).where(
                        Company.domain.in_([c["domain"] for c, _a, _t in batch])
                    )
                ).all()
            )
            assessments = [{**a, "company_id": ids[c["domain"]]} for c, a, _t in batch if a is not None]
            if assessments:
                session.execute(insert(Assessment), assessments)
            user_tags = [
                {"company_id": ids[c["domain"]], "tag": tag, "created_at": NOW}
                for c, _a, t in batch
                for tag in t
            ]
            if user_tags:
                session.execute(insert(CompanyTag), user_tags)

    for item in generate(rows, templates):
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
            batch = []
            print(".", end="", flush=True)
    if batch:
        flush()
    # What autovacuum does on a live system: statistics, and the visibility map that lets
    # PostgreSQL count from an index without visiting the table.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if db.dialect == "postgresql" else "ANALYZE"))
    print()
    return time.perf_counter() - began


# --------------------------------------------------------------------------------------------
# Timing

CASES: dict[str, tuple[LeadFilter, str, int, bool]] = {
    # name: (filter, sort, page, facets)
    "default: segment=Migration q=istanbul": (
        LeadFilter(segment=("Migration",), q="istanbul"),
        "priority",
        1,
        False,
    ),
    "no filter (first page)": (LeadFilter(), "priority", 1, False),
    "q=istanbul": (LeadFilter(q="istanbul"), "priority", 1, False),
    "q=rare name (kartal celik insaat)": (LeadFilter(q="kartal çelik inşaat"), "priority", 1, False),
    "priority=P1,P2 tags=no-dmarc": (
        LeadFilter(priority=("P1", "P2"), tags=("no-dmarc",)),
        "priority",
        1,
        False,
    ),
    "segment=Migration sort=-scanned": (LeadFilter(segment=("Migration",)), "-scanned", 1, False),
    "default + facets": (LeadFilter(segment=("Migration",), q="istanbul"), "priority", 1, True),
    "no filter, page 200": (LeadFilter(), "priority", 200, False),
}
DEFAULT_CASE = "default: segment=Migration q=istanbul"


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def timed(fn: Callable[[], Any], runs: int, warmup: int = 3) -> tuple[list[float], Any]:
    result = None
    for _ in range(warmup):
        result = fn()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples, result


def time_queries(db: Database, runs: int) -> list[tuple[str, float, float, float, int]]:
    table = []
    for name, (flt, sort, page, facets) in CASES.items():

        def run(flt: LeadFilter = flt, sort: str = sort, page: int = page, facets: bool = facets) -> Any:
            with db.session() as session:
                return query_leads(session, flt, sort=sort, page=page, page_size=50, lang="tr", facets=facets)

        samples, result = timed(run, runs)
        table.append((name, *percentiles(samples), result.total))
    return table


def _client(db: Database) -> Any:
    from fastapi.testclient import TestClient

    from hunter.api.app import create_app
    from hunter.auth import passwords
    from hunter.auth.testing import create_test_user, fast_hasher, issue_token
    from hunter.config import Settings

    passwords.HASHER = fast_hasher()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    user = create_test_user(db, "viewer", "bench-viewer")
    client = TestClient(create_app(Settings(), db), base_url="http://localhost")
    client.headers["Authorization"] = f"Bearer {issue_token(db, user.username)}"
    return client


def time_http(db: Database, runs: int) -> tuple[float, float, float, int]:
    params = {"segment": "Migration", "q": "istanbul", "page_size": 50}
    with _client(db) as client:

        def call() -> Any:
            response = client.get("/api/v1/leads", params=params)
            assert response.status_code == 200, response.text
            return response.json()

        samples, body = timed(call, runs)
    return (*percentiles(samples), body["total"])


def time_export(db: Database) -> tuple[float, int]:
    """Every lead as CSV through the streaming endpoint, once."""
    with _client(db) as client:
        began = time.perf_counter()
        lines = 0
        with client.stream("GET", "/api/v1/exports/leads.csv") as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                lines += chunk.count(b"\n")
        return time.perf_counter() - began, lines - 1


def explain(db: Database, path: Path) -> list[str]:
    """Plans of the statements the default query runs; returns the summary lines."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    flt, sort, page, facets = CASES[DEFAULT_CASE]
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session() as session:
            query_leads(session, flt, sort=sort, page=page, page_size=50, lang="tr", facets=facets)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    out: list[str] = []
    summary: list[str] = []
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            postgres = db.dialect == "postgresql"
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            cursor = conn.exec_driver_sql(prefix + statement, parameters)
            lines = [" | ".join(str(c) for c in row) for row in cursor]
            out += ["-- statement", statement, f"-- parameters {parameters!r}", "-- plan", *lines, ""]
            summary.append(statement.split("\n", 1)[0][:90] + " …")
            summary += [f"    {line}" for line in lines[:12]]
    path.write_text("\n".join(out), encoding="utf-8")
    return summary


# --------------------------------------------------------------------------------------------
# Databases


def postgres_database(admin_url: str, reuse: bool) -> tuple[Database, bool]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DB})
        if not (reuse and exists):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=PG_DB).render_as_string(hide_password=False)
    db = Database(url)
    db.upgrade()
    return db, bool(reuse and exists)


def sqlite_database(reuse: bool) -> tuple[Database, bool]:
    path = OUT / "leads.db"
    exists = path.exists()
    if exists and not reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    return db, bool(reuse and exists)


def report(
    label: str, db: Database, args: argparse.Namespace, reused: bool, templates: dict[str, tuple[str, str]]
) -> None:
    if not reused:
        seconds = fill(db, args.rows, templates)
        print(f"{label}: inserted {args.rows:,} companies in {seconds:.1f}s")
    with db.session() as session:
        companies = session.scalar(select(text("count(*)")).select_from(Company)) or 0
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{label} — {companies:,} companies, {args.runs} runs per case (ms); load average {load}")
    print(f"{'case':44} {'p50':>8} {'p95':>8} {'max':>8} {'matches':>9}")
    for name, p50, p95, worst, total in time_queries(db, args.runs):
        print(f"{name:44} {p50:8.1f} {p95:8.1f} {worst:8.1f} {total:9,}")
    p50, p95, worst, total = time_http(db, args.runs)
    print(f"{'HTTP GET /api/v1/leads (default case)':44} {p50:8.1f} {p95:8.1f} {worst:8.1f} {total:9,}")
    seconds, exported = time_export(db)
    print(f"{'full CSV export (all rows, HTTP)':44} {seconds * 1000:8.0f} ms for {exported:,} rows")
    path = OUT / f"leads_plans_{db.dialect}.txt"
    summary = explain(db, path)
    print(f"\nplans of the default case → {path.relative_to(ROOT)}")
    for line in summary:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep databases a previous run filled")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    templates = real_templates()
    if not args.skip_postgres:
        db, reused = postgres_database(args.postgres, args.reuse)
        try:
            report("PostgreSQL", db, args, reused, templates)
        finally:
            db.dispose()
    if not args.skip_sqlite:
        db, reused = sqlite_database(args.reuse)
        try:
            report("SQLite", db, args, reused, templates)
        finally:
            db.dispose()


if __name__ == "__main__":
    main()
