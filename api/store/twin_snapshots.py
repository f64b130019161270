"""The live twin's snapshots in the store: a restart loads the newest and replays the rest.

A worker's commit may carry its live twin's whole state (`TwinBatch.twin_snapshot`, the bytes
of `streams.live.state`). It is written in the commit's transaction, after the commit's
archive segment, and remembers that segment's `seq` as its `position`: the snapshot is the
state after every archive entry up to and including that segment, so a restart restores it
and replays `load_archive(after=position)` only (`streams.twin_restart`). Only the newest
`keep` rows stay (a snapshot is a cache of the archive, never the only copy; older ones give
the API its reach into the past, `GET /yards/{yard}/state?at=`).
"""

from datetime import datetime

from sqlalchemy import Connection, Engine, LargeBinary, Table, delete, select
from sqlmodel import Field, SQLModel

from api.store.db import UtcDateTime
from corridor.store_contract import StoredTwinSnapshot, TwinSnapshotOut


class TwinSnapshotRow(SQLModel, table=True):
    """One live-twin snapshot: its watermark, the archive segment it covers, its bytes."""

    __tablename__ = "twin_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    watermark: datetime = Field(sa_type=UtcDateTime, index=True)
    position: int  # archive_segments.seq of the last segment the snapshot covers
    size: int  # bytes, shown without reading them
    stored_at: datetime = Field(sa_type=UtcDateTime)
    data: bytes = Field(sa_type=LargeBinary)


def _table() -> Table:
    table = TwinSnapshotRow.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def write(
    connection: Connection, snapshot: TwinSnapshotOut, segment_table: Table, first_key: str | None
) -> None:
    """Store `snapshot` after the commit's segment (keyed `first_key`), keep the newest `keep`.

    Without a segment in this commit the snapshot covers the archive as it stands."""
    table = _table()
    if first_key is not None:
        where = segment_table.c.first_key == first_key
        position = connection.execute(select(segment_table.c.seq).where(where)).scalar_one()
    else:
        query = select(segment_table.c.seq).order_by(segment_table.c.seq.desc()).limit(1)
        position = connection.execute(query).scalar_one_or_none() or 0
    connection.execute(
        table.insert().values(
            watermark=snapshot.watermark,
            position=position,
            size=len(snapshot.data),
            stored_at=datetime.now(snapshot.watermark.tzinfo),
            data=snapshot.data,
        )
    )
    kept = select(table.c.id).order_by(table.c.id.desc()).limit(max(1, snapshot.keep))
    connection.execute(delete(table).where(table.c.id.not_in(kept.scalar_subquery())))


def listed(engine: Engine) -> list[StoredTwinSnapshot]:
    """The stored snapshots, newest first (without their bytes)."""
    table = _table()
    query = select(table.c.id, table.c.watermark, table.c.position).order_by(table.c.id.desc())
    with engine.connect() as connection:
        return [StoredTwinSnapshot(*row) for row in connection.execute(query)]


def data(engine: Engine, snapshot_id: int) -> bytes | None:
    """One snapshot's bytes (None: pruned since it was listed)."""
    table = _table()
    with engine.connect() as connection:
        found = connection.execute(
            select(table.c.data).where(table.c.id == snapshot_id)
        ).scalar_one_or_none()
    return None if found is None else bytes(found)
