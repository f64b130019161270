"""The worker loop without a broker: the real `Worker` on in-memory Kafka clients.

Each test publishes onto a `FakeCluster` (tests/kafka_doubles.py), runs the worker until it is
idle, and checks what it committed to a `MemoryStore` and produced onto the output topics
against a replay of the same events (`tests.broker_fixtures.expected_kpis`).
"""

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from corridor.contract.events import (
    Event,
    TruckGateIn,
    TruckGateOut,
    decode_event,
    encode_event,
)
from corridor.engine.twin import replay
from corridor.store_contract import ArchivedEvent, ClockAdvance
from streams import dead_letters
from streams.live.memory_store import MemoryStore
from streams.live.reorder import to_micros
from streams.settings import KafkaSettings
from streams.worker import Worker
from tests.broker_fixtures import SEED, expected_kpis, generated_day, stations
from tests.kafka_doubles import FakeCluster, cluster_for, fake_settings, fake_worker, publish

VALID = generated_day()[:1500]
NOW = VALID[-1].ts + timedelta(hours=1)  # the wall clock the worker is given


def run(cluster: FakeCluster, settings: KafkaSettings, store: MemoryStore, **kwargs: Any) -> Worker:
    worker = fake_worker(cluster, settings, store, stations(), SEED, now=lambda: NOW, **kwargs)
    worker.run(idle_exit_s=0.0)
    worker.close()
    return worker


def final_kpis(store: MemoryStore) -> dict[tuple[str, str], Any]:
    return {key: snapshot.kpis for key, snapshot in store.latest_snapshots().items()}


def engine_rejections(events: list[Event]) -> int:
    return sum(replay(events, stations(), SEED).counts.rejected.values())


def test_valid_events_give_the_kpis_of_a_replay_and_offsets_at_the_ends() -> None:
    settings, store = fake_settings(partitions=2), MemoryStore()
    cluster = cluster_for(settings)
    publish(cluster, settings, VALID)

    worker = run(cluster, settings, store)

    newest = max(event.ts for event in VALID)
    assert {s.as_of for s in store.latest_snapshots().values()} == {newest}
    assert final_kpis(store) == expected_kpis(VALID, newest)
    ends = {
        (topic, partition): len(log)
        for topic in settings.input_topics
        for partition, log in enumerate(cluster.topics[topic])
        if log  # nothing read, nothing committed
    }
    assert store.offsets[settings.group_id] == ends
    assert sum(ends.values()) == len(VALID) == worker.stats.consumed
    assert store.lag[settings.group_id] == 0
    assert worker.consumer.closed  # type: ignore[attr-defined]


def test_snapshots_are_taken_on_cadence_boundaries_and_the_watermark_trails_by_lateness() -> None:
    settings = fake_settings(quiet_after_s=3600.0, batch_size=200)  # never quiet: watermark only
    cluster, store = cluster_for(settings), MemoryStore()
    publish(cluster, settings, VALID)
    worker = fake_worker(cluster, settings, store, stations(), SEED, now=lambda: NOW)
    worker.start()

    while worker.step():
        pass
    worker.step()  # every partition at its end: the newest time seen counts
    worker.close()

    newest = to_micros(max(event.ts for event in VALID))
    assert worker.live.watermark == newest - settings.lateness // timedelta(microseconds=1)
    advances = [entry.moment for entry in store.archive if isinstance(entry, ClockAdvance)]
    assert advances == sorted(advances)
    assert to_micros(advances[-1]) == worker.live.watermark
    cadence = timedelta(minutes=15)
    assert store.snapshots, "snapshots taken while the watermark moved"
    for _scope, _window, as_of in store.snapshots:
        assert (as_of - datetime(2026, 1, 5, tzinfo=as_of.tzinfo)) % cadence == timedelta(0)


