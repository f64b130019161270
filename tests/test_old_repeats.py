"""Repeats older than the live twin's window: the store's archive refuses them (SQLite, PostgreSQL).

The live twin remembers accepted `event_id`s for `streams.live.twin.RETENTION` (8 days) of
event time; an event further behind the watermark than that is checked against the archive
(`TwinStore.archived`) before it is admitted. A repeat is dead-lettered as a duplicate and
counted nowhere; a new event as old is admitted (and applied late, as before).
"""

from datetime import timedelta

from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from streams import dead_letters
from streams.live.twin import RETENTION
from streams.worker import Worker
from tests.broker_fixtures import SEED, stations
from tests.factories import at, dispatch
from tests.kafka_doubles import FakeCluster, cluster_for, fake_settings, fake_worker, publish

DAY = 24 * 60  # minutes
OLD = [dispatch(n, ts=n, eta=n + 30) for n in range(1, 6)]  # day 0
LATER = [dispatch(100 + n, ts=10 * DAY + n, eta=10 * DAY + n + 30) for n in range(5)]
NOW = at(11 * DAY)


def run(cluster: FakeCluster, store: SqlStore, events: list[Event]) -> Worker:
    settings = fake_settings()
    publish(cluster, settings, events)
    worker = fake_worker(cluster, settings, store, stations(), SEED, now=lambda: NOW)
    worker.run(idle_exit_s=0.0)
    worker.close()
    return worker


def test_a_repeat_older_than_the_window_is_refused_by_the_archive(store: SqlStore) -> None:
    sql_store = store  # SQLite, and PostgreSQL when it answers (`tests.api_fixtures`)
    assert timedelta(days=10) > RETENTION
    cluster = cluster_for(fake_settings())
    first = run(cluster, sql_store, OLD + LATER)
    assert first.stats.dead_letters == {}
    assert first.live.is_stale(OLD[0]), "day 0 is behind the window after day 10"
    assert OLD[0].event_id not in first.live.accepted, "and forgotten by the twin"

    brand_new = dispatch(50, ts=2, eta=40)  # as old, never seen
    again = run(cluster, sql_store, [OLD[0], brand_new])

    assert again.stats.dead_letters == {dead_letters.DUPLICATE: 1}
    assert sql_store.archived(brand_new.event_id, brand_new.ts)
    assert sql_store.archived(OLD[0].event_id, OLD[0].ts)
    assert not sql_store.archived("never-seen", OLD[0].ts)
    assert not sql_store.archived(OLD[0].event_id, OLD[0].ts - timedelta(days=1)), "not its time"
    archived = [e.event_id for e in sql_store.load_archive() if hasattr(e, "event_id")]
    assert archived.count(OLD[0].event_id) == 1, "archived once, counted once"
    assert archived.count(brand_new.event_id) == 1
    assert brand_new.event_id in again.live.accepted
    assert len(again.live.buffer) == 1, "admitted: applied late at the next watermark move"
