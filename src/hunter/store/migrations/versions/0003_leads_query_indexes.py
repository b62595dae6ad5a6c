"""leads list: scanned_at, reserved referral / CRM status, search, sort and tag indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Trigram GIN indexes serve LIKE '%term%'. pg_trgm ships with PostgreSQL (contrib) and is a
        # trusted extension since PostgreSQL 13, so the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    op.add_column("companies", sa.Column("referral_status", sa.String(length=24), nullable=True))
    op.add_column("companies", sa.Column("crm_status", sa.String(length=24), nullable=True))
    op.create_index("ix_companies_referral_status", "companies", ["referral_status"])
    op.create_index("ix_companies_crm_status", "companies", ["crm_status"])
    op.create_index("ix_companies_name", "companies", ["name"])
    op.create_index(
        "ix_companies_search_text",
        "companies",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )

    op.add_column("assessments", sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE assessments SET scanned_at = "
        "(SELECT scans.started_at FROM scans WHERE scans.id = assessments.scan_id) "
        "WHERE scan_id IS NOT NULL"
    )
    op.create_index("ix_assessments_scanned_at", "assessments", ["scanned_at"])
    op.drop_index("ix_assessments_priority_score", table_name="assessments")
    op.create_index("ix_assessments_rank_score", "assessments", ["priority_rank", sa.text("score DESC")])
    op.create_index(
        "ix_assessments_tags",
        "assessments",
        ["tags"],
        postgresql_using="gin",
        postgresql_ops={"tags": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_assessments_tags", table_name="assessments")
    op.drop_index("ix_assessments_rank_score", table_name="assessments")
    op.create_index("ix_assessments_priority_score", "assessments", ["priority_rank", "score"])
    op.drop_index("ix_assessments_scanned_at", table_name="assessments")
    with op.batch_alter_table("assessments") as batch_op:
        batch_op.drop_column("scanned_at")

    op.drop_index("ix_companies_search_text", table_name="companies")
    op.drop_index("ix_companies_name", table_name="companies")
    op.drop_index("ix_companies_crm_status", table_name="companies")
    op.drop_index("ix_companies_referral_status", table_name="companies")
    with op.batch_alter_table("companies") as batch_op:
        batch_op.drop_column("crm_status")
        batch_op.drop_column("referral_status")
    # pg_trgm stays: other objects may use it, and it is harmless.
