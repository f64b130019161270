"""The live worker's garbage collection policy (`streams.gc_policy`): in a process tuned as a
twin's, the twin is frozen out of the collected generations once loaded and after each day it
forgot; anywhere else the worker leaves the collector alone. (`tests/conftest.py` restores the
collector after each test.)"""

import gc
import itertools
from datetime import timedelta

from corridor.runtime import tune_gc_for_a_long_lived_twin
from streams.gc_policy import GcPolicy
from streams.live.memory_store import MemoryStore
from streams.worker import Worker
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import cluster_for, fake_settings, fake_worker, publish

EVENTS = generated_day(days=3)[::4]  # three days of event time: days to forget
NOW = EVENTS[-1].ts + timedelta(hours=1)  # the wall clock the worker is given


def collected(thing: object) -> bool:
    """Is `thing` in a generation the collector scans (not frozen)?"""
    return any(other is thing for other in gc.get_objects())


def run_worker() -> tuple[Worker, list[tuple[int, object, int]]]:
    """A worker through `EVENTS` on in-memory clients, and after its start and each step: how
    many times it settled, the twin's last day forgotten, and how many objects are frozen."""
    settings, store = fake_settings(batch_size=200), MemoryStore()
    cluster = cluster_for(settings)
    publish(cluster, settings, EVENTS)
    worker = fake_worker(cluster, settings, store, stations(), SEED, now=lambda: NOW)
    worker.start()
    after = [(worker.gc.settled, worker.live.forgotten_before, gc.get_freeze_count())]
    while worker.step():
        after.append((worker.gc.settled, worker.live.forgotten_before, gc.get_freeze_count()))
    worker.close()
    return worker, after


def test_a_twin_process_freezes_the_loaded_twin_and_again_after_each_day_forgotten() -> None:
    tune_gc_for_a_long_lived_twin()

    worker, after = run_worker()

    settled, forgotten, frozen = zip(*after, strict=True)
    assert settled[0] == 1  # the load: everything alive then frozen
    assert frozen[0] > 0
    days = len(set(forgotten) - {None})
    assert days >= 2
    assert settled[-1] == 1 + days  # then once a day forgotten, and only then:
    for (was, day, _), (now, later, _) in itertools.pairwise(after):
        assert now - was == (later != day)
    twin = worker.live.twin
    assert twin is not None
    assert not collected(twin)  # the twin, made at the first release, is no collection's work


def test_a_process_not_tuned_as_a_twins_keeps_its_collector_as_it_was() -> None:
    gc.set_threshold(700, 10, 10)  # the interpreter's defaults: a library caller, a test

    worker, after = run_worker()

    assert {(settled, frozen) for settled, _, frozen in after} == {(0, 0)}
    assert worker.live.twin is not None
    assert collected(worker.live.twin)


def test_a_released_twin_is_collectable_again() -> None:
    policy, kept = GcPolicy(active=True), [object()]  # a container: tracked

    policy.settle()
    assert not collected(kept)
    policy.release()

    assert collected(kept)
    assert gc.get_freeze_count() == 0
