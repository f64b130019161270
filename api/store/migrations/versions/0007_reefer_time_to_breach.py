"""Reefers carry their time to breach: the minutes until the twin's estimate of the cargo
temperature leaves its band (`minutes_to_breach`, 0 when over, NULL when it never does on its
present course) and that moment (`breach_at`). Rows stored before have none (NULL) until the
worker's next view of their yard replaces them.

Revision ID: 0007_reefer_time_to_breach
Revises: 0006_box_visit_milestones
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_reefer_time_to_breach"
down_revision: str | None = "0006_box_visit_milestones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("reefer_status", schema=None) as batch_op:
        batch_op.add_column(sa.Column("minutes_to_breach", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("breach_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("reefer_status", schema=None) as batch_op:
        batch_op.drop_column("breach_at")
        batch_op.drop_column("minutes_to_breach")
