"""A broker restart mid-stream: the worker reconnects by itself and invents nothing.

The embedded broker keeps topics in memory, so a restart loses every message and every topic.
The worker has read part of the first day when the broker restarts; the second day is then
published onto the recreated topics. The worker must notice on its own, resume from the start
of the new topics, process every event produced after the restart, report what it had not read
and lost, and archive nothing it was never sent. (How many unread messages were lost is an
estimate: the log end the broker last reported, which a fetch from the recreated topic may
already have refreshed; see docs/streams.md.)
"""

import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from corridor.scenario import DEFAULT_START
from corridor.store_contract import ArchivedEvent
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.publish import publish
from streams.worker import Worker
from tests.broker_fixtures import SEED, generated_day, settings_for, stations

pytestmark = [pytest.mark.broker]


def test_worker_resumes_on_its_own_after_the_broker_restarts(own_broker: EmbeddedBroker) -> None:
    settings = settings_for(own_broker, batch_size=200)
    events = generated_day(days=2)
    second_day = DEFAULT_START + timedelta(days=1)
    before = [e for e in events if e.ts < second_day]
    after = [e for e in events if e.ts >= second_day]
    publish(before, settings)
    store = MemoryStore()
    worker = connect_worker(settings, store, stations(), SEED)
    worker.start()
    while worker.stats.consumed < 600:
        worker.step()

    own_broker.restart()
    publish(after, settings)
    everything_after = {e.event_id for e in after}
    steps_until(worker, lambda: archived_ids(store) >= everything_after and worker.idle_for() > 0.5)
    worker.close()

    archived = archived_ids(store)
    before_ids = {e.event_id for e in before}
    assert archived - everything_after <= before_ids, "nothing invented"
    read_before = len(archived & before_ids)  # some may have been fetched before the restart
    losses = worker.stats.broker_losses
    assert {loss.topic for loss in losses} == set(settings.input_topics)
    assert sum(loss.read_up_to for loss in losses) == read_before
    assert all(loss.known_end >= loss.read_up_to for loss in losses)
    assert worker.stats.dead_letters["duplicate"] == 0, "nothing read twice"
    twin = worker.live.twin
    assert twin is not None
    assert not worker.live.buffer
    assert twin.counts.applied.total() + twin.counts.rejected.total() == len(archived)


def archived_ids(store: MemoryStore) -> set[str]:
    return {entry.event_id for entry in store.archive if isinstance(entry, ArchivedEvent)}


def steps_until(worker: Worker, done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the worker did not catch up after the restart"
        worker.step()
