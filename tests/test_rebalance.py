"""A group member's bookkeeping without a broker: stale messages, owned outputs, the loader.

`tests/test_worker_group.py` runs the whole hand-over on the real broker; these pin the three
rules it rests on: a message of a partition not owned, or already read, is dropped; the outputs
of yards the worker does not own leave its batch; loading partitions admits their archived
events only, and no clock advance.
"""

from datetime import UTC, datetime

from confluent_kafka import KafkaError

from corridor.contract.events import encode_event
from corridor.store_contract import ArchivedEvent, ClockAdvance, KpiSnapshot, TwinBatch
from streams.live.memory_store import MemoryStore
from streams.rebalance import fresh, keep_owned, load_from_archive
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import FakeMessage

AS_OF = datetime(2026, 3, 2, tzinfo=UTC)


def test_fresh_keeps_owned_unread_messages_and_partition_ends() -> None:
    end = FakeMessage("a", 0, 7, error_=KafkaError(KafkaError._PARTITION_EOF))
    messages = [
        FakeMessage("a", 0, 4),  # read before the rebalance: dropped
        FakeMessage("a", 0, 5),
        FakeMessage("b", 1, 0),  # not owned any more: dropped
        FakeMessage("a", 0, 5),  # the same offset again, from the new assignment: dropped
        FakeMessage("a", 0, 6),
        end,
    ]

    kept = fresh(messages, {("a", 0): 5})

    assert [(m.topic(), m.offset()) for m in kept] == [("a", 5), ("a", 6), ("a", 7)]
    assert kept[-1] is end


def test_keep_owned_leaves_other_yards_and_the_corridor_out() -> None:
    batch = TwinBatch("g", offsets={})
    batch.snapshots = [KpiSnapshot(s, "1h", AS_OF, AS_OF, {}) for s in ("x", "y", "corridor")]
    batch.yard_states = [{"yard": "x"}, {"yard": "y"}]
    batch.reefers = [{"yard": "y"}]
    batch.boxes = [{"yard": "x"}]
    batch.records = {"lifts": [], "levels": []}

    keep_owned(batch, {"x"}, corridor=False)

    assert [s.scope for s in batch.snapshots] == ["x"]
    assert batch.yard_states == [{"yard": "x"}]
    assert batch.reefers == []
    assert batch.boxes == [{"yard": "x"}]
    whole = TwinBatch("g", offsets={})
    whole.snapshots = [KpiSnapshot(s, "1h", AS_OF, AS_OF, {}) for s in ("x", "corridor")]
    keep_owned(whole, {"x"}, corridor=True)
    assert [s.scope for s in whole.snapshots] == ["x", "corridor"]


def test_loading_partitions_admits_their_events_and_no_clock_advance() -> None:
    events = generated_day()[:300]
    store = MemoryStore()
    batch = TwinBatch("g", offsets={})
    for offset, event in enumerate(events):
        partition = sorted({e.yard for e in events}).index(event.yard)
        batch.archived.append(
            ArchivedEvent(
                event.event_id, event.yard, event.ts, encode_event(event), "t", partition, offset
            )
        )
    batch.archived.append(ClockAdvance(max(event.ts for event in events)))
    store.commit(batch)
    wanted = {(e.topic, e.partition) for e in batch.archived[:1] if isinstance(e, ArchivedEvent)}

    loaded = load_from_archive(store, stations(), SEED)(frozenset(wanted))

    mine = [
        e
        for e in batch.archived
        if isinstance(e, ArchivedEvent) and (e.topic, e.partition) in wanted
    ]
    assert loaded.entries == len(mine)
    assert len(loaded.live.buffer) == len(mine)  # all held: no advance released any
    assert loaded.live.watermark is None
    assert loaded.live.accepted == {e.event_id for e in mine}
