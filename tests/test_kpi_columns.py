"""The KPI columns kept between snapshots give the frames a fresh conversion gives.

`corridor.kpis.kpi_columns.KeptRows` converts each closed record once and follows its list as
records are appended and as the twin forgets a prefix of them. A live twin is driven through
twelve generated days as the worker drives it (admit, advance, drain to the store, forget
once a day past the 8-day retention); at each boundary the frames of the twin's kept
`RecentRecords` must equal those of a new `RecentRecords` converting every record again
(whose KPIs equal those over every record: `tests/test_recent_frames.py`).
"""

from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from corridor.engine.clock import to_minutes
from corridor.kpis.kpi_columns import KeptRows, KpiColumns
from corridor.kpis.recent_frames import RecentRecords
from stations.records import Lift, ReeferExcursion
from streams.live.reorder import from_micros, to_micros
from streams.live.snapshots import WINDOWS, window_start
from streams.live.twin import LiveTwin
from tests.broker_fixtures import SEED, generated_day, stations
from tests.live_drive import snapshot_boundaries

LATENESS = to_micros(from_micros(0) + timedelta(minutes=5))


def test_kept_frames_equal_fresh_ones_through_appends_and_forgetting() -> None:
    live = LiveTwin(stations(), SEED)
    checked, kept = 0, None
    for boundary in snapshot_boundaries(live, generated_day(days=12)):
        twin = live.twin
        assert twin is not None
        assert twin.epoch is not None
        end = from_micros(boundary)
        since = to_minutes(window_start(twin.epoch, end, max(WINDOWS.values())), twin.epoch)
        recent = live.recent_records()
        assert recent is not None
        kept = kept or recent
        frames, fresh = recent.frames(since), RecentRecords(twin).frames(since)
        for name, frame in fresh.items():
            assert frames[name].equals(frame), name
            assert list(frames[name].dtypes) == list(frame.dtypes), name
        checked += 1
        twin.drain()  # as the worker's store commit does: drained records may be forgotten
    assert checked >= 30
    assert live.forgotten_before is not None, "twelve days pass the 8-day retention"
    assert live.recent is kept, "one RecentRecords throughout: forgetting does not start over"
    assert live.twin is not None
    first_lifts = [yard.records.lifts[0].end for yard in live.twin.yards.values()]
    assert min(first_lifts) > 2 * 1440, "the first days' lifts were forgotten meanwhile"


def lifts(count: int) -> list[Lift]:
    return [Lift("y", "rmg", f"c{at}", "truck", float(at), float(at) + 0.5) for at in range(count)]


@pytest.fixture
def columns() -> KpiColumns:
    return KpiColumns("lifts", Lift, ["y"])


def test_a_dropped_prefix_is_followed_and_an_altered_list_converted_again(
    columns: KpiColumns,
) -> None:
    rows: list[Any] = lifts(10)
    kept = KeptRows(columns)
    assert kept.sync(rows) == 0
    rows += lifts(12)[10:]
    assert kept.sync(rows) == 0
    del rows[:4]
    assert kept.sync(rows) == 4
    assert np.array_equal(kept.since(0)["end"], [at + 0.5 for at in range(4, 12)])
    rows[-1] = Lift("y", "rmg", "other", "truck", 99.0, 100.0)  # not an append: start over
    assert kept.sync(rows) == 0
    assert kept.since(6)["start"].tolist() == [10.0, 99.0]


def test_labels_are_categories_of_those_present_sorted(columns: KpiColumns) -> None:
    frames = columns.frame([columns.convert(lifts(2))])
    assert list(frames.columns) == ["yard", "start", "end"]
    excursions = KpiColumns("reefer_excursions", ReeferExcursion, ["a", "b"])
    parts = [excursions.convert([_excursion("b", "temperature"), _excursion("a", "power_off")])]
    frame = excursions.frame(parts)
    assert list(frame["kind"].cat.categories) == ["power_off", "temperature"]
    assert frame["kind"].tolist() == ["temperature", "power_off"]
    assert frame["yard"].tolist() == ["b", "a"]


def _excursion(yard: str, kind: str) -> ReeferExcursion:
    return ReeferExcursion(yard, "c1", kind, 1.0, 2.0, float("nan"))
