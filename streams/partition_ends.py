"""Whether the broker knows of messages past a worker's position on a partition.

The watermark takes a partition at its end as idle (`streams.live.watermark`), and the
end-of-partition event alone is not enough to say so: librdkafka signals it when one fetch
response's high watermark equals the fetch position, and the embedded broker answers, under
load, with a high watermark behind its log for seconds at a time (seen: an end at offset 34 of a
partition holding 364, the next fetch responses reporting 364). So a partition also counts as
idle only while the high watermark of the latest fetch responses (librdkafka's cached one: no
request) is not past the worker's position. Against Apache Kafka the two agree.
"""

from collections.abc import Mapping
from typing import Protocol

from confluent_kafka import TopicPartition

from streams.live.watermark import Partition, WatermarkTracker
from streams.ports import ConsumerPort


class Reading(Protocol):
    """A worker reading partitions: its consumer and the next offset of each partition."""

    @property
    def consumer(self) -> ConsumerPort: ...
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


def tracker_for(reading: Reading, *, settle_s: float) -> WatermarkTracker:
    """A worker's watermark tracker: ends settled `settle_s` and not behind the broker's."""
    return WatermarkTracker([], settle_s=settle_s, behind=BrokerEnds(reading))
