"""The live twin's state as data: restored from a snapshot at a watermark, with its reorder
buffer, watermark and accepted ids, it goes on exactly as the live twin never stopped."""

import random
from pathlib import Path

import msgspec
import pandas as pd
import pytest

from corridor.contract.events import Event, encode_event
from corridor.kpis.record_frames import record_frames
from stations.snapshot import SnapshotError
from streams.live import state
from streams.live.twin import LiveTwin, Origin
from tests.broker_fixtures import SEED, generated_day, stations
from tests.test_streams_live_twin import LATENESS


def shuffled(events: list[Event]) -> list[Event]:
    """The day a little out of order, as three topics and retrying producers deliver it."""
    rng = random.Random(3)
    out = list(events)
    for index in range(0, len(out) - 8, 8):
        window = out[index : index + 8]
        rng.shuffle(window)
        out[index : index + 8] = window
    return out


def feed(live: LiveTwin, events: list[Event], start: int, stop: int) -> None:
    for index in range(start, stop):
        event = events[index]
        origin = Origin("corridor.dispatch", 0, index, event.yard.encode(), [("h", b"v")])
        live.admit(event, encode_event(event), origin)
        if (index + 1) % 200 == 0 and live.newest is not None:
            live.advance(live.newest - LATENESS)


def frames(live: LiveTwin) -> dict[str, pd.DataFrame]:
    assert live.twin is not None
    return record_frames(live.twin)


def test_a_live_twin_restored_at_watermarks_goes_on_as_never_stopped() -> None:
    events = shuffled(generated_day())
    never = LiveTwin(stations(), SEED)
    feed(never, events, 0, len(events))
    assert never.newest is not None
    never.advance(never.newest)

    live, done, restored = LiveTwin(stations(), SEED), 0, 0
    for stop in [len(events) * share // 10 for share in (2, 3, 5, 6, 8, 9, 10)]:
        feed(live, events, done, stop)
        done = stop
        if stop == len(events):
            break
        try:
            data = state.encode(live.snapshot())
        except SnapshotError:
            continue  # an event at exactly the watermark left work due then: next watermark
        assert len(live.buffer) > 0, "events held beyond the watermark at the snapshot"
        again = LiveTwin.restored(state.decode(data), stations())
        assert again.watermark == live.watermark
        assert again.accepted == live.accepted
        assert len(again.buffer) == len(live.buffer)
        live, restored = again, restored + 1
    assert restored >= 3
    assert live.newest is not None
    live.advance(live.newest)
    mine, theirs = frames(live), frames(never)
    for name, frame in theirs.items():
        pd.testing.assert_frame_equal(mine[name], frame, obj=name)
    assert live.twin is not None
    assert never.twin is not None
    assert live.twin.counts.as_dict() == never.twin.counts.as_dict()


def test_a_restored_live_twin_refuses_repeats_and_keeps_origins() -> None:
    events = generated_day()
    live = LiveTwin(stations(), SEED)
    feed(live, events, 0, len(events) // 2)
    restored = LiveTwin.restored(state.decode(state.encode(live.snapshot())), stations())
    assert restored.admit(events[10], encode_event(events[10])) is None  # seen before
    held = restored.buffer.held()
    assert held, "events waiting for the watermark"
    origin = held[0][4].origin
    assert isinstance(origin, Origin)
    assert origin.topic == "corridor.dispatch"
    assert origin.headers == [("h", b"v")]


def test_foreign_or_corrupt_live_snapshots_are_refused() -> None:
    with pytest.raises(SnapshotError, match="not a live twin snapshot"):
        state.decode(b"\x93garbage")
    with pytest.raises(SnapshotError, match=r"not a live twin snapshot \(format 'x'"):
        state.decode(msgspec.msgpack.encode({"format": "x", "version": state.VERSION}))
    with pytest.raises(SnapshotError, match="live twin snapshot version 3, this twin reads"):
        state.decode(msgspec.msgpack.encode({"format": state.FORMAT, "version": 3}))
    live = LiveTwin(stations(), SEED)
    feed(live, generated_day(), 0, 400)
    data = state.encode(live.snapshot())
    with pytest.raises(SnapshotError, match="corrupt"):
        state.decode(data[:-20])


def test_a_snapshot_lists_each_remembered_id_once_after_forgetting() -> None:
    """The accepted ids are `ids_by_day`'s (version 2 has no second list): the same ids,
    once each, also after `forget` dropped whole days."""
    events = shuffled(generated_day())
    live = LiveTwin(stations(), SEED, retention=3_600_000_000)  # an hour: a day is forgotten
    feed(live, events, 0, len(events))
    assert live.newest is not None
    live.advance(live.newest)
    assert 0 < len(live.accepted) < len({event.event_id for event in events}), "some forgotten"
    taken = state.decode(state.encode(live.snapshot())).ids_by_day
    listed = [event_id for _, ids in taken for event_id in ids]
    assert len(listed) == len(set(listed))
    assert set(listed) == live.accepted


VERSION_1 = Path(__file__).parent / "data" / "live_snapshot_v1.msgpack"
"""A version 1 snapshot, written by main `e8150e2` (the last version 1 writer): a live twin of
an hour's retention fed the first 400 of `shuffled(generated_day())` by `feed`, then
`state.encode(live.snapshot())`: 112 ids remembered, 17 events held."""


def test_a_version_1_snapshot_loads_and_goes_on_as_never_stopped() -> None:
    data = VERSION_1.read_bytes()
    old = msgspec.msgpack.decode(data)
    assert old["version"] == 1
    restored = LiveTwin.restored(state.decode(data), stations())
    assert restored.accepted == set(old["accepted"])
    assert len(restored.buffer) == len(old["held"]) > 0
    kept = {name: value for name, value in old.items() if name != "accepted"}
    assert state.encode(restored.snapshot()) == msgspec.msgpack.encode({**kept, "version": 2})

    events = shuffled(generated_day())
    never = LiveTwin(stations(), SEED, retention=3_600_000_000)
    feed(never, events, 0, len(events))
    feed(restored, events, 400, len(events))
    for live in (never, restored):
        assert live.newest is not None
        live.advance(live.newest)
    mine, theirs = frames(restored), frames(never)
    for name, frame in theirs.items():
        pd.testing.assert_frame_equal(mine[name], frame, obj=name)
    assert restored.accepted == never.accepted


def test_a_version_1_snapshot_whose_two_id_lists_disagree_is_refused() -> None:
    old = msgspec.msgpack.decode(VERSION_1.read_bytes())
    old["accepted"] = old["accepted"][1:]
    with pytest.raises(SnapshotError, match=r"version 1: its accepted ids .* not those by day"):
        state.decode(msgspec.msgpack.encode(old))
