"""Hostile input: every bad message lands in the dead letters with its reason, nothing else changes.

Bad messages of every kind the issue lists are interleaved with a valid generated stream on the
real topics. Each must reach the dead-letter topic with its original bytes and headers plus its
reason and origin, be counted by reason, and the worker must keep going: its KPIs equal those
of the valid events alone.
"""

import itertools
import json
import time
from collections import Counter
from typing import Any

import pytest
from confluent_kafka import KafkaError, Message

from corridor.contract.container_ids import with_check_digit
from corridor.contract.events import (
    MAX_EVENT_BYTES,
    Event,
    ReeferReading,
    TruckDispatched,
    encode_event,
)
from corridor.engine.twin import replay
from corridor.store_contract import ArchivedEvent
from streams import dead_letters
from streams.clients import ensure_topics, make_admin, make_producer
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.live.reorder import to_micros
from streams.settings import KafkaSettings
from streams.topics import key_for, topic_for
from tests.broker_fixtures import (
    SEED,
    expected_kpis,
    generated_day,
    run_worker,
    stations,
    topic_messages,
)

pytestmark = [pytest.mark.broker]


def hostile(valid: list[Event]) -> list[tuple[str, bytes, str]]:
    """(name, bytes, expected reason) for each kind of bad message."""
    dispatch = json.loads(encode_event(next(e for e in valid if isinstance(e, TruckDispatched))))
    reading = json.loads(encode_event(next(e for e in valid if isinstance(e, ReeferReading))))
    serial = itertools.count()

    def variant(base: dict[str, Any], **changes: Any) -> bytes:
        fields = {**base, "event_id": f"hostile-{next(serial)}", **changes}
        return json.dumps({k: v for k, v in fields.items() if v is not ...}).encode()

    good_number = with_check_digit("HSTU123456")
    bad_number = good_number[:-1] + str((int(good_number[-1]) + 1) % 10)
    unknown_box = with_check_digit("UNKU765432")
    nan_reading = variant(reading, supply_c=0.0).replace(b'"supply_c": 0.0', b'"supply_c": NaN')
    infinite = variant(reading, return_c=0.5).replace(b'"return_c": 0.5', b'"return_c": 1e999')
    return [
        ("not UTF-8", b"\xff\xfe\x00 binary", "not_utf8"),
        ("not JSON", b"{yard: tuanjiecun", "not_json"),
        ("a JSON array", b"[1, 2, 3]", "invalid:message"),
        ("missing field", variant(dispatch, truck_id=...), "invalid:truck_id"),
        ("mistyped field", variant(dispatch, truck_id=42), "invalid:truck_id"),
        ("bad check digit", variant(dispatch, container_id=bad_number), "invalid:container_id"),
        ("unknown yard", variant(dispatch, yard="chengdu"), "invalid:yard"),
        ("no UTC offset", variant(dispatch, ts="2026-01-05T08:00:00"), "invalid:ts"),
        ("year 9999", variant(dispatch, ts="9999-01-05T08:00:00+08:00"), "invalid:ts"),
        ("NaN literal", nan_reading, "not_json"),
        ("NaN as text", variant(reading, supply_c="NaN"), "invalid:supply_c"),
        ("infinite", infinite, "invalid:return_c"),
        ("oversized", variant(dispatch, pad="x" * MAX_EVENT_BYTES), "oversized"),
        ("empty", b"", "not_json"),
        ("duplicate event_id", encode_event(valid[5]), "duplicate"),
        ("unknown box", variant(reading, container_id=unknown_box), "rejected:container_id"),
    ]


