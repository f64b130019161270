"""Replay jobs get an owner and a heartbeat: a lease, so several API processes can share one
database without failing each other's live jobs (a dead owner's jobs fail once it expires).

Jobs already queued or running have no owner: the next API process to start fails them, as
every start did before this revision.

Revision ID: 0004_replay_job_leases
Revises: 0003_worker_health
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_replay_job_leases"
down_revision: str | None = "0003_worker_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the lease columns."""
    with op.batch_alter_table("replay_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("replay_jobs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("owner")
