"""What-if jobs in the store (`whatif_jobs`): `GET /whatif/{id}` answers after an API restart
and from every replica; a job whose owner stops renewing its lease is failed with the reason
(`api.store.whatif_jobs_table`).

Revision ID: 0010_whatif_jobs
Revises: 0009_twin_snapshots
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.store.db import UtcDateTime

revision: str = "0010_whatif_jobs"
down_revision: str | None = "0009_twin_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "whatif_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("now", UtcDateTime(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("replications", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.JSON(), nullable=False),
        sa.Column("holds", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("report_html", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_whatif_jobs_status"), "whatif_jobs", ["status"], unique=False)
    op.create_index(op.f("ix_whatif_jobs_created_at"), "whatif_jobs", ["created_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_whatif_jobs_created_at"), table_name="whatif_jobs")
    op.drop_index(op.f("ix_whatif_jobs_status"), table_name="whatif_jobs")
    op.drop_table("whatif_jobs")
