"""Restart in seconds: the worker stores its live twin's snapshot with its commits, and a
restart loads the newest one and replays only the archive after it.

A real worker loop (on the in-memory Kafka doubles; the store is the real SQL store, SQLite and
PostgreSQL)
catches up on a generated day's first part with a twin snapshot due every hour of event time,
stops cleanly, and a new worker takes the rest. Its KPIs equal those of a worker that never
stopped; it replayed only the archive after the newest snapshot; a corrupt newest snapshot
falls back to the one before it, none at all to the whole archive, with the same result.
"""

import json
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from api.store.sql_store import SqlStore
from api.store.tables import TwinSnapshotRow, table_of
from corridor.store_contract import TwinBatch
from streams.live import state
from streams.live.memory_store import MemoryStore
from streams.live.reorder import to_micros
from streams.live.twin import LiveTwin
from streams.settings import KafkaSettings
from streams.twin_restart import TwinSnapshots
from streams.worker import Worker
from tests.api_fixtures import final_kpis
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import FakeCluster, cluster_for, fake_settings, fake_worker, publish

EVENTS = generated_day(days=2)
SPLIT = len(EVENTS) * 3 // 4  # the first worker stops after these
NOW = EVENTS[-1].ts + timedelta(hours=1)  # the wall clock the workers are given
KEPT = 3


@pytest.fixture(autouse=True)
def snapshots_whatever_their_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """These workers catch up (full batches of 300), where a snapshot is due only after ten
    times its cost of wall time (`CATCHUP_SHARE`): here one every hour of event time."""
    monkeypatch.setattr("streams.twin_restart.CATCHUP_SHARE", float("inf"))


def settings(**changes: Any) -> KafkaSettings:
    given = {"twin_snapshot_every": timedelta(hours=1), **changes}
    return fake_settings(batch_size=300, twin_snapshots_kept=KEPT, **given)


def worker(cluster: FakeCluster, store: Any, given: KafkaSettings) -> Worker:
    return fake_worker(cluster, given, store, stations(), SEED, now=lambda: NOW)


@pytest.fixture(scope="module")
def never_stopped() -> dict[tuple[str, str], Any]:
    """The newest KPIs of the same two workers without snapshots: the second replays the whole
    archive, as before snapshots existed (crash equivalence of that: `test_worker_crash.py`).

    (Not one worker taking both parts: on these doubles a worker that saw every partition end
    counts as quiet and flushes its buffer when the rest arrives, which a fresh one does not.)
    """
    given = settings(twin_snapshot_every=timedelta(0))
    cluster, store = cluster_for(given), MemoryStore()
    publish(cluster, given, EVENTS[:SPLIT])
    first = worker(cluster, store, given)
    first.run(idle_exit_s=0.05)
    first.close()
    publish(cluster, given, EVENTS[SPLIT:])
    second = worker(cluster, store, given)
    second.run(idle_exit_s=0.05)
    assert (
        second.stats.rebuilt == len(store.archive) - second.stats.archived - second.stats.advances
    )
    newest = {key: as_json(kpis.kpis) for key, kpis in store.latest_snapshots().items()}
    second.close()  # its commit thread would run on into later modules
    return newest


def first_part(store: SqlStore) -> tuple[FakeCluster, SqlStore, KafkaSettings]:
    """A worker took the first part and stopped cleanly (its last snapshot stored)."""
    given = settings()
    cluster = cluster_for(given)
    publish(cluster, given, EVENTS[:SPLIT])
    first = worker(cluster, store, given)
    first.run(idle_exit_s=0.05)
    first.close()
    assert first.twin_snapshots.taken > KEPT, "snapshots were due every hour of event time"
    publish(cluster, given, EVENTS[SPLIT:])
    return cluster, store, given


def rest(cluster: FakeCluster, store: SqlStore, given: KafkaSettings) -> Worker:
    second = worker(cluster, store, given)
    second.run(idle_exit_s=0.05)
    second.close()
    return second


def test_a_restart_loads_the_newest_snapshot_replays_the_rest_and_equals_no_stop(
    store: SqlStore, never_stopped: dict[tuple[str, str], Any]
) -> None:
    cluster, store, given = first_part(store)
    stored = store.twin_snapshots()
    assert len(stored) == KEPT
    assert [s.id for s in stored] == sorted((s.id for s in stored), reverse=True)
    newest = stored[0]
    assert newest.watermark == max(s.watermark for s in stored)
    archived = sum(1 for _ in store.load_archive())
    tail = sum(1 for _ in store.load_archive(after=newest.position))
    assert tail == 0, "the clean stop's snapshot covers the whole archive"

    second = rest(cluster, store, given)

    assert second.stats.rebuilt == 0
    assert final_kpis(store) == never_stopped
    assert sum(1 for _ in store.load_archive()) > archived


def test_after_a_stop_without_a_final_snapshot_only_the_archive_tail_is_replayed(
    store: SqlStore, never_stopped: dict[tuple[str, str], Any]
) -> None:
    cluster, store, given = first_part(store)
    with store.engine.begin() as connection:  # as if killed before the final snapshot
        newest = store.twin_snapshots()[0].id
        connection.execute(
            table_of(TwinSnapshotRow).delete().where(table_of(TwinSnapshotRow).c.id == newest)
        )
    kept = store.twin_snapshots()[0]
    tail = sum(1 for _ in store.load_archive(after=kept.position))
    assert 0 < tail < sum(1 for _ in store.load_archive())

    second = rest(cluster, store, given)

    assert second.stats.rebuilt == tail
    assert final_kpis(store) == never_stopped


