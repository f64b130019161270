"""The worker's forecast schedule (`streams.forecast_schedule`) on a real live twin.

No forecast while catching up; one per step of event time once caught up, one at a time (a step
that comes while one runs is dropped, not queued), no more often than the wall-time bound; the
work runs in a reniced process and its result reaches the sink; a failure is counted, not
raised; off for `every_min` 0 and for a store that cannot keep forecasts.
"""

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest

from corridor.contract.events import Event
from corridor.scenario import DEFAULT_START
from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance
from corridor.traffic.generator import generate
from stations.spec import StationSpec
from streams.forecast_schedule import ForecastSchedule, ForecastSettings, schedule_for
from streams.live.memory_store import MemoryStore
from streams.live.reorder import from_micros, to_micros
from streams.live.twin import LiveTwin

SEED = 4
# niced only: in SCHED_IDLE a forecast may wait for minutes on a machine busy with other work
SMALL = {"hours": 2, "replications": 2, "workers": 1, "min_wall_s": 0.0, "idle_class": False}


class Kept:
    """A sink that keeps what it is given (or refuses it, to test a failing store)."""

    def __init__(self, refuse: bool = False) -> None:
        self.results: list[dict[str, Any]] = []
        self.refuse = refuse

    def put_forecast(self, result: dict[str, Any], keep: int) -> None:
        if self.refuse:
            raise OSError("the store is gone")
        self.results.append(result)


@pytest.fixture(scope="module")
def events(stations: dict[str, StationSpec]) -> list[Event]:
    return list(generate(stations, days=1, seed=SEED, start=DEFAULT_START))


def entries(events: list[Event], until: datetime) -> Iterator[ArchiveEntry]:
    """The events before `until` as a worker archives them, the watermark moved to `until`."""
    for event in events:
        if event.ts < until:
            raw = msgspec.json.encode(event)
            yield ArchivedEvent(event.event_id, event.yard, event.ts, raw)
    yield ClockAdvance(until)


def live_at(stations: dict[str, StationSpec], events: list[Event], until: datetime) -> LiveTwin:
    live = LiveTwin(stations, SEED)
    live.rebuild(entries(events, until))
    return live


def move(live: LiveTwin, events: list[Event], until: datetime) -> None:
    """Admit the events up to `until` not admitted yet, then move the watermark there."""
    assert live.watermark is not None
    since = from_micros(live.watermark)
    for event in events:
        if since <= event.ts < until:
            live.admit(event, msgspec.json.encode(event), None)
    live.advance(to_micros(until))


@pytest.fixture
def schedule(stations: dict[str, StationSpec]) -> Iterator[ForecastSchedule]:
    made = ForecastSchedule(ForecastSettings(**SMALL), Kept(), stations)
    yield made
    made.close()


def test_one_forecast_per_step_once_caught_up_and_none_while_one_runs(
    schedule: ForecastSchedule, stations: dict[str, StationSpec], events: list[Event]
) -> None:
    noon = DEFAULT_START + timedelta(hours=12, minutes=3)
    live = live_at(stations, events, noon)
    assert not schedule.consider(live, caught_up=False)  # catching up: at full speed
    assert schedule.started == 0
    assert schedule.consider(live, caught_up=True)
    assert not schedule.consider(live, caught_up=True)  # the same step
    move(live, events, noon + timedelta(minutes=15))
    assert not schedule.consider(live, caught_up=True)  # one runs: this step is dropped
    assert schedule.dropped == 1
    assert schedule.collect(timeout=300)
    sink = schedule.sink
    assert isinstance(sink, Kept)
    [stored] = sink.results
    assert datetime.fromisoformat(stored["now"]) == noon  # the watermark it was started at
    assert stored["horizon_h"] == 2
    assert stored["replications"] == 2
    assert set(stored["yards"]) == set(stations)
    assert schedule.consider(live, caught_up=True)  # done: the twin as it is now
    assert schedule.collect(timeout=300)
    assert datetime.fromisoformat(sink.results[-1]["now"]) == noon + timedelta(minutes=15)
    assert schedule.started == 2
    assert schedule.stored == 2


