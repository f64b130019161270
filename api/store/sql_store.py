"""The live twin's durable memory on SQL: `corridor.store_contract.TwinStore`, implemented.

One `commit` writes a worker's batch in a single transaction: the accepted events (archived in
arrival order as one segment per batch, so a restarted worker rebuilds each yard by replaying
them; see `api.store.archive_segments`), the input offsets, the outputs as keyed upserts, and
now and then the live twin's snapshot (`api.store.twin_snapshots`: a restart replays only the
archive after it). Either all of it is stored or none of it, so offsets never run
ahead of outputs; and committing the same batch twice changes nothing.

Snapshots, yard states and reefer statuses are validated against the API's response models
here, at the worker, so a malformed output fails the commit loudly instead of breaking a reader
later. A batch carrying a yard's state carries that yard's complete reefer list and list of old
boxes: reefers and boxes of that yard that are not in them have left and are removed.
"""

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select

from api.kpi_responses import validate_kpis
from api.store import archive_segments, fencing, forecasts, twin_snapshots, yard_forecasts
from api.store import tables as m
from api.store.bulk_checks import BulkCheck
from api.store.db import make_engine, upgrade
from api.store.db import utc_now as utc_now  # the API's modules take the clock from here
from api.store.json_values import json_data, jsonable
from api.store.record_rows import NOT_PERSISTED, PERSISTED_RECORDS, persisted_rows
from api.store.tables import table_of
from api.store.upsert import dialect_insert, insert_new_values, upsert, upsert_values
from corridor import store_contract
from corridor.forecast.yard_parts import PartsOwner
from corridor.kpis.merge import complete

SEGMENTS_PER_FETCH = 16  # archive segments (committed batches) per round trip when loading


