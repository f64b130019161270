"""In-memory Kafka for tests of the worker loop: a cluster of topics and the three clients.

`FakeCluster` holds topics as lists of messages per partition; `FakeConsumer`, `FakeProducer`
and `FakeAdmin` satisfy `streams.ports` the way confluent-kafka's clients do for the calls the
worker makes: `consume` returns what follows each assigned position, then one end-of-partition
event per partition each time it reaches its end; `produce` refuses a message larger than
`message.max.bytes` with `MSG_SIZE_TOO_LARGE`, as librdkafka does, and delivers on `flush`.
They are doubles of the broker, never of the worker: the loop under test is the real one.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from corridor.contract.events import Event, encode_event
from corridor.store_contract import TwinStore
from stations.spec import StationSpec
from streams.settings import KafkaSettings
from streams.topics import key_for, topic_for
from streams.worker import Worker

Headers = list[tuple[str, str | bytes | None]]


@dataclass(frozen=True)
class FakeMessage:
    """A consumed message: what `confluent_kafka.Message` answers, as plain fields."""

    topic_: str
    partition_: int
    offset_: int
    key_: bytes | None = None
    value_: bytes | None = None
    headers_: Headers | None = None
    error_: KafkaError | None = None

    def topic(self) -> str | None:
        return self.topic_

    def partition(self) -> int | None:
        return self.partition_

    def offset(self) -> int | None:
        return self.offset_

    def key(self) -> bytes | None:
        return self.key_

    def value(self) -> bytes | None:
        return self.value_

    def headers(self) -> Headers | None:
        return self.headers_

    def error(self) -> KafkaError | None:
        return self.error_


@dataclass
class FakeCluster:
    """Topics of a broker that never fails: topic -> partitions -> messages."""

    topics: dict[str, list[list[FakeMessage]]] = field(default_factory=dict)
    topic_ids: dict[str, str] = field(default_factory=dict)

    def create(self, topic: str, partitions: int) -> None:
        """A topic with `partitions` empty partitions (no-op if it exists)."""
        if topic not in self.topics:
            self.topics[topic] = [[] for _ in range(partitions)]
            self.topic_ids[topic] = f"id-{len(self.topic_ids) + 1}"

    def append(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers | None = None,
        partition: int | None = None,
    ) -> FakeMessage:
        """Store a message (partition by key, as a keyed producer would) and return it."""
        partitions = self.topics[topic]
        if partition is None:
            partition = sum(key or b"") % len(partitions)
        log = partitions[partition]
        message = FakeMessage(topic, partition, len(log), key, value, headers)
        log.append(message)
        return message

    def messages(self, topic: str) -> list[FakeMessage]:
        """Every message of a topic, partition by partition."""
        return [message for log in self.topics.get(topic, []) for message in log]


class FakeConsumer:
    """Reads the assigned partitions round-robin from their positions."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.positions: dict[tuple[str, int], int] = {}
        self.at_end: set[tuple[str, int]] = set()
        self.paused: set[tuple[str, int]] = set()  # kept across `assign`, as librdkafka does
        self.closed = False

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.positions = {
            (tp.topic, tp.partition): 0 if tp.offset == OFFSET_BEGINNING else tp.offset
            for tp in partitions
        }
        self.at_end = set()

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.paused.update((tp.topic, tp.partition) for tp in partitions)

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.paused.difference_update((tp.topic, tp.partition) for tp in partitions)

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[FakeMessage]:
        taken: list[FakeMessage] = []
        for where, position in self.positions.items():
            if where in self.paused:  # librdkafka keeps its position and fetches nothing
                continue
            log = self.cluster.topics[where[0]][where[1]]
            chunk = log[position : position + num_messages - len(taken)]
            taken += chunk
            self.positions[where] = position + len(chunk)
            if chunk:
                self.at_end.discard(where)
            if self.positions[where] >= len(log) and where not in self.at_end:
                self.at_end.add(where)
                taken.append(_end_of(where, self.positions[where]))
            if len(taken) >= num_messages:
                break
        return taken

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        return 0, len(self.cluster.topics[partition.topic][partition.partition])

    def close(self) -> None:
        self.closed = True


def _end_of(where: tuple[str, int], offset: int) -> FakeMessage:
    return FakeMessage(*where, offset, error_=KafkaError(KafkaError._PARTITION_EOF))


