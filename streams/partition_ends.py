"""Whether the broker knows of messages past a worker's position on a partition.

The watermark takes a partition at its end as idle (`streams.live.watermark`), and the
end-of-partition event alone is not enough to say so: librdkafka signals it when one fetch
response's high watermark equals the fetch position, and the embedded broker answers, under
load, with a high watermark behind its log for seconds at a time (seen: an end at offset 34 of a
partition holding 364, the next fetch responses reporting 364). So a partition also counts as
idle only while the high watermark of the latest fetch responses (librdkafka's cached one: no
request) is not past the worker's position. Against Apache Kafka the two agree.

The end is confirmed (`FreshEnds`): when a partition reports its end, an admin client's
`list_offsets` asks the broker where the partition ends now, in a request sent after the end
event and answered off the worker's loop (librdkafka's thread completes a future the loop
looks at, never waits on). An answer at or below the worker's position makes the partition idle
at once; one past it keeps the partition delivering, however long (asked again `RETRY_S` later
if nothing came); a failed or pending request is no answer, and then the settling time decides,
the older and slower rule. An answer is true of the moment its request was sent: each request
is stamped with the newest event time the worker had received then (`seen`), and once newer
input has arrived the end is asked again, the old answer standing meanwhile
(`streams.live.watermark` bounds the watermark by the stamp).

The embedded broker (Tansu) answers `list_offsets` with the base offset of the partition's last
record batch plus one, not the end of that batch (20 messages produced in one batch: it says 1).
Its answer is then a lower bound of the end, and "at or below the position" still proves the
end: the consumer delivers whole batches, and the last batch begins at or before the position
only if the consumer already read it. Its answer is never past the end, so "past the position"
is a real backlog. On a loaded machine (load 3-15) it never confirmed an early end
(`benchmarks/bench_partition_ends.py`, `docs/performance.md`); it answers in 1-20 ms.
"""

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, Protocol

from confluent_kafka import IsolationLevel, TopicPartition
from confluent_kafka.admin import OffsetSpec  # type: ignore[attr-defined]

from streams.live.reorder import Micros
from streams.live.watermark import (
    NO_ANSWER,
    EndAnswer,
    Partition,
    WatermarkTracker,
    asked_before,
)
from streams.ports import AdminPort, ConsumerPort
from streams.settings import KafkaSettings

RETRY_S = 0.1
"""After an answer past the position (or a failure), the wait before asking again: an answer
is about a millisecond on the embedded broker; one request at most every this long."""
LATEST = OffsetSpec.latest()  # type: ignore[no-untyped-call]  # the end of a partition
ASK_TIMEOUT_S = 5.0  # a request's bound: a broker that is gone fails it (the settling time rules)


class Reading(Protocol):
    """A worker reading partitions: its clients and the next offset of each partition."""

    @property
    def consumer(self) -> ConsumerPort: ...
    @property
    def admin(self) -> AdminPort: ...
    @property
    def positions(self) -> Mapping[Partition, int]: ...


class BrokerEnds:
    """`behind(partition)` for the watermark tracker, from a worker's consumer and positions
    as they are when asked (both change on every assignment)."""

    def __init__(self, reading: Reading) -> None:
        self.reading = reading

    def __call__(self, where: Partition) -> bool:
        reading = self.reading
        _low, high = reading.consumer.get_watermark_offsets(TopicPartition(*where), cached=True)
        position = reading.positions.get(where)
        return high >= 0 and position is not None and position < high


class _Asked:
    """One question about a partition's end: its answer (the end offset), when it was sent,
    and the newest event time the worker had received then."""

    __slots__ = ("answer", "seen", "sent")

    def __init__(self, answer: "Future[Any]", sent: float, seen: Micros | None) -> None:
        self.answer, self.sent, self.seen = answer, sent, seen


