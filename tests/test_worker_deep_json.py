"""On the real broker: messages nested too deep are dead-lettered `invalid:depth` with their
bytes, and the worker goes on: its KPIs equal those of the valid events alone."""

import json
from collections import Counter

import pytest

from corridor.contract.events import Event, TruckDispatched, encode_event
from streams import dead_letters
from streams.live.memory_store import MemoryStore
from streams.settings import KafkaSettings
from tests.broker_fixtures import expected_kpis, generated_day, run_worker
from tests.test_worker_hostile_input import header, produce_interleaved, read_dead_letters

pytestmark = [pytest.mark.broker]


def nested(valid: list[Event], depth: int) -> bytes:
    dispatch = json.loads(encode_event(next(e for e in valid if isinstance(e, TruckDispatched))))
    dispatch["event_id"] = f"deep-{depth}"
    head = json.dumps(dispatch)[:-1].encode()
    return head + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"


def test_deep_messages_are_dead_lettered_and_the_worker_goes_on(
    kafka_settings: KafkaSettings,
) -> None:
    valid = generated_day()[:1200]
    bad = [
        ("5,000 deep", nested(valid, 5000), "invalid:depth"),
        ("65 deep", nested(valid, 64), "invalid:depth"),  # the event itself is one level
        ("60,000 openings", b"[" * 60_000, "invalid:depth"),
    ]
    sent = produce_interleaved(kafka_settings, valid, bad)
    store = MemoryStore()

    worker = run_worker(kafka_settings, store)

    invalid = Counter(
        {reason: n for reason, n in worker.stats.dead_letters.items() if reason.startswith("inv")}
    )
    assert invalid == Counter(reason for _name, _raw, reason in bad)
    letters = read_dead_letters(kafka_settings)
    for name, raw, reason in bad:
        letter = letters[sent[name]]
        assert letter.value() == raw, name
        assert header(letter, dead_letters.REASON) == reason.encode(), name
    newest = max(event.ts for event in valid)
    latest = store.latest_snapshots()
    assert {key: s.kpis for key, s in latest.items()} == expected_kpis(valid, newest)
