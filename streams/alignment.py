"""Watermark alignment: partitions far ahead in event time wait for the slowest one.

The watermark cannot pass the slowest input partition still delivering
(`streams.live.watermark`), and librdkafka fetches each partition as fast as the broker
serves it. So in a catch-up one partition's fetches can run hours of event time ahead of
another's, and every event read ahead waits in the reorder buffer until the slow partition
catches up: a restart on a large backlog held 110,000 events there, produced no KPI or twin
snapshot until the slowest partition delivered, and its memory grew with the backlog.

The standard cure (Flink's watermark alignment, Kafka Streams' `max.task.idle.ms`) is to stop
reading what is far ahead: after each batch, a partition whose newest event time is more than
`max_partition_lead` ahead of the *pace* is paused (`Consumer.pause`, which keeps its
position: librdkafka drops what it prefetched and fetches again from the last message
delivered), and resumed once the pace comes within the lead. The pace is the smallest newest
event time of the partitions still delivering (those not idle: at a settled end and not behind
the broker's log, `streams.partition_ends`); a partition truly empty or idle is left out, so it
stalls nothing. While some partition still delivering has delivered nothing since the
assignment, its time is unknown: the pace is then the earliest time any partition delivered
first (the start of the backlog), so the others wait within the lead of it instead of reading
the whole backlog ahead. A paused partition is never the slowest (its newest is past the pace
plus the lead), and a partition that has delivered nothing is never paused, so the slowest
always reads on.

While it acts, the reorder buffer holds about `lead + lateness` of event time per partition
ahead of the slowest, plus one batch: a batch is read before the partitions in it are paused.

Each pause has a price: librdkafka drops what it prefetched for the partition and fetches it
again on resume (up to the rest of the partition, `fetch_max_bytes`), which cost a catch-up on
the embedded broker about a fifth more CPU an event (`docs/performance.md`). So partitions
are paused only while the buffer holds more than `align_above_held` events (0: whenever it
holds any), and every paused partition reads on once it holds half as many: an ordinary
catch-up, whose buffer stays small, pays nothing, and a skewed one is held near that size
plus a batch of each partition read before its pause.

Pause state belongs to librdkafka's partition objects and survives `assign` (seen on the
embedded broker: a partition paused before a new `assign` stayed paused), and a rebalance or a
broker recovery assigns afresh: `assigned` resumes every partition of the new assignment and
forgets the old decisions, so nothing stays paused that this module does not know of.

The decisions affect only when events are read, never their order within a partition or what
the twin applies: the watermark still releases events in event-time order (`docs/streams.md`,
"Watermark"), and a rebuild replays the archive's clock advances, never this heuristic.
"""

import logging
from collections.abc import Callable, Collection, Mapping, Set
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from confluent_kafka import TopicPartition

from streams.live.reorder import Micros
from streams.live.twin import LiveTwin
from streams.live.watermark import Partition, WatermarkTracker
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)
_MICROSECOND = timedelta(microseconds=1)


class Pausing(Protocol):
    """The consumer calls alignment makes (`confluent_kafka.Consumer`'s)."""

    def pause(self, partitions: list[TopicPartition]) -> None: ...
    def resume(self, partitions: list[TopicPartition]) -> None: ...


class Held(Protocol):
    """The reorder buffer: how many events it holds."""

    def __len__(self) -> int: ...


def pace(
    newest: Mapping[Partition, Micros | None], idle: Collection[Partition], first: Micros | None
) -> Micros | None:
    """The event time of the slowest partition still delivering (see the module docstring);
    None when none delivers, or none has delivered yet."""
    delivering = [newest[where] for where in newest if where not in idle]
    if any(ts is None for ts in delivering):
        return first
    known = [ts for ts in delivering if ts is not None]
    return min(known) if known else None


def decide(
    newest: Mapping[Partition, Micros | None],
    idle: Collection[Partition],
    paused: Set[Partition],
    *,
    lead: Micros,
    first: Micros | None,
) -> tuple[list[Partition], list[Partition]]:
    """(partitions to pause, partitions to resume), given each partition's newest event time,
    those idle, those paused now, the lead allowed and the earliest first delivery."""
    slowest = pace(newest, idle, first)
    ahead: set[Partition] = set()
    if slowest is not None:
        limit = slowest + lead
        ahead = {
            where
            for where, ts in newest.items()
            if ts is not None and ts > limit and where not in idle
        }
    return sorted(ahead - paused), sorted(paused - ahead)


@dataclass(slots=True)
class Alignment:
    """Pauses and resumes a worker's partitions after each batch (`align`); `lead` 0: off."""

    consumer: Pausing
    tracker: WatermarkTracker
    lead: Micros
    held: Callable[[], Held]  # the worker's reorder buffer now (the twin changes on a rebalance)
    above: int = 0  # events held before anything is paused
    paused: set[Partition] = field(default_factory=set)
    first: Micros | None = None  # the earliest time a partition delivered first since assigned
    pauses: int = 0  # partitions paused so far (for logs and tests)

    @classmethod
    def of(
        cls,
        consumer: Pausing,
        tracker: WatermarkTracker,
        held: Callable[[], Held],
        *,
        lead: timedelta,
        above: int,
    ) -> "Alignment":
        """A worker's alignment: `max_partition_lead` and `align_above_held`."""
        return cls(consumer, tracker, lead // _MICROSECOND, held, above)

    def assigned(self, partitions: list[Partition]) -> None:
        """A new assignment: everything in it reads (librdkafka keeps a partition's pause
        across `assign`), and the old decisions are forgotten."""
        everything = sorted(self.paused | set(partitions))
        if everything:
            self.consumer.resume([TopicPartition(*where) for where in everything])
        self.paused.clear()
        self.first = None

    def align(self) -> None:
        """Pause what runs more than the lead ahead of the slowest partition, resume what
        does not any more."""
        if self.lead <= 0:
            return
        tracker = self.tracker
        newest = tracker.newest
        for ts in newest.values():
            if ts is not None and (self.first is None or ts < self.first):
                self.first = ts  # newest times only grow: the first one seen is the smallest
        idle = [where for where in newest if where not in self.paused and tracker.idle(where)]
        pause, resume = decide(newest, idle, self.paused, lead=self.lead, first=self.first)
        held = len(self.held())
        if held <= self.above:  # little held: nothing needs to wait, and below half, none does
            pause = []
            if held <= self.above // 2:
                resume = sorted(self.paused)
        if pause:
            self.consumer.pause([TopicPartition(*where) for where in pause])
            self.paused.update(pause)
            self.pauses += len(pause)
            log.debug("paused %s: ahead of the slowest partition", pause)
        if resume:
            self.consumer.resume([TopicPartition(*where) for where in resume])
            self.paused.difference_update(resume)
            log.debug("resumed %s", resume)


class Aligned(Protocol):
    """A worker: its consumer, watermark tracker and live twin (whose buffer is measured)."""

    @property
    def consumer(self) -> Pausing: ...
    @property
    def tracker(self) -> WatermarkTracker: ...
    @property
    def live(self) -> LiveTwin: ...


def of(worker: Aligned, settings: KafkaSettings) -> Alignment:
    """The alignment of a worker with `settings.max_partition_lead` and `align_above_held`."""
    return Alignment.of(
        worker.consumer,
        worker.tracker,
        lambda: worker.live.buffer,
        lead=settings.max_partition_lead,
        above=settings.align_above_held,
    )
