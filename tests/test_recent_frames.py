"""KPI snapshots from the recent records only are byte-identical to KPIs over every record.

A live twin is driven through nine generated days the way the worker drives it (admit, advance
to the watermark, stop at snapshot boundaries); at every boundary the snapshot figures, which
come from `corridor.kpis.recent_frames`, are compared as JSON bytes with `compute_kpis` over
`record_frames` of the whole twin (the corridor's merged from the yards' partials of those
frames, as the live twin reports it), for every window and scope.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from corridor.contract.events import encode_event
from corridor.kpis.recent_frames import RecentRecords
from streams.live.reorder import from_micros
from streams.live.snapshots import kpi_snapshots
from streams.live.twin import LiveTwin
from tests.broker_fixtures import SEED, generated_day, kpis_over_every_record, stations
from tests.live_drive import snapshot_boundaries


def as_bytes(kpis: Any) -> bytes:
    return json.dumps(kpis, sort_keys=True, allow_nan=True).encode()


def full_kpis(live: LiveTwin, as_of: int) -> dict[tuple[str, str], bytes]:
    """(scope, window) -> KPIs over the frames of every record since the epoch."""
    assert live.twin is not None
    kpis = kpis_over_every_record(live.twin, from_micros(as_of))
    return {key: as_bytes(figures) for key, figures in kpis.items()}


def snapshot_kpis(live: LiveTwin, as_of: int) -> dict[tuple[str, str], bytes]:
    snapshots = kpi_snapshots(live, as_of, datetime.now(UTC))
    return {(s.scope, s.window): as_bytes(s.kpis) for s in snapshots}


@pytest.fixture(scope="module")
def nine_days() -> list[Any]:
    return generated_day(days=9)


def test_recent_records_give_the_same_kpis_as_all_records(nine_days: list[Any]) -> None:
    live = LiveTwin(stations(), SEED)
    checked: list[int] = []
    for boundary in snapshot_boundaries(live, nine_days):
        assert snapshot_kpis(live, boundary) == full_kpis(live, boundary)
        checked.append(boundary)
    assert live.twin is not None
    assert live.twin.epoch is not None
    assert len(checked) >= 25
    assert from_micros(checked[-1]) - live.twin.epoch > timedelta(days=8)  # 7d window cuts
    recent = live.recent
    assert recent is not None
    kept = sum(
        len(yard.records.lifts) - recent.past(sid, "lifts") for sid, yard in live.twin.yards.items()
    )
    every = sum(len(yard.records.lifts) for yard in live.twin.yards.values())
    assert kept < every * 0.9  # the older lifts are no longer read


def test_an_earlier_moment_than_before_reads_the_older_records_again(
    nine_days: list[Any],
) -> None:
    live = LiveTwin(stations(), SEED)
    for event in nine_days:
        live.admit(event, encode_event(event))
    assert live.newest is not None
    live.advance(live.newest)
    twin = live.twin
    assert twin is not None
    assert twin.epoch is not None
    recent = RecentRecords(twin)
    late, early = 8 * 1440.0, 1440.0
    recent.frames(late)
    again = recent.frames(early)
    fresh = RecentRecords(twin).frames(early)
    for name, frame in fresh.items():
        assert again[name].equals(frame), name
