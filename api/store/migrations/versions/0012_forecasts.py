"""The worker's forecasts (`forecasts`): the newest serves `GET /yards/{yard}/forecast` and
`/corridor/forecast` (`api.store.forecasts`).

Revision ID: 0012_forecasts
Revises: 0011_group_members
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.store.db import UtcDateTime

revision: str = "0012_forecasts"
down_revision: str | None = "0011_group_members"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "forecasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("now", UtcDateTime(), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.Column("horizon_h", sa.Integer(), nullable=False),
        sa.Column("replications", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_forecasts_now"), "forecasts", ["now"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_forecasts_now"), table_name="forecasts")
    op.drop_table("forecasts")
