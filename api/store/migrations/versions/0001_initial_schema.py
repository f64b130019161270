"""The initial schema: KPI snapshots, live yard state and reefers, completed records, dead
letters, the worker's event archive, offsets and commits, and replay jobs.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "box_visits",
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("container_id", sa.String(length=16), nullable=False),
        sa.Column("entered", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("teu", sa.Integer(), nullable=False),
        sa.Column("reefer", sa.Boolean(), nullable=False),
        sa.Column("stacked", sa.Float(), nullable=True),
        sa.Column("left", sa.Float(), nullable=True),
        sa.Column("train_id", sa.String(length=64), nullable=False),
        sa.Column("inspected", sa.Boolean(), nullable=False),
        sa.Column("plug_wait_min", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("yard", "container_id", "entered"),
    )
    op.create_table(
        "dead_letter_counts",
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("reason"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("source_topic", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_topic", "partition", "offset", name="uq_dead_letters_origin"),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_reason"), ["reason"], unique=False)

    op.create_table(
        "event_archive",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("yard", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "input_offsets",
        sa.Column("group", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group", "topic", "partition"),
    )
    op.create_table(
        "kpi_snapshots",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "window", "as_of", name="uq_kpi_snapshots_key"),
    )
    op.create_table(
        "observations",
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("milestone", sa.String(length=16), nullable=False),
        sa.Column("observed", sa.Float(), nullable=True),
        sa.Column("modelled", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("yard", "subject_id", "milestone"),
    )
    op.create_table(
        "reefer_excursions",
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("container_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=True),
        sa.Column("peak_deviation_c", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("yard", "container_id", "kind", "start"),
    )
    op.create_table(
        "reefer_status",
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("container_id", sa.String(length=16), nullable=False),
        sa.Column("setpoint_c", sa.Float(), nullable=True),
        sa.Column("supply_c", sa.Float(), nullable=True),
        sa.Column("return_c", sa.Float(), nullable=True),
        sa.Column("power", sa.String(length=8), nullable=True),
        sa.Column("alarms", sa.JSON(), nullable=False),
        sa.Column("last_reading", sa.DateTime(timezone=True), nullable=True),
        sa.Column("plugged", sa.Boolean(), nullable=False),
        sa.Column("in_excursion", sa.Boolean(), nullable=False),
        sa.Column("excursion_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("estimated_cargo_c", sa.Float(), nullable=True),
        sa.Column("alarm_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("yard", "container_id"),
    )
    op.create_table(
        "replay_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("scenario", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("events", sa.Integer(), nullable=True),
        sa.Column("rejected_lines", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "train_visits",
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("train_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("scheduled", sa.Float(), nullable=True),
        sa.Column("work_start", sa.Float(), nullable=True),
        sa.Column("work_end", sa.Float(), nullable=True),
        sa.Column("departed", sa.Float(), nullable=True),
        sa.Column("boxes", sa.Integer(), nullable=False),
        sa.Column("teu", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("yard", "train_id", "direction"),
    )
    op.create_table(
        "truck_visits",
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("truck_id", sa.String(length=64), nullable=False),
        sa.Column("dispatched", sa.Float(), nullable=False),
        sa.Column("container_id", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("teu", sa.Integer(), nullable=False),
        sa.Column("reefer", sa.Boolean(), nullable=False),
        sa.Column("arrived", sa.Float(), nullable=True),
        sa.Column("gate_start", sa.Float(), nullable=True),
        sa.Column("gate_end", sa.Float(), nullable=True),
        sa.Column("exception_lane", sa.Boolean(), nullable=False),
        sa.Column("lift_start", sa.Float(), nullable=True),
        sa.Column("lift_end", sa.Float(), nullable=True),
        sa.Column("departed", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("yard", "truck_id", "dispatched"),
    )
    op.create_table(
        "worker_commits",
        sa.Column("group", sa.String(length=255), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lag", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("group"),
    )
    op.create_table(
        "yard_states",
        sa.Column("yard", sa.String(length=32), nullable=False),
        sa.Column("clock", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("yard"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("yard_states")
    op.drop_table("worker_commits")
    op.drop_table("truck_visits")
    op.drop_table("train_visits")
    op.drop_table("replay_jobs")
    op.drop_table("reefer_status")
    op.drop_table("reefer_excursions")
    op.drop_table("observations")
    op.drop_table("kpi_snapshots")
    op.drop_table("input_offsets")
    op.drop_table("event_archive")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_reason"))

    op.drop_table("dead_letters")
    op.drop_table("dead_letter_counts")
    op.drop_table("box_visits")
