"""A broker restart mid-stream: the worker reconnects by itself and invents nothing.

The embedded broker keeps topics in memory, so a restart loses every message and every topic.
The worker has read part of the first day when the broker restarts; the second day is then
published onto the recreated topics. The worker must notice on its own, resume from the start
of the new topics, process every event produced after the restart, report what it had not read
and lost, and archive nothing it was never sent. (How many unread messages were lost is an
estimate: the log end the broker last reported, which a fetch from the recreated topic may
already have refreshed; see docs/streams.md.)
"""

import pytest

from streams.broker import EmbeddedBroker
from streams.publish import publish
from tests.broker_fixtures import (
    archived_ids,
    settings_for,
    steps_until,
    worker_on_the_first_of_two_days,
)

pytestmark = [pytest.mark.broker]


def test_worker_resumes_on_its_own_after_the_broker_restarts(own_broker: EmbeddedBroker) -> None:
    settings = settings_for(own_broker, batch_size=200)
    _, before, after, store, worker = worker_on_the_first_of_two_days(settings)
    while worker.stats.consumed < 600:
        worker.step()

    own_broker.restart()
    publish(after, settings)
    everything_after = {e.event_id for e in after}
    steps_until(
        worker,
        lambda: archived_ids(store) >= everything_after and worker.idle_for() > 0.5,
        what="the worker did not catch up after the restart",
    )
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
