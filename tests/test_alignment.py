"""Watermark alignment's decisions: which partitions wait for the slowest, and when they read on.

Pure decisions (`streams.alignment.decide`) on event times in minutes, then `Alignment` on a
worker's tracker and a consumer that records its calls. The same on the real broker is
`tests/test_worker_alignment.py`.
"""

from datetime import timedelta

from confluent_kafka import TopicPartition

from streams.alignment import Alignment, decide, pace
from streams.live.watermark import WatermarkTracker
from tests.test_kpi_cache import Clock

MINUTE = 60_000_000  # microseconds
DISPATCH, REEFER, TRAINS = ("dispatch", 0), ("reefer", 0), ("trains", 0)
LEAD = 30 * MINUTE
HELD = [object()]  # a reorder buffer holding one event


class RecordingConsumer:
    """Stands in for the consumer's pause and resume: the partitions of each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, int]]]] = []

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("pause", [(tp.topic, tp.partition) for tp in partitions]))

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.calls.append(("resume", [(tp.topic, tp.partition) for tp in partitions]))


def test_a_partition_more_than_the_lead_ahead_of_the_slowest_is_paused() -> None:
    newest = {DISPATCH: 10 * MINUTE, REEFER: 41 * MINUTE, TRAINS: 40 * MINUTE}
    pause, resume = decide(newest, [], set(), lead=LEAD, first=0)
    assert (pause, resume) == ([REEFER], [])


def test_a_paused_partition_reads_on_once_the_slowest_comes_within_the_lead() -> None:
    newest = {DISPATCH: 12 * MINUTE, REEFER: 41 * MINUTE, TRAINS: 40 * MINUTE}
    assert decide(newest, [], {REEFER}, lead=LEAD, first=0) == ([], [REEFER])
    newest[DISPATCH] = 10 * MINUTE
    assert decide(newest, [], {REEFER}, lead=LEAD, first=0) == ([], []), "stays paused"


def test_an_idle_partition_far_behind_holds_nothing_back() -> None:
    newest = {DISPATCH: 10 * MINUTE, REEFER: 600 * MINUTE, TRAINS: 590 * MINUTE}
    assert pace(newest, [DISPATCH], first=0) == 590 * MINUTE
    assert decide(newest, [DISPATCH], set(), lead=LEAD, first=0) == ([], [])
    assert decide(newest, [DISPATCH], {REEFER}, lead=LEAD, first=0) == ([], [REEFER])


def test_while_a_partition_has_delivered_nothing_the_others_wait_near_the_backlogs_start() -> None:
    newest = {DISPATCH: None, REEFER: 45 * MINUTE, TRAINS: 20 * MINUTE}
    assert pace(newest, [], first=5 * MINUTE) == 5 * MINUTE
    assert decide(newest, [], set(), lead=LEAD, first=5 * MINUTE) == ([REEFER], [])
    newest[DISPATCH] = 55 * MINUTE  # it delivers: the slowest is now the trains partition
    assert decide(newest, [], {REEFER}, lead=LEAD, first=5 * MINUTE) == ([DISPATCH], [REEFER])


def test_with_every_partition_idle_or_none_delivered_nothing_is_paused() -> None:
    newest = {DISPATCH: 10 * MINUTE, REEFER: 600 * MINUTE}
    assert decide(newest, [DISPATCH, REEFER], {REEFER}, lead=LEAD, first=0) == ([], [REEFER])
    assert decide(dict.fromkeys(newest), [], set(), lead=LEAD, first=None) == ([], [])


def test_alignment_pauses_resumes_and_forgets_its_pauses_on_a_new_assignment() -> None:
    clock = Clock()
    tracker = WatermarkTracker([DISPATCH, REEFER, TRAINS], settle_s=0.5, clock=clock)
    consumer = RecordingConsumer()
    aligned = Alignment.of(consumer, tracker, lambda: HELD, lead=timedelta(minutes=30), above=0)
    tracker.delivered(REEFER, 0)
    tracker.delivered(TRAINS, 60 * MINUTE)
    aligned.align()  # dispatch has delivered nothing: the pace is the first time seen, 0
    assert consumer.calls == [("pause", [TRAINS])]
    tracker.delivered(DISPATCH, 35 * MINUTE)
    tracker.delivered(REEFER, 40 * MINUTE)
    aligned.align()
    assert consumer.calls[-1] == ("resume", [TRAINS])
    tracker.delivered(REEFER, 80 * MINUTE)
    aligned.align()
    assert consumer.calls[-1] == ("pause", [REEFER])
    tracker.reached_end(DISPATCH)  # at its end, settled: idle, the trains partition is slowest
    clock.now += 1.0
    aligned.align()
    assert consumer.calls[-1] == ("resume", [REEFER])
    tracker.delivered(REEFER, 200 * MINUTE)
    aligned.align()
    assert aligned.paused == {REEFER}
    aligned.assigned([DISPATCH, TRAINS])  # a rebalance: librdkafka would keep the pause
    assert consumer.calls[-1] == ("resume", [DISPATCH, REEFER, TRAINS])
    assert aligned.paused == set()
    assert aligned.first is None
    assert aligned.pauses == 3


def test_a_lead_of_zero_turns_alignment_off() -> None:
    tracker = WatermarkTracker([DISPATCH, REEFER])
    consumer = RecordingConsumer()
    aligned = Alignment.of(consumer, tracker, lambda: HELD, lead=timedelta(0), above=0)
    tracker.delivered(DISPATCH, 0)
    tracker.delivered(REEFER, 1000 * MINUTE)
    aligned.align()
    assert consumer.calls == []


def test_partitions_wait_only_while_the_buffer_holds_more_than_align_above_held() -> None:
    tracker = WatermarkTracker([DISPATCH, REEFER])
    consumer = RecordingConsumer()
    held: list[object] = [object()] * 10
    aligned = Alignment.of(consumer, tracker, lambda: held, lead=timedelta(minutes=30), above=10)
    tracker.delivered(DISPATCH, 0)
    tracker.delivered(REEFER, 100 * MINUTE)
    aligned.align()
    assert consumer.calls == [], "ten held: not more than align_above_held"
    held.append(object())
    aligned.align()
    assert consumer.calls == [("pause", [REEFER])]
    del held[6:]
    aligned.align()
    assert consumer.calls[-1] == ("pause", [REEFER]), "six held: more than half, still paused"
    del held[5:]
    aligned.align()
    assert consumer.calls[-1] == ("resume", [REEFER]), "five held: half, everything reads"
