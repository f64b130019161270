"""The live worker's garbage collection policy (`streams.gc_policy`): in a process tuned as a
twin's, the twin is frozen out of the collected generations once loaded, and, live, after each
day it forgot (a catch-up's days at its end); anywhere else the worker leaves the collector
alone. (`tests/conftest.py` restores the collector after each test.)"""

import gc
import itertools
from collections.abc import Sequence
from datetime import timedelta

from corridor.contract.events import Event
from corridor.runtime import tune_gc_for_a_long_lived_twin
from streams.gc_policy import GcPolicy
from streams.live.memory_store import MemoryStore
from streams.worker import Worker
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import cluster_for, fake_settings, fake_worker, publish

EVENTS = generated_day(days=3)[::4]  # three days of event time: days to forget
NOW = EVENTS[-1].ts + timedelta(hours=1)  # the wall clock the worker is given
BATCH = 200  # a step with fewer messages is live; with this many, catching up

Progress = tuple[int, int, object, int]
"""After a step (or the start): messages it read, settlings, the last day forgotten, frozen
objects."""


def collected(thing: object) -> bool:
    """Is `thing` in a generation the collector scans (not frozen)?"""
    return any(other is thing for other in gc.get_objects())


def run_worker(chunks: Sequence[Sequence[Event]]) -> tuple[Worker, list[Progress]]:
    """A worker on in-memory clients given each chunk of events in turn, stepping until a step
    reads nothing; its progress after its start and after each step."""
    settings, store = fake_settings(batch_size=BATCH), MemoryStore()
    cluster = cluster_for(settings)
    worker = fake_worker(cluster, settings, store, stations(), SEED, now=lambda: NOW)
    worker.start()
    after = [progress(worker, 0)]
    for chunk in chunks:
        publish(cluster, settings, chunk)
        read = None
        while read != 0:
            read = worker.step()
            after.append(progress(worker, read))
    worker.close()
    return worker, after


def progress(worker: Worker, read: int) -> Progress:
    return read, worker.gc.settled, worker.live.forgotten_before, gc.get_freeze_count()


def test_a_live_twin_is_frozen_once_loaded_and_after_each_day_it_forgot() -> None:
    tune_gc_for_a_long_lived_twin()
    live = [EVENTS[i : i + BATCH // 2] for i in range(0, len(EVENTS), BATCH // 2)]

    worker, after = run_worker(live)

    _, settled, forgotten, frozen = zip(*after, strict=True)
    assert settled[0] == 1  # the load: everything alive then frozen
    assert frozen[0] > 0
    days = len(set(forgotten) - {None})
    assert days >= 2
    assert settled[-1] == 1 + days  # then once a day forgotten, and only then:
    for (_, was, day, _), (_, now, later, _) in itertools.pairwise(after):
        assert now - was == (later != day)
    twin = worker.live.twin
    assert twin is not None
    assert not collected(twin)  # the twin, made at the first release, is no collection's work


def test_a_catch_up_is_frozen_once_at_its_end() -> None:
    tune_gc_for_a_long_lived_twin()

    worker, after = run_worker([EVENTS])  # full batches, then the last one: live

    reads, settled, forgotten, _ = zip(*after, strict=True)
    assert len(set(forgotten) - {None}) >= 2  # days forgotten while catching up
    assert reads[1] == BATCH
    assert {was for read, was in zip(reads, settled, strict=True) if read == BATCH} == {1}
    assert settled[-1] == 2  # once, at the first step with less than a batch: live
    assert worker.live.twin is not None
    assert not collected(worker.live.twin)


def test_a_process_not_tuned_as_a_twins_keeps_its_collector_as_it_was() -> None:
    gc.set_threshold(700, 10, 10)  # the interpreter's defaults: a library caller, a test

    worker, after = run_worker([EVENTS])

    assert {(settled, frozen) for _, settled, _, frozen in after} == {(0, 0)}
    assert worker.live.twin is not None
    assert collected(worker.live.twin)


def test_a_released_twin_is_collectable_again() -> None:
    policy, kept = GcPolicy(active=True), [object()]  # a container: tracked

    policy.settle()
    assert not collected(kept)
    policy.release()

    assert collected(kept)
    assert gc.get_freeze_count() == 0
