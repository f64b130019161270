"""The confirmed end on the embedded broker: a fresh `list_offsets` makes a partition at its end
idle long before the settling time, never one with messages past the position, and a worker
whose settling time is far longer than the test still catches up, goes quiet and gives the
KPIs a replay gives."""

import time
from typing import Any

import pytest
from confluent_kafka import KafkaError, TopicPartition

from streams.clients import ensure_topics, make_admin, make_consumer, make_producer
from streams.live.memory_store import MemoryStore
from streams.live.watermark import WatermarkTracker
from streams.partition_ends import tracker_for
from streams.publish import publish
from streams.settings import KafkaSettings
from tests.broker_fixtures import expected_kpis, generated_day, run_worker

pytestmark = [pytest.mark.broker]

TOPIC_PARTITIONS = 2


class Reading:
    """The worker's side the tracker reads: its clients and positions."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.consumer = make_consumer(settings)
        self.admin = make_admin(settings)
        self.positions: dict[tuple[str, int], int] = {}


def read_to_the_ends(reading: Reading, tracker: WatermarkTracker, topic: str) -> None:
    """Consume until every partition of `topic` reported its end, telling the tracker."""
    ended: set[int] = set()
    deadline = time.monotonic() + 30
    while len(ended) < TOPIC_PARTITIONS:
        assert time.monotonic() < deadline, f"ends seen: {ended}"
        for message in reading.consumer.consume(100, timeout=0.1):
            where = (topic, message.partition() or 0)
            error = message.error()
            if error is None:
                reading.positions[where] = (message.offset() or 0) + 1
                tracker.delivered(where, message.offset() or 0)
            elif error.code() == KafkaError._PARTITION_EOF:
                ended.add(where[1])
                tracker.reached_end(where)


def until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture
def topic_with_messages(kafka_settings: KafkaSettings) -> tuple[KafkaSettings, str]:
    """A topic of two partitions: 20 messages on the first, in batches of 5 (the embedded
    broker's `list_offsets` answers with the last batch's base offset plus one), the second
    empty."""
    settings = kafka_settings.model_copy(update={"partitions": TOPIC_PARTITIONS})
    topic = settings.topic_dispatch
    ensure_topics(make_admin(settings), settings, [topic])
    producer = make_producer(settings)
    for number in range(20):
        producer.produce(topic, f"m{number}".encode(), partition=0)
        if number % 5 == 4:
            assert producer.flush(10) == 0
    return settings, topic


def test_a_confirmed_end_is_idle_long_before_the_settling_time(
    topic_with_messages: tuple[KafkaSettings, str],
) -> None:
    settings, topic = topic_with_messages
    reading = Reading(settings)
    partitions = [(topic, part) for part in range(TOPIC_PARTITIONS)]
    tracker = tracker_for(reading, settings.model_copy(update={"end_settle_s": 60.0}))
    tracker.reset(partitions)
    reading.positions = dict.fromkeys(partitions, 0)
    reading.consumer.assign([TopicPartition(*where, 0) for where in partitions])
    try:
        read_to_the_ends(reading, tracker, topic)
        began = time.monotonic()
        assert until(tracker.all_at_end, 10.0), "the ends were never confirmed"
        assert time.monotonic() - began < 10.0  # the settling time, 60 s, never ran out
        assert reading.positions[(topic, 0)] == 20
    finally:
        reading.consumer.close()


def test_a_partition_with_messages_past_the_position_is_never_confirmed(
    topic_with_messages: tuple[KafkaSettings, str],
) -> None:
    settings, topic = topic_with_messages
    reading = Reading(settings)
    where = (topic, 0)
    tracker = tracker_for(reading, settings.model_copy(update={"end_settle_s": 0.3}))
    tracker.reset([where])
    reading.positions = {where: 10}  # an early end at 10 (a batch's end): 10 messages past it
    tracker.reached_end(where)
    try:
        assert not until(lambda: tracker.idle(where), 1.0)  # past the settling time, too
        assert tracker.confirm is not None
        reading.positions = {where: 20}  # the rest read, and a new end reported
        tracker.delivered(where, 20)
        tracker.reached_end(where)
        assert until(lambda: tracker.idle(where), 0.25)  # confirmed, before it would settle
    finally:
        reading.consumer.close()


def test_a_worker_that_would_settle_for_a_minute_catches_up_and_goes_quiet(
    kafka_settings: KafkaSettings,
) -> None:
    settings = kafka_settings.model_copy(update={"end_settle_s": 60.0})
    events = generated_day()
    publish(events, settings)
    store = MemoryStore()
    began = time.monotonic()

    worker = run_worker(settings, store)  # exits once quiet: every partition confirmed at end

    assert time.monotonic() - began < 45
    newest = max(event.ts for event in events)
    latest = store.latest_snapshots()
    assert {snapshot.as_of for snapshot in latest.values()} == {newest}
    assert {key: s.kpis for key, s in latest.items()} == expected_kpis(events, newest)
    assert worker.live.twin is not None
    assert worker.live.twin.counts.late == 0
    assert not worker.stats.dead_letters
