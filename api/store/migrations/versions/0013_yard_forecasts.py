"""The worker's forecasts in yard parts (`yard_forecasts`): a consumer group's members each
store their yards' parts, merged into `forecasts` once every yard's part of a moment is in
(`api.store.yard_forecasts`).

Revision ID: 0013_yard_forecasts
Revises: 0012_forecasts
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.store.db import UtcDateTime

revision: str = "0013_yard_forecasts"
down_revision: str | None = "0012_forecasts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "yard_forecasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("now", UtcDateTime(), nullable=False),
        sa.Column("yard", sa.String(), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.Column("horizon_h", sa.Integer(), nullable=False),
        sa.Column("replications", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_yard_forecasts_now"), "yard_forecasts", ["now"], unique=False)
    op.create_index(op.f("ix_yard_forecasts_yard"), "yard_forecasts", ["yard"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_yard_forecasts_yard"), table_name="yard_forecasts")
    op.drop_index(op.f("ix_yard_forecasts_now"), table_name="yard_forecasts")
    op.drop_table("yard_forecasts")
