"""The boxes longest in each yard, with the stage each is in (`overdue_boxes`): the live twin's
list of boxes at least 12 h old, replaced per yard with its state, for
`GET /yards/{yard}/boxes/overdue` and the dashboard.

Revision ID: 0005_overdue_boxes
Revises: 0004_replay_job_leases
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_overdue_boxes"
down_revision: str | None = "0004_replay_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "overdue_boxes",
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("container_id", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("reefer", sa.Boolean(), nullable=False),
        sa.Column("teu", sa.Integer(), nullable=False),
        sa.Column("entered", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("age_h", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("train_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("yard", "container_id"),
    )
    with op.batch_alter_table("overdue_boxes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_overdue_boxes_age_h"), ["age_h"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("overdue_boxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_overdue_boxes_age_h"))
    op.drop_table("overdue_boxes")
