"""`streams.start_offsets`: a partition with no stored offset is assigned at its log's start,
looked up, not at librdkafka's `OFFSET_BEGINNING` (which a fresh consumer resolves only after
a 500 ms retry); a failed lookup falls back to `OFFSET_BEGINNING`, for that partition and the
rest, without asking again."""

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from streams.live.memory_store import MemoryStore
from streams.start_offsets import start_offsets
from tests.broker_fixtures import SEED, stations
from tests.kafka_doubles import FakeCluster, FakeConsumer, cluster_for, fake_settings, fake_worker

A, B, C = ("in", 0), ("in", 1), ("in", 2)


class Starts:
    """Each partition's log start; a partition in `failing` does not answer."""

    def __init__(self, starts: dict[tuple[str, int], int], failing: frozenset[tuple[str, int]]):
        self.starts, self.failing = starts, failing
        self.asked: list[tuple[str, int]] = []

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        where = (partition.topic, partition.partition)
        self.asked.append(where)
        if where in self.failing:
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT))
        return self.starts[where], self.starts[where] + 100


def offsets(assigned: list[TopicPartition]) -> dict[tuple[str, int], int]:
    return {(tp.topic, tp.partition): tp.offset for tp in assigned}


def test_unstored_partitions_start_at_their_logs_start_and_stored_ones_where_stored() -> None:
    consumer = Starts({A: 0, B: 40, C: 7}, failing=frozenset())

    assigned = start_offsets(consumer, [A, B, C], {C: 12})

    assert offsets(assigned) == {A: 0, B: 40, C: 12}
    assert consumer.asked == [A, B]


def test_a_failed_lookup_reads_it_and_the_rest_from_the_beginning_without_asking_again() -> None:
    consumer = Starts({A: 5, B: 40, C: 7}, failing=frozenset({B}))

    assigned = start_offsets(consumer, [A, B, C], {})

    assert offsets(assigned) == {A: 5, B: OFFSET_BEGINNING, C: OFFSET_BEGINNING}
    assert consumer.asked == [A, B]


class Assigning(FakeConsumer):
    """The fake cluster's consumer, keeping what it was assigned; its logs start at 3."""

    def __init__(self, cluster: FakeCluster) -> None:
        super().__init__(cluster)
        self.assigned: list[TopicPartition] = []

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = partitions
        super().assign(partitions)

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        return 3, 3


def test_a_worker_on_an_empty_store_assigns_the_looked_up_starts() -> None:
    settings = fake_settings()
    cluster = cluster_for(settings)
    worker = fake_worker(cluster, settings, MemoryStore(), stations(), SEED)
    consumer = Assigning(cluster)
    worker.consumer = consumer  # before `start`, which assigns

    worker.start()
    worker.close()

    assert {tp.offset for tp in consumer.assigned} == {3}
    assert len(consumer.assigned) == len(settings.input_topics)