@pytest.mark.parametrize("spoilt", [1, KEPT], ids=["newest", "all"])
def test_a_corrupt_snapshot_falls_back_to_an_older_one_or_the_archive(
    store: SqlStore,
    never_stopped: dict[tuple[str, str], Any],
    spoilt: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cluster, store, given = first_part(store)
    table = table_of(TwinSnapshotRow)
    ids = [s.id for s in store.twin_snapshots()]
    garbage = [b"\x00garbage", state.encode(state.decode(store.twin_snapshot_data(ids[1]) or b""))]
    with store.engine.begin() as connection:
        for number, snapshot_id in enumerate(ids[:spoilt]):
            data = garbage[0] if number % 2 == 0 else _other_version(store, snapshot_id)
            connection.execute(update(table).where(table.c.id == snapshot_id).values(data=data))
    del garbage
    archived = sum(1 for _ in store.load_archive())

    with caplog.at_level(logging.WARNING, logger="streams.twin_restart"):
        second = rest(cluster, store, given)

    assert sum("not used" in record.getMessage() for record in caplog.records) == spoilt
    if spoilt == KEPT:
        assert second.stats.rebuilt == archived  # the whole archive
    else:
        assert 0 < second.stats.rebuilt < archived
    assert final_kpis(store) == never_stopped


def test_snapshots_off_restart_from_the_whole_archive(
    store: SqlStore, never_stopped: dict[tuple[str, str], Any]
) -> None:
    given = settings(twin_snapshot_every=timedelta(0))
    cluster = cluster_for(given)
    publish(cluster, given, EVENTS[:SPLIT])
    first = worker(cluster, store, given)
    first.run(idle_exit_s=0.05)
    first.close()
    assert store.twin_snapshots() == []
    publish(cluster, given, EVENTS[SPLIT:])
    archived = sum(1 for _ in store.load_archive())
    assert rest(cluster, store, given).stats.rebuilt == archived
    assert final_kpis(store) == never_stopped


class Refusing(LiveTwin):
    """A live twin whose engine refuses its first snapshot, as at an instant with work due."""

    refusals = 1

    def snapshot(self) -> state.LiveSnapshot:
        if self.refusals:
            self.refusals -= 1
            raise state.SnapshotError("not at an instant boundary (test)")
        return LiveTwin.snapshot(self)


def test_a_refused_snapshot_is_tried_again_at_the_next_batch() -> None:
    given = settings()
    live = Refusing(stations(), SEED)
    schedule = TwinSnapshots(given)
    for event in EVENTS[:200]:
        live.admit(event, b"")
    hour = 3_600_000_000
    first = EVENTS[0].ts.timestamp() * 1_000_000
    tries = []
    for step in range(1, 5):  # off the whole hours, where this day has work due at the instant
        live.advance(int(first) + step * hour + 1_234_567)
        batch = TwinBatch("g", offsets={})
        tries.append(schedule.attach(live, batch))
    assert tries == [False, False, True, True]  # the first: a period in; refused, then retried
    assert schedule.refused == 1


def _other_version(store: SqlStore, snapshot_id: int) -> bytes:
    data = store.twin_snapshot_data(snapshot_id) or b""
    snapshot = state.decode(data)
    return state.encode(state.LiveSnapshot(**{**_fields(snapshot), "version": 99}))


def _fields(snapshot: state.LiveSnapshot) -> dict[str, Any]:
    return {name: getattr(snapshot, name) for name in snapshot.__struct_fields__}


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, allow_nan=False, default=str))


def test_a_twin_restored_from_its_snapshot_repeats_no_reefer_alert_and_sends_the_next() -> None:
    """The reefer alerts' memory is in the snapshot (tests/test_reefer_alerts.py's hand case)."""
    from streams.live.reefer_alerts import ReeferAlerts
    from tests.test_reefer_alerts import BOX, EVERY, SECOND, close_to, crossings, run
    from tests.test_reefer_breach import hot_yuzui

    live, _archive, before = run([300.0, 400.0])  # alerted, still under the bound
    assert len(before) == 1
    data = state.encode(live.snapshot())
    restored = LiveTwin.restored(state.decode(data), hot_yuzui(), ReeferAlerts(60.0, EVERY))
    _live, _archive, after = run([450.0, 530.0, 700.0, 720.0], restored)
    assert len(after) == 1  # not the first again: remembered under the bound
    assert close_to((BOX, *SECOND), crossings(after)[0])
    forgetful = LiveTwin.restored(state.decode(data), hot_yuzui(), ReeferAlerts(30.0, EVERY))
    _live, _archive, other_bound = run([450.0, 530.0, 700.0, 760.0], forgetful)
    assert len(other_bound) == 2  # another bound starts afresh: alerted again under it


def test_catching_up_a_snapshot_waits_ten_times_its_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("streams.twin_restart.CATCHUP_SHARE", 0.1)
    live = LiveTwin(stations(), SEED)
    for event in EVENTS[:500]:
        live.admit(event, b"")
    live.advance(to_micros(EVENTS[499].ts))
    snapshots = TwinSnapshots(settings())
    snapshots.last_at = to_micros(EVENTS[0].ts)  # hours of event time ago: due by the period
    snapshots.cost, snapshots.last_wall = 1.0, time.monotonic()  # the last one took 1 s, now
    assert not snapshots.due(live, catching_up=True), "10 s of wall time must pass first"
    assert snapshots.due(live, catching_up=False), "live, the event-time period decides"
    snapshots.last_wall -= 10.0
    assert snapshots.due(live, catching_up=True)