class FreshEnds:
    """`EndCheck` for the watermark tracker: a partition's end confirmed by `list_offsets`
    (read committed, as the worker's consumer reads), asked off the loop (module docstring).

    The partitions whose end is new, or whose answer is older than the input, wait in `wanted`
    until the tracker next asks a verdict: then one request goes for all of them, so a batch's
    ends cost one round trip. One request a partition is out at a time; the last answer stands
    until the next one comes."""

    def __init__(
        self,
        reading: Reading,
        *,
        retry_s: float = RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reading, self.retry_s, self.clock = reading, retry_s, clock
        self.wanted: set[Partition] = set()
        self.asked: dict[Partition, _Asked] = {}  # the latest question, answered or not
        self.at_end: dict[Partition, Micros | None] = {}  # answered at its end, as of `seen`
        self.behind: set[Partition] = set()  # answered past the position

    def ended(self, partition: Partition) -> None:
        self.forget(partition)
        self.wanted.add(partition)

    def forget(self, partition: Partition) -> None:
        self.asked.pop(partition, None)
        self.at_end.pop(partition, None)
        self.wanted.discard(partition)
        self.behind.discard(partition)

    def verdict(self, partition: Partition, seen: Micros | None) -> EndAnswer:
        if partition in self.wanted:
            self._ask(seen)
        asked = self.asked.get(partition)
        if asked is not None and asked.answer.done():
            failed = self._read(partition, asked)
            if failed or partition in self.behind:
                again = self.clock() - asked.sent >= self.retry_s
            else:
                again = asked_before(asked.seen, seen)  # input came since: asked at once
            if again:
                self.wanted.add(partition)
                self._ask(seen)
        if partition in self.behind:
            return EndAnswer(False)
        if partition in self.at_end:
            return EndAnswer(True, self.at_end[partition])
        return NO_ANSWER

    def _read(self, partition: Partition, asked: _Asked) -> bool:
        """Take an answer in (again, as it may be: the same outcome); whether it failed."""
        failed = asked.answer.exception() is not None
        position = self.reading.positions.get(partition)
        end = None if failed else asked.answer.result().offset
        if end is None or position is None:  # failed, or the position unknown: no answer
            self.behind.discard(partition)  # an earlier `at_end` still vouches for its input
            return True
        if end <= position:
            self.at_end[partition] = asked.seen
            self.behind.discard(partition)
        else:
            self.at_end.pop(partition, None)
            self.behind.add(partition)
        return False

    def _outdated(self, seen: Micros | None) -> list[Partition]:
        """Partitions answered at their end before input up to `seen`, none asked since (each
        answer taken in first: a new question replaces the old one)."""
        outdated = []
        for where, asked in self.asked.items():
            answered = asked.answer.done() and not self._read(where, asked)
            if answered and where in self.at_end and asked_before(asked.seen, seen):
                outdated.append(where)
        return outdated

    def _ask(self, seen: Micros | None) -> None:
        """One request for the partitions wanted and those whose answer is outdated."""
        wanted, self.wanted = self.wanted | set(self._outdated(seen)), set()
        sent = self.clock()
        try:
            answers = self.reading.admin.list_offsets(
                {TopicPartition(*where): LATEST for where in sorted(wanted)},
                isolation_level=IsolationLevel.READ_COMMITTED,
                request_timeout=ASK_TIMEOUT_S,
            )
        except Exception as error:
            answers = {}
            failure: Future[Any] = Future()
            failure.set_exception(_bare(error))
            for where in wanted:
                self.asked[where] = _Asked(failure, sent, seen)
        for where, answer in answers.items():
            self.asked[(where.topic, where.partition)] = _Asked(answer, sent, seen)


def _bare(error: Exception) -> Exception:
    """`error` without its traceback and chained exceptions: kept as a failed answer until the
    partition is asked again, its frames would hold the worker's step that asked (its whole
    batch) and, through `verdict`'s `asked`, the previous failure: every batch, on an admin
    that keeps refusing (bench_year kept all 600,000 messages of 120 days, issue 14)."""
    error.__cause__ = error.__context__ = None
    return error.with_traceback(None)


def tracker_for(reading: Reading, settings: KafkaSettings) -> WatermarkTracker:
    """A worker's watermark tracker: ends confirmed by the broker (`settings.end_confirm`)
    or, without an answer, settled `end_settle_s`, and never behind the broker's cached end."""
    confirm = FreshEnds(reading) if settings.end_confirm else None
    return WatermarkTracker(
        [], settle_s=settings.end_settle_s, behind=BrokerEnds(reading), confirm=confirm
    )
