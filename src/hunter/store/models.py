"""SQLAlchemy 2 models. Every change here needs an Alembic migration (tests check they agree)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.orm.util import identity_key

from hunter.store.types import JsonType, UtcDateTime, utcnow

# BigInteger ids on PostgreSQL, but SQLite only auto-increments "INTEGER PRIMARY KEY".
IdType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
        datetime: UtcDateTime,
    }


class Company(Base):
    """A lead: one registrable domain. Natural key: ``domain`` (ASCII / punycode)."""

    __tablename__ = "companies"
    __table_args__ = (
        # pg_trgm GIN index: substring search (LIKE '%term%') on the folded text without a scan.
        # SQLite gets a plain index, which doubles as a narrow covering index for the scan.
        Index(
            "ix_companies_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_companies_name", "name"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    display_domain: Mapped[str] = mapped_column(String(253))
    name: Mapped[str | None] = mapped_column(String(500))
    names: Mapped[list[Any]] = mapped_column(default=list)
    sources: Mapped[list[Any]] = mapped_column(default=list)
    """Where the company came from: [{"kind": "import", "file": ..., "rows": [...]}, ...]."""
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    emails: Mapped[list[Any]] = mapped_column(default=list)
    country: Mapped[str | None] = mapped_column(String(2))
    size_hint: Mapped[str | None] = mapped_column(String(40))
    search_text: Mapped[str] = mapped_column(Text, default="")
    """Turkish-folded name, domain and attributes (see core.text.fold) for search."""
    referral_status: Mapped[str | None] = mapped_column(String(24), index=True)
    """Reserved for the Partner Center sync (the leads filter already accepts it)."""
    crm_status: Mapped[str | None] = mapped_column(String(24), index=True)
    """Reserved for the Dynamics 365 push: null = not in CRM, then queued / pushing / in_crm / failed."""
    registration: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    registration_fetched_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assessment: Mapped[Assessment | None] = relationship(back_populates="company", uselist=False)


class Scan(Base):
    """One collection run for one company; append-only history."""

    __tablename__ = "scans"
    __table_args__ = (
        # A job scans each company at most once: a re-delivered chunk finds the row and skips.
        UniqueConstraint("job_id", "company_id", name="uq_scans_job_company"),
        Index("ix_scans_company_started", "company_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("companies.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("jobs.id", ondelete="SET NULL"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    complete: Mapped[bool] = mapped_column(Boolean)
    platform: Mapped[str | None] = mapped_column(String(32))
    gateway: Mapped[str | None] = mapped_column(String(32))
    statuses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Lookup status counts, e.g. {"ok": 12, "nxdomain": 9, "timeout": 1}."""
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    classification: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Assessment(Base):
    """The current state of a company (one row per company): its latest scan and the verdict on it.

    An incomplete latest scan keeps ``complete=False`` and no score or priority ("needs rescan").
    """

    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_scanned_at", "scanned_at"),
        # Tag filters: ``tags @> '["x"]'`` on PostgreSQL (jsonb_path_ops GIN).
        Index(
            "ix_assessments_tags", "tags", postgresql_using="gin", postgresql_ops={"tags": "jsonb_path_ops"}
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("companies.id", ondelete="CASCADE"), unique=True
    )
    scan_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("scans.id", ondelete="SET NULL"))
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    platform: Mapped[str | None] = mapped_column(String(32), index=True)
    gateway: Mapped[str | None] = mapped_column(String(32))
    segment: Mapped[str | None] = mapped_column(String(16), index=True)
    priority: Mapped[str | None] = mapped_column(String(2))
    priority_rank: Mapped[int] = mapped_column(Integer, default=99)
    """1–6 for P1–P6; 99 for no priority yet (incomplete), so it sorts last."""
    score: Mapped[int | None] = mapped_column(Integer)
    breakdown: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    rules_version: Mapped[str | None] = mapped_column(String(40))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    scanned_at: Mapped[datetime | None]
    """When the scan behind this verdict ran (``scans.started_at``); a re-evaluation keeps it.
    Stamped from ``scan_id`` on flush (see ``_stamp_scanned_at``) unless set explicitly."""
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Classification and posture summaries the list and drawer show without the raw evidence."""

    company: Mapped[Company] = relationship(back_populates="assessment")


# The leads list's default order (priority, then score descending) read straight off the index.
# Scores are null only at rank 99 (no priority), so neither dialect needs a NULLS clause here.
Index("ix_assessments_rank_score", Assessment.priority_rank, Assessment.score.desc())


@event.listens_for(Assessment, "before_insert")
@event.listens_for(Assessment, "before_update")
def _stamp_scanned_at(_mapper: Any, connection: Connection, target: Assessment) -> None:
    """Keep ``scanned_at`` in step with ``scan_id`` for every writer (scan, rescan, jobs).

    ``evaluated_at`` moves on every re-evaluation, so the list's "scanned" date and filter need
    their own column; one hook here beats every writer remembering to copy the date.
    """
    state = inspect(target)
    if target.scan_id is None or state.attrs.scanned_at.history.has_changes():
        return
    if not state.attrs.scan_id.history.has_changes() and target.scanned_at is not None:
        return
    session = state.session
    scan = session.identity_map.get(identity_key(Scan, target.scan_id)) if session is not None else None
    if isinstance(scan, Scan):
        target.scanned_at = scan.started_at
    else:
        target.scanned_at = connection.scalar(select(Scan.started_at).where(Scan.id == target.scan_id))


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    """A bounded sample of errors: [{"item": ..., "error": ...}]."""
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    chunks: Mapped[list[JobChunk]] = relationship(back_populates="job", order_by="JobChunk.seq")


class JobChunk(Base):
    __tablename__ = "job_chunks"
    __table_args__ = (UniqueConstraint("job_id", "seq", name="uq_job_chunks_job_seq"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    job_id: Mapped[int] = mapped_column(IdType, ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    job: Mapped[Job] = relationship(back_populates="chunks")


class ImportRecord(Base):
    """An uploaded list: preview first, commit after the user confirms the mapping."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    filename: Mapped[str] = mapped_column(String(500))
    stored_path: Mapped[str] = mapped_column(String(1000))
    format: Mapped[str | None] = mapped_column(String(8))
    sheet: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="previewed")
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rejected: Mapped[list[Any]] = mapped_column(default=list)
    job_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("jobs.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Evaluation(Base):
    """Every evaluation of a company with the rules version that produced it (history)."""

    __tablename__ = "evaluations"
    __table_args__ = (Index("ix_evaluations_company_at", "company_id", "evaluated_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("companies.id", ondelete="CASCADE"))
    scan_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("scans.id", ondelete="SET NULL"))
    rules_version: Mapped[str] = mapped_column(String(40))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[int | None] = mapped_column(Integer)
    segment: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(2))
    breakdown: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """What change detection compares next time (platform, MX hosts, DMARC policy, …)."""


class Alert(Base):
    """A detected change worth telling someone about; ``dedupe_key`` stops repeats."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("company_id", "dedupe_key", name="uq_alerts_company_key"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(16), default="info")
    dedupe_key: Mapped[str] = mapped_column(String(200))
    detected_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    text: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Sentences per language: {"tr": ..., "en": ...}."""
    state: Mapped[str] = mapped_column(String(16), default="new", index=True)
    acknowledged_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None]


class AlertChannel(Base):
    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # webhook | email
    target: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str | None] = mapped_column(String(255))
    """HMAC key for webhooks."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    """Admin's explicit permission to deliver to private or loopback addresses."""
    min_severity: Mapped[str] = mapped_column(String(16), default="info")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "channel_id", name="uq_alert_deliveries_alert_channel"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    alert_id: Mapped[int] = mapped_column(IdType, ForeignKey("alerts.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("alert_channels.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CompanyTag(Base):
    """A tag a user gave a company; the engine never adds or removes these."""

    __tablename__ = "company_tags"
    __table_args__ = (UniqueConstraint("company_id", "tag", name="uq_company_tags_company_tag"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("companies.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64), index=True)
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Favorite(Base):
    __tablename__ = "favorites"
    __table_args__ = (UniqueConstraint("user_id", "company_id", name="uq_favorites_user_company"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("companies.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IpFact(Base):
    """Enrichment facts per IP, shared by every domain that uses the address."""

    __tablename__ = "ip_facts"

    ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    country: Mapped[str | None] = mapped_column(String(2))
    asn: Mapped[int | None] = mapped_column(Integer, index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
