"""Per-yard partial KPIs (`kpi_partials`): the corridor's snapshot at a (window, as_of) is
merged from every yard's partial there, whichever worker of a group wrote which.

Revision ID: 0008_kpi_partials
Revises: 0007_reefer_time_to_breach
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_kpi_partials"
down_revision: str | None = "0007_reefer_time_to_breach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "kpi_partials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partial", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("yard", "window", "as_of", name="uq_kpi_partials_key"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("kpi_partials")
