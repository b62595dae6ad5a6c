"""A small set of leads written straight into the database: fast, deterministic, every case.

The default list order (priority, score descending, domain) of this set is ``DEFAULT_ORDER``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hunter.core.priority import priority_rank
from hunter.core.text import fold
from hunter.store.db import Database
from hunter.store.models import Alert, Assessment, Company, CompanyTag, Evaluation, Scan

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Spec:
    domain: str
    name: str
    attributes: dict[str, str]
    priority: str | None = None
    segment: str | None = None
    platform: str | None = None
    gateway: str | None = None
    score: int | None = None
    tags: tuple[str, ...] = ()
    complete: bool | None = True
    """None: never scanned (no assessment)."""
    scanned_days_ago: int = 1
    half_migrated: bool = False
    user_tags: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


def _factor(points: int, tr: str, en: str, factor: str = "platform_fit") -> dict[str, Any]:
    return {"factor": factor, "points": points, "group": "platform", "text": {"tr": tr, "en": en}}


SPECS = (
    Spec(
        "alfa-insaat.com.tr",
        "ALFA İNŞAAT A.Ş.",
        {"city": "İSTANBUL", "district": "Şişli", "activity": "İnşaat", "phone": "0212 555 10 10"},
        "P1",
        "Migration",
        "hosting",
        None,
        88,
        ("local-hosting", "security-risk", "no-dmarc"),
        scanned_days_ago=1,
        emails=("info@alfa-insaat.com.tr",),
    ),
    Spec(
        "beta-tekstil.com.tr",
        "Beta Tekstil",
        {"city": "İzmir", "activity": "Tekstil"},
        "P2",
        "Migration",
        "google",
        None,
        75,
        ("google-workspace", "dkim-missing"),
        scanned_days_ago=3,
    ),
    Spec(
        "cam-gida.com.tr",
        "Çam Gıda",
        {"city": "istanbul", "activity": "Gıda"},
        "P3",
        "Existing",
        "m365",
        "proofpoint",
        64,
        ("m365", "behind-gateway", "security-risk", "no-dmarc"),
        scanned_days_ago=10,
        half_migrated=False,
    ),
    Spec(
        "delta-lojistik.com.tr",
        '=HYPERLINK("http://evil.example","click")',
        {"city": "Ankara", "phone": "@SUM(1+1)", "activity": "-2+3"},
        "P4",
        "Existing",
        "m365",
        None,
        50,
        ("m365",),
        scanned_days_ago=40,
    ),
    Spec(
        "ege-mermer.com.tr",
        "Ege Mermer",
        {"city": "Denizli", "phone": "+90 258 000 00 00"},
        "P1",
        "Migration",
        "self_hosted",
        None,
        88,
        ("self-hosted", "half-migrated"),
        scanned_days_ago=2,
        half_migrated=True,
    ),
    Spec(
        "firma-yok.com.tr",
        "Firma Yok Ltd",
        {"city": "Bursa"},
        complete=False,
        tags=("needs-rescan",),
        scanned_days_ago=5,
    ),
    Spec(
        "gul-tarim.com.tr",
        "Gül Tarım",
        {"city": "Şanlıurfa", "activity": "Tarım"},
        complete=None,
        user_tags=("sicak",),
    ),
    Spec(
        "posta-yok.com.tr",
        "Posta Yok",
        {"city": "Konya"},
        "P6",
        "Skip",
        "none",
        None,
        5,
        ("no-mail",),
        scanned_days_ago=20,
    ),
)

DEFAULT_ORDER = (
    "alfa-insaat.com.tr",
    "ege-mermer.com.tr",
    "beta-tekstil.com.tr",
    "cam-gida.com.tr",
    "delta-lojistik.com.tr",
    "posta-yok.com.tr",
    "firma-yok.com.tr",
    "gul-tarim.com.tr",
)


@dataclass
class LeadSet:
    ids: dict[str, int] = field(default_factory=dict)
    scan_ids: dict[str, int] = field(default_factory=dict)
    alert_ids: list[int] = field(default_factory=list)

    def scanned_at(self, domain: str) -> datetime:
        spec = next(s for s in SPECS if s.domain == domain)
        return NOW - timedelta(days=spec.scanned_days_ago)


def _evidence(domain: str, at: datetime) -> dict[str, Any]:
    return {
        "domain": domain,
        "collected_at": at.isoformat(),
        "duration_ms": 12.5,
        "lookups": [
            {"name": domain, "rdtype": "MX", "purpose": "mx", "status": "ok", "answers": [f"10 mx.{domain}"]},
            {"name": f"_dmarc.{domain}", "rdtype": "TXT", "purpose": "dmarc", "status": "nxdomain"},
        ],
    }


def build_leads(db: Database) -> LeadSet:
    leads = LeadSet()
    with db.session() as session:
        for spec in SPECS:
            text = " ".join([spec.domain, spec.name, *spec.attributes.values()])
            company = Company(
                domain=spec.domain,
                display_domain=spec.domain,
                name=spec.name,
                names=[spec.name],
                sources=[{"kind": "test"}],
                attributes=dict(spec.attributes),
                emails=list(spec.emails),
                search_text=fold(text),
                created_at=NOW - timedelta(days=60),
            )
            session.add(company)
            session.flush()
            leads.ids[spec.domain] = company.id
            for tag in spec.user_tags:
                session.add(CompanyTag(company_id=company.id, tag=tag))
            if spec.complete is None:
                continue
            at = NOW - timedelta(days=spec.scanned_days_ago)
            scan = Scan(
                company_id=company.id,
                started_at=at,
                finished_at=at + timedelta(milliseconds=12),
                duration_ms=12.5,
                complete=spec.complete,
                platform=spec.platform,
                gateway=spec.gateway,
                statuses={"ok": 1, "nxdomain": 1},
                evidence=_evidence(spec.domain, at),
                classification={"platform": spec.platform},
            )
            session.add(scan)
            session.flush()
            leads.scan_ids[spec.domain] = scan.id
            breakdown = (
                [
                    _factor(
                        30, f"{spec.platform} platformu: taşıma fırsatı", f"{spec.platform}: a migration"
                    ),
                    _factor(10, "DMARC yok", "No DMARC", "dmarc_missing"),
                    _factor(-5, "Risk", "Risk", "risk"),
                ]
                if spec.complete
                else [_factor(0, "Tarama eksik", "Scan incomplete", "incomplete")]
            )
            tags = [*spec.tags, *(t for t in spec.user_tags if t not in spec.tags)]
            session.add(
                Assessment(
                    company_id=company.id,
                    scan_id=scan.id,
                    complete=spec.complete,
                    platform=spec.platform,
                    gateway=spec.gateway,
                    segment=spec.segment,
                    priority=spec.priority,
                    priority_rank=priority_rank(spec.priority),
                    score=spec.score,
                    breakdown=breakdown,
                    tags=tags,
                    rules_version="test-1",
                    evaluated_at=at,
                    details={
                        "classification": {
                            "platform": spec.platform,
                            "confidence": 0.9 if spec.complete else 0.0,
                            "half_migrated": spec.half_migrated,
                            "evidence_lines": [f"MX 10 mx.{spec.domain}"],
                        },
                        "posture": {"dmarc": {"status": "missing"}},
                        "evaluation": {"tags": list(spec.tags), "user_tags": list(spec.user_tags)},
                    },
                )
            )
            session.add(
                Evaluation(
                    company_id=company.id,
                    scan_id=scan.id,
                    rules_version="test-1",
                    evaluated_at=at,
                    complete=spec.complete,
                    score=spec.score,
                    segment=spec.segment,
                    priority=spec.priority,
                    breakdown=breakdown,
                    tags=list(spec.tags),
                    snapshot={"platform": spec.platform},
                )
            )
        session.flush()
        for i, (kind, state) in enumerate((("platform_change", "new"), ("dmarc_removed", "acknowledged"))):
            alert = Alert(
                company_id=leads.ids["alfa-insaat.com.tr"],
                kind=kind,
                severity="high" if i == 0 else "medium",
                dedupe_key=f"test-{i}",
                detected_at=NOW - timedelta(hours=10 - i),
                details={"domain": "alfa-insaat.com.tr"},
                text={"tr": f"Değişiklik {i}", "en": f"Change {i}"},
                state=state,
            )
            session.add(alert)
            session.flush()
            leads.alert_ids.append(alert.id)
        session.add(
            Alert(
                company_id=leads.ids["cam-gida.com.tr"],
                kind="priority_change",
                severity="low",
                dedupe_key="test-cam",
                detected_at=NOW - timedelta(hours=1),
                details={"domain": "cam-gida.com.tr"},
                text={"tr": "Öncelik değişti", "en": "Priority changed"},
                state="new",
            )
        )
    return leads
