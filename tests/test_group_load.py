"""A group member loads its yards from the members' twin snapshots and the archive tails.

Two members' twins (as `streams.worker` keeps them: admits, then watermarks) over a day of
generated traffic, one yard per partition: member A owns the partitions of two yards, member B
the third's. Each stores its twin's snapshot, scoped to its partitions, at its own watermark
(B behind A), in the real SQL store, then archives more events (the tails). A member given all
three partitions loads one twin from both snapshots and the tails after them
(`streams.group_load`); run to the end of the day it holds exactly the records of a twin that
replayed the whole archive. A corrupt snapshot falls back to the archive, with the same result.
"""

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from api.store.sql_store import SqlStore
from api.store.tables import TwinSnapshotRow, table_of
from corridor.contract.events import Event, encode_event
from corridor.store_contract import (
    ArchivedEvent,
    ClockAdvance,
    MemberScope,
    TwinBatch,
    TwinSnapshotOut,
)
from streams.group_load import load_partitions
from streams.live import state
from streams.live.reorder import from_micros, to_micros
from streams.live.twin import LiveTwin
from streams.rebalance import load_from_archive
from tests.broker_fixtures import SEED, generated_day, stations

YARDS = sorted(stations())
ALL = frozenset(("t", index) for index in range(len(YARDS)))


def of(event: Event) -> tuple[str, int]:
    """The partition of the event's yard."""
    return ("t", YARDS.index(event.yard))


def archived(event: Event, offset: int) -> ArchivedEvent:
    partition = YARDS.index(event.yard)
    return ArchivedEvent(
        event.event_id, event.yard, event.ts, encode_event(event), "t", partition, offset
    )


def member(
    store: SqlStore, events: Sequence[Event], until: int, partitions: frozenset[tuple[str, int]]
) -> int:
    """A member's twin fed `events[:until]` of its partitions in batches, each batch's archive
    and watermark committed, its snapshot stored with the last; returns the snapshot's id."""
    live = LiveTwin(stations(), SEED)
    mine = [
        (i, e) for i, e in enumerate(events[:until]) if ("t", YARDS.index(e.yard)) in partitions
    ]
    for start in range(0, len(mine), 200):
        batch = TwinBatch("g", offsets={})
        for offset, event in mine[start : start + 200]:
            live.admit(event, encode_event(event))
            batch.archived.append(archived(event, offset))
        assert live.newest is not None
        watermark = live.newest - 600_000_000  # ten minutes of lateness
        live.advance(watermark)
        batch.archived.append(ClockAdvance(from_micros(watermark)))
        store.commit(batch)
    assert live.watermark is not None
    yards = {yard: frozenset({("t", YARDS.index(yard))}) for yard in YARDS}
    scope = MemberScope(partitions, {y: p for y, p in yards.items() if p <= partitions})
    out = TwinSnapshotOut(from_micros(live.watermark), state.encode(live.snapshot()), 8, scope)
    store.commit(TwinBatch("g", offsets={}, twin_snapshot=out))
    return store.member_snapshots(partitions)[0].id


def tail(store: SqlStore, events: Sequence[Event], done: set[int]) -> None:
    """The events not archived yet archived (by whichever member: no clock advance matters)."""
    batch = TwinBatch("g", offsets={})
    batch.archived = [archived(e, offset) for offset, e in enumerate(events) if offset not in done]
    store.commit(batch)


def records(live: LiveTwin, until: Any) -> dict[str, list[str]]:
    """Every record the twin holds once run to `until`, sorted per table (as text: a time
    not happened is NaN, which equals nothing)."""
    live.advance(to_micros(until))
    assert live.twin is not None
    return {name: sorted(map(repr, rows)) for name, rows in live.twin.tables().items()}


def shared_day(tmp_path: Path) -> tuple[SqlStore, list[Event], list[int]]:
    events = generated_day()
    store = SqlStore.open(f"sqlite:///{tmp_path / 'twin.db'}")
    a, a_until, b_until = frozenset({("t", 0), ("t", 1)}), len(events) * 2 // 3, len(events) // 2
    ids = [member(store, events, a_until, a)]
    ids.append(member(store, events, b_until, ALL - a))  # B is behind A
    done = {i for i, e in enumerate(events) if i < (a_until if of(e) in a else b_until)}
    tail(store, events, done)  # B's tail, and A's after it
    return store, events, ids


def test_a_member_loads_the_yards_of_two_snapshots_and_their_tails(tmp_path: Path) -> None:
    store, events, ids = shared_day(tmp_path)
    end = max(event.ts for event in events) + timedelta(hours=1)

    loaded = load_partitions(store, stations(), SEED)(ALL)

    assert sorted(loaded.snapshot_ids) == sorted(ids)
    assert loaded.entries < len(events), "only the tails were replayed"
    assert set(loaded.loaded_at) == set(YARDS)
    assert loaded.loaded_at[YARDS[2]] < loaded.loaded_at[YARDS[0]]
    whole = load_from_archive(store, stations(), SEED)(ALL)
    assert whole.entries == len(events)
    assert records(loaded.live, end) == records(whole.live, end)


def test_a_member_loads_one_yard_of_a_snapshot_of_two(tmp_path: Path) -> None:
    store, events, ids = shared_day(tmp_path)
    end = max(event.ts for event in events) + timedelta(hours=1)
    one = frozenset({("t", 1)})

    loaded = load_partitions(store, stations(), SEED)(one)

    assert loaded.snapshot_ids == (ids[0],)
    assert set(loaded.yards) == {YARDS[1]}
    whole = load_from_archive(store, stations(), SEED)(one)
    got, want = records(loaded.live, end), records(whole.live, end)
    assert any(got.values())
    assert got == want


def test_a_corrupt_snapshot_falls_back_to_the_archive(tmp_path: Path) -> None:
    store, events, ids = shared_day(tmp_path)
    end = max(event.ts for event in events) + timedelta(hours=1)
    table = table_of(TwinSnapshotRow)
    with store.engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == ids[1]).values(data=b"\x93garbage"))

    loaded = load_partitions(store, stations(), SEED)(ALL)

    assert loaded.snapshot_ids == (ids[0],), "B's yard rebuilt from its whole archive"
    whole = load_from_archive(store, stations(), SEED)(ALL)
    assert records(loaded.live, end) == records(whole.live, end)
