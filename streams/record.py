"""`corridor record`: turn what is on the topics, or a time range of the archive, into a log.

The log is what `corridor replay` reads (JSON Lines or Parquet, by suffix; see
`corridor.contract.eventlog`), so a live day can be replayed, shared or kept as a test fixture. Only
valid events are written; what does not decode is counted and reported, never silently
dropped. Events are written in event-time order, same-instant events of a yard in the
worker's order (`corridor.contract.events.same_instant_rank`), so a replay sees them as the worker
did.
"""

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from corridor.contract import eventlog
from corridor.contract.events import DecodeError, Event, decode_event
from corridor.contract.events import same_instant_rank as tie_rank
from corridor.store_contract import ArchivedEvent, TwinStore
from streams.clients import make_admin, make_consumer, partitions_of
from streams.dead_letters import decode_reason
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RecordStats:
    """What was read and written."""

    read: int = 0
    written: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


def record_topics(
    settings: KafkaSettings, out: Path, *, timeout_s: float = 30.0, group_suffix: str = "-record"
) -> RecordStats:
    """Every message now on the input topics, from the first offset to the end, into `out`."""
    stats = RecordStats()
    events = sorted(_decoded(_read_topics(settings, timeout_s, group_suffix), stats), key=_order)
    stats.written = eventlog.write_log(events, out)
    return stats


def record_archive(
    store: TwinStore, out: Path, *, start: datetime | None = None, end: datetime | None = None
) -> RecordStats:
    """The archived events with `start <= ts < end` into `out` (clock advances are not events)."""
    stats = RecordStats()
    raws = (
        entry.raw
        for entry in store.load_archive()
        if isinstance(entry, ArchivedEvent)
        and (start is None or entry.ts >= start)
        and (end is None or entry.ts < end)
    )
    events = sorted(_decoded(raws, stats), key=_order)
    stats.written = eventlog.write_log(events, out)
    return stats


def _order(event: Event) -> tuple[datetime, int]:
    return event.ts, tie_rank(event)


def _decoded(raws: Iterable[bytes], stats: RecordStats) -> Iterator[Event]:
    for raw in raws:
        stats.read += 1
        event = decode_event(raw)
        if isinstance(event, DecodeError):
            reason = decode_reason(event)
            stats.skipped[reason] = stats.skipped.get(reason, 0) + 1
            continue
        yield event


def _read_topics(settings: KafkaSettings, timeout_s: float, group_suffix: str) -> Iterator[bytes]:
    """Values from every input partition until each has reported its end."""
    admin = make_admin(settings)
    partitions = partitions_of(admin, settings.input_topics)
    consumer = make_consumer(settings, extra={"group.id": settings.group_id + group_suffix})
    consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in partitions])
    waiting = set(partitions)
    deadline = time.monotonic() + timeout_s
    try:
        while waiting:
            if time.monotonic() > deadline:
                raise TimeoutError(f"partitions {sorted(waiting)} did not reach their end")
            for message in consumer.consume(10_000, timeout=0.5):
                error = message.error()
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    waiting.discard((message.topic() or "", message.partition() or 0))
                elif error is not None:
                    log.warning("record: %s", error)
                else:
                    yield message.value() or b""
    finally:
        consumer.close()