def test_bad_messages_are_dead_lettered_and_valid_ones_all_applied(
    kafka_settings: KafkaSettings,
) -> None:
    valid = generated_day()[:1500]
    bad = hostile(valid)
    sent = produce_interleaved(kafka_settings, valid, bad)
    store = MemoryStore()

    worker = run_worker(kafka_settings, store)

    rejected_by_engine = sum(replay(valid, stations(), SEED).counts.rejected.values())
    expected = Counter(reason for _name, _raw, reason in bad)
    expected["rejected:container_id"] += rejected_by_engine
    assert worker.stats.dead_letters == expected
    assert store.dead_letter_counts == expected
    letters = read_dead_letters(kafka_settings)
    for name, raw, reason in bad:
        topic, partition, offset = sent[name]
        letter = letters[(topic, partition, offset)]
        assert letter.value() == raw, name
        assert header(letter, dead_letters.REASON) == reason.encode(), name
        assert header(letter, "x-test-case") == name.encode(), "original headers are kept"
        assert header(letter, dead_letters.SOURCE_TOPIC) == topic.encode()
        assert header(letter, dead_letters.SOURCE_OFFSET) == str(offset).encode()
        assert header(letter, dead_letters.DETAIL), name
    newest = max(event.ts for event in valid)
    latest = store.latest_snapshots()
    assert {snapshot.as_of for snapshot in latest.values()} == {newest}
    assert {key: s.kpis for key, s in latest.items()} == expected_kpis(valid, newest)
    assert worker.live.twin is not None
    assert worker.live.twin.counts.applied.total() == len(valid) - rejected_by_engine


def produce_interleaved(
    settings: KafkaSettings, valid: list[Event], bad: list[tuple[str, bytes, str]]
) -> dict[str, tuple[str, int, int]]:
    """Valid events in order, a bad message after every 80; returns where each bad one went."""
    ensure_topics(make_admin(settings), settings, settings.all_topics)
    producer = make_producer(settings)
    where: dict[str, tuple[str, int, int]] = {}

    def delivered(name: str) -> Any:
        def report(error: KafkaError | None, message: Message) -> None:
            assert error is None, error
            where[name] = (message.topic() or "", message.partition() or 0, message.offset() or 0)

        return report

    pending = list(bad)
    for index, event in enumerate(valid):
        producer.produce(topic_for(event, settings), encode_event(event), key_for(event))
        if index % 80 == 79 and pending:
            name, raw, _reason = pending.pop(0)
            topic, key = settings.input_topics[len(pending) % 3], b"yuzui"
            if name == "duplicate event_id":  # behind the original on its partition
                topic, key = topic_for(valid[5], settings), key_for(valid[5])
            headers: list[tuple[str, str | bytes | None]] = [("x-test-case", name.encode())]
            producer.produce(topic, raw, key, headers=headers, on_delivery=delivered(name))
    assert not pending, "stream too short for all the bad messages"
    assert producer.flush(10) == 0
    return where


def read_dead_letters(settings: KafkaSettings) -> dict[tuple[str, int, int], Message]:
    """Every message on the dead-letter topic, by the origin its headers name."""
    letters: dict[tuple[str, int, int], Message] = {}
    for message in topic_messages(settings, settings.topic_dead_letter, "dlq"):
        origin = (
            header(message, dead_letters.SOURCE_TOPIC).decode(),
            int(header(message, dead_letters.SOURCE_PARTITION)),
            int(header(message, dead_letters.SOURCE_OFFSET)),
        )
        letters[origin] = message
    return letters


def header(message: Message, name: str) -> bytes:
    """One header's value (bytes, as consumed)."""
    headers = message.headers() or []
    pairs = list(headers.items()) if isinstance(headers, dict) else headers
    values = [value for key, value in pairs if key == name]
    assert len(values) == 1, f"header {name!r}: {values}"
    assert isinstance(values[0], bytes)
    return values[0]


def poison_pills(valid: list[Event]) -> list[tuple[str, bytes, set[str]]]:
    """(name, bytes, reasons it may be dead-lettered with) for messages that once killed or froze
    the worker: issue 10's 2099 event, ~1 MB and 2 MB messages, JSON nested 5,000 deep."""
    dispatch = json.loads(encode_event(next(e for e in valid if isinstance(e, TruckDispatched))))
    from_2099 = {**dispatch, "event_id": "pill-2099", "ts": "2099-06-01T08:00:00+08:00"}
    deep = {**dispatch, "event_id": "pill-deep", "extra": "DEEP"}
    nested = json.dumps(deep).encode().replace(b'"DEEP"', b"[" * 5000 + b"]" * 5000)
    return [
        ("stamped 2099", json.dumps(from_2099).encode(), {"rejected:ts_future"}),
        ("999,900 bytes", b"x" * 999_900, {"oversized"}),
        ("2 MB", json.dumps({**dispatch, "pad": "y" * 2_000_000}).encode(), {"oversized"}),
        ("nested 5,000 deep", nested, {"internal:RecursionError", "invalid:depth"}),
    ]


