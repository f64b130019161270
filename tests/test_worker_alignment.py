"""Watermark alignment on the real broker: a backlog far ahead waits, and nothing changes but that.

Two days of traffic are published but for the dispatch topic, whose partitions stay empty
and not yet idle (their end is not confirmed by the broker and settles after 20 s here, a
stand-in for a topic whose producer lags): the watermark cannot form, and every
event read meanwhile waits in the reorder buffer. Unaligned (`max_partition_lead` 0), the
worker reads the whole reefer and train backlog into the buffer; aligned, it pauses those
partitions within the lead of the backlog's start, so the buffer's peak stays near the events of
the lead plus one batch per partition. Then the dispatch events arrive, the paused partitions
read on as the dispatch partitions catch up, and the final KPIs equal a replay's, with no dead
letters. The decisions themselves: `tests/test_alignment.py`.
"""

import time
from datetime import datetime, timedelta

import pytest
from confluent_kafka import TopicPartition

from corridor.contract.events import Event
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.live.watermark import Partition
from streams.partition_ends import FreshEnds
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.topics import topic_for
from streams.worker import Worker
from tests.broker_fixtures import SEED, expected_kpis, generated_day, settings_for, stations
from tests.test_worker_end_to_end import final_snapshots

pytestmark = [pytest.mark.broker]

LEAD = timedelta(minutes=30)
LATENESS = timedelta(minutes=5)
BATCH = 200
HELD_BACK_S = 20.0  # the empty dispatch partitions' end settles after this: not idle before


Run = tuple[Worker, MemoryStore, tuple[int, int], list[Event]]


def catch_up(broker: EmbeddedBroker, lead: timedelta) -> Run:
    """Publish two days, dispatch held back until the rest stops moving; the worker, its
    store, the reorder buffer's peaks (while dispatch was held back, over the whole run), and
    the events."""
    settings = settings_for(
        broker,
        batch_size=BATCH,
        lateness=LATENESS,
        max_partition_lead=lead,
        align_above_held=0,  # whatever is held (the default waits for 50,000 events)
        end_settle_s=HELD_BACK_S,
        end_confirm=False,  # else the empty dispatch partitions are confirmed idle at once
    )
    events = generated_day(days=2)
    held = [e for e in events if topic_for(e, settings) == settings.topic_dispatch]
    publish([e for e in events if topic_for(e, settings) != settings.topic_dispatch], settings)
    store = MemoryStore()
    worker = connect_worker(settings, store, stations(), SEED)
    worker.start()
    held_back = steps_until_still(worker, settings, still_s=2.0)
    assert worker.live.watermark is None, "no watermark while dispatch has delivered nothing"
    publish(held, settings)
    until_heard_of(worker, settings.topic_dispatch)
    worker.tracker.settle_s = 0.3  # the held-back partitions now end as usual: settled,
    worker.tracker.confirm = FreshEnds(worker)  # or confirmed by the broker, those at their
    for where, ended in worker.tracker.ended_at.items():  # end already asked at once (as
        if ended is not None:  # with `end_confirm` on from the start: each settle vouches
            worker.tracker.confirm.ended(where)  # only for the input before it)
    caught_up = steps_until_idle(worker)
    print(f"lead {lead}: buffer peak {held_back:,} with dispatch held back, {caught_up:,} after")
    worker.close()
    return worker, store, (held_back, max(held_back, caught_up)), events


def steps_until_still(worker: Worker, settings: KafkaSettings, still_s: float) -> int:
    """Steps until nothing was consumed for `still_s` of wall time; the buffer's peak."""
    peak, last, still = 0, -1, 0
    while still < still_s / settings.poll_timeout_s:
        worker.step()
        peak = max(peak, len(worker.live.buffer))
        still = still + 1 if worker.stats.consumed == last else 0
        last = worker.stats.consumed
    return peak


def until_heard_of(worker: Worker, topic: str, timeout_s: float = 30.0) -> None:
    """Wait until the worker's consumer has heard of the messages on every partition of `topic`
    the broker holds any on: a fetch response's high watermark past the worker's position.

    The held-back partitions reached their (empty) end when the worker started, so once their
    settling time is cut they are idle at once unless the worker knows of the messages
    published since (`streams.partition_ends`: its position behind the cached high
    watermark). Under load librdkafka's next fetch response came after the worker's next
    step, the watermark passed the dispatch events, and they were applied late, as the events
    of any idle partition that receives old events would be. The worker takes no step while it
    waits, so the peaks the test measures are as they were.
    """
    held_back = [where for where in worker.tracker.newest if where[0] == topic]
    holding = [where for where in held_back if broker_end(worker, where) > 0]
    behind = worker.tracker.behind
    assert behind is not None, "the worker's tracker asks the consumer"
    deadline = time.monotonic() + timeout_s
    while not all(behind(where) for where in holding):
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker never heard of the messages on {holding}")
        time.sleep(0.01)


def broker_end(worker: Worker, where: Partition) -> int:
    """The partition's end offset, asked of the broker (not the consumer's cached one)."""
    _low, high = worker.consumer.get_watermark_offsets(TopicPartition(*where), timeout=10.0)
    return high


def steps_until_idle(worker: Worker, idle_s: float = 0.6, limit: int = 20_000) -> int:
    peak = 0
    for _ in range(limit):
        worker.step()
        peak = max(peak, len(worker.live.buffer))
        if worker.idle_for() >= idle_s:
            return peak
    raise AssertionError("the worker never went idle")


def test_partitions_far_ahead_wait_and_the_kpis_equal_a_replays(broker: EmbeddedBroker) -> None:
    unaligned, _store, (unaligned_held_back, _peak), events = catch_up(broker, timedelta(0))
    worker, store, (held_back, peak), _events = catch_up(broker, LEAD)
    ahead = [e for e in events if topic_for(e, worker.settings) != worker.settings.topic_dispatch]
    window = most_within(sorted(e.ts for e in events), LEAD + LATENESS)  # what the lead lets in
    # and one batch of each partition read ahead: six while dispatch was held back, then nine
    bound_held_back, bound = window + BATCH * 6, window + BATCH * 9
    print(f"reorder buffer peak while dispatch was held back: {unaligned_held_back:,} unaligned, "
          f"{held_back:,} aligned (bound {bound_held_back:,}); over the run, aligned {peak:,} "
          f"(bound {bound:,})")  # fmt: skip

    assert unaligned_held_back >= 0.9 * len(ahead), "unaligned, the whole backlog waits"
    assert unaligned.alignment.pauses == 0
    assert worker.alignment.pauses > 0
    assert held_back <= bound_held_back < len(ahead) / 2
    assert peak <= bound
    newest = max(event.ts for event in events)
    assert final_snapshots(store) == expected_kpis(events, newest)
    assert sum(worker.stats.dead_letters.values()) == 0
    assert worker.stats.archived == len(events)
    assert worker.live.twin is not None
    assert worker.live.twin.counts.late == 0


def most_within(times: list[datetime], span: timedelta) -> int:
    """The most of the sorted `times` within any `span`."""
    most, first = 0, 0
    for last, ts in enumerate(times):
        while times[first] < ts - span:
            first += 1
        most = max(most, last - first + 1)
    return most
