"""The worker's forecast schedule (`streams.forecast_schedule`) on a real live twin.

No snapshot while catching up; once caught up, one per step of the event-time grid, taken with
the watermark stopped at the grid point (so members of a group forecast the same moments);
one forecast runs at a time and only the newest snapshot waits for it; no more often than the
wall-time bound; the work runs in a reniced process and its yards' parts reach the sink with the
claim and the corridor's yards; a failure is counted, not raised; a hand-over drops what runs
and waits; off for `every_min` 0 and for a store that cannot keep forecasts.
"""

import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest

from corridor.contract.events import Event
from corridor.forecast.yard_parts import PartsOwner
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
NOON = DEFAULT_START + timedelta(hours=12, minutes=3)


class Kept:
    """A sink that keeps what it is given (or refuses it, to test a failing store)."""

    def __init__(self, refuse: bool = False) -> None:
        self.results: list[dict[str, Any]] = []
        self.claims: list[str | None] = []
        self.corridors: list[list[str]] = []
        self.refuse = refuse

    def put_yard_forecasts(self, result: dict[str, Any], keep: int, owner: PartsOwner) -> bool:
        if self.refuse:
            raise OSError("the store is gone")
        self.results.append(result)
        self.claims.append(owner.claim)
        self.corridors.append(list(owner.corridor))
        return True


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


def move(
    schedule: ForecastSchedule,
    live: LiveTwin,
    events: list[Event],
    until: datetime,
    yards: Iterable[str] | None = None,
    claim: str | None = None,
) -> datetime | None:
    """Admit the events up to `until` not admitted yet and move the watermark there as the
    forecasting worker does (stopping at a due grid point to take the snapshot); the point
    taken, if any."""
    assert live.watermark is not None
    since = from_micros(live.watermark)
    for event in events:
        if since <= event.ts < until:
            live.admit(event, msgspec.json.encode(event), None)
    point = schedule.boundary(live.watermark, to_micros(until))
    taken = None
    if point is not None:
        live.advance(point)
        chosen = live.stations if yards is None else yards
        taken = from_micros(point) if schedule.take(live, point, chosen, claim) else None
    live.advance(to_micros(until))
    return taken


@pytest.fixture
def schedule(stations: dict[str, StationSpec]) -> Iterator[ForecastSchedule]:
    made = ForecastSchedule(ForecastSettings(**SMALL), Kept(), stations, "g")
    yield made
    made.close()


def kept(schedule: ForecastSchedule) -> Kept:
    sink = schedule.sink
    assert isinstance(sink, Kept)
    return sink


def test_one_snapshot_per_grid_step_once_caught_up_and_only_the_newest_waits(
    schedule: ForecastSchedule, stations: dict[str, StationSpec], events: list[Event]
) -> None:
    live = live_at(stations, events, NOON)
    quarter = timedelta(minutes=15)
    assert move(schedule, live, events, NOON + quarter) is None  # catching up: full speed
    assert not schedule.consider(live, caught_up=False)
    assert not schedule.consider(live, caught_up=True)  # caught up: nothing waits yet
    at = move(schedule, live, events, NOON + 2 * quarter, claim="c:3")
    assert at == DEFAULT_START + timedelta(hours=12, minutes=30)  # the grid point, not 12:33
    assert live.watermark == to_micros(NOON + 2 * quarter)  # and on to where it was going
    assert schedule.consider(live, caught_up=True)
    assert move(schedule, live, events, NOON + 3 * quarter) is not None  # waits: one runs
    assert not schedule.consider(live, caught_up=True)
    later = move(schedule, live, events, NOON + 4 * quarter)
    assert later == DEFAULT_START + timedelta(hours=13)
    assert schedule.dropped == 1  # 12:45 gave way to 13:00
    assert schedule.collect(timeout=300)
    sink = kept(schedule)
    [stored] = sink.results
    assert datetime.fromisoformat(stored["now"]) == at
    assert (stored["horizon_h"], stored["replications"]) == (2, 2)
    assert set(stored["parts"]) == set(stations)
    assert all(len(part) == 2 for part in stored["parts"].values())  # every replication
    assert sink.claims == ["c:3"]
    assert sink.corridors == [sorted(stations)]
    assert schedule.consider(live, caught_up=True)  # the waiting one starts
    assert schedule.collect(timeout=300)
    assert datetime.fromisoformat(sink.results[-1]["now"]) == later
    assert (schedule.started, schedule.stored) == (2, 2)