def produce_pills(
    settings: KafkaSettings, valid: list[Event], pills: list[tuple[str, bytes, set[str]]]
) -> None:
    """Valid events in order with a pill after every 300, sent with the producer limit raised."""
    ensure_topics(make_admin(settings), settings, settings.all_topics)
    producer = make_producer(settings, extra={"message.max.bytes": 3_000_000})
    pending = list(pills)
    for index, event in enumerate(valid):
        producer.produce(topic_for(event, settings), encode_event(event), key_for(event))
        if index % 300 == 299 and pending:
            name, raw, _reasons = pending.pop(0)
            producer.produce(settings.topic_dispatch, raw, b"yuzui", headers=[("x-pill", name)])
    assert not pending, "stream too short for all the pills"
    assert producer.flush(30) == 0


def check_pills_dead_lettered_and_kpis_of_the_valid(
    settings: KafkaSettings,
    store: MemoryStore,
    valid: list[Event],
    pills: list[tuple[str, bytes, set[str]]],
) -> None:
    letters = {letter.raw: letter for letter in store.dead_letters.values()}
    for name, raw, reasons in pills:
        assert letters[raw].reason in reasons, name
    assert sum(store.dead_letter_counts.values()) == len(pills) + rejected_by_engine(valid)
    copies = read_dead_letters(settings)
    for letter in letters.values():
        copy = copies[(letter.source_topic, letter.partition, letter.offset)]
        assert len(copy.value() or b"") + len(copy.key() or b"") < settings.message_max_bytes
        if len(letter.raw) > settings.message_max_bytes // 2:
            assert copy.value() == b"", "too large to copy: referred to the store"
            assert header(copy, dead_letters.RAW_BYTES) == str(len(letter.raw)).encode()
    newest = max(event.ts for event in valid)
    assert {key: s.kpis for key, s in store.latest_snapshots().items()} == expected_kpis(
        valid, newest
    )
    archived = [e.event_id for e in store.archive if isinstance(e, ArchivedEvent)]
    assert len(archived) == len(set(archived)) == len(valid), "every valid event, once"


def rejected_by_engine(valid: list[Event]) -> int:
    return sum(replay(valid, stations(), SEED).counts.rejected.values())


def test_poison_pills_are_dead_lettered_and_the_worker_stays_up(
    kafka_settings: KafkaSettings,
) -> None:
    valid = generated_day()[:1500]
    pills = poison_pills(valid)
    produce_pills(kafka_settings, valid, pills)
    store = MemoryStore()

    worker = run_worker(kafka_settings, store)

    check_pills_dead_lettered_and_kpis_of_the_valid(kafka_settings, store, valid, pills)
    assert worker.live.twin is not None
    assert worker.live.twin.counts.applied.total() == len(valid) - rejected_by_engine(valid)
    assert worker.live.watermark == to_micros(max(event.ts for event in valid)), "not in 2099"


def test_a_worker_restarted_after_each_poison_pill_moves_past_it(
    kafka_settings: KafkaSettings,
) -> None:
    settings = kafka_settings.model_copy(update={"batch_size": 100})
    valid = generated_day()[:1500]
    pills = poison_pills(valid)
    produce_pills(settings, valid, pills)
    store = MemoryStore()
    seen: Counter[str] = Counter()  # dead letters of every worker: a pill read twice counts twice

    for stop_after in range(1, len(pills) + 1):  # stop as soon as a pill is committed
        worker = connect_worker(settings, store, stations(), SEED)
        worker.start()
        deadline = time.monotonic() + 60
        while _pills_committed(store, pills) < stop_after:
            assert time.monotonic() < deadline, "the worker is stuck on a pill"
            worker.step()
        worker.close()
        seen += worker.stats.dead_letters
    worker = run_worker(settings, store)
    seen += worker.stats.dead_letters

    assert seen == store.dead_letter_counts, "no pill dead-lettered twice: offsets moved past it"
    check_pills_dead_lettered_and_kpis_of_the_valid(settings, store, valid, pills)


def _pills_committed(store: MemoryStore, pills: list[tuple[str, bytes, set[str]]]) -> int:
    raws = {letter.raw for letter in store.dead_letters.values()}
    return sum(raw in raws for _name, raw, _reasons in pills)
