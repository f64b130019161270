"""The live twin's event-time core, without Kafka: reordering, lateness, rebuild from the archive.

These drive `LiveTwin` the way the worker does (admit each accepted event, advance to the
watermark now and then) and compare with `corridor.engine.twin.replay` of the same events.
"""

import random
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from corridor.contract.events import Event, encode_event
from corridor.engine.twin import Twin, replay
from corridor.kpis.record_frames import record_frames
from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance
from streams.live.reorder import from_micros, to_micros
from streams.live.snapshots import kpi_snapshots
from streams.live.twin import LiveTwin, Origin
from tests.broker_fixtures import SEED, generated_day, stations
from tests.factories import box_number, dispatch, reading

DUPLICATE = "duplicate event_id, ignored"
LATENESS = to_micros(from_micros(0) + timedelta(minutes=5))


def drive(live: LiveTwin, events: list[Event], every: int = 250) -> list[ArchiveEntry]:
    """Admit each event, advance to (newest - lateness) every `every` events; the archive."""
    archive: list[ArchiveEntry] = []
    for index, event in enumerate(events, 1):
        raw = encode_event(event)
        if live.admit(event, raw) is not None:
            archive.append(ArchivedEvent(event.event_id, event.yard, event.ts, raw))
        if index % every == 0 and live.newest is not None:
            archive += advance(live, live.newest - LATENESS)
    return archive


def advance(live: LiveTwin, moment: int) -> list[ArchiveEntry]:
    if live.watermark is not None and moment <= live.watermark:
        return []
    live.advance(moment)
    return [ClockAdvance(from_micros(moment))]


def assert_same_records(left: LiveTwin, right: Twin | None) -> None:
    twin = left.twin
    assert twin is not None
    assert right is not None
    expected = record_frames(right)
    for name, frame in record_frames(twin).items():
        if name == "reefer_readings":  # readings of different boxes at one instant keep their
            frame, expected[name] = by_moment(frame), by_moment(expected[name])  # arrival order
        pd.testing.assert_frame_equal(frame, expected[name], obj=name)


def by_moment(readings: pd.DataFrame) -> pd.DataFrame:
    """Readings in (yard, time, box) order: what a KPI could tell apart."""
    keys = ["yard", "time", "container_id"]
    return readings.sort_values(keys, kind="stable", ignore_index=True)


def shuffled_within(events: list[Event], spread: timedelta, seed: int) -> list[Event]:
    rng = random.Random(seed)
    delayed = sorted((e.ts + spread * rng.random(), i) for i, e in enumerate(events))
    return [events[i] for _ts, i in delayed]


def test_shuffled_within_lateness_equals_replay_in_order() -> None:
    events = generated_day()
    live = LiveTwin(stations(), SEED)

    drive(live, shuffled_within(events, timedelta(minutes=4), seed=1))
    assert live.newest is not None
    live.advance(live.newest)

    assert live.twin is not None
    assert live.twin.counts.late == 0
    assert_same_records(live, replay(events, stations(), SEED))


def test_shuffled_beyond_lateness_is_counted_late_not_lost() -> None:
    events = generated_day()
    live = LiveTwin(stations(), SEED)

    drive(live, shuffled_within(events, timedelta(minutes=30), seed=1), every=50)
    assert live.newest is not None
    live.advance(live.newest)

    twin = live.twin
    assert twin is not None
    assert twin.counts.late > 0
    applied = twin.counts.applied.total() + twin.counts.rejected.total()
    assert applied == len(events), "late events are applied at the yard's clock, not dropped"


def test_rebuild_from_the_archive_recreates_the_twin_and_its_buffer() -> None:
    events = generated_day()
    first, rest = events[:2500], events[2500:]
    original = LiveTwin(stations(), SEED)
    archive = drive(original, first)
    assert len(original.buffer) > 0, "a crash with events still waiting"

    rebuilt = LiveTwin(stations(), SEED)
    assert rebuilt.rebuild(archive) == len(archive)

    assert rebuilt.watermark == original.watermark
    assert len(rebuilt.buffer) == len(original.buffer)
    assert rebuilt.accepted == original.accepted
    assert_same_records(rebuilt, original.twin)
    for live in (original, rebuilt):
        drive(live, rest)
        assert live.newest is not None
        live.advance(live.newest)
    assert_same_records(rebuilt, original.twin)


def test_a_repeated_event_id_is_refused() -> None:
    live = LiveTwin(stations(), SEED)
    event = dispatch(1, ts=0, eta=30)

    assert live.admit(event, encode_event(event)) == to_micros(event.ts)
    assert live.admit(event, encode_event(event)) is None
    assert len(live.buffer) == 1


def test_an_event_the_engine_refuses_comes_back_with_its_origin() -> None:
    live = LiveTwin(stations(), SEED)
    truck = dispatch(1, ts=0, eta=30)
    stray = reading(box_number(99), ts=1, setpoint=-18.0, supply=-18.0)
    origin = Origin("corridor.reefer-telemetry", 2, 41, b"yuzui", [("trace", b"x")])
    live.admit(truck, encode_event(truck))
    live.admit(stray, encode_event(stray), origin)

    rejections = live.advance(to_micros(stray.ts))

    assert [r.held.origin for r in rejections] == [origin]
    assert rejections[0].error.field == "container_id"


@pytest.mark.parametrize("corrupt", [b"{not json", b'{"type": "truck.gate_in"}'])
def test_an_archive_that_no_longer_decodes_is_refused(corrupt: bytes) -> None:
    entry = ArchivedEvent("e1", "yuzui", from_micros(0), corrupt)
    with pytest.raises(ValueError, match="e1"):
        LiveTwin(stations(), SEED).rebuild([entry])


def test_no_snapshot_at_or_before_the_epoch() -> None:
    """A first watermark that rounds down to the epoch must not crash the worker."""
    events = generated_day()[:50]
    live = LiveTwin(stations(), SEED)
    drive(live, events)
    assert live.newest is not None
    live.advance(live.newest)
    assert live.twin is not None
    assert live.twin.epoch is not None
    epoch = live.twin.epoch
    now = datetime.now(UTC)
    assert kpi_snapshots(live, to_micros(epoch), now) == []
    later = kpi_snapshots(live, to_micros(epoch + timedelta(hours=1)), now)
    assert {snapshot.window for snapshot in later} == {"1h", "shift", "24h", "7d"}


def test_repeats_are_refused_once_by_the_live_twin_and_by_a_replay() -> None:
    """The live twin refuses a repeated id at admission; its engine does not keep ids again."""
    events = generated_day()[:200]
    live = LiveTwin(stations(), SEED)
    drive(live, [*events, events[10], events[150]])
    live.advance(to_micros(max(event.ts for event in events)) + 1)
    assert live.twin is not None
    assert live.twin.counts.applied.total() == len(events)
    assert live.twin.counts.rejected == {}
    engine_alone = Twin(stations(), SEED, live.twin.epoch, refuse_repeats=False)
    for event in (events[0], events[0]):  # a caller that refuses repeats itself
        engine_alone.apply(event)
    assert DUPLICATE not in engine_alone.counts.rejected
    replayed = replay([*events, events[10]], stations(), SEED)
    assert replayed.counts.rejected == {DUPLICATE: 1}
