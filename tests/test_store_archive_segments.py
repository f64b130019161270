"""An archive segment gives back exactly the entries packed into it, in order."""

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.store.archive_segments import CorruptSegmentError, pack, unpack
from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance

T0 = datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=8)))
NAIVE = T0.replace(tzinfo=None)


def random_entries(seed: int, count: int) -> list[ArchiveEntry]:
    rng = random.Random(seed)
    entries: list[ArchiveEntry] = []
    for index in range(count):
        zone = timezone(timedelta(minutes=rng.randrange(-12 * 60, 14 * 60, 15)))
        moment = (T0 + timedelta(microseconds=rng.randrange(10**13))).astimezone(zone)
        if rng.random() < 0.1:
            entries.append(ClockAdvance(moment))
        else:
            raw = rng.randbytes(rng.randrange(300))  # exact bytes, whatever they hold
            origin = rng.choice([("", -1, -1), ("corridor.reefer-telemetry", 2, index)])
            entries.append(ArchivedEvent(f"e{index}", "yuzui", moment, raw, *origin))
    return entries


@pytest.mark.parametrize("seed", range(5))
def test_entries_come_back_equal_and_in_order(seed: int) -> None:
    entries = random_entries(seed, 500)
    back = unpack(pack(entries).payload)
    assert back == entries  # aware datetimes compare as instants
    for original, returned in zip(entries, back, strict=True):
        moment = original.moment if isinstance(original, ClockAdvance) else original.ts
        again = returned.moment if isinstance(returned, ClockAdvance) else returned.ts
        assert again.tzinfo == UTC
        assert again == moment


def test_the_segment_row_names_its_first_key_and_event_time_range() -> None:
    entries: list[ArchiveEntry] = [
        ClockAdvance(T0),
        ArchivedEvent("late", "yuzui", T0 + timedelta(hours=2), b"{}"),
        ArchivedEvent("early", "yuzui", T0 - timedelta(hours=1), b"{}"),
    ]
    segment = pack(entries)
    assert segment.first_key == f"advance@{T0.astimezone(UTC).isoformat()}"
    assert (segment.entries, segment.events) == (3, 2)
    assert segment.first_event_ts == T0 - timedelta(hours=1)
    assert segment.last_event_ts == T0 + timedelta(hours=2)


def test_naive_times_and_empty_segments_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        pack([ArchivedEvent("e1", "yuzui", NAIVE, b"{}")])
    with pytest.raises(ValueError, match="naive"):
        pack([ClockAdvance(NAIVE)])
    with pytest.raises(ValueError, match="at least one"):
        pack([])


def test_a_damaged_payload_is_reported() -> None:
    payload = pack(random_entries(1, 20)).payload
    with pytest.raises(CorruptSegmentError):
        unpack(payload[: len(payload) // 2])
    with pytest.raises(CorruptSegmentError):
        unpack(b'{"not": "msgpack"}')