class SqlStore:
    """`TwinStore` on SQLite or PostgreSQL (the same database the API reads)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> "SqlStore":
        """Connect to `url` and, by default, bring the schema up to date (`upgrade head`)."""
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def reopener(self) -> store_contract.StoreOpener | None:
        """This store opened again, in another process (`streams.store_writer`); None for an
        in-memory SQLite database, which only this process sees. The schema is this one's."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            return None
        opened = partial(SqlStore.open, url.render_as_string(hide_password=False), migrate=False)
        return store_contract.StoreOpener(opened, NOT_PERSISTED)

    def load_offsets(self, group: str) -> dict[store_contract.TopicPartition, int]:
        """The next offset to read per topic partition, as last committed by `group`."""
        table = table_of(m.InputOffset)
        query = select(table.c.topic, table.c.partition, table.c.next_offset).where(
            table.c.group == group
        )
        with self.engine.connect() as connection:
            return {(topic, part): offset for topic, part, offset in connection.execute(query)}

    def load_archive(self, after: int = 0) -> Iterator[store_contract.ArchiveEntry]:
        """Every archived entry in commit order (after the segment `after`: a twin snapshot's
        position), streamed a few segments at a time."""
        table = table_of(m.ArchiveSegment)
        last = after
        while True:
            query = (
                select(table.c.seq, table.c.payload)
                .where(table.c.seq > last)
                .order_by(table.c.seq)
                .limit(SEGMENTS_PER_FETCH)
            )
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
            for seq, payload in rows:
                last = seq
                yield from archive_segments.unpack(bytes(payload))
            if len(rows) < SEGMENTS_PER_FETCH:
                return

    def twin_snapshots(self) -> list[store_contract.StoredTwinSnapshot]:
        """The stored live-twin snapshots, newest first (`api.store.twin_snapshots`)."""
        return twin_snapshots.listed(self.engine)

    def member_snapshots(
        self, partitions: frozenset[store_contract.TopicPartition]
    ) -> list[store_contract.StoredTwinSnapshot]:
        """Group members' snapshots covering any of `partitions`, newest first."""
        return twin_snapshots.member_listed(self.engine, partitions)

    def claim_partitions(
        self, group: str, partitions: frozenset[store_contract.TopicPartition]
    ) -> str:
        """A group member's claim on `partitions` (`api.store.fencing`)."""
        return fencing.claim(self.engine, group, partitions)

    def partials_until(self) -> dict[str, datetime]:
        """Per yard, the latest `as_of` of its stored KPI partials."""
        return fencing.partials_until(self.engine, table_of(m.KpiPartial))

    def twin_snapshot_data(self, snapshot_id: int) -> bytes | None:
        """A stored live-twin snapshot's bytes (None: pruned since listed)."""
        return twin_snapshots.data(self.engine, snapshot_id)

    def put_forecast(self, result: dict[str, Any], keep: int) -> None:
        """Store the worker's forecast, keeping the newest `keep` (`api.store.forecasts`)."""
        forecasts.put(self.engine, result, keep)

    def put_yard_forecasts(self, result: dict[str, Any], keep: int, owner: PartsOwner) -> bool:
        """Store a worker's yard parts of a forecast, fenced by its claim, and merge the
        corridor's forecast once every yard's part is in (`api.store.yard_forecasts`)."""
        return yard_forecasts.put(self.engine, result, keep, owner)

    def archived(self, event_id: str, ts: datetime) -> bool:
        """Is an event with this id and time in the archive? Unpacks only the segments whose
        event times span `ts` (a repeat carries its original's time)."""
        table = table_of(m.ArchiveSegment)
        query = select(table.c.payload).where(
            table.c.first_event_ts <= ts, table.c.last_event_ts >= ts
        )
        with self.engine.connect() as connection:
            payloads = connection.execute(query).scalars().all()
        return any(
            isinstance(entry, store_contract.ArchivedEvent) and entry.event_id == event_id
            for payload in payloads
            for entry in archive_segments.unpack(bytes(payload))
        )

    def commit(self, batch: store_contract.TwinBatch) -> None:
        """Write the batch atomically: archive, offsets and keyed-upsert outputs together."""
        now = utc_now()
        snapshots = [_snapshot_row(snapshot) for snapshot in batch.snapshots]
        states = [_state_row(state, now) for state in batch.yard_states]
        reefers = [_reefer_row(reefer) for reefer in batch.reefers]
        boxes = _BOXES.rows(batch.boxes)
        nan_binds_null = self.engine.dialect.name == "sqlite"
        record_rows = {
            name: persisted_rows(name, rows, nan_binds_null=nan_binds_null)
            for name, rows in batch.records.items()
        }
        segment = archive_segments.pack(batch.archived) if batch.archived else None
        partials = [
            {"yard": p.yard, "window": p.window, "as_of": p.as_of, "partial": json_data(p.partial)}
            for p in batch.partials
        ]
        with self.engine.begin() as connection:
            fencing.hold(connection, batch.group, batch.fence)  # first: it takes the locks
            _archive(connection, segment)
            _offsets(connection, batch.group, batch.offsets)
            _worker(connection, batch, segment, now)
            upsert(connection, table_of(m.KpiSnapshot), snapshots, ("scope", "window", "as_of"))
            upsert(connection, table_of(m.KpiPartial), partials, ("yard", "window", "as_of"))
            upsert(connection, table_of(m.YardState), states, ("yard",))
            full_yards = {row["yard"] for row in states}
            _replace_yard_rows(connection, table_of(m.ReeferStatus), full_yards, reefers)
            _replace_yard_rows(connection, table_of(m.OverdueBox), full_yards, boxes)
            for name, rows in record_rows.items():
                table, fields, key = PERSISTED_RECORDS.get(name, (None, (), ()))
                if table is not None:
                    upsert_values(connection, table, fields, rows, key)
            _dead_letters(connection, batch.dead_letters, now)
            _flags(connection, batch.flags)
            if batch.twin_snapshot is not None:
                first_key = segment.first_key if segment is not None else None
                segments = table_of(m.ArchiveSegment)
                twin_snapshots.write(connection, batch.twin_snapshot, segments, first_key)
        self._complete_corridor(batch)

    def _complete_corridor(self, batch: store_contract.TwinBatch) -> None:
        """Merge the corridor's snapshot at each (window, as_of) of the batch's partials once
        every yard's partial there is stored (`corridor.kpis.merge`), unless the batch carries
        it. Run after the commit, in a transaction of its own, so the worker committing the last
        yard of a boundary sees the others' rows whichever committed first; two that both see
        them write the same figures (the merge is deterministic; the upsert is keyed)."""
        given = {(s.window, s.as_of) for s in batch.snapshots if s.scope == "corridor"}
        keys = sorted({(p.window, p.as_of) for p in batch.partials} - given)
        if not keys or not batch.yards:
            return
        table = table_of(m.KpiPartial)
        now = utc_now()
        with self.engine.begin() as connection:
            rows = []
            for window, as_of in keys:
                query = select(table.c.yard, table.c.partial).where(
                    table.c.window == window, table.c.as_of == as_of
                )
                stored = {row.yard: row.partial for row in connection.execute(query)}
                kpis = complete(batch.yards, stored)
                if kpis is not None:
                    snapshot = store_contract.KpiSnapshot("corridor", window, as_of, now, kpis)
                    rows.append(_snapshot_row(snapshot))
            upsert(connection, table_of(m.KpiSnapshot), rows, ("scope", "window", "as_of"))


def _archive(connection: Connection, segment: archive_segments.Segment | None) -> None:
    if segment is not None:
        insert_new_values(
            connection, table_of(m.ArchiveSegment), segment._fields, [segment], ("first_key",)
        )


