"""Import use cases shared by the CLI and the API: preview an upload, then commit it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hunter.config import Settings
from hunter.imports import ColumnRole, ImportResult, Preview, preview_file, read_file
from hunter.logs import get_logger
from hunter.store.companies import CompanyInput, UpsertSummary, upsert_companies
from hunter.store.db import Database
from hunter.store.models import AuditEntry, ImportRecord

log = get_logger(__name__)


class ImportNotFound(LookupError):
    pass


@dataclass
class CommitOutcome:
    import_id: int | None
    result: ImportResult
    upsert: UpsertSummary

    def to_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "created": self.upsert.created,
            "updated": self.upsert.updated,
            "unchanged": self.upsert.unchanged,
            "domains": len(self.result.companies),
            "rejected": len(self.result.rejected),
            "duplicates": len(self.result.duplicates),
            "total_rows": self.result.total_rows,
        }


def parse_mapping(pairs: list[str] | dict[str, str] | None) -> dict[str, ColumnRole] | None:
    """``["WEB SİTESİ=website", "ADRES=address"]`` or a dict → a mapping; clear error on junk."""
    if not pairs:
        return None
    items = pairs.items() if isinstance(pairs, dict) else (p.split("=", 1) for p in pairs)
    mapping: dict[str, ColumnRole] = {}
    valid = ", ".join(r.value for r in ColumnRole)
    for item in items:
        if len(item) != 2:
            raise ValueError(f"mapping entries look like COLUMN=ROLE, got {item!r}")
        column, role = item
        try:
            mapping[column.strip()] = ColumnRole(role.strip().lower())
        except ValueError:
            raise ValueError(f"unknown role {role!r} for column {column!r}; valid roles: {valid}") from None
    return mapping


def company_inputs(result: ImportResult) -> Iterator[CompanyInput]:
    for company in result.companies:
        yield CompanyInput(
            domain=company.domain,
            display_domain=company.display_domain,
            names=company.names,
            source={"kind": "import", "file": company.source, "rows": company.rows},
            attributes=company.attributes,
            emails=company.emails,
        )


def import_file(
    db: Database,
    path: Path,
    *,
    mapping: dict[str, ColumnRole] | None = None,
    sheet: str | None = None,
    settings: Settings,
    user_id: int | None = None,
    import_id: int | None = None,
) -> CommitOutcome:
    """Read, normalise and upsert a list; record rejects and an audit entry. Idempotent."""
    result = read_file(path, mapping=mapping, sheet=sheet, max_rows=settings.import_max_rows)
    with db.session() as session:
        upsert = upsert_companies(session, company_inputs(result))
        if import_id is not None:
            record = session.get(ImportRecord, import_id)
            if record is not None:
                record.state = "committed"
                record.mapping = {k: str(v) for k, v in result.mapping.roles.items()}
                record.rejected = [
                    {"row": r.row, "value": r.value, "reason": r.reason, "message": r.message}
                    for r in result.rejected
                ]
        session.add(
            AuditEntry(
                user_id=user_id,
                action="import",
                target=path.name,
                details={
                    "created": upsert.created,
                    "updated": upsert.updated,
                    "rejected": len(result.rejected),
                },
            )
        )
    outcome = CommitOutcome(import_id=import_id, result=result, upsert=upsert)
    if import_id is not None:
        with db.session() as session:
            record = session.get(ImportRecord, import_id)
            if record is not None:
                record.summary = outcome.to_json()
    log.info("import committed", file=path.name, **outcome.to_json())
    return outcome


def store_upload(settings: Settings, filename: str, source: Path) -> Path:
    """Keep the uploaded bytes until the user commits (or abandons) the preview."""
    uploads = settings.data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    safe_name = Path(filename).name or "upload"
    dest = uploads / f"{uuid.uuid4().hex}-{safe_name}"
    shutil.copyfile(source, dest)
    return dest


def preview_upload(
    db: Database, settings: Settings, filename: str, stored: Path, *, user_id: int | None = None
) -> tuple[int, Preview]:
    preview = preview_file(stored)
    with db.session() as session:
        record = ImportRecord(
            filename=Path(filename).name,
            stored_path=str(stored),
            format=preview.format,
            sheet=preview.sheet,
            mapping={k: str(v) for k, v in preview.mapping.roles.items()},
            created_by=user_id,
        )
        session.add(record)
        session.flush()
        return record.id, preview


def commit_upload(
    db: Database,
    settings: Settings,
    import_id: int,
    *,
    mapping: dict[str, ColumnRole] | None = None,
    sheet: str | None = None,
    user_id: int | None = None,
) -> CommitOutcome:
    with db.session() as session:
        record = session.get(ImportRecord, import_id)
        if record is None:
            raise ImportNotFound(f"import {import_id} does not exist")
        path = Path(record.stored_path)
        sheet = sheet or record.sheet
    return import_file(
        db, path, mapping=mapping, sheet=sheet, settings=settings, user_id=user_id, import_id=import_id
    )
