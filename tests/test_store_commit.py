"""The SQL store keeps the `TwinStore` contract on SQLite and PostgreSQL.

One commit is one transaction (a bad batch leaves nothing behind, offsets included), outputs
are keyed upserts (the same batch twice changes nothing; a new value for a key replaces the
old), the archive comes back in commit order with the exact bytes, and timestamps stay aware.
"""

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from api.store import tables as m
from api.store.db import UtcDateTime
from api.store.sql_store import SqlStore
from api.store.tables import table_of
from corridor.store_contract import (
    ArchivedEvent,
    ClockAdvance,
    DeadLetter,
    KpiSnapshot,
    TwinBatch,
)
from stations.records import BoxVisit, LevelChange, ReeferExcursion, TruckVisit
from tests.api_fixtures import (
    T0,
    corridor_batch,
    reefer_id,
    sample_kpis,
    sample_reefer,
    sample_state,
)

NAN = math.nan


def count(store: SqlStore, model: type[Any]) -> int:
    """Rows in a table."""
    with store.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table_of(model))).scalar_one()
        )


def rows(store: SqlStore, model: type[Any]) -> list[dict[str, Any]]:
    """Every row of a table, as dicts, in primary-key order."""
    table = table_of(model)
    with store.engine.connect() as connection:
        query = select(table).order_by(*table.primary_key.columns)
        return [dict(row) for row in connection.execute(query).mappings()]


def truck(truck_id: str, departed: float = NAN) -> TruckVisit:
    """A truck visit record."""
    return TruckVisit(
        "yuzui",
        truck_id,
        reefer_id(9),
        "export",
        2,
        True,
        10.0,
        40.0,
        41.0,
        42.0,
        False,
        50.0,
        53.0,
        departed,
    )


def event(event_id: str, minutes: float) -> ArchivedEvent:
    """An archived event (its raw bytes stand for the message)."""
    ts = T0 + timedelta(minutes=minutes)
    return ArchivedEvent(event_id, "yuzui", ts, f'{{"event_id":"{event_id}"}}'.encode())


def test_same_batch_twice_changes_nothing(store: SqlStore) -> None:
    batch = corridor_batch(T0, offset=7)
    batch.archived = [event("e1", 1), ClockAdvance(T0 + timedelta(minutes=5)), event("e2", 6)]
    batch.records = {
        "truck_visits": [truck("T1", 90.0)],
        "levels": [LevelChange("yuzui", "gate_queue", 1.0, 2.0)],
    }
    batch.dead_letters = [DeadLetter("ts: missing", "corridor.events", 0, 3, b"{}")]
    store.commit(batch)
    tables: tuple[type[Any], ...] = (m.KpiSnapshot, m.YardState, m.ReeferStatus, m.TruckVisit)
    tables += (m.DeadLetter, m.DeadLetterCount, m.ArchiveSegment, m.InputOffset)
    before = {model: rows(store, model) for model in tables}
    store.commit(batch)
    after = {model: rows(store, model) for model in before}
    for model, stored in before.items():
        if model is m.YardState:  # updated_at is the wall clock of the write
            stored = [{**row, "updated_at": None} for row in stored]
            after[model] = [{**row, "updated_at": None} for row in after[model]]
        assert after[model] == stored, model.__name__
    assert count(store, m.KpiSnapshot) == 4 * 4
    assert rows(store, m.DeadLetterCount) == [{"reason": "ts: missing", "count": 1}]


def test_a_new_value_for_a_key_replaces_the_old(store: SqlStore) -> None:
    store.commit(corridor_batch(T0, level=1.0, offset=1))
    store.commit(corridor_batch(T0, level=2.0, offset=2))
    snapshot = [
        row
        for row in rows(store, m.KpiSnapshot)
        if row["scope"] == "yuzui" and row["window"] == "24h"
    ]
    assert len(snapshot) == 1
    assert snapshot[0]["kpis"]["trucks"] == 200
    assert store.load_offsets("corridor-twin") == {("corridor.events", 0): 2}


