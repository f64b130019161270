"""Box visits carry the milestones that split a dwell into its stages (`dwell_h.stages`): the
customs bay taking an export box (`inspection_start`), its release for booking (`cleared`) and
its train's cut-off (`loading_start`). Rows stored before have none (NULL).

Revision ID: 0006_box_visit_milestones
Revises: 0005_overdue_boxes
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_box_visit_milestones"
down_revision: str | None = "0005_overdue_boxes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("inspection_start", "cleared", "loading_start")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("box_visits", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("box_visits", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