def test_bad_messages_are_dead_lettered_with_reason_and_origin_and_the_rest_applied() -> None:
    settings, store = fake_settings(), MemoryStore()
    cluster = cluster_for(settings)
    publish(cluster, settings, VALID[:700])
    topic = settings.topic_dispatch
    bad = [
        cluster.append(topic, b"{yard: tuanjiecun", b"yuzui", [("x-case", b"not json")]),
        cluster.append(topic, encode_event(VALID[3]), b"yuzui"),  # duplicate
    ]
    publish(cluster, settings, VALID[700:])

    worker = run(cluster, settings, store)

    expected = {"not_json": 1, "duplicate": 1}
    rejected = engine_rejections(VALID)
    if rejected:
        expected["rejected:container_id"] = rejected
    assert dict(store.dead_letter_counts) == expected == dict(worker.stats.dead_letters)
    copies = {
        (header(m, dead_letters.SOURCE_OFFSET), header(m, dead_letters.REASON)): m
        for m in cluster.messages(settings.topic_dead_letter)
    }
    not_json = copies[(str(bad[0].offset_).encode(), b"not_json")]
    assert not_json.value_ == bad[0].value_
    assert not_json.key_ == b"yuzui"
    assert header(not_json, "x-case") == b"not json"
    assert (str(bad[1].offset_).encode(), b"duplicate") in copies
    newest = max(event.ts for event in VALID)
    assert final_kpis(store) == expected_kpis(VALID, newest)


def test_a_restarted_worker_rebuilds_from_the_store_and_resumes_at_its_offsets() -> None:
    # twin snapshots off: the whole archive is rebuilt (from a snapshot: test_twin_restart.py)
    settings, store = fake_settings(twin_snapshot_every=timedelta(0)), MemoryStore()
    cluster = cluster_for(settings)
    publish(cluster, settings, VALID[:800])
    first = run(cluster, settings, store)
    publish(cluster, settings, VALID[800:])

    second = run(cluster, settings, store)

    assert second.stats.rebuilt == len(store.archive) - _entries_after(store, first)
    assert second.stats.consumed == len(VALID) - 800
    assert second.stats.dead_letters["duplicate"] == 0, "nothing read twice"
    archived = [e.event_id for e in store.archive if isinstance(e, ArchivedEvent)]
    assert len(archived) == len(set(archived)) == len(VALID)
    newest = max(event.ts for event in VALID)
    assert final_kpis(store) == expected_kpis(VALID, newest)


def _entries_after(store: MemoryStore, first: Worker) -> int:
    """Archive entries the second worker added (the first one's are what it rebuilt)."""
    return len(store.archive) - first.stats.archived - first.stats.advances


def test_an_event_far_ahead_of_the_wall_clock_is_dead_lettered_and_moves_no_clock() -> None:
    settings, store = fake_settings(), MemoryStore()
    cluster = cluster_for(settings)
    dispatch = json.loads(encode_event(VALID[10]))
    future = {**dispatch, "event_id": "from-2099", "ts": "2099-06-01T08:00:00+08:00"}
    near = {**dispatch, "event_id": "in-10-min", "ts": (NOW + timedelta(minutes=10)).isoformat()}
    publish(cluster, settings, VALID[:700])
    cluster.append(settings.topic_dispatch, json.dumps(future).encode(), b"yuzui")
    publish(cluster, settings, VALID[700:])

    worker = run(cluster, settings, store)

    assert store.dead_letter_counts["rejected:ts_future"] == 1
    assert worker.live.watermark == to_micros(max(event.ts for event in VALID))
    newest = max(event.ts for event in VALID)
    assert final_kpis(store) == expected_kpis(VALID, newest)
    assert store.yards_ahead[settings.group_id] == {}

    cluster.append(settings.topic_dispatch, json.dumps(near).encode(), b"yuzui")
    again = run(cluster, settings, store)
    assert again.stats.dead_letters["rejected:ts_future"] == 0, "within the skew: accepted"
    assert again.stats.archived == 1


