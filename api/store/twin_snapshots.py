"""The live twin's snapshots in the store: a restart loads the newest and replays the rest.

A worker's commit may carry its live twin's whole state (`TwinBatch.twin_snapshot`, the bytes
of `streams.live.state`). It is written in the commit's transaction, after the commit's
archive segment, and remembers that segment's `seq` as its `position`: the snapshot is the
state after every archive entry up to and including that segment, so a restart restores it
and replays `load_archive(after=position)` only (`streams.twin_restart`). Only the newest
`keep` rows stay (a snapshot is a cache of the archive, never the only copy; older ones give
the API its reach into the past, `GET /yards/{yard}/state?at=`).

A consumer group's member stores the twin of its partitions only, with them as its `scope`
(JSON: `{"partitions": [[topic, partition], ...], "yards": {yard: [[topic, partition], ...]}}`,
the partitions each of its yards came on); a single worker's snapshot has none. The two kinds are
listed apart (`listed`, `member_listed`): a restart of a single worker never loads a member's
partial twin, and a member loads, per partition, the newest snapshot covering it
(`streams.group_load`). A member's snapshot is pruned once each of its partitions is covered
by `keep` newer ones.
"""

import json
from collections import Counter
from datetime import datetime

from sqlalchemy import Connection, Engine, LargeBinary, Table, delete, select
from sqlmodel import Field, SQLModel

from api.store.db import UtcDateTime
from corridor.store_contract import (
    MemberScope,
    StoredTwinSnapshot,
    TopicPartition,
    TwinSnapshotOut,
)


class TwinSnapshotRow(SQLModel, table=True):
    """One live-twin snapshot: its watermark, the archive segment it covers, its bytes."""

    __tablename__ = "twin_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    watermark: datetime = Field(sa_type=UtcDateTime, index=True)
    position: int  # archive_segments.seq of the last segment the snapshot covers
    size: int  # bytes, shown without reading them
    stored_at: datetime = Field(sa_type=UtcDateTime)
    data: bytes = Field(sa_type=LargeBinary)
    scope: str | None = None  # a group member's partitions, JSON (None: a single worker's)


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
            scope=None if snapshot.scope is None else _scope_text(snapshot.scope),
        )
    )
    keep = max(1, snapshot.keep)
    if snapshot.scope is not None:
        _prune_members(connection, keep)
        return
    kept = select(table.c.id).where(table.c.scope.is_(None)).order_by(table.c.id.desc()).limit(keep)
    connection.execute(
        delete(table).where(table.c.scope.is_(None), table.c.id.not_in(kept.scalar_subquery()))
    )


def _pairs(partitions: frozenset[TopicPartition]) -> list[list[str | int]]:
    return sorted([topic, partition] for topic, partition in partitions)


def _partitions(pairs: list[list[str | int]]) -> frozenset[TopicPartition]:
    return frozenset((str(topic), int(partition)) for topic, partition in pairs)


def _scope_text(scope: MemberScope) -> str:
    yards = {yard: _pairs(where) for yard, where in sorted(scope.yards.items())}
    return json.dumps({"partitions": _pairs(scope.partitions), "yards": yards})


def _scope_of(text: str) -> MemberScope:
    data = json.loads(text)
    yards = {str(yard): _partitions(pairs) for yard, pairs in data["yards"].items()}
    return MemberScope(_partitions(data["partitions"]), yards)


def _prune_members(connection: Connection, keep: int) -> None:
    """Delete the members' snapshots each of whose partitions has `keep` newer ones."""
    table = _table()
    query = select(table.c.id, table.c.scope).where(table.c.scope.is_not(None))
    newer: Counter[TopicPartition] = Counter()
    gone = []
    for snapshot_id, text in connection.execute(query.order_by(table.c.id.desc())):
        scope = _scope_of(text).partitions
        if scope and all(newer[where] >= keep for where in scope):
            gone.append(snapshot_id)
        newer.update(scope)
    if gone:
        connection.execute(delete(table).where(table.c.id.in_(gone)))


def listed(engine: Engine) -> list[StoredTwinSnapshot]:
    """A single worker's stored snapshots, newest first (without their bytes)."""
    table = _table()
    query = (
        select(table.c.id, table.c.watermark, table.c.position)
        .where(table.c.scope.is_(None))
        .order_by(table.c.id.desc())
    )
    with engine.connect() as connection:
        return [StoredTwinSnapshot(*row) for row in connection.execute(query)]


def member_listed(
    engine: Engine, partitions: frozenset[TopicPartition]
) -> list[StoredTwinSnapshot]:
    """The group members' stored snapshots covering any of `partitions`, newest first."""
    table = _table()
    query = (
        select(table.c.id, table.c.watermark, table.c.position, table.c.scope)
        .where(table.c.scope.is_not(None))
        .order_by(table.c.id.desc())
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    found = []
    for snapshot_id, watermark, position, text in rows:
        scope = _scope_of(text)
        if scope.partitions & partitions:
            found.append(StoredTwinSnapshot(snapshot_id, watermark, position, scope))
    return found


def data(engine: Engine, snapshot_id: int) -> bytes | None:
    """One snapshot's bytes (None: pruned since it was listed)."""
    table = _table()
    with engine.connect() as connection:
        found = connection.execute(
            select(table.c.data).where(table.c.id == snapshot_id)
        ).scalar_one_or_none()
    return None if found is None else bytes(found)
