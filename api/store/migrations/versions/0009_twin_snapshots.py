"""The live twin's snapshots (`twin_snapshots`): a restart loads the newest and replays only
the archive after its `position` (`api.store.twin_snapshots`).

Revision ID: 0009_twin_snapshots
Revises: 0008_kpi_partials
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.store.db import UtcDateTime

revision: str = "0009_twin_snapshots"
down_revision: str | None = "0008_kpi_partials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "twin_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watermark", UtcDateTime(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_at", UtcDateTime(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_twin_snapshots_watermark"), "twin_snapshots", ["watermark"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_twin_snapshots_watermark"), table_name="twin_snapshots")
    op.drop_table("twin_snapshots")
