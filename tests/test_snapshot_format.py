"""Snapshots refuse what they cannot load, and forks start replications from one state."""

import dataclasses
from datetime import timedelta

import msgspec
import pytest

from corridor.contract.events import Event, TrainScheduled
from corridor.engine import snapshots
from corridor.engine.clock import epoch_for
from corridor.engine.twin import Twin, replay
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.distributions import Constant
from stations.snapshot import SnapshotError
from stations.spec import StationSpec

SEED = 5


@pytest.fixture(scope="module")
def events(stations: dict[str, StationSpec]) -> list[Event]:
    return list(generate(stations, days=1, seed=SEED, start=DEFAULT_START))


def half_way(events: list[Event], stations: dict[str, StationSpec]) -> Twin:
    """A twin fed the events before noon of the day, its clock at noon."""
    noon = DEFAULT_START + timedelta(hours=12)
    twin = Twin(stations, SEED, epoch_for(min(event.ts for event in events)))
    for event in sorted(events, key=lambda event: event.ts):
        if event.ts < noon:
            twin.apply(event)
    twin.advance_to(noon)
    return twin


def finish(twin: Twin, events: list[Event]) -> Twin:
    noon = DEFAULT_START + timedelta(hours=12)
    for event in sorted(events, key=lambda event: event.ts):
        if event.ts >= noon:
            twin.apply(event)
    twin.advance_to(max(event.ts for event in events))
    return twin


def test_encoded_bytes_decode_to_the_same_snapshot(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    snapshot = half_way(events, stations).snapshot()
    data = snapshots.encode(snapshot)
    assert snapshots.encode(snapshots.decode(data)) == data
    assert snapshot.yards["yuzui"].trucks, "trucks in flight at noon"


def test_garbage_truncated_or_foreign_bytes_are_refused(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    data = snapshots.encode(half_way(events, stations).snapshot())
    with pytest.raises(SnapshotError, match="not a twin snapshot"):
        snapshots.decode(b"\x00garbage")
    with pytest.raises(SnapshotError, match="not a twin snapshot"):
        snapshots.decode(msgspec.msgpack.encode({"format": "something-else", "version": 1}))
    with pytest.raises(SnapshotError, match=r"not a twin snapshot|corrupt"):
        snapshots.decode(data[: len(data) // 2])


def test_another_version_is_refused_by_name(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    snapshot = half_way(events, stations).snapshot()
    newer = msgspec.structs.replace(snapshot, version=snapshots.VERSION + 1)
    with pytest.raises(SnapshotError, match=r"version 2, this twin reads version 1 only"):
        snapshots.decode(snapshots.encode(newer))
    yard = msgspec.structs.replace(snapshot.yards["yuzui"], version=99)
    odd = msgspec.structs.replace(snapshot, yards={**snapshot.yards, "yuzui": yard})
    with pytest.raises(SnapshotError, match=r"yard snapshot yuzui: .* version 99"):
        snapshots.decode(snapshots.encode(odd))


def test_a_snapshot_inside_an_instant_is_refused(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    twin = half_way(events, stations)
    scheduled = next(event for event in events if isinstance(event, TrainScheduled))
    late = DEFAULT_START + timedelta(hours=13)
    new = msgspec.structs.replace(scheduled, event_id="new", train_id="NEW-TRAIN", ts=late)
    assert twin.apply(new) is None  # its loading process starts at 13:00, after the event
    with pytest.raises(SnapshotError, match="not at an instant boundary"):
        twin.snapshot()


def test_another_spec_is_refused_unless_a_what_if(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    snapshot = half_way(events, stations).snapshot()
    yuzui = stations["yuzui"]
    more = dataclasses.replace(
        yuzui, handling=msgspec.structs.replace(yuzui.handling, reach_stackers=9)
    )
    changed = {**stations, "yuzui": more}
    with pytest.raises(SnapshotError, match="taken under another spec"):
        Twin.restore(snapshot, changed)
    what_if = Twin.restore(snapshot, changed, spec_may_differ=True)
    assert what_if.yards["yuzui"].reach_stackers.capacity == 9
    with pytest.raises(SnapshotError, match="yards not given: yuzui"):
        Twin.restore(snapshot, {sid: s for sid, s in stations.items() if sid != "yuzui"})


def test_an_inconsistent_snapshot_is_refused(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    snapshot = half_way(events, stations).snapshot()
    yard = snapshot.yards["tuanjiecun"]
    broken = msgspec.structs.replace(yard, boxes=[])  # trains and trucks name boxes now gone
    bad = msgspec.structs.replace(snapshot, yards={**snapshot.yards, "tuanjiecun": broken})
    with pytest.raises(SnapshotError, match=r"inconsistent: .* unknown"):
        Twin.restore(snapshots.decode(snapshots.encode(bad)), stations)


def test_restore_continues_and_forks_draw_their_own_replications(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    never_stopped = replay(events, stations, SEED).tables()
    snapshot = half_way(events, stations).snapshot()
    restored = finish(Twin.restore(snapshot, stations), events).tables()
    fork_1 = finish(Twin.fork(snapshot, stations, 1), events).tables()
    fork_1_again = finish(Twin.fork(snapshot, stations, 1), events).tables()
    fork_2 = finish(Twin.fork(snapshot, stations, 2), events).tables()
    assert repr(restored) == repr(never_stopped)
    assert repr(fork_1) == repr(fork_1_again)
    assert repr(fork_1["truck_visits"]) != repr(fork_2["truck_visits"])
    assert repr(fork_1["truck_visits"]) != repr(never_stopped["truck_visits"])
    # the forks share the past: every record closed before noon is the same
    noon = 12 * 60.0 - 1e-9
    before = [visit for visit in never_stopped["truck_visits"] if visit[-1] < noon]
    assert before == [visit for visit in fork_1["truck_visits"] if visit[-1] < noon]
    with pytest.raises(ValueError, match="replication must be non-negative"):
        Twin.fork(snapshot, stations, -1)


def with_gate_lanes(stations: dict[str, StationSpec], lanes: int) -> dict[str, StationSpec]:
    """团结村 with `lanes` smart lanes of 20 minutes a truck (a gate queue by noon)."""
    tjc = stations["tuanjiecun"]
    gate = msgspec.structs.replace(tjc.gate, lanes=lanes, service_min=Constant(value=20.0))
    return {**stations, "tuanjiecun": dataclasses.replace(tjc, gate=gate)}


def test_a_what_if_with_more_servers_hands_them_to_those_waiting(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    two_lanes = with_gate_lanes(stations, 2)
    snapshot = half_way(events, two_lanes).snapshot()
    queued = [t for t in snapshot.yards["tuanjiecun"].trucks if t.stage == "gate_queue"]
    assert len(queued) > 6, "a gate queue at noon with two lanes"
    assert snapshot.yards["tuanjiecun"].busy["gate"] == 2
    six_lanes = Twin.fork(snapshot, with_gate_lanes(stations, 6), 1)
    gate = six_lanes.yards["tuanjiecun"].gate
    assert (gate.capacity, gate.busy, len(gate.waiting)) == (6, 6, len(queued) - 4)
    two_lanes_on = finish(Twin.fork(snapshot, two_lanes, 1), events).tables()["truck_visits"]
    six_lanes_on = finish(six_lanes, events).tables()["truck_visits"]
    assert len(six_lanes_on) > len(two_lanes_on) + 50  # the queue drains: more trucks through