def test_a_bad_batch_leaves_nothing_behind(store: SqlStore) -> None:
    store.commit(corridor_batch(T0, offset=5))
    bad = corridor_batch(T0 + timedelta(hours=1), offset=9)
    bad.archived = [event("e9", 61)]
    broken = dict(sample_kpis())
    del broken["dwell_h"]
    bad.snapshots.append(KpiSnapshot("yuzui", "24h", T0 + timedelta(hours=2), T0, broken))
    with pytest.raises(ValueError, match="dwell_h"):
        store.commit(bad)
    assert store.load_offsets("corridor-twin") == {("corridor.events", 0): 5}
    assert list(store.load_archive()) == []
    assert count(store, m.KpiSnapshot) == 16


def test_a_failure_inside_the_transaction_rolls_everything_back(store: SqlStore) -> None:
    """A record whose values the database refuses (NULL key) aborts offsets and archive too."""
    store.commit(corridor_batch(T0, offset=5))
    bad = corridor_batch(T0 + timedelta(hours=1), offset=9)
    bad.archived = [event("e9", 61)]
    bad.records = {"truck_visits": [(*truck("T1")[:2], None, *truck("T1")[3:])]}  # NULL key part
    with pytest.raises(Exception, match=r"container_id|NULL|null"):
        store.commit(bad)
    assert store.load_offsets("corridor-twin") == {("corridor.events", 0): 5}
    assert list(store.load_archive()) == []


def test_the_archive_comes_back_in_commit_order_with_its_bytes(store: SqlStore) -> None:
    first = TwinBatch("g", {("t", 0): 2}, archived=[event("b", 5), event("a", 1)])
    second = TwinBatch(
        "g", {("t", 0): 4}, archived=[ClockAdvance(T0 + timedelta(minutes=30)), event("c", 31)]
    )
    store.commit(first)
    store.commit(second)
    store.commit(first)  # a repeat archives nothing twice
    assert list(store.load_archive()) == [*first.archived, *second.archived]


