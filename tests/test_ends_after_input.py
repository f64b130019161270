"""An end the broker confirmed vouches only for the input received before it was asked.

The bug (issue 14's `rejected:container_id` in `benchmarks/bench_year.py --feed broker`): a
worker caught up on every partition, each end confirmed; a producer then published the next
day onto all of them, and the worker's first small batch held one partition's new messages
only. The other partitions still counted as idle (their old confirmation stood, and
librdkafka's cached high watermark had not yet seen their new messages), so that batch moved
the watermark hours ahead, and their own events, delivered a moment later, were applied late:
pickups before their drop-offs, dead-lettered `rejected:container_id`.

`LaggingConsumer` is the in-memory consumer with librdkafka's cached high watermark: a
partition's end as of the last `consume` that read it (its last fetch response), not now.
"""

from collections.abc import Sequence
from datetime import timedelta

from confluent_kafka import TopicPartition

from corridor.scenario import DEFAULT_START
from streams.live.memory_store import MemoryStore
from streams.settings import KafkaSettings
from streams.worker import Worker
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import (
    FakeCluster,
    FakeConsumer,
    FakeMessage,
    cluster_for,
    fake_settings,
    fake_worker,
    publish,
)

DAYS = generated_day(days=2)
MIDNIGHT = DEFAULT_START + timedelta(days=1)
NOW = DAYS[-1].ts + timedelta(hours=1)  # the wall clock the worker is given
SETTLE_S = 1.0  # with `StepClock`: a settle takes a hundred steps


class LaggingConsumer(FakeConsumer):
    """`FakeConsumer` whose cached high watermarks are those of the reads that reached them."""

    def __init__(self, cluster: FakeCluster) -> None:
        super().__init__(cluster)
        self.cached: dict[tuple[str, int], int] = {}

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[FakeMessage]:
        taken = super().consume(num_messages, timeout)
        for where in {(m.topic_, m.partition_) for m in taken}:
            self.cached[where] = len(self.cluster.topics[where[0]][where[1]])
        return taken

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        if not cached:
            return super().get_watermark_offsets(partition, timeout)
        return 0, self.cached.get((partition.topic, partition.partition), -1001)


class StepClock:
    """A wall clock that moves 0.01 s each step of the worker, however long the step took."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += 0.01


def test_a_day_published_after_the_ends_were_confirmed_is_never_late() -> None:
    settings = fake_settings(batch_size=50, quiet_after_s=3600.0)  # small batches, never quiet
    worker = two_days_a_day_apart(settings, StepClock())

    assert worker.stats.consumed == len(DAYS)
    assert worker.live.twin is not None
    assert worker.live.twin.counts.late == 0
    assert not worker.stats.dead_letters


def test_without_the_brokers_answer_a_settled_end_vouches_only_for_the_input_before_it() -> None:
    """The fallback when the broker does not answer (`end_confirm` off): a partition settled at
    its end is idle for input up to what had arrived when it settled; newer input elsewhere has
    it settle again before the watermark passes that input (the old settle standing meanwhile).
    The tracker's wall clock moves by steps here, so a stalled machine cannot settle early."""
    settings = fake_settings(
        batch_size=50, quiet_after_s=3600.0, end_confirm=False, end_settle_s=SETTLE_S
    )
    worker = two_days_a_day_apart(settings, StepClock())

    assert worker.stats.consumed == len(DAYS)
    assert worker.live.twin is not None
    assert worker.live.twin.counts.late == 0
    assert not worker.stats.dead_letters


def two_days_a_day_apart(settings: KafkaSettings, clock: StepClock) -> Worker:
    """A worker (small batches, never quiet) that reads the first day until every partition's
    end is confirmed (or settled), then the second day published onto every partition; its
    tracker's wall clock is `clock`, moved a step at a time (settled ends only: a confirmed one
    does not look at it)."""
    cluster, store = cluster_for(settings), MemoryStore()
    worker = fake_worker(
        cluster,
        settings,
        store,
        stations(),
        SEED,
        consumer=LaggingConsumer(cluster),
        now=lambda: NOW,
    )
    worker.tracker.clock = clock
    worker.start()
    for day in ([e for e in DAYS if e.ts < MIDNIGHT], [e for e in DAYS if e.ts >= MIDNIGHT]):
        publish(cluster, settings, day)
        while worker.step() or not worker.tracker.all_at_end():
            clock.tick()
        assert worker.live.watermark is not None
    worker.close()
    return worker
