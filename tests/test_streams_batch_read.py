"""`streams.batch_read`: a step takes what the consumer holds at once and waits only when it
holds nothing. The consumer double keeps librdkafka's batch semantics: `consume(n, timeout)`
returns once it has `n` messages, or else blocks the whole timeout (counted, not slept)."""

from collections.abc import Sequence

from streams.batch_read import read_batch
from streams.live.memory_store import MemoryStore
from streams.worker import Worker
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import (
    FakeAdmin,
    FakeCluster,
    FakeConsumer,
    FakeProducer,
    cluster_for,
    fake_settings,
    publish,
)


class Queue:
    """Messages librdkafka holds now, and those that arrive together `after` seconds into a wait."""

    def __init__(self, queued: int, arriving: int = 0, after: float = 0.01) -> None:
        self.queued, self.arriving, self.after = list(range(queued)), list(range(arriving)), after
        self.waited = 0.0

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[int]:
        if len(self.queued) < num_messages and timeout > 0:
            if self.arriving and self.after <= timeout:
                self.queued += self.arriving
                self.arriving = []
            full = len(self.queued) >= num_messages
            self.waited += self.after if full else timeout  # else the whole timeout passes
        taken, self.queued = self.queued[:num_messages], self.queued[num_messages:]
        return taken


def test_a_short_batch_already_queued_is_taken_without_waiting() -> None:
    queue = Queue(queued=5, arriving=3)

    assert len(read_batch(queue, 100, timeout=0.2)) == 5
    assert queue.waited == 0.0


def test_a_full_batch_is_taken_without_waiting_and_the_rest_stays_queued() -> None:
    queue = Queue(queued=250)

    assert len(read_batch(queue, 100, timeout=0.2)) == 100
    assert (queue.waited, len(queue.queued)) == (0.0, 150)


def test_with_nothing_queued_it_waits_for_the_first_arrival_only_and_takes_all_that_came() -> None:
    queue = Queue(queued=0, arriving=3, after=0.01)

    assert read_batch(queue, 100, timeout=0.2) == [0, 1, 2]
    assert queue.waited == 0.01  # not the whole 0.2 s for a batch of 100 that cannot fill


def test_with_nothing_arriving_it_waits_the_whole_timeout() -> None:
    queue = Queue(queued=0)

    assert read_batch(queue, 100, timeout=0.2) == []
    assert queue.waited == 0.2
    assert read_batch(Queue(queued=0, arriving=2, after=0.5), 100, timeout=0.2) == []


def test_a_batch_of_one_waits_for_one() -> None:
    queue = Queue(queued=0, arriving=2)

    assert read_batch(queue, 1, timeout=0.2) == [0]
    assert (queue.waited, queue.queued) == (0.01, [1])


class BatchConsumer(FakeConsumer):
    """The fake cluster's consumer, counting what librdkafka would block for: every call with
    a timeout that returns fewer messages than asked for."""

    def __init__(self, cluster: FakeCluster) -> None:
        super().__init__(cluster)
        self.waited = 0.0

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[object]:
        taken = super().consume(num_messages, timeout)
        if len(taken) < num_messages and timeout > 0:
            self.waited += timeout
        return taken


def test_the_worker_takes_the_end_of_a_backlog_without_waiting_out_its_poll_timeout() -> None:
    settings = fake_settings(batch_size=10_000, poll_timeout_s=0.2)
    cluster = cluster_for(settings)
    publish(cluster, settings, generated_day()[:40])
    consumer = BatchConsumer(cluster)
    admin, producer = FakeAdmin(cluster), FakeProducer(cluster)
    worker = Worker(
        settings, MemoryStore(), stations(), SEED, consumer=consumer, producer=producer, admin=admin
    )
    worker.start()
    try:
        assert worker.step() == 40
        assert consumer.waited == 0.0
    finally:
        worker.close()  # its commit thread (`tests.leak_check`)
