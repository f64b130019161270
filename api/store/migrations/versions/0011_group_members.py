"""A consumer group's members: their twin snapshots by partition (`twin_snapshots.scope`) and
the partitions' owners (`partition_owners`, the fence of `api.store.fencing`).

Revision ID: 0011_group_members
Revises: 0010_whatif_jobs
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_group_members"
down_revision: str | None = "0010_whatif_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("twin_snapshots") as batch:
        batch.add_column(sa.Column("scope", sa.String(), nullable=True))
    op.create_table(
        "partition_owners",
        sa.Column("group", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("group", "topic", "partition"),
    )
    op.create_index(op.f("ix_partition_owners_claim"), "partition_owners", ["claim"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_partition_owners_claim"), table_name="partition_owners")
    op.drop_table("partition_owners")
    with op.batch_alter_table("twin_snapshots") as batch:
        batch.drop_column("scope")
