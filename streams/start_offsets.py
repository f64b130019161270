"""Where the worker reads an assigned partition from: its stored offset, or else the start of
its log as an offset, looked up, instead of librdkafka's logical `OFFSET_BEGINNING`.

librdkafka resolves a logical offset by asking the partition's leader, and a consumer that has
just been made knows no leader yet: it retries the query after a fixed 500 ms
(`rd_kafka_toppar_offset_request`, "no current leader for partition"), so a worker starting on
an empty store received nothing for its first half second, a seventh of a 150,000-event
catch-up (on the embedded broker: the first message 555 ms after `assign` from the beginning,
22 ms after looking the start offsets up and assigning them; `docs/performance.md`). The lookup
(`get_watermark_offsets`, which finds the leaders itself) takes a few milliseconds for the
worker's nine partitions. A partition whose lookup fails, and every one after it, is read from
`OFFSET_BEGINNING` as before, so a broker that does not answer costs one lookup's timeout.
If retention moves a log's start on between the lookup and the fetch, the offset is out of
range and `auto.offset.reset=earliest` (`streams.clients`) reads from the new start, which is
what `OFFSET_BEGINNING` would have read.
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition

from streams.live.watermark import Partition

log = logging.getLogger(__name__)
LOOKUP_TIMEOUT_S = 5.0  # one partition's; after a failure the rest are not looked up


class Offsets(Protocol):
    """The consumer call the lookup makes (`confluent_kafka.Consumer`'s)."""

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]: ...


def start_offsets(
    consumer: Offsets, partitions: Sequence[Partition], stored: Mapping[Partition, int]
) -> list[TopicPartition]:
    """Each partition at its stored offset, or at the start of its log (see the module)."""
    starts: list[TopicPartition] = []
    looking = True
    for topic, partition in partitions:
        offset = stored.get((topic, partition))
        if offset is None and looking:
            try:
                offset, _high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=LOOKUP_TIMEOUT_S
                )
            except KafkaException as error:
                log.warning("%s[%d]: start offset not known (%s), reading from the beginning",
                            topic, partition, error)  # fmt: skip
                looking = False
        starts.append(
            TopicPartition(topic, partition, OFFSET_BEGINNING if offset is None else offset)
        )
    return starts
