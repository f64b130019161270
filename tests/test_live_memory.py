"""The live twin's memory stays bounded over a long run, and its KPIs do not notice.

Two `LiveTwin`s take the same 40 generated days (the 8-day window five times over) the way the
worker feeds them (admit, advance to the newest time minus the lateness, drain to the store,
KPI snapshots once per simulated day): one forgets as it goes (`streams.live.twin.RETENTION`),
the other never does (a retention longer than the run). Every snapshot is the same, what went
to the store is the same, and the forgetting twin's structures stop growing after the window
while the other's grow. At the end, nothing the forgetting twin holds for a truck, box, train
or record is older than the window, unless its visit is still going on.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from corridor.contract.events import Event, encode_event
from corridor.engine.clock import to_minutes
from corridor.engine.retention import IS_PAST
from corridor.engine.twin import Twin
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from streams.live.reorder import from_micros, to_micros
from streams.live.snapshots import WINDOWS, kpi_snapshots
from streams.live.twin import RETENTION, LiveTwin
from tests.broker_fixtures import SEED, stations
from tests.factories import dispatch

DAYS = 40
LATENESS = to_micros(from_micros(0) + timedelta(minutes=5))
NEVER = to_micros(from_micros(0) + timedelta(days=100 * 365))  # a retention nothing outlives
BATCH = 2_000
DAY = 86_400_000_000  # microseconds


def sizes(live: LiveTwin) -> dict[str, int]:
    """How many things per truck, box, train and record the twin holds."""
    twin = live.twin
    assert twin is not None
    held = {
        "accepted ids": len(live.accepted),
        "records": 0,
        "level points": 0,
        "dispatched trucks": 0,
        "modelled milestones": 0,
        "observed milestones": 0,
        "known trains": 0,
        "boxes in the yards": 0,
        "trucks awaiting a box": 0,
        "boxes held for unknown trains": 0,
        "scheduled engine events": 0,
        "reorder buffer": len(live.buffer),
        "days of accepted ids": len(live.ids_by_day),
    }
    for yard in twin.yards.values():
        held["records"] += sum(len(getattr(yard.records, name)) for name in yard.records.__slots__)
        held["level points"] += sum(len(series.times) for series in yard.levels.values())
        held["dispatched trucks"] += len(yard.dispatched_trucks)
        held["modelled milestones"] += len(yard._modelled)
        held["observed milestones"] += len(yard._observed)
        held["known trains"] += len(yard.railway.known)
        held["boxes in the yards"] += len(yard.boxes)
        held["trucks awaiting a box"] += len(yard.awaited_boxes)
        held["boxes held for unknown trains"] += sum(map(len, yard.railway.held.values()))
        held["scheduled engine events"] += len(yard.env._queue)
    return held


@dataclass
class Run:
    """What one live twin showed along the run."""

    live: LiveTwin
    snapshots: list[str] = field(default_factory=list)  # one JSON text per simulated day
    stored: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    sizes: dict[int, dict[str, int]] = field(default_factory=dict)  # by simulated day

    def store(self, twin: Twin) -> None:
        for name, rows in twin.drain().items():
            self.stored.setdefault(name, []).extend(rows)


def feed(run: Run, events: Iterator[Event]) -> Run:
    """Feed as the worker does: batches, watermark = newest - lateness, drain, daily KPIs."""
    live = run.live
    day_of_last_snapshot = None
    for index, event in enumerate(events, 1):
        live.admit(event, encode_event(event))
        if index % BATCH or live.newest is None:
            continue
        moment = live.newest - LATENESS
        live.advance(moment)
        assert live.twin is not None
        run.store(live.twin)
        day = (from_micros(moment) - DEFAULT_START).days
        if day != day_of_last_snapshot:
            day_of_last_snapshot = day
            snapshots = kpi_snapshots(live, moment, DEFAULT_START)
            run.snapshots.append(json.dumps([s.kpis for s in snapshots], sort_keys=True))
            run.sizes[day] = sizes(live)
    return run


@pytest.fixture(scope="module")
def runs() -> tuple[Run, Run]:
    def events() -> Iterator[Event]:
        return generate(stations(), days=DAYS, seed=SEED, start=DEFAULT_START)

    forgetting = feed(Run(LiveTwin(stations(), SEED)), events())
    keeping = feed(Run(LiveTwin(stations(), SEED, retention=NEVER)), events())
    return forgetting, keeping


def test_the_retention_covers_the_longest_kpi_window() -> None:
    assert max(WINDOWS.values()) < RETENTION


def test_every_kpi_snapshot_is_unchanged_by_forgetting(runs: tuple[Run, Run]) -> None:
    forgetting, keeping = runs
    assert len(forgetting.snapshots) >= DAYS - 1
    assert forgetting.snapshots == keeping.snapshots


def test_the_store_gets_every_record_once(runs: tuple[Run, Run]) -> None:
    forgetting, keeping = runs
    for name, rows in keeping.stored.items():
        if name == "observations":  # forgetting also stores what was never paired, NaN modelled
            got = forgetting.stored[name]
            assert [row for row in got if row.modelled == row.modelled] == rows
            continue
        assert forgetting.stored[name] == rows, name


def test_what_the_twin_holds_stops_growing_after_the_window(runs: tuple[Run, Run]) -> None:
    forgetting, keeping = runs
    settled, last = 16, max(forgetting.sizes)
    assert last >= DAYS - 2
    for thing, after_window in forgetting.sizes[settled].items():
        at_end = forgetting.sizes[last][thing]
        kept = keeping.sizes[last][thing]
        assert at_end <= 1.3 * after_window + 10, (thing, after_window, at_end)
        assert at_end <= kept, thing
    grew = {
        thing: keeping.sizes[last][thing] / forgetting.sizes[last][thing]
        for thing in ("accepted ids", "records", "level points", "dispatched trucks")
    }
    assert min(grew.values()) > 2, grew  # without forgetting they grow with the run


def test_nothing_outlives_its_visit_by_more_than_the_window(runs: tuple[Run, Run]) -> None:
    """Past the last horizon the twin forgot at (watermark minus the window, daily), only
    what is still going on stays: no drained record, truck, milestone or train older."""
    live = runs[0].live
    twin = live.twin
    assert twin is not None
    assert twin.epoch is not None
    assert live.forgotten_before is not None
    horizon = to_minutes(from_micros(live.forgotten_before), twin.epoch)
    assert live.watermark is not None
    assert live.watermark - live.forgotten_before < live.retention + DAY  # forgotten daily
    for sid, yard in twin.yards.items():
        drained = twin._drained[sid]
        for name, is_past in IS_PAST.items():
            rows = getattr(yard.records, name)[: drained[name]]
            old = [row for row in rows if is_past(row, horizon)]
            assert not old, (sid, name, len(old), old[:3])
        assert min(yard.dispatched_trucks.values(), default=horizon) >= horizon, sid
        assert min(yard._modelled.values(), default=horizon) >= horizon, sid
        assert min(yard._observed.values(), default=horizon) >= horizon, sid
        for train, plan in yard.railway.known.items():
            assert not plan.departed < horizon, (sid, train)
        for series in yard.levels.values():
            assert series.times[1] > horizon, sid  # one point at or before it: the level then
    assert min(live.ids_by_day) * DAY + DAY > live.forgotten_before


def test_a_repeat_inside_the_window_is_refused_and_beyond_it_is_stale() -> None:
    live = LiveTwin(stations(), SEED)
    first = dispatch(1, ts=0, eta=30)
    assert live.admit(first, encode_event(first)) is not None
    live.advance(to_micros(first.ts) + 7 * DAY)

    assert live.admit(first, encode_event(first)) is None
    assert not live.is_stale(first)

    live.advance(to_micros(first.ts) + 10 * DAY)
    assert first.event_id not in live.accepted, "forgotten after the window"
    assert live.is_stale(first), (
        "so the worker asks the store's archive (tests/test_old_repeats.py)"
    )


def test_a_late_arrival_is_remembered_for_the_window_after_it_arrived() -> None:
    live = LiveTwin(stations(), SEED)
    start = dispatch(1, ts=0, eta=30)
    live.admit(start, encode_event(start))
    live.advance(to_micros(start.ts) + 7 * DAY)
    late = dispatch(2, ts=60, eta=90)  # nearly seven days late, still inside the window
    assert live.admit(late, encode_event(late)) is not None

    live.advance(to_micros(start.ts) + 14 * DAY)  # its time is 14 days behind, its arrival 7
    assert late.event_id in live.accepted
    assert live.admit(late, encode_event(late)) is None
