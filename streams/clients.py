"""Thin constructors for the confluent-kafka clients, and topic administration.

Each client gets the shared settings (`KafkaSettings.client_config`): the choices that matter
on every broker we run against, then the operator's `extra_config` over them, and a copied
`extra` dict last. librdkafka's own log lines go
to the `streams.librdkafka` logger instead of stderr. Nothing outside `streams/` sees a
librdkafka type.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicCollection
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from streams.ports import AdminPort
from streams.settings import KafkaSettings

librdkafka_log = logging.getLogger("streams.librdkafka")
log = logging.getLogger(__name__)

ErrorCallback = Callable[[KafkaError], None]

CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable.auto.commit": False,  # offsets live in the twin's store, with its outputs
    "enable.auto.offset.store": False,
    "enable.partition.eof": True,  # end-of-partition events tell the watermark a topic is idle
    "auto.offset.reset": "earliest",
    "fetch.queue.backoff.ms": 10,  # the default stalls a consumer that is slower than its fetcher
    # at the end of a partition the broker holds a fetch this long for new data: the default
    # 500 ms was most of the produce-to-KPI latency (benchmarks/bench_fetch_wait.py, one hop on
    # the embedded broker: p50 138 ms, p99 259 ms; at 50 ms, 20 and 36 ms); idle, it costs a
    # fetch request per partition every 50 ms
    "fetch.wait.max.ms": 50,
    "allow.auto.create.topics": False,
    "session.timeout.ms": 6000,  # a group member silent this long loses its partitions
}
PRODUCER_DEFAULTS: dict[str, Any] = {
    "linger.ms": 5,
    "acks": "all",
    "allow.auto.create.topics": False,  # topics are created deliberately, with our partitions
    "queue.buffering.max.messages": 1_000_000,
}


def fetch_limits(settings: KafkaSettings) -> dict[str, int]:
    """The consumer's size limits, set with the producers' (`message_max_bytes`).

    A fetch returns at most `fetch_max_bytes` per request and per partition, except that
    librdkafka always takes a first message larger than that, so an oversized input message is
    read (and dead-lettered) rather than stalling its partition; a response may be that large
    plus the protocol's framing. `prefetch_kbytes` caps what librdkafka queues ahead of the
    worker (by default its own 64 MiB, the whole of a large backlog); a smaller cap cut the
    embedded broker's CPU an event in a catch-up but not the worker's
    (`benchmarks/bench_fetch.py`, `docs/streams.md`).
    """
    return {
        "fetch.max.bytes": settings.fetch_max_bytes,
        "max.partition.fetch.bytes": settings.fetch_max_bytes,
        "receive.message.max.bytes": settings.fetch_max_bytes + RESPONSE_FRAMING_BYTES,
        "queued.max.messages.kbytes": settings.prefetch_kbytes,
    }


RESPONSE_FRAMING_BYTES = 65_536  # librdkafka wants receive.message.max.bytes >= fetch + 512


def _log_error(error: KafkaError) -> None:
    librdkafka_log.warning("kafka: %s", error)


def make_consumer(
    settings: KafkaSettings,
    *,
    on_error: ErrorCallback | None = None,
    extra: dict[str, Any] | None = None,
) -> Consumer:
    """A consumer for assigned partitions or a group's share of them (never auto commit)."""
    config = settings.client_config(**CONSUMER_DEFAULTS, **fetch_limits(settings))
    config["group.id"] = settings.group_id
    if settings.membership == "group":  # same partition indexes of every topic: a yard's feeds
        config["partition.assignment.strategy"] = "range"  # `streams.rebalance`
    config["logger"] = librdkafka_log
    config["error_cb"] = on_error or _log_error
    config.update(dict(extra or {}))
    return Consumer(config)


def make_producer(
    settings: KafkaSettings,
    *,
    on_error: ErrorCallback | None = None,
    extra: dict[str, Any] | None = None,
) -> Producer:
    """A producer keyed by yard; topics must exist (see `ensure_topics`)."""
    config = settings.client_config(**PRODUCER_DEFAULTS)
    config["message.max.bytes"] = settings.message_max_bytes
    config["logger"] = librdkafka_log
    config["error_cb"] = on_error or _log_error
    config.update(dict(extra or {}))
    return Producer(config)


def make_admin(settings: KafkaSettings) -> AdminClient:
    """An admin client (topic creation and description)."""
    config = settings.client_config()
    config["logger"] = librdkafka_log
    return AdminClient(config)


def ensure_topics(
    admin: AdminPort, settings: KafkaSettings, topics: Iterable[str], timeout_s: float = 10.0
) -> list[str]:
    """Create the topics that do not exist, with `settings.partitions`; returns those created."""
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [topic for topic in topics if topic not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(t, settings.partitions, settings.replication_factor) for t in missing],
        request_timeout=timeout_s,
    )
    created = []
    for topic, future in futures.items():
        try:
            future.result()
            created.append(topic)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    log.info("created topics %s with %d partitions", created, settings.partitions)
    return created


def partitions_of(
    admin: AdminPort, topics: Iterable[str], timeout_s: float = 10.0
) -> list[tuple[str, int]]:
    """Every (topic, partition) of the given topics, sorted; missing topics have none."""
    metadata = admin.list_topics(timeout=timeout_s).topics
    return sorted(
        (topic, partition)
        for topic in topics
        if topic in metadata and metadata[topic].error is None
        for partition in metadata[topic].partitions
    )


def topic_ids(admin: AdminPort, topics: Iterable[str], timeout_s: float = 5.0) -> dict[str, str]:
    """Each existing topic's id: it changes when a topic is deleted and created again."""
    wanted = list(topics)
    futures = admin.describe_topics(TopicCollection(wanted), request_timeout=timeout_s)
    ids: dict[str, str] = {}
    for topic, future in futures.items():
        try:
            ids[topic] = str(future.result().topic_id)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
    return ids