def test_no_more_often_than_the_wall_time_bound(
    stations: dict[str, StationSpec], events: list[Event]
) -> None:
    bounded = ForecastSchedule(
        ForecastSettings(**{**SMALL, "min_wall_s": 3600.0}), Kept(), stations
    )
    try:
        noon = DEFAULT_START + timedelta(hours=12)
        live = live_at(stations, events, noon)
        assert bounded.consider(live, caught_up=True)
        assert bounded.collect(timeout=300)
        move(live, events, noon + timedelta(hours=2))
        assert not bounded.consider(live, caught_up=True)
        assert bounded.started == 1
    finally:
        bounded.close()


def started_process(schedule: ForecastSchedule, live: LiveTwin) -> int:
    assert schedule.consider(live, caught_up=True)
    running = schedule._running
    assert running is not None
    pid = running.process.pid
    assert pid is not None
    return pid


def until(check: Callable[[], bool], seconds: float = 120.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except ProcessLookupError:  # it ended first
            return False
        time.sleep(0.05)
    return False


def test_the_forecast_process_runs_below_the_workers_priority_and_close_kills_it(
    schedule: ForecastSchedule, stations: dict[str, StationSpec], events: list[Event]
) -> None:
    live = live_at(stations, events, DEFAULT_START + timedelta(hours=12))
    pid = started_process(schedule, live)
    wanted = min(19, os.nice(0) + schedule.settings.nice)
    assert until(lambda: os.getpriority(os.PRIO_PROCESS, pid) == wanted)
    running = schedule._running
    assert running is not None
    schedule.close()
    assert not running.process.is_alive()  # killed, not waited for
    assert schedule.stored == 0


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="no SCHED_IDLE on this system")
def test_by_default_the_forecast_process_takes_only_cpu_nothing_else_wants(
    stations: dict[str, StationSpec], events: list[Event]
) -> None:
    idle = ForecastSchedule(ForecastSettings(), Kept(), stations)
    try:
        pid = started_process(idle, live_at(stations, events, DEFAULT_START + timedelta(hours=12)))
        assert until(lambda: os.sched_getscheduler(pid) == os.SCHED_IDLE)
        assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the worker's own is untouched
    finally:
        idle.close()


def test_a_failing_store_is_counted_and_the_next_step_tries_again(
    stations: dict[str, StationSpec], events: list[Event]
) -> None:
    failing = ForecastSchedule(ForecastSettings(**SMALL), Kept(refuse=True), stations)
    try:
        noon = DEFAULT_START + timedelta(hours=12)
        live = live_at(stations, events, noon)
        assert failing.consider(live, caught_up=True)
        assert not failing.collect(timeout=300)
        assert failing.failed == 1
        move(live, events, noon + timedelta(minutes=15))
        assert failing.consider(live, caught_up=True)
    finally:
        failing.close()


def test_no_twin_yet_no_forecast(
    schedule: ForecastSchedule, stations: dict[str, StationSpec]
) -> None:
    assert not schedule.consider(LiveTwin(stations, SEED), caught_up=True)


def test_off_for_zero_and_a_store_without_forecasts(stations: dict[str, StationSpec]) -> None:
    assert schedule_for(ForecastSettings(every_min=0), Kept(), stations) is None
    assert schedule_for(ForecastSettings(), MemoryStore(), stations) is None
    assert schedule_for(ForecastSettings(), Kept(), stations) is not None


@pytest.mark.parametrize(
    "setting", [{"every_min": -1}, {"hours": 25}, {"replications": 1}, {"nice": 20}]
)
def test_settings_out_of_range_are_refused(setting: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(setting))):
        ForecastSettings(**setting)
