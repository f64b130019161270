"""The reorder buffer and the watermark: the event-time rules of the live worker, without Kafka.

Events wait per yard until the watermark passes them and then leave in event-time order, ties
by topic rank and then arrival; the watermark follows the slowest partition that still has
messages, and ignores partitions at their end.
"""

from datetime import UTC, datetime, timedelta, timezone

from streams.reorder import ReorderBuffer, from_micros, to_micros
from streams.watermark import WatermarkTracker

MINUTE = 60_000_000


def test_micros_are_exact_both_ways() -> None:
    moment = datetime(2026, 1, 5, 8, 0, 0, 123457, tzinfo=UTC)
    assert from_micros(to_micros(moment)) == moment
    local = moment.astimezone(timezone(timedelta(hours=8)))
    assert to_micros(local) == to_micros(moment)
    assert to_micros(local + timedelta(microseconds=1)) == to_micros(moment) + 1


def test_release_is_per_yard_in_time_then_rank_then_arrival_order() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer()
    buffer.push("yuzui", 3 * MINUTE, "y3")
    buffer.push("yuzui", 1 * MINUTE, "y1-reading", rank=2)
    buffer.push("yuzui", 1 * MINUTE, "y1-truck-a", rank=1)
    buffer.push("tuanjiecun", 2 * MINUTE, "t2")
    buffer.push("yuzui", 1 * MINUTE, "y1-truck-b", rank=1)
    buffer.push("yuzui", 1 * MINUTE, "y1-train", rank=0)

    released = list(buffer.release(2 * MINUTE))

    assert released == ["y1-train", "y1-truck-a", "y1-truck-b", "y1-reading", "t2"]
    assert len(buffer) == 1
    assert buffer.earliest() == 3 * MINUTE
    assert list(buffer.release(2 * MINUTE)) == []
    assert list(buffer.release(3 * MINUTE)) == ["y3"]
    assert buffer.earliest() is None


def test_watermark_waits_for_every_partition_then_follows_the_slowest() -> None:
    dispatch, reefer, trains = ("dispatch", 0), ("reefer", 0), ("trains", 0)
    tracker = WatermarkTracker([dispatch, reefer, trains])
    lateness = 5 * MINUTE

    tracker.delivered(dispatch, 60 * MINUTE)
    tracker.delivered(reefer, 30 * MINUTE)
    assert tracker.watermark(lateness) is None  # trains has said nothing yet

    tracker.reached_end(trains)
    assert tracker.watermark(lateness) == 25 * MINUTE  # the reefer backlog holds it back

    tracker.delivered(reefer, 90 * MINUTE)
    assert tracker.watermark(lateness) == 55 * MINUTE

    tracker.reached_end(dispatch)
    tracker.reached_end(reefer)
    assert tracker.all_at_end()
    assert tracker.watermark(lateness) == 85 * MINUTE  # all idle: the newest time seen

    tracker.delivered(trains, 70 * MINUTE)
    assert not tracker.all_at_end()
    assert tracker.watermark(lateness) == 65 * MINUTE
