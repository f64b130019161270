"""The worker's archive as one segment per committed batch (`archive_segments`), in place of
one row per event (`event_archive`); existing entries are moved over in order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

import sqlalchemy as sa
from alembic import op

from api.store import archive_segments
from api.store.db import UtcDateTime
from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance, archive_key

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRIES_PER_MOVED_SEGMENT = 10_000
T = TypeVar("T")

event_archive = sa.table(
    "event_archive",
    sa.column("seq", sa.Integer()),
    sa.column("key", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("yard", sa.String()),
    sa.column("ts", UtcDateTime()),  # moves times as the application stores them
    sa.column("raw", sa.LargeBinary()),
)
archive_table = sa.table(
    "archive_segments",
    sa.column("seq", sa.Integer()),
    sa.column("first_key", sa.String()),
    sa.column("entries", sa.Integer()),
    sa.column("events", sa.Integer()),
    sa.column("first_event_ts", UtcDateTime()),
    sa.column("last_event_ts", UtcDateTime()),
    sa.column("payload", sa.LargeBinary()),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "archive_segments",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("first_key", sa.String(length=128), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("first_event_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("first_key"),
    )
    connection = op.get_bind()
    for entries in _chunks(_rows_as_entries(connection), ENTRIES_PER_MOVED_SEGMENT):
        segment = archive_segments.pack(entries)
        connection.execute(sa.insert(archive_table).values(**segment._asdict()))
    op.drop_table("event_archive")


def downgrade() -> None:
    """Revert this revision."""
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
    connection = op.get_bind()
    sequence = connection.execute(
        sa.select(archive_table.c.seq).order_by(archive_table.c.seq)
    ).scalars()
    for seq in list(sequence):  # one segment in memory at a time
        payload = connection.execute(
            sa.select(archive_table.c.payload).where(archive_table.c.seq == seq)
        ).scalar_one()
        rows = [_entry_as_row(entry) for entry in archive_segments.unpack(bytes(payload))]
        connection.execute(sa.insert(event_archive), rows)
    op.drop_table("archive_segments")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _rows_as_entries(connection: sa.Connection) -> Iterator[ArchiveEntry]:
    """The old archive in order, a page at a time (not held in memory, not a cursor left open)."""
    last = 0
    while True:
        query = (
            sa.select(
                event_archive.c.seq,
                event_archive.c.kind,
                event_archive.c.key,
                event_archive.c.yard,
                event_archive.c.ts,
                event_archive.c.raw,
            )
            .where(event_archive.c.seq > last)
            .order_by(event_archive.c.seq)
            .limit(ENTRIES_PER_MOVED_SEGMENT)
        )
        rows = connection.execute(query).all()
        for seq, kind, key, yard, ts, raw in rows:
            last = seq
            if kind == "advance":
                yield ClockAdvance(ts)
            else:
                yield ArchivedEvent(key, yard, ts, bytes(raw))
        if len(rows) < ENTRIES_PER_MOVED_SEGMENT:
            return


def _entry_as_row(entry: ArchiveEntry) -> dict[str, object]:
    if isinstance(entry, ClockAdvance):
        return {"key": archive_key(entry), "kind": "advance", "yard": None, "ts": entry.moment,
                "raw": None}  # fmt: skip
    return {"key": entry.event_id, "kind": "event", "yard": entry.yard, "ts": entry.ts,
            "raw": entry.raw}  # fmt: skip
