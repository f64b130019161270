"""The next-shift forecast: forked from the yard as it is now, replicated, summarised as bands.

A forecast is a pure function of its start, seed and replications (serial and forked runs
agree to the byte); replications differ (each draws from its own streams) while starting from
one state; generated pickups collect real boxes of the yard that no truck was dispatched for;
the horizon is checked. Its accuracy is measured by `benchmarks/bench_forecast.py`.
"""

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from corridor.contract.events import Event, TrainScheduled, TruckDispatched
from corridor.forecast.bands import band
from corridor.forecast.future import future_events
from corridor.forecast.run import forecast
from corridor.forecast.start_state import ReplayStart, replay_start, snapshot_start
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.clock import YardEnvironment
from stations.pool import Pool
from stations.spec import StationSpec
from stations.yard import Yard

SEED = 5
NOW = DEFAULT_START + timedelta(days=3, hours=7)


@pytest.fixture(scope="module")
def events(stations: dict[str, StationSpec]) -> list[Event]:
    return list(generate(stations, days=4, seed=SEED, start=DEFAULT_START))


@pytest.fixture(scope="module")
def start(events: list[Event], stations: dict[str, StationSpec]) -> ReplayStart:
    return replay_start(events, stations, SEED, NOW)


def forked_forecast(start: ReplayStart) -> dict[str, Any]:
    """The forecast with its replications in forked processes (run in a spawned process)."""
    return forecast(start, seed=SEED, hours=3, replications=3, workers=2).as_dict()


def test_a_forecast_is_reproducible_and_forked_runs_equal_serial_ones(start: ReplayStart) -> None:
    serial = forecast(start, seed=SEED, hours=3, replications=3, workers=1)
    again = forecast(start, seed=SEED, hours=3, replications=3, workers=1)
    # forking needs a process without threads: a fresh one (the test session may hold some)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        forked = pool.submit(forked_forecast, start).result()
    assert serial.as_dict() == again.as_dict() == forked


def test_bands_cover_each_hour_of_every_yard_in_order(start: ReplayStart) -> None:
    result = forecast(start, seed=SEED, hours=3, replications=3)
    assert sorted(result.yards) == ["tuanjiecun", "xiaonanya", "yuzui"]
    for yard in [*result.yards.values(), result.corridor]:
        assert [hour.start for hour in yard.hours] == [NOW + timedelta(hours=h) for h in range(3)]
        for hour in yard.hours:
            for figure in (hour.gate_queue, hour.turnaround_min, hour.plugs_in_use):
                assert figure.p10 is not None
                assert figure.p50 is not None
                assert figure.p90 is not None
                assert 0 <= figure.p10 <= figure.p50 <= figure.p90
        assert yard.boxes_over_24h.p50 is not None
        assert yard.boxes_over_24h.p50 > 0
    # replications start from one state but draw apart: the bands are not all points
    widths = [
        hour.turnaround_min.p90 - hour.turnaround_min.p10  # type: ignore[operator]
        for yard in result.yards.values()
        for hour in yard.hours
    ]
    assert max(widths) > 0


@pytest.mark.parametrize("hours", [0, 25, -1, True, 2.5])
def test_a_horizon_outside_one_to_24_hours_is_refused(start: ReplayStart, hours: int) -> None:
    with pytest.raises(ValueError, match="hours: expected a whole number from 1 to 24"):
        forecast(start, seed=SEED, hours=hours, replications=2)


def test_a_start_must_be_aware(events: list[Event], stations: dict[str, StationSpec]) -> None:
    with pytest.raises(ValueError, match="now: expected an aware datetime"):
        replay_start(events, stations, SEED, NOW.replace(tzinfo=None))


def test_every_fork_starts_from_the_same_state(start: ReplayStart) -> None:
    one, other = start.fork(0), start.fork(4)
    for sid in one.yards:
        assert sorted(one.yards[sid].boxes) == sorted(other.yards[sid].boxes)
        assert one.yards[sid].records == other.yards[sid].records


def test_generated_pickups_collect_real_unclaimed_boxes_once(start: ReplayStart) -> None:
    twin = start.fork(1)
    until = NOW + timedelta(hours=8)
    future = future_events(
        twin,
        seed=SEED,
        now=NOW,
        until=until,
        replication=1,
        claimed_pickups=start.claimed_pickups,
    )
    assert future
    assert all(NOW <= event.ts < until for event in future)
    pickups = [
        event
        for event in future
        if isinstance(event, TruckDispatched) and event.direction == "import"
    ]
    assert pickups
    collected = Counter(event.container_id for event in pickups)
    assert max(collected.values()) == 1
    for event in pickups:
        box = twin.yards[event.yard].boxes[event.container_id]
        assert box.direction == "import"
        assert event.container_id not in start.claimed_pickups


def test_reseeding_a_yard_changes_its_draws_and_reseeding_back_repeats_them(
    stations: dict[str, StationSpec],
) -> None:
    yard = Yard(YardEnvironment(), stations["yuzui"], SEED)
    first = [yard.streams["gate_service"].uniform() for _ in range(3)]
    yard.reseed(SEED, 2)
    other = [yard.streams["gate_service"].uniform() for _ in range(3)]
    yard.reseed(SEED, 0)
    assert [yard.streams["gate_service"].uniform() for _ in range(3)] == first != other


def test_a_pool_grown_serves_its_line_at_once_and_a_shrunk_one_as_servers_free() -> None:
    env = YardEnvironment()
    pool = Pool(env, 1)
    held = pool.claim()
    waiting = [pool.claim() for _ in range(3)]
    pool.resize(3)
    assert pool.busy == 3
    assert [claim.wait is not None and claim.wait.triggered for claim in waiting] == [
        True,
        True,
        False,
    ]
    pool.resize(1)
    held.__exit__(None, None, None)  # three busy on one server: the freed one is not handed on
    assert pool.busy == 2
    assert not waiting[2].wait.triggered


def test_band_uses_weibull_positions_and_skips_missing_values() -> None:
    values = [float(v) for v in range(1, 9)]
    result = band([*values, float("nan")])
    assert result.p10 == pytest.approx(1.0)  # 0.9th of 8 in k / (n + 1): clamped to the least
    assert result.p50 == pytest.approx(4.5)
    assert result.p90 == pytest.approx(8.0)
    assert band([float("nan")]).p50 is None


def test_a_short_lookback_keeps_the_departures_its_boxes_are_booked_on(
    events: list[Event], stations: dict[str, StationSpec]
) -> None:
    lookback = timedelta(days=1)
    start = replay_start(events, stations, SEED, NOW, lookback)
    since = NOW - lookback
    early = [event for event in start.history if event.ts < since]
    assert early
    assert all(isinstance(e, TrainScheduled) and e.departure >= since for e in early)
    # without those departures, boxes booked on them would wait in the yard for ever, held
    # for a train that left before now
    gone = {e.train_id for e in events if isinstance(e, TrainScheduled) and e.departure < NOW}
    for sid, yard in start.fork(0).yards.items():
        assert not gone & set(yard.railway.held), sid


def test_a_snapshot_start_forecasts_what_the_replayed_start_does(start: ReplayStart) -> None:
    saved = snapshot_start(start)
    replayed = forecast(start, seed=SEED, hours=3, replications=3)
    restored = forecast(saved, seed=SEED, hours=3, replications=3)
    assert restored.as_dict() == replayed.as_dict()
