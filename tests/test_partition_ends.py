"""A partition at its end counts as idle only if the broker's cached high watermark agrees."""

from typing import Any

from confluent_kafka import TopicPartition

from streams.partition_ends import BrokerEnds, tracker_for

DISPATCH, REEFER = ("dispatch", 4), ("reefer", 4)


class CachedEnds:
    """Stands in for the consumer: the high watermarks of its latest fetch responses."""

    def __init__(self, highs: dict[tuple[str, int], int]) -> None:
        self.highs = highs
        self.asked: list[bool] = []

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        self.asked.append(cached)
        return 0, self.highs.get((partition.topic, partition.partition), -1001)


class Reader:
    def __init__(self, consumer: Any, positions: dict[tuple[str, int], int]) -> None:
        self.consumer, self.positions = consumer, positions


def test_behind_while_the_high_watermark_is_past_the_position_and_never_asks_the_broker() -> None:
    consumer = CachedEnds({DISPATCH: 364, REEFER: 919})
    reader = Reader(consumer, {DISPATCH: 34, REEFER: 919})
    behind = BrokerEnds(reader)
    assert behind(DISPATCH)  # an early end: 330 messages still in the log
    assert not behind(REEFER)
    reader.positions = {DISPATCH: 364}  # a new assignment: the positions read when asked
    assert not behind(DISPATCH)
    assert not behind(REEFER)  # not read by this worker now
    assert set(consumer.asked) == {True}  # librdkafka's cached figure: no request


def test_an_unknown_high_watermark_does_not_hold_a_partition() -> None:
    reader = Reader(CachedEnds({}), {DISPATCH: 0})
    tracker = tracker_for(reader, settle_s=0.0)
    tracker.reset([DISPATCH])
    tracker.reached_end(DISPATCH)
    assert tracker.all_at_end()
    reader.consumer.highs[DISPATCH] = 5
    assert not tracker.all_at_end()