def test_a_yard_clock_ahead_of_every_input_is_reported() -> None:
    settings, store = fake_settings(), MemoryStore()
    cluster = cluster_for(settings)
    dispatch = json.loads(encode_event(VALID[10]))
    future = {**dispatch, "event_id": "from-2099", "ts": "2099-06-01T08:00:00+08:00"}
    cluster.append(settings.topic_dispatch, json.dumps(future).encode(), b"yuzui")
    far_future = datetime(2099, 6, 2, tzinfo=NOW.tzinfo)  # as if no wall-clock bound existed
    worker = fake_worker(cluster, settings, store, stations(), SEED, now=lambda: far_future)
    worker.run(idle_exit_s=0.0)
    worker.close()
    publish(cluster, settings, VALID[:300])

    run(cluster, settings, store)

    ahead = store.yards_ahead[settings.group_id]
    assert set(ahead) == set(stations())
    behind = datetime(2099, 6, 1, 8, tzinfo=NOW.tzinfo) - max(e.ts for e in VALID[:300])
    assert all(seconds == behind.total_seconds() for seconds in ahead.values())


DEEP = b'{"a": ' * 5000 + b"1" + b"}" * 5000


def test_any_failure_on_one_message_dead_letters_it_and_the_worker_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, store = fake_settings(), MemoryStore()
    cluster = cluster_for(settings)
    dispatch = json.loads(encode_event(VALID[10]))
    deep = json.dumps({**dispatch, "event_id": "deep"}).encode()[:-1] + b', "x": ' + DEEP + b"}"
    publish(cluster, settings, VALID[:700])
    cluster.append(settings.topic_dispatch, deep, b"yuzui")
    cluster.append(settings.topic_dispatch, b'{"boom": 1}', b"yuzui")
    publish(cluster, settings, VALID[700:])

    def decode(raw: bytes) -> Any:
        if raw == b'{"boom": 1}':
            raise LookupError("a decoder bug")
        return decode_event(raw)

    monkeypatch.setattr("streams.intake.decode_event", decode)  # the accept path
    worker = run(cluster, settings, store)

    counts = store.dead_letter_counts
    assert counts["internal:LookupError"] == 1
    assert counts["internal:RecursionError"] + counts["invalid:depth"] == 1
    letters = {letter.reason: letter for letter in store.dead_letters.values()}
    assert letters["internal:LookupError"].detail == "LookupError: a decoder bug"
    newest = max(event.ts for event in VALID)
    assert final_kpis(store) == expected_kpis(VALID, newest)
    assert store.offsets[settings.group_id][(settings.topic_dispatch, 0)] == len(
        cluster.topics[settings.topic_dispatch][0]
    ), "the offsets move past the bad messages"
    assert worker.stats.consumed == len(VALID) + 2


def test_an_event_whose_application_raises_is_dead_lettered_and_the_others_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, store = fake_settings(), MemoryStore()
    cluster = cluster_for(settings)
    publish(cluster, settings, VALID)
    victim = VALID[42]
    from corridor.engine.twin import Twin

    real_apply = Twin.apply

    def apply(self: Twin, event: Event) -> Any:
        if event.event_id == victim.event_id:
            raise ZeroDivisionError("an engine bug")
        return real_apply(self, event)

    monkeypatch.setattr(Twin, "apply", apply)
    worker = run(cluster, settings, store)

    assert store.dead_letter_counts["internal:ZeroDivisionError"] == 1
    [letter] = [x for x in store.dead_letters.values() if x.reason.startswith("internal")]
    assert letter.raw == encode_event(victim)
    assert letter.source_topic == settings.topic_dispatch
    assert worker.live.twin is not None
    others = [event for event in VALID if event is not victim]
    rejected = engine_rejections(others)
    assert worker.live.twin.counts.applied.total() == len(others) - rejected


