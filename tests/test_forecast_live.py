"""The forecast from the live twin's snapshot, and what lets the API serve its first hours.

The worker forecasts from its twin's own snapshot (`corridor.forecast.live_start`): it must give
the forecast a start replayed from the history gives (the same state, the same boxes already
claimed by a truck on its way), with no history at hand. A forecast also carries the boxes over
24 h at every hour's end and each train's departure, so its first hours stand alone.
"""

from datetime import timedelta

import pytest

from corridor.contract.events import Event
from corridor.engine.snapshots import encode
from corridor.forecast.live_start import (
    LiveForecastJob,
    claimed_pickups,
    live_start,
    run_live_forecast,
)
from corridor.forecast.run import ForecastJob, forecast, run_replications
from corridor.forecast.start_state import ReplayStart, replay_start
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import StationSpec

SEED = 5
NOW = DEFAULT_START + timedelta(days=3, hours=7)


@pytest.fixture(scope="module")
def start(stations: dict[str, StationSpec]) -> ReplayStart:
    events: list[Event] = list(generate(stations, days=4, seed=SEED, start=DEFAULT_START))
    return replay_start(events, stations, SEED, NOW)


def test_a_forecast_from_the_twins_snapshot_equals_the_replayed_one(
    start: ReplayStart, stations: dict[str, StationSpec]
) -> None:
    snapshot = start.fork(0).snapshot()
    live = live_start(snapshot, stations, NOW)
    in_yard = {box for twin in [start.fork(0)] for y in twin.yards.values() for box in y.boxes}
    assert live.claimed_pickups & in_yard == start.claimed_pickups & in_yard
    assert live.claimed_pickups  # trucks on their way to collect import boxes: some at 07:00
    replayed = forecast(start, seed=SEED, hours=3, replications=3)
    assert forecast(live, seed=SEED, hours=3, replications=3).as_dict() == replayed.as_dict()


def test_the_job_decodes_the_bytes_and_stamps_when_it_was_computed(start: ReplayStart) -> None:
    twin = start.fork(0)
    job = LiveForecastJob(encode(twin.snapshot()), twin.stations, NOW, hours=2, replications=2)
    result = run_live_forecast(job)
    assert result["now"] == NOW.isoformat()
    assert result["horizon_h"] == 2
    assert result["replications"] == 2
    assert result["computed_at"] > result["now"]  # the wall clock, not event time
    with pytest.raises(ValueError, match="aware"):
        live_start(twin.snapshot(), twin.stations, NOW.replace(tzinfo=None))


def test_no_truck_means_no_box_claimed(start: ReplayStart) -> None:
    snapshot = start.fork(0).snapshot()
    for yard in snapshot.yards.values():
        yard.trucks.clear()
    assert claimed_pickups(snapshot) == frozenset()


def test_every_hour_carries_its_box_count_and_every_train_its_departure(
    start: ReplayStart,
) -> None:
    outcomes = run_replications(ForecastJob(start, SEED, 6), replications=2)
    for run in outcomes:
        for yard in run.values():
            assert len(yard.boxes_over_24h_by_hour) == 6
            assert yard.boxes_over_24h_by_hour[-1] == yard.boxes_over_24h  # counted alike
            assert set(yard.trains_due) == set(yard.trains_late)
            assert all(0 <= due < 6 * 60 for due in yard.trains_due.values())
    result = forecast(start, seed=SEED, hours=6, replications=2)
    for part in [*result.yards.values(), result.corridor]:
        assert len(part.boxes_over_24h_by_hour) == 6
        assert part.boxes_over_24h_by_hour[-1] == part.boxes_over_24h
        for risk in part.trains_at_risk:
            assert risk.departure is not None
            assert NOW <= risk.departure < NOW + timedelta(hours=6)
    # boxes age into the count hour by hour; over six hours some do
    counts = [band.p50 for band in result.corridor.boxes_over_24h_by_hour]
    assert len(set(counts)) > 1
