"""The reorder buffer and the watermark: the event-time rules of the live worker, without Kafka.

Events wait per yard until the watermark passes them and then leave in event-time order, ties
by topic rank and then arrival; the watermark follows the slowest partition that still has
messages, and ignores partitions at their end.
"""

import random
from datetime import UTC, datetime, timedelta, timezone

from streams.live.reorder import ReorderBuffer, from_micros, to_micros
from streams.live.watermark import WatermarkTracker

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


def test_release_order_is_exactly_time_rank_arrival_whatever_the_interleaving() -> None:
    """Mostly in-order topics with stragglers, released at uneven moments (even going back),
    leave in exactly the order a full sort by (yard first seen, time, rank, arrival) gives."""
    for seed in range(40):
        chance = random.Random(seed)
        buffer: ReorderBuffer[int] = ReorderBuffer()
        held: list[tuple[int, int, int, int]] = []  # (time, rank, arrival, yard index)
        yards = ["yuzui", "tuanjiecun", "xiaonanya"]
        first_seen: list[int] = []
        clock = [0, 0, 0]  # per topic rank: its partition's time, mostly moving forward
        for arrival in range(chance.randrange(1, 400)):
            rank = chance.randrange(3)
            clock[rank] += chance.choice([0, 0, 1, 2, 5]) * MINUTE
            ts = clock[rank] - (chance.randrange(30) * MINUTE if chance.random() < 0.1 else 0)
            yard = chance.randrange(3)
            if yard not in first_seen:
                first_seen.append(yard)
            buffer.push(yards[yard], ts, arrival, rank)
            held.append((ts, rank, arrival, yard))
            if chance.random() < 0.05:
                moment = chance.randrange(-5, max(clock) // MINUTE + 5) * MINUTE
                expected = sorted(
                    (entry for entry in held if entry[0] <= moment),
                    key=lambda entry: (first_seen.index(entry[3]), entry[:3]),
                )
                assert buffer.release(moment) == [entry[2] for entry in expected]
                held = [entry for entry in held if entry[0] > moment]
                assert len(buffer) == len(held)
                assert buffer.earliest() == min((entry[0] for entry in held), default=None)
        everything = sorted(held, key=lambda entry: (first_seen.index(entry[3]), entry[:3]))
        assert buffer.release(10**15) == [entry[2] for entry in everything]
        assert len(buffer) == 0


def test_a_large_held_backlog_released_bit_by_bit_leaves_in_order() -> None:
    """One yard's backlog waits while the watermark creeps through it in small steps and new
    events keep arriving (runs cut from their start, merged by size): every event leaves once,
    in (time, rank, arrival) order, and the buffer keeps few runs."""
    chance = random.Random(7)
    buffer: ReorderBuffer[int] = ReorderBuffer()
    entries: list[tuple[int, int, int]] = []  # (time, rank, arrival)
    for arrival in range(5_000):  # the backlog: one topic read ahead of the others
        ts = arrival * MINUTE
        buffer.push("yuzui", ts, arrival)
        entries.append((ts, 0, arrival))
    released: list[int] = []
    arrival = 5_000
    for step in range(1, 201):
        for _ in range(chance.randrange(0, 60)):  # another topic, near the watermark
            ts = (step * 25 + chance.randrange(-5, 40)) * MINUTE
            buffer.push("yuzui", ts, arrival, rank=1)
            entries.append((ts, 1, arrival))
            arrival += 1
        released += buffer.release(step * 25 * MINUTE)
        assert len(buffer._runs["yuzui"]) <= 16  # O(log n) runs, not one per release
    released += buffer.release(10**6 * MINUTE)
    assert released == [item for _ts, _rank, item in sorted(entries)]
    assert len(buffer) == 0


def test_an_end_of_partition_holds_the_watermark_back_until_it_settles() -> None:
    """A broker may report a partition's end before its log's (`streams.live.watermark`): the
    partition keeps holding the watermark back until it stayed at its end `settle_s`."""
    dispatch, reefer = ("dispatch", 0), ("reefer", 0)
    now = [0.0]
    tracker = WatermarkTracker([dispatch, reefer], settle_s=0.3, clock=lambda: now[0])
    tracker.delivered(dispatch, 10 * MINUTE)
    tracker.delivered(reefer, 60 * MINUTE)
    tracker.reached_end(dispatch)  # early: more dispatch events are on their way
    assert tracker.watermark(0) == 10 * MINUTE
    assert not tracker.all_at_end()
    now[0] = 0.2
    tracker.delivered(dispatch, 20 * MINUTE)  # they came
    assert tracker.watermark(0) == 20 * MINUTE
    tracker.reached_end(dispatch)
    now[0] = 0.4
    assert tracker.watermark(0) == 20 * MINUTE  # 0.2 s at its end: not settled yet
    now[0] = 0.5
    assert tracker.watermark(0) == 60 * MINUTE  # settled: idle, the reefer backlog decides
    tracker.reached_end(reefer)
    assert not tracker.all_at_end()
    now[0] = 0.8
    assert tracker.all_at_end()


def test_a_partition_behind_the_brokers_high_watermark_is_not_idle_however_long_at_its_end() -> (
    None
):
    dispatch, reefer = ("dispatch", 0), ("reefer", 0)
    behind = {dispatch: True, reefer: False}
    now = [0.0]
    tracker = WatermarkTracker(
        [dispatch, reefer], settle_s=0.3, behind=behind.__getitem__, clock=lambda: now[0]
    )
    tracker.delivered(dispatch, 10 * MINUTE)
    tracker.delivered(reefer, 60 * MINUTE)
    tracker.reached_end(dispatch)  # the broker's fetch said so, its high watermark says more
    tracker.reached_end(reefer)
    now[0] = 5.0
    assert tracker.watermark(0) == 10 * MINUTE
    assert not tracker.all_at_end()
    behind[dispatch] = False  # read up to the high watermark
    assert tracker.watermark(0) == 60 * MINUTE
    assert tracker.all_at_end()