def test_archive_streams_past_one_fetch(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.store.sql_store.SEGMENTS_PER_FETCH", 3)
    for i in range(8):
        store.commit(TwinBatch("g", {}, archived=[event(f"e{i:02d}a", i), event(f"e{i:02d}b", i)]))
    expected = [f"e{i:02d}{half}" for i in range(8) for half in "ab"]
    assert [entry.event_id for entry in store.load_archive()] == expected  # type: ignore[union-attr]


def test_the_archive_keeps_where_each_event_came_from(store: SqlStore) -> None:
    arrived = event("e1", 1)._replace(topic="corridor.truck-dispatch", partition=2, offset=41)
    store.commit(TwinBatch("g", {}, archived=[arrived, ClockAdvance(T0)]))
    assert list(store.load_archive()) == [arrived, ClockAdvance(T0)]


def test_a_batch_is_one_archive_segment_with_its_event_time_range(store: SqlStore) -> None:
    store.commit(TwinBatch("g", {}, archived=[event("b", 5), ClockAdvance(T0), event("a", 1)]))
    store.commit(TwinBatch("g", {}, archived=[ClockAdvance(T0 + timedelta(hours=1))]))
    segments = rows(store, m.ArchiveSegment)
    assert [(row["first_key"], row["entries"], row["events"]) for row in segments] == [
        ("b", 3, 2),
        (f"advance@{(T0 + timedelta(hours=1)).astimezone(UTC).isoformat()}", 1, 0),
    ]
    assert segments[0]["first_event_ts"] == T0 + timedelta(minutes=1)
    assert segments[0]["last_event_ts"] == T0 + timedelta(minutes=5)
    assert segments[1]["first_event_ts"] is None


def test_offsets_are_per_group(store: SqlStore) -> None:
    store.commit(TwinBatch("a", {("t", 0): 10, ("t", 1): 3}))
    store.commit(TwinBatch("b", {("t", 0): 99}))
    assert store.load_offsets("a") == {("t", 0): 10, ("t", 1): 3}
    assert store.load_offsets("b") == {("t", 0): 99}
    assert store.load_offsets("nobody") == {}


def test_records_keep_their_fields_and_nan_becomes_null(store: SqlStore) -> None:
    box = BoxVisit(
        "yuzui", reefer_id(4), "export", 2, True, 100.0, 120.0, NAN, "TR1", True, 0.0,
        inspection_start=125.0, cleared=150.0, loading_start=NAN,
    )  # fmt: skip
    excursion = ReeferExcursion("yuzui", reefer_id(4), "power_off", 130.0, NAN, NAN)
    store.commit(
        TwinBatch("g", {}, records={"box_visits": [box], "reefer_excursions": [excursion]})
    )
    store.commit(TwinBatch("g", {}, records={"box_visits": [box._replace(left=300.0)]}))
    [stored] = rows(store, m.BoxVisit)
    assert stored == {**box._asdict(), "left": 300.0, "loading_start": None}
    [open_excursion] = rows(store, m.ReeferExcursion)
    assert open_excursion["end"] is None
    assert open_excursion["peak_deviation_c"] is None
    assert count(store, m.TruckVisit) == 0


def test_record_values_other_than_bools_and_floats_go_through_the_column_types(
    store: SqlStore,
) -> None:
    """Bools and floats go to the driver as they are (`api.store.upsert`); an int in a Float or
    Boolean column is converted as the column type does, and a value it refuses fails the
    commit, in a batch of otherwise plain rows as alone."""
    plain = [truck(f"T{serial}", departed=60.0 + serial) for serial in range(5)]
    converted = truck("T9")._replace(reefer=1, gate_end=42, exception_lane=0)
    store.commit(TwinBatch("g", {}, records={"truck_visits": [*plain, converted]}))
    stored = {row["truck_id"]: row for row in rows(store, m.TruckVisit)}
    assert stored["T9"]["reefer"] is True
    assert stored["T9"]["exception_lane"] is False
    assert stored["T9"]["gate_end"] == 42.0
    assert stored["T9"]["departed"] is None  # NaN, as in the plain rows' columns
    assert stored["T3"] == plain[3]._asdict()
    refused = truck("T10")._replace(reefer="sometimes")
    with pytest.raises(Exception, match=r"sometimes|bool"):
        store.commit(TwinBatch("g", {}, records={"truck_visits": [*plain, refused]}))
    assert "T10" not in {row["truck_id"] for row in rows(store, m.TruckVisit)}


def test_rows_repeating_a_key_leave_the_last_one_with_nan_among_the_values(
    store: SqlStore,
) -> None:
    first = ReeferExcursion("yuzui", reefer_id(4), "power_off", 130.0, NAN, NAN)
    last = first._replace(peak_deviation_c=2.5)
    store.commit(TwinBatch("g", {}, records={"reefer_excursions": [first, last]}))
    [stored] = rows(store, m.ReeferExcursion)
    assert (stored["end"], stored["peak_deviation_c"]) == (None, 2.5)


def test_unknown_record_tables_and_wrong_widths_are_refused(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="unknown table 'trucks'"):
        store.commit(TwinBatch("g", {}, records={"trucks": [("x",)]}))
    with pytest.raises(ValueError, match=r"records.box_visits\[0\]: 2 values for 14 fields"):
        store.commit(TwinBatch("g", {}, records={"box_visits": [("yuzui", "x")]}))


def test_a_yards_state_replaces_its_reefer_list(store: SqlStore) -> None:
    store.commit(corridor_batch(T0))
    assert {
        row["container_id"] for row in rows(store, m.ReeferStatus) if row["yard"] == "yuzui"
    } == {
        reefer_id(1),
        reefer_id(2),
    }
    later = T0 + timedelta(hours=1)
    store.commit(
        TwinBatch(
            "g",
            {},
            yard_states=[sample_state("yuzui", later)],
            reefers=[sample_reefer("yuzui", 5, later)],
        )
    )
    by_yard = {(row["yard"], row["container_id"]) for row in rows(store, m.ReeferStatus)}
    assert by_yard == {("yuzui", reefer_id(5)), ("tuanjiecun", reefer_id(3))}


def test_malformed_states_and_reefers_are_refused_with_the_field(store: SqlStore) -> None:
    state = sample_state("yuzui", T0)
    del state["gate_queue"]
    with pytest.raises(ValueError, match="gate_queue"):
        store.commit(TwinBatch("g", {}, yard_states=[state]))
    with pytest.raises(ValueError, match="plugged"):
        store.commit(
            TwinBatch("g", {}, reefers=[sample_reefer("yuzui", 1, T0, plugged="sometimes")])
        )


def test_timestamps_come_back_aware_and_naive_ones_are_refused(store: SqlStore) -> None:
    beijing = timezone(timedelta(hours=8))
    as_of = datetime(2026, 1, 5, 8, 0, tzinfo=beijing)
    store.commit(
        TwinBatch("g", {}, snapshots=[KpiSnapshot("yuzui", "1h", as_of, as_of, sample_kpis())])
    )
    [stored] = rows(store, m.KpiSnapshot)
    assert stored["as_of"] == as_of
    assert stored["as_of"].utcoffset() == timedelta(0)
    naive = datetime(2026, 1, 5, 8, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Exception, match="naive datetime"):
        store.commit(
            TwinBatch("g", {}, snapshots=[KpiSnapshot("yuzui", "1h", naive, as_of, sample_kpis())])
        )


@pytest.mark.parametrize("offset_min", [-14 * 60, -570, 0, 345, 480, 14 * 60])
def test_sqlite_text_of_a_timestamp_is_sqlalchemys_own(offset_min: int) -> None:
    """The fast SQLite path writes exactly what SQLAlchemy's DATETIME would (ranges compare it)."""
    dialect = sqlite.dialect()
    column = UtcDateTime().dialect_impl(dialect)
    fast = column.bind_processor(dialect)
    generic = TypeDecorator.bind_processor(column, dialect)
    zone = timezone(timedelta(minutes=offset_min))
    start = datetime(2000, 1, 1, tzinfo=UTC)
    for step in range(2000):
        moment = (start + timedelta(microseconds=step * 1_577_836_800_001_337 // 2000)).astimezone(
            zone
        )
        assert fast(moment) == generic(moment)
    assert fast(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        fast(datetime(2026, 1, 5, 8, 0))  # noqa: DTZ001 - the point of the test


def test_dead_letters_are_kept_once_and_counted_by_reason(store: SqlStore) -> None:
    letters = [DeadLetter("not JSON", "t", 0, offset, b"{") for offset in range(3)]
    store.commit(TwinBatch("g", {}, dead_letters=letters))
    store.commit(
        TwinBatch("g", {}, dead_letters=[*letters, DeadLetter("yard: unknown", "t", 1, 0, b"{}")])
    )
    assert count(store, m.DeadLetter) == 4
    assert rows(store, m.DeadLetterCount) == [
        {"reason": "not JSON", "count": 3},
        {"reason": "yard: unknown", "count": 1},
    ]


def test_the_worker_row_tracks_the_latest_event_time(store: SqlStore) -> None:
    store.commit(TwinBatch("g", {}, archived=[event("a", 50)]))
    store.commit(TwinBatch("g", {}, archived=[ClockAdvance(T0 + timedelta(minutes=90))]))
    [worker] = rows(store, m.WorkerCommit)
    assert worker["last_event_time"] == T0 + timedelta(minutes=50)
    assert worker["committed_at"].tzinfo is not None
    assert abs(worker["committed_at"] - datetime.now(UTC)) < timedelta(minutes=5)


def test_sqlite_text_of_a_timestamp_across_daylight_saving_is_sqlalchemys_own() -> None:
    """A zone with rules (not what events decode to): the offset of each instant is applied."""
    dialect = sqlite.dialect()
    column = UtcDateTime().dialect_impl(dialect)
    fast = column.bind_processor(dialect)
    generic = TypeDecorator.bind_processor(column, dialect)
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # across the spring change
    for step in range(200):
        moment = (start + timedelta(minutes=7 * step, microseconds=step)).astimezone(zone)
        assert fast(moment) == generic(moment)