class FakeProducer:
    """Queues messages and appends them to the cluster on `flush`; enforces the size limit."""

    def __init__(self, cluster: FakeCluster, message_max_bytes: int = 1_000_000) -> None:
        self.cluster = cluster
        self.message_max_bytes = message_max_bytes
        self.queued: list[tuple[str, bytes | None, bytes | None, Headers | None, Any]] = []

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int = -1,
        callback: Callable[[Any, Any], None] | None = None,
        on_delivery: Callable[[Any, Any], None] | None = None,
        timestamp: int = 0,
        headers: Any = None,
    ) -> None:
        size = len(value or b"") + len(key or b"") + _headers_size(headers)
        if size > self.message_max_bytes:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        self.queued.append((topic, value, key, headers, on_delivery or callback))

    def poll(self, timeout: float = -1) -> int:
        return 0

    def flush(self, timeout: float = -1) -> int:
        queued, self.queued = self.queued, []
        for topic, value, key, headers, report in queued:
            message = self.cluster.append(topic, value, key, headers)
            if report is not None:
                report(None, message)
        return 0


def _headers_size(headers: Headers | None) -> int:
    def size(text: str | bytes | None) -> int:
        return len(text.encode() if isinstance(text, str) else text or b"")

    return sum(size(name) + size(value) for name, value in headers or [])


class FakeAdmin:
    """Lists, creates and describes the cluster's topics, lists their partitions' ends
    (results as completed futures)."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    def list_topics(self, *args: Any, **kwargs: Any) -> Any:
        topics = {
            name: SimpleNamespace(error=None, partitions=dict.fromkeys(range(len(logs))))
            for name, logs in self.cluster.topics.items()
        }
        return SimpleNamespace(topics=topics)

    def create_topics(self, new_topics: list[Any], **kwargs: Any) -> dict[str, Future[Any]]:
        for topic in new_topics:
            self.cluster.create(topic.topic, topic.num_partitions)
        return {topic.topic: _done(None) for topic in new_topics}

    def describe_topics(self, topics: Any, **kwargs: Any) -> dict[str, Future[Any]]:
        return {
            name: _done(SimpleNamespace(topic_id=self.cluster.topic_ids[name]))
            for name in topics.topic_names
            if name in self.cluster.topics
        }

    def list_offsets(self, topic_partition_offsets: Any, **kwargs: Any) -> dict[Any, Future[Any]]:
        """Each partition's end now (what `streams.partition_ends.FreshEnds` asks)."""
        topics = self.cluster.topics
        return {
            where: _done(SimpleNamespace(offset=len(topics[where.topic][where.partition])))
            for where in topic_partition_offsets
        }

    def poll(self, timeout: float = -1) -> int:
        return 0  # no logs or errors to serve


def _done(result: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(result)
    return future


FAST = {
    "quiet_after_s": 0.0,
    "end_settle_s": 0.0,
    "poll_timeout_s": 0.01,
    "catchup_kpi_every_s": 0.0,
}


def fake_settings(**overrides: Any) -> KafkaSettings:
    """Settings for a fake cluster: one partition per topic unless told, no waiting."""
    return KafkaSettings(**{"partitions": 1, **FAST, **overrides})


def cluster_for(settings: KafkaSettings) -> FakeCluster:
    """A cluster with the topics of `settings`, as the worker and `corridor publish` make them."""
    cluster = FakeCluster()
    for topic in settings.all_topics:
        cluster.create(topic, settings.partitions)
    return cluster


def fake_worker(
    cluster: FakeCluster,
    settings: KafkaSettings,
    store: TwinStore,
    stations: dict[str, StationSpec],
    seed: int,
    *,
    broker_max_bytes: int | None = None,
    consumer: FakeConsumer | None = None,
    admin: FakeAdmin | None = None,
    **kwargs: Any,
) -> Worker:
    """A real `Worker` on the fake cluster (whose producer limit may differ from ours), with
    the fake consumer and admin or a test's own kind of them."""
    return Worker(
        settings,
        store,
        stations,
        seed,
        consumer=consumer or FakeConsumer(cluster),
        producer=FakeProducer(cluster, broker_max_bytes or settings.message_max_bytes),
        admin=admin or FakeAdmin(cluster),
        **kwargs,
    )


def publish(cluster: FakeCluster, settings: KafkaSettings, events: Sequence[Event]) -> None:
    """Events onto their topics, keyed by yard (as `corridor publish` does)."""
    for event in events:
        cluster.append(topic_for(event, settings), encode_event(event), key_for(event))
