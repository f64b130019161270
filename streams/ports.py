"""What the worker needs from its Kafka clients, as protocols: the real ones or test doubles.

`streams.connect` builds the confluent-kafka clients that satisfy them; `tests/kafka_doubles.py`
has in-memory ones, so the worker loop is tested without a broker. Only the calls the worker,
`streams.broker_watch` and `streams.clients` make are listed; then how the worker reads where
a consumed message came from.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from confluent_kafka import KafkaError, TopicPartition

from streams.dead_letters import RawHeaders
from streams.live.twin import Origin, Source

DeliveryReport = Callable[[Any, Any], None]
"""librdkafka's delivery callback: (error or None, the message)."""


class InputMessage(Source, Protocol):
    """A consumed message: its origin (`Source`), its bytes, or the error it stands for."""

    def value(self) -> bytes | None: ...
    def error(self) -> KafkaError | None: ...


class ConsumerPort(Protocol):
    """A consumer over explicitly assigned partitions."""

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[InputMessage]: ...
    def assign(self, partitions: list[TopicPartition]) -> None: ...
    def pause(self, partitions: list[TopicPartition]) -> None: ...
    def resume(self, partitions: list[TopicPartition]) -> None: ...
    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]: ...
    def close(self) -> None: ...


class ProducerPort(Protocol):
    """A producer of the output topics (dead letters and KPI snapshots)."""

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int = -1,
        callback: DeliveryReport | None = None,
        on_delivery: DeliveryReport | None = None,
        timestamp: int = 0,
        headers: Any = None,
    ) -> None: ...
    def poll(self, timeout: float = -1) -> int: ...
    def flush(self, timeout: float = -1) -> int: ...


class AdminPort(Protocol):
    """Topic listing, creation and description, partitions' offsets (results as futures)."""

    def list_topics(self, *args: Any, **kwargs: Any) -> Any: ...
    def create_topics(self, new_topics: list[Any], **kwargs: Any) -> dict[str, Future[Any]]: ...
    def describe_topics(self, topics: Any, **kwargs: Any) -> dict[str, Future[Any]]: ...
    def list_offsets(
        self, topic_partition_offsets: Any, **kwargs: Any
    ) -> dict[Any, Future[Any]]: ...
    def poll(self, timeout: float = -1) -> int: ...


def origin_of(message: InputMessage | Source) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed message (always set on one)."""
    return message.topic() or "", message.partition() or 0, message.offset() or 0


def held_origin(source: Origin | Source | None) -> Origin:
    """The origin of a held event: given on rebuild, else read from its message now."""
    if source is None:
        return Origin("", -1, -1)
    if isinstance(source, Origin):
        return source
    topic, partition, offset = origin_of(source)
    return Origin(topic, partition, offset, source.key(), headers_of(source))


def headers_of(message: InputMessage | Source) -> RawHeaders | None:
    headers = message.headers()
    if isinstance(headers, dict):
        return list(headers.items())
    return headers