@pytest.mark.parametrize("size", [999_900, 2_000_000])
def test_a_dead_letter_copy_never_exceeds_the_producer_limit(size: int) -> None:
    settings, store = fake_settings(), MemoryStore()
    cluster = cluster_for(settings)
    huge = b"x" * size
    publish(cluster, settings, VALID[:50])
    original = cluster.append(settings.topic_reefer, huge, b"yuzui", [("x-case", b"huge")])

    run(cluster, settings, store)

    assert store.dead_letter_counts == {"oversized": 1}
    [kept] = store.dead_letters.values()
    assert kept.raw == huge, "the store keeps the original bytes"
    [copy] = cluster.messages(settings.topic_dead_letter)
    assert copy.value_ == b""
    assert header(copy, dead_letters.RAW_BYTES) == str(size).encode()
    reference = f"dead_letters/{settings.topic_reefer}/{original.partition_}/{original.offset_}"
    assert header(copy, dead_letters.RAW_IN_STORE) == reference.encode()
    assert header(copy, "x-case") == b"huge", "small original headers stay"


def test_a_copy_refused_by_a_lower_broker_limit_is_sent_as_a_reference() -> None:
    settings, store = fake_settings(), MemoryStore()
    cluster = cluster_for(settings)
    publish(cluster, settings, VALID[:50])
    big = json.dumps({"pad": "z" * 60_000}).encode()  # a valid size, not a valid event
    cluster.append(settings.topic_reefer, big, b"yuzui", [("x-case", b"big")])

    worker = fake_worker(
        cluster, settings, store, stations(), SEED, now=lambda: NOW, broker_max_bytes=20_000
    )
    worker.run(idle_exit_s=0.0)
    worker.close()

    assert store.dead_letter_counts == {"invalid:type": 1}
    [copy] = cluster.messages(settings.topic_dead_letter)
    assert copy.value_ == b""
    assert copy.key_ is None
    assert header(copy, dead_letters.RAW_BYTES) == str(len(big)).encode()
    assert not [value for name, value in copy.headers_ or [] if name == "x-case"]
    assert worker.sink.failed == 0


def test_gate_out_before_gate_in_and_keys_that_are_not_the_yard_are_counted() -> None:
    settings, store = fake_settings(), MemoryStore()
    cluster = cluster_for(settings)
    gate_in = next(event for event in VALID if isinstance(event, TruckGateIn))
    gate_out = next(
        e for e in VALID if isinstance(e, TruckGateOut) and e.truck_id == gate_in.truck_id
    )
    early_out = json.loads(encode_event(gate_out))
    early_out["ts"] = (gate_in.ts - timedelta(minutes=3)).isoformat()
    events = [e for e in VALID if e is not gate_out]
    publish(cluster, settings, events[:400])
    cluster.append(settings.topic_dispatch, json.dumps(early_out).encode(), gate_out.yard.encode())
    cluster.append(settings.topic_reefer, encode_event(events[401]), b"some-other-yard")
    publish(cluster, settings, events[402:])

    worker = run(cluster, settings, store)

    assert store.flag_counts == {"gate_out_before_gate_in": 1, "key_not_yard": 1}
    assert worker.flags.total == store.flag_counts
    assert not store.dead_letter_counts.get("internal:KeyError"), "flagged, still applied"


def header(message: Any, name: str) -> bytes:
    values = [value for key, value in message.headers_ or [] if key == name]
    assert len(values) == 1, f"header {name!r}: {values}"
    return bytes(values[0])


def test_an_idle_worker_commits_a_heartbeat_at_most_once_per_interval() -> None:
    settings, store = fake_settings(heartbeat_s=0.3), MemoryStore()
    worker = fake_worker(cluster_for(settings), settings, store, stations(), SEED, now=lambda: NOW)
    worker.start()

    worker.step()
    started = store.commits
    assert started >= 1  # committed at once: /ready sees the worker running
    worker.step()
    assert store.commits == started  # an idle worker: not again within the interval
    time.sleep(0.35)
    worker.step()
    assert store.commits == started + 1
    assert store.archive == []
    assert store.snapshots == {}
    worker.close()