def _offsets(
    connection: Connection, group: str, offsets: dict[store_contract.TopicPartition, int]
) -> None:
    rows = [
        {"group": group, "topic": topic, "partition": part, "next_offset": offset}
        for (topic, part), offset in sorted(offsets.items())
    ]
    upsert(connection, table_of(m.InputOffset), rows, ("group", "topic", "partition"))


def _worker(
    connection: Connection,
    batch: store_contract.TwinBatch,
    segment: archive_segments.Segment | None,
    now: datetime,
) -> None:
    """Remember when the group last committed, its latest event time and (if reported) its lag."""
    table = table_of(m.WorkerCommit)
    previous = connection.execute(
        select(table.c.last_event_time).where(table.c.group == batch.group)
    ).scalar_one_or_none()
    newest = segment.last_event_ts if segment is not None else None
    latest = max([time for time in (previous, newest) if time is not None], default=None)
    row = {
        "group": batch.group,
        "committed_at": now,
        "last_event_time": latest,
        "lag": batch.lag,
        "yards_ahead": dict(sorted(batch.yards_ahead.items())),
    }
    upsert(connection, table, [row], ("group",))


def _flags(connection: Connection, flags: Mapping[str, int]) -> None:
    """Add the batch's flagged-input counts to the totals."""
    add_counts(connection, table_of(m.InputFlagCount), "kind", flags)


def _replace_yard_rows(
    connection: Connection, table: Table, full_yards: set[str], rows: list[dict[str, Any]]
) -> None:
    """Replace the lists (reefers, old boxes) of yards whose state came with this batch; upsert
    the rest."""
    if full_yards:
        connection.execute(delete(table).where(table.c.yard.in_(sorted(full_yards))))
    upsert(connection, table, rows, ("yard", "container_id"))


def _dead_letters(
    connection: Connection, letters: list[store_contract.DeadLetter], now: datetime
) -> None:
    """Store each letter once (keyed by its origin) and count the ones that are new, by reason."""
    table = table_of(m.DeadLetter)
    added: Counter[str] = Counter()
    for letter in letters:
        statement = (
            dialect_insert(connection, table)
            .values(
                reason=letter.reason,
                source_topic=letter.source_topic,
                partition=letter.partition,
                offset=letter.offset,
                raw=letter.raw,
                stored_at=now,
            )
            .on_conflict_do_nothing(index_elements=["source_topic", "partition", "offset"])
            .returning(table.c.id)
        )
        if connection.execute(statement).first() is not None:
            added[letter.reason] += 1
    add_counts(connection, table_of(m.DeadLetterCount), "reason", added)


def add_counts(connection: Connection, table: Table, key: str, counts: Mapping[str, int]) -> None:
    """Add `counts` to a table of totals keyed by `key` (rows created as needed)."""
    for name, count in sorted(counts.items()):
        statement = dialect_insert(connection, table).values({key: name, "count": count})
        statement = statement.on_conflict_do_update(
            index_elements=[key], set_={"count": table.c.count + statement.excluded.count}
        )
        connection.execute(statement)


def _snapshot_row(snapshot: store_contract.KpiSnapshot) -> dict[str, Any]:
    kpis = json_data(snapshot.kpis)
    try:
        validate_kpis(kpis)
    except ValueError as error:
        where = f"snapshot {snapshot.scope}/{snapshot.window}@{snapshot.as_of.isoformat()}"
        raise ValueError(f"{where}: KPIs do not have the kpis.json shape: {error}") from error
    return {
        "scope": snapshot.scope,
        "window": snapshot.window,
        "as_of": snapshot.as_of,
        "computed_at": snapshot.computed_at,
        "kpis": kpis,
    }


def _state_row(state: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    try:
        checked = m.YardStatePublic.model_validate(dict(state))
    except ValueError as error:
        raise ValueError(f"yard state {state.get('yard')!r}: {error}") from error
    return {
        "yard": checked.yard,
        "clock": checked.clock,
        "state": jsonable(state),
        "updated_at": now,
    }


def _reefer_row(reefer: Mapping[str, Any]) -> dict[str, Any]:
    try:
        checked = m.ReeferStatusPublic.model_validate(dict(reefer))
    except ValueError as error:
        raise ValueError(f"reefer status {reefer.get('container_id')!r}: {error}") from error
    return {**checked.model_dump(), "alarm_count": len(checked.alarms)}


def _box_row(box: Mapping[str, Any]) -> dict[str, Any]:
    try:
        checked = m.OverdueBoxPublic.model_validate(dict(box))
    except ValueError as error:
        raise ValueError(f"old box {box.get('container_id')!r}: {error}") from error
    return checked.model_dump()


_BOXES = BulkCheck(m.OverdueBoxPublic, _box_row)
