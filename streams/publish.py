"""`corridor publish`: put an event log (or generated traffic) onto the yards' topics.

Each event goes to its topic (`streams.topics.topic_for`) keyed by its yard, as the yard systems
would send it, in the order of the log. Without a speed the log is produced as fast as the
broker takes it; with `speed` the events keep their spacing in event time, compressed by that
factor (`speed=60`: an hour of the log per minute of wall time), so a recorded day can be
played to a live worker as if it were happening; a `streams.pacing.Pacing` schedule changes the
speed along the log and can hold events until the wall clock reaches them.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from confluent_kafka import Producer

from corridor.contract.events import Event, encode_event
from streams.clients import ensure_topics, make_admin, make_producer
from streams.pacing import Pacing
from streams.settings import KafkaSettings
from streams.topics import key_for, topic_for

log = logging.getLogger(__name__)
POLL_EVERY = 10_000


@dataclass(slots=True)
class PublishStats:
    """What was produced."""

    produced: int = 0
    seconds: float = 0.0


def publish(
    events: Iterable[Event],
    settings: KafkaSettings,
    *,
    speed: float | None = None,
    pacing: Pacing | None = None,
    producer: Producer | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> PublishStats:
    """Produce the events (topics created if missing); returns once all are delivered.

    `speed` paces the whole log at one factor; `pacing` is the general schedule (not both).
    """
    if speed is not None and pacing is not None:
        raise ValueError("give speed or pacing, not both")
    pace = (pacing or Pacing.uniform(speed)).clock()
    paced = bool(pace.pacing.steps) or pace.pacing.not_ahead_of_clock
    ensure_topics(make_admin(settings), settings, settings.all_topics)
    own = producer is None
    producer = producer or make_producer(settings)
    stats = PublishStats()
    began = time.monotonic()
    for event in events:
        due = pace.due(event.ts, clock()) if paced else None
        if due is not None:
            wait = due - clock()
            if wait > 0:
                producer.poll(0)
                sleep(wait)
        _produce(producer, topic_for(event, settings), key_for(event), encode_event(event))
        stats.produced += 1
        if stats.produced % POLL_EVERY == 0:
            producer.poll(0)
    remaining = producer.flush(settings.flush_timeout_s)
    if remaining:
        raise RuntimeError(f"{remaining} messages not delivered within {settings.flush_timeout_s}s")
    stats.seconds = time.monotonic() - began
    if own:
        log.info("published %d events in %.1f s", stats.produced, stats.seconds)
    return stats


def _produce(producer: Producer, topic: str, key: bytes, value: bytes) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key)
            return
        except BufferError:
            producer.poll(0.05)
