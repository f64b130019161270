"""The worker's health beside its outputs: yards whose clock ran ahead of every input
(`worker_commits.yards_ahead`), and counts of valid but flagged inputs (`input_flag_counts`).

Revision ID: 0003_worker_health
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_worker_health"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("worker_commits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("yards_ahead", sa.JSON(), nullable=True))
    op.create_table(
        "input_flag_counts",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("input_flag_counts")
    with op.batch_alter_table("worker_commits", schema=None) as batch_op:
        batch_op.drop_column("yards_ahead")
