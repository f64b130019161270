"""Yard state as data: a run stopped at an instant and resumed from its snapshot gives the
`kpis.json` of a run never stopped, byte for byte (issue 14, item 1).

The run is split at instants between events (never inside a group of events of one instant:
`Twin.snapshot` is taken at such boundaries, as the worker's watermarks are), the twin is
snapshotted, encoded to bytes, decoded and restored, and fed the rest. Nothing in flight is
restored approximately: the test compares the whole report.
"""

import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor import jobs
from corridor.contract.events import Event, TruckDispatched, same_instant_rank
from corridor.engine import snapshots
from corridor.engine.clock import epoch_for
from corridor.engine.twin import Twin
from corridor.kpis.report import dumps_report
from corridor.scenario import DEFAULT_START, Scenario, load_scenario, parse_scenario
from corridor.traffic.generator import generate
from stations import rail

DAYS = 3
SEED = 11

LEVERS = """
name = "every-lever"
[policies.all]
loading_plan = "earliest_cutoff_first"
[policies.all.reefer_checks]
mode = "manual"
technicians = 1
check_min = { dist = "triangular", low = 5.0, mode = 10.0, high = 20.0 }
response_min = { dist = "triangular", low = 30.0, mode = 60.0, high = 120.0 }
[policies.all.truck_appointments]
slot_min = 30.0
trucks_per_slot = 12
[policies.all.tallying]
gate_time_factor = 0.8
lift_time_factor = 0.9
[stations.yuzui.stack]  # short of room and plugs: boxes and reefers wait for them
capacity_teu = 450
reefer_plugs = 6
"""
EARLY = timedelta(days=3)  # every fifth import truck comes this much sooner: often before its box


@dataclass
class Case:
    """A generated run and its `kpis.json` never stopped."""

    scenario: Scenario
    events: list[Event]
    instants: list[datetime]  # every distinct event time, in order
    reference: bytes


def ordered_per_yard(events: list[Event]) -> dict[str, list[Event]]:
    """Each yard's events in the order `corridor.engine.twin.replay` applies them."""
    per_yard: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        per_yard[event.yard].append(event)
    for queue in per_yard.values():
        queue.sort(key=same_instant_rank)
        queue.sort(key=lambda event: event.ts)
    return per_yard


def report_bytes(case: Case, twin: Twin) -> bytes:
    source = jobs.simulation_input(case.scenario, SEED, DAYS, DEFAULT_START)
    result = jobs.twin_result(
        twin,
        case.scenario,
        seed=SEED,
        source=source,
        period=(None, case.instants[-1]),
        events=len(case.events),
    )
    return dumps_report(result.report)


def resumed(case: Case, splits: list[datetime]) -> tuple[bytes, list[snapshots.TwinSnapshot]]:
    """The run stopped at each split instant, snapshotted to bytes and restored from them."""
    stations = case.scenario.stations
    per_yard = ordered_per_yard(case.events)
    twin = Twin(stations, SEED, epoch_for(case.instants[0]))
    taken, done = [], dict.fromkeys(per_yard, 0)
    for split in sorted(splits):
        for yard, queue in per_yard.items():
            while done[yard] < len(queue) and queue[done[yard]].ts < split:
                twin.apply(queue[done[yard]])
                done[yard] += 1
        twin.advance_to(split)
        snapshot = snapshots.decode(snapshots.encode(twin.snapshot()))
        taken.append(snapshot)
        twin = Twin.restore(snapshot, stations)
    for yard, queue in per_yard.items():
        for event in queue[done[yard] :]:
            twin.apply(event)
    twin.advance_to(case.instants[-1])
    return report_bytes(case, twin), taken


def early_trucks(events: list[Event]) -> list[Event]:
    """Every fifth import truck dispatched and due `EARLY` sooner: it waits for its train."""
    imports = 0
    adapted = []
    for event in events:
        if isinstance(event, TruckDispatched) and event.direction == "import":
            imports += 1
            if imports % 5 == 0:
                event = msgspec.structs.replace(event, ts=event.ts - EARLY, eta=event.eta - EARLY)
        adapted.append(event)
    return adapted


def make_case(scenario: Scenario, adapt: Callable[[list[Event]], list[Event]] = list) -> Case:
    events = adapt(list(generate(scenario.stations, days=DAYS, seed=SEED, start=DEFAULT_START)))
    result = jobs.replay_events(
        events,
        scenario,
        source=jobs.simulation_input(scenario, SEED, DAYS, DEFAULT_START),
        seed=SEED,
    )
    instants = sorted({event.ts for event in events})
    return Case(scenario, events, instants, dumps_report(result.report))


@pytest.fixture(scope="module")
def today() -> Case:
    return make_case(load_scenario(None))


@pytest.fixture(scope="module")
def levers() -> Case:
    return make_case(parse_scenario(tomllib.loads(LEVERS)), early_trucks)


def at(case: Case, *shares: float) -> list[datetime]:
    """Split instants at these shares of the run's event instants."""
    return [case.instants[int(share * (len(case.instants) - 1))] for share in shares]


def in_flight(taken: list[snapshots.TwinSnapshot]) -> Iterator[str]:
    """What was in flight at the splits, by name, to show the cases cover it."""
    for snapshot in taken:
        for yard in snapshot.yards.values():
            for truck in yard.trucks:
                yield f"truck {truck.stage}"
            for actor in yard.actors:
                yield actor.kind
            for train in yard.trains:
                if train.stage == rail.WORK:
                    yield f"train {train.direction} working"
            for box in yard.boxes:
                if box.monitor is not None:
                    yield "reefer with readings"
                if box.plug:
                    yield f"reefer plug {box.plug}"
            if yard.railway.waiting or yard.railway.held:
                yield "box waiting for a departure"


FIXED_SHARES = [(0.1,), (0.35,), (0.5, 0.62), (0.77,), (0.2, 0.45, 0.9), (0.999,)]


@pytest.mark.parametrize("shares", FIXED_SHARES)
def test_a_run_resumed_from_snapshots_gives_the_same_kpis(
    today: Case, levers: Case, shares: tuple[float, ...]
) -> None:
    for case in (today, levers):
        again, _ = resumed(case, at(case, *shares))
        assert again == case.reference


def test_the_fixed_splits_catch_everything_in_flight(today: Case, levers: Case) -> None:
    seen: set[str] = set()
    for case in (today, levers):
        for shares in FIXED_SHARES:
            seen.update(in_flight(resumed(case, at(case, *shares))[1]))
    wanted = {
        "truck gate_queue",
        "truck gate",
        "truck drive_in",
        "truck lift",
        "truck drive_out",
        "truck await_train",
        "truck stack_room",
        "reefer plug waiting",
        "inspection",
        "reefer_check",
        "train export working",
        "train import working",
        "reefer with readings",
        "reefer plug holding",
        "box waiting for a departure",
    }
    assert wanted <= seen, f"not in flight at any split: {sorted(wanted - seen)}"


@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    shares=st.lists(st.integers(1, 9_999), min_size=1, max_size=3, unique=True),
    which=st.sampled_from(["today", "levers"]),
)
def test_any_split_resumes_to_the_same_kpis(
    today: Case, levers: Case, shares: list[int], which: str
) -> None:
    case = today if which == "today" else levers
    again, _ = resumed(case, at(case, *(share / 10_000 for share in shares)))
    assert again == case.reference
