"""The live worker on a real broker gives the KPIs a replay of the same log gives.

A generated day for the three yards is published onto the topics (keyed by yard), the worker
consumes it in batches, and its final snapshots (every yard and the corridor, every window)
must equal the KPIs computed from `corridor.engine.twin` and `corridor.kpis.report` directly. The
same holds when the events arrive shuffled within the allowed lateness.
"""

import random
from datetime import datetime, timedelta

import pytest

from corridor.contract.events import Event
from streams.broker import EmbeddedBroker
from streams.live.memory_store import MemoryStore
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.topics import topic_for
from tests.broker_fixtures import (
    expected_kpis,
    generated_day,
    run_worker,
    settings_for,
)

pytestmark = [pytest.mark.broker]


def final_snapshots(store: MemoryStore) -> dict[tuple[str, str], object]:
    latest = store.latest_snapshots()
    as_of = {snapshot.as_of for snapshot in latest.values()}
    assert len(as_of) == 1, f"latest snapshots disagree on as_of: {as_of}"
    return {key: snapshot.kpis for key, snapshot in latest.items()}


def test_worker_kpis_equal_replay_of_the_same_log(kafka_settings: KafkaSettings) -> None:
    events = generated_day()
    publish(events, kafka_settings)
    store = MemoryStore()

    worker = run_worker(kafka_settings, store)

    newest = max(event.ts for event in events)
    latest = store.latest_snapshots()
    assert {snapshot.as_of for snapshot in latest.values()} == {newest}
    assert final_snapshots(store) == expected_kpis(events, newest)
    assert len(latest) == 4 * 4  # three yards and the corridor, four windows
    assert worker.stats.archived == len(events) == len({event.event_id for event in events})
    assert not worker.live.buffer


def test_events_shuffled_within_lateness_give_the_same_kpis(broker: EmbeddedBroker) -> None:
    events = generated_day(days=2)  # enough traffic that hundreds arrive behind their partition
    settings = settings_for(broker, lateness=timedelta(minutes=5), batch_size=100)
    shuffled = shuffle_within(events, timedelta(minutes=4), random.Random(3))
    assert behind_on_their_partition(shuffled, settings) > 500
    publish(shuffled, settings)
    store = MemoryStore()

    worker = run_worker(settings, store)

    assert worker.live.twin is not None
    assert worker.live.twin.counts.late == 0
    assert final_snapshots(store) == expected_kpis(events, max(e.ts for e in events))


def behind_on_their_partition(events: list[Event], settings: KafkaSettings) -> int:
    """Events sent after a later event of the same yard on the same topic."""
    newest: dict[tuple[str, str], datetime] = {}
    behind = 0
    for event in events:
        stream = (event.yard, topic_for(event, settings))
        if stream in newest and event.ts < newest[stream]:
            behind += 1
        newest[stream] = max(event.ts, newest.get(stream, event.ts))
    return behind


def shuffle_within(events: list[Event], spread: timedelta, rng: random.Random) -> list[Event]:
    """Each event moved by a random delay of up to `spread` in the sending order."""
    delayed = [(event.ts + spread * rng.random(), index) for index, event in enumerate(events)]
    return [events[index] for _ts, index in sorted(delayed)]
