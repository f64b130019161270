"""A worker fed in this process from the generator: `bench_year.py`'s default, without a broker.

The real `streams.worker.Worker` (decode, checks, reorder buffer, watermark, engine, KPI and
twin snapshots, the store's commit thread) with in-process stand-ins for its three Kafka
clients (`streams.ports`): a consumer that encodes generated events as `corridor publish`
would and hands them out in the generator's order, a producer that counts and drops the
outputs, an admin that lists the configured topics and answers where each partition ends (the
consumer's ends: a partition's end is confirmed at once, as a broker answers). What this
leaves out of a measure is
librdkafka (its fetch and produce buffers, its threads) and the broker's delivery order; what
it keeps is everything the worker itself holds. It is not a test double: tests use
`tests/kafka_doubles.py`, which keep every message.
"""

import itertools
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any

from confluent_kafka import KafkaError, TopicPartition

from corridor.contract.events import Event, encode_event
from corridor.store_contract import TwinStore
from stations.spec import StationSpec
from streams.live.watermark import Partition
from streams.settings import KafkaSettings
from streams.topics import key_for, topic_for
from streams.worker import Worker


class InputMessage:
    """A consumed message as confluent-kafka's `Message` answers: origin, key, value or error."""

    __slots__ = ("_error", "_key", "_offset", "_partition", "_topic", "_value")

    def __init__(
        self,
        where: Partition,
        offset: int,
        key: bytes | None = None,
        value: bytes | None = None,
        error: KafkaError | None = None,
    ) -> None:
        self._topic, self._partition, self._offset = where[0], where[1], offset
        self._key, self._value, self._error = key, value, error

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> None:
        return None

    def error(self) -> KafkaError | None:
        return self._error


class GeneratedInput:
    """The worker's consumer, fed in this process from the generator (`--feed inprocess`).

    Each event is encoded (`encode_event`) and put on its topic keyed by its yard as `corridor
    publish` does, on partition crc32(key) mod the partition count, at the next offset of that
    partition. `consume` hands out up to `n` of the events fed so far, in the generator's order,
    then the end of each partition that had nothing in that batch (everything it had was
    delivered: what a broker's end-of-partition event says). Nothing is kept once handed out.
    """

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self.ends: dict[Partition, int] = {}  # next offset per assigned partition
        self.at_end: set[Partition] = set()
        self.pending: Iterator[Event] = iter(())
        self.exhausted = True  # every event fed was handed out
        self.cpu_s = 0.0  # CPU seconds in `consume` (the encoding a broker client does in C)

    def feed(self, events: Iterable[Event]) -> None:
        """The next events to hand out (the previous ones all consumed)."""
        self.pending, self.exhausted = iter(events), False

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.ends = {(tp.topic, tp.partition): max(tp.offset, 0) for tp in partitions}
        self.at_end = set()

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[InputMessage]:
        began = time.thread_time()
        try:
            return self._consume(num_messages, timeout)
        finally:
            self.cpu_s += time.thread_time() - began

    def _consume(self, num_messages: int, timeout: float) -> list[InputMessage]:
        settings, taken = self.settings, []
        for event in itertools.islice(self.pending, num_messages):
            key = key_for(event)
            where = (topic_for(event, settings), zlib.crc32(key) % settings.partitions)
            offset = self.ends[where]
            self.ends[where] = offset + 1
            self.at_end.discard(where)
            taken.append(InputMessage(where, offset, key, encode_event(event)))
        if len(taken) < num_messages:
            self.exhausted = True
        delivered = {(message.topic(), message.partition()) for message in taken}
        for where, offset in self.ends.items():
            if where not in delivered and where not in self.at_end:
                self.at_end.add(where)
                taken.append(
                    InputMessage(where, offset, error=KafkaError(KafkaError._PARTITION_EOF))
                )
        if not taken:
            time.sleep(min(max(timeout, 0.0), 0.05))  # as a poll with nothing to deliver waits
        return taken

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        return 0, self.ends.get((partition.topic, partition.partition), 0)

    def pause(self, partitions: list[TopicPartition]) -> None:
        """Nothing: the log is delivered in its own order, one stream for every partition."""

    def resume(self, partitions: list[TopicPartition]) -> None:
        """Nothing (see `pause`)."""

    def close(self) -> None:
        self.pending = iter(())


class DiscardingProducer:
    """The worker's producer of dead letters and KPI snapshots: counts them, keeps nothing."""

    def __init__(self) -> None:
        self.produced = 0
        self.reports: list[Callable[[Any, Any], None]] = []

    def produce(self, topic: str, value: bytes | None = None, **kwargs: Any) -> None:
        self.produced += 1
        report = kwargs.get("on_delivery") or kwargs.get("callback")
        if report is not None:
            self.reports.append(report)

    def poll(self, timeout: float = -1) -> int:
        return self.flush()

    def flush(self, timeout: float = -1) -> int:
        reports, self.reports = self.reports, []
        for report in reports:
            report(None, None)  # delivered
        return 0


class InProcessAdmin:
    """The topics of `settings`, each with `settings.partitions` partitions, and where each
    partition ends: the offset after the last message the input handed out.

    `list_offsets` answers as the worker's admin client does (`streams.partition_ends` asks it
    to confirm a partition's end). Without it every request failed at once, the worker fell
    back on the settling time, and, before that failure was kept without its traceback, the
    worker held every batch it had consumed (issue 14): a stand-in that refuses measures a
    worker that cannot confirm its ends, not the worker as it runs on a broker.
    """

    def __init__(self, settings: KafkaSettings, feed: GeneratedInput) -> None:
        self.settings, self.feed = settings, feed

    def list_offsets(
        self, topic_partition_offsets: Any, **kwargs: Any
    ) -> dict[TopicPartition, Future[Any]]:
        """Each partition's end now, answered at once (a broker answers in about 1 ms)."""
        answers: dict[TopicPartition, Future[Any]] = {}
        for where in topic_partition_offsets:
            answer: Future[Any] = Future()
            end = self.feed.ends.get((where.topic, where.partition), 0)
            answer.set_result(SimpleNamespace(offset=end))
            answers[where] = answer
        return answers

    def list_topics(self, *args: Any, **kwargs: Any) -> Any:
        partitions = dict.fromkeys(range(self.settings.partitions))
        topic = SimpleNamespace(error=None, partitions=partitions)
        return SimpleNamespace(topics=dict.fromkeys(self.settings.all_topics, topic))

    def create_topics(self, new_topics: list[Any], **kwargs: Any) -> dict[str, Any]:
        return {}

    def describe_topics(self, topics: Any, **kwargs: Any) -> dict[str, Any]:
        return {}

    def poll(self, timeout: float = -1) -> int:
        return 0  # no logs or errors to serve


def inprocess_worker(
    settings: KafkaSettings, store: TwinStore, stations: Mapping[str, StationSpec], seed: int
) -> tuple[Worker, GeneratedInput]:
    """A real worker on in-process clients, and the input to feed it with."""
    feed = GeneratedInput(settings)
    worker = Worker(
        settings,
        store,
        stations,
        seed,
        consumer=feed,
        producer=DiscardingProducer(),
        admin=InProcessAdmin(settings, feed),
    )
    return worker, feed


def catch_up(worker: Worker, feed: GeneratedInput, events: list[Event]) -> None:
    """Feed `events` to a started worker and step it until it has consumed them all and is
    idle: caught up, its last commit under way or done."""
    feed.feed(iter(events))
    while not (worker.stats.consumed >= len(events) and worker.idle_for() > 0):
        worker.step()
