"""A worker whose admin client refuses every `list_offsets` keeps no batch it has committed.

The worker confirms a partition's end with `list_offsets` (`streams.partition_ends`); a request
refused at once is kept as a failed answer until the partition is asked again. Kept with its
traceback, that failure held the frames of the worker's step that asked (its batch: the
consumed messages and their archive entries) and, asking again, the previous failure: every
batch. `benchmarks/bench_year.py` (whose in-process admin had no `list_offsets`) kept 584,339
`ArchivedEvent`s of 600,310 events over 120 days, RSS 4.5 times the first month's (issue 14).
"""

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException

from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.store_contract import ArchivedEvent, TwinBatch
from streams.partition_ends import FreshEnds
from streams.worker import Worker
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import (
    FakeAdmin,
    FakeCluster,
    cluster_for,
    fake_settings,
    fake_worker,
    publish,
)

BATCH = 200  # messages per step: many steps a day, each a failed request kept


class RefusingAdmin(FakeAdmin):
    """The fake cluster's admin, but every `list_offsets` fails at once (a broker gone)."""

    def list_offsets(self, topic_partition_offsets: Any, **kwargs: Any) -> Any:
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker gone"))


def held() -> tuple[int, int]:
    """Archive entries and batches alive now (after a full collection); without the fix,
    [(1040, 6), (440, 3), (640, 4), (440, 3)] after each quarter of these two days."""
    gc.collect()
    kinds = [type(item) for item in gc.get_objects()]
    return kinds.count(ArchivedEvent), kinds.count(TwinBatch)


def catch_up(worker: Worker, cluster: FakeCluster, events: Sequence[Event]) -> None:
    """Publish `events` and step until the worker consumed them all and committed."""
    publish(cluster, worker.settings, events)
    target = worker.stats.consumed + len(events)
    for _ in range(10 * len(events) // BATCH):
        worker.step()
        if worker.stats.consumed >= target:
            break
    worker.commits.wait()
    assert worker.stats.consumed == target


def test_a_worker_whose_end_requests_fail_holds_no_archived_batch(tmp_path: Path) -> None:
    events = generated_day(days=2)
    now = events[-1].ts
    settings = fake_settings(batch_size=BATCH)  # no answer: an end is idle once reached
    cluster = cluster_for(settings)
    store = SqlStore.open(f"sqlite:///{tmp_path / 'twin.db'}")  # keeps no entry in memory
    worker = fake_worker(
        cluster, settings, store, stations(), SEED, admin=RefusingAdmin(cluster), now=lambda: now
    )
    confirm = worker.tracker.confirm
    assert isinstance(confirm, FreshEnds)
    confirm.retry_s = 0.0  # every step asks again (0.1 s apart in production)
    worker.start()
    quarter = len(events) // 4
    counts = []
    for part in range(4):
        catch_up(worker, cluster, events[part * quarter : (part + 1) * quarter])
        counts.append(held())
    worker.close()
    store.close()
    assert worker.stats.consumed == 4 * quarter > 4 * BATCH
    assert counts == [(0, 0)] * 4  # committed: none left in memory (the store has them)