def test_a_member_forecasts_its_own_yards_and_a_burst_drops_the_waiting_snapshot(
    schedule: ForecastSchedule, stations: dict[str, StationSpec], events: list[Event]
) -> None:
    live = live_at(stations, events, NOON)
    schedule.consider(live, caught_up=True)
    mine = sorted(stations)[:1]
    assert move(schedule, live, events, NOON + timedelta(minutes=15), yards=mine)
    assert not schedule.consider(live, caught_up=False)  # a burst in the same batch
    assert schedule.dropped == 1
    assert not schedule.running
    assert move(schedule, live, events, NOON + timedelta(minutes=30), yards=mine) is None
    assert not schedule.consider(live, caught_up=True)  # caught up again: the next step
    assert move(schedule, live, events, NOON + timedelta(minutes=45), yards=mine)
    assert schedule.consider(live, caught_up=True)
    assert schedule.collect(timeout=300)
    [stored] = kept(schedule).results
    assert list(stored["parts"]) == mine


def test_a_hand_over_kills_the_forecast_under_way_and_drops_the_waiting_one(
    schedule: ForecastSchedule, stations: dict[str, StationSpec], events: list[Event]
) -> None:
    live = live_at(stations, events, NOON)
    schedule.consider(live, caught_up=True)
    assert move(schedule, live, events, NOON + timedelta(minutes=15))
    assert schedule.consider(live, caught_up=True)
    running = schedule._running
    assert running is not None
    assert move(schedule, live, events, NOON + timedelta(minutes=30))
    schedule.cancel()
    assert not running.process.is_alive()
    # a new twin comes with the next assignment: no snapshot before a batch is caught up
    assert schedule.boundary(live.watermark, to_micros(NOON + timedelta(hours=1))) is None
    assert not schedule.consider(live, caught_up=True)  # nothing waits any more
    assert schedule.stored == 0


def test_no_more_often_than_the_wall_time_bound(
    stations: dict[str, StationSpec], events: list[Event]
) -> None:
    bounded = ForecastSchedule(
        ForecastSettings(**{**SMALL, "min_wall_s": 3600.0}), Kept(), stations
    )
    try:
        live = live_at(stations, events, NOON)
        bounded.consider(live, caught_up=True)
        assert move(bounded, live, events, NOON + timedelta(minutes=15))
        assert bounded.consider(live, caught_up=True)
        assert bounded.collect(timeout=300)
        assert move(bounded, live, events, NOON + timedelta(hours=2)) is None
        assert not bounded.consider(live, caught_up=True)
        assert bounded.started == 1
    finally:
        bounded.close()


def started_process(schedule: ForecastSchedule, live: LiveTwin, events: list[Event]) -> int:
    schedule.consider(live, caught_up=True)
    assert move(schedule, live, events, NOON + timedelta(minutes=15))
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
    live = live_at(stations, events, NOON)
    pid = started_process(schedule, live, events)
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
        pid = started_process(idle, live_at(stations, events, NOON), events)
        assert until(lambda: os.sched_getscheduler(pid) == os.SCHED_IDLE)
        assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the worker's own is untouched
    finally:
        idle.close()


def test_a_failing_store_is_counted_and_the_next_step_tries_again(
    stations: dict[str, StationSpec], events: list[Event]
) -> None:
    failing = ForecastSchedule(ForecastSettings(**SMALL), Kept(refuse=True), stations)
    try:
        live = live_at(stations, events, NOON)
        started_process(failing, live, events)
        assert not failing.collect(timeout=300)
        assert failing.failed == 1
        assert move(failing, live, events, NOON + timedelta(minutes=30))
        assert failing.consider(live, caught_up=True)
    finally:
        failing.close()


def test_no_twin_yet_no_forecast(
    schedule: ForecastSchedule, stations: dict[str, StationSpec]
) -> None:
    empty = LiveTwin(stations, SEED)
    assert schedule.boundary(empty.watermark, to_micros(NOON)) is None  # not caught up yet
    point = schedule.boundary(empty.watermark, to_micros(NOON), at_end=True)  # but at the end
    assert point == to_micros(NOON.replace(minute=0))
    assert not schedule.take(empty, point, stations)  # nothing applied: no twin to snapshot


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
