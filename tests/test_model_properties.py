"""Properties of the yard model on random traffic (after Ciw's own property tests).

Small capacities make every queue and every wait happen: conservation of boxes, capacities
never exceeded, no negative time, and a reefer never holding two plugs.
"""

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.contract.events import Event
from corridor.engine.twin import Twin
from stations.spec import load_all_stations
from stations.yard import Yard
from tests.factories import arrival, at, box_number, dispatch, reading, schedule

TIGHT = {
    "yuzui": {
        "gate": {"lanes": 1, "exception_lanes": 1},
        "handling": {"rmgs": 1, "reach_stackers": 1},
        "stack": {"capacity_teu": 6, "reefer_plugs": 1},
        "inspection": {"bays": 1, "share_general": 0.3, "share_reefer": 0.5},
        "rail": {"loading_tracks": 1},
    }
}
STATIONS = load_all_stations(TIGHT)

truck_specs = st.lists(
    st.tuples(
        st.floats(0, 600),  # eta, minutes
        st.sampled_from(["22G1", "45G1", "22R1", "45R1"]),
        st.booleans(),  # export?
    ),
    min_size=1,
    max_size=25,
)
train_specs = st.lists(st.tuples(st.floats(0, 700), st.integers(1, 8)), max_size=3)


def build_events(
    trucks: list[tuple[float, str, bool]], trains: list[tuple[float, int]]
) -> list[Event]:
    events: list[Event] = []
    imports: list[tuple[str, str]] = []
    for n, (eta, iso_type, export) in enumerate(trucks):
        setpoint = -18.0 if "R" in iso_type else None
        if export:
            events.append(dispatch(n, ts=eta, eta=eta, iso_type=iso_type, setpoint_c=setpoint))
            if setpoint is not None:
                events += [
                    reading(
                        box_number(n),
                        ts=eta + 30 * k,
                        setpoint=-18,
                        supply=-14 + k,
                        power="off" if k == 2 else "on",
                    )
                    for k in range(1, 5)
                ]
        else:
            imports.append((box_number(5000 + n), iso_type))
            events.append(
                dispatch(
                    n,
                    ts=eta,
                    eta=eta + 60,
                    direction="import",
                    container=box_number(5000 + n),
                    iso_type=iso_type,
                )
            )
    for n, (when, teu) in enumerate(trains):
        events.append(schedule(f"T{n}", ts=0, cutoff=when, departure=when + 60, teu=teu))
    for n, (number, iso_type) in enumerate(imports):
        events.append(arrival(f"I{n}", ts=30 + 10 * n, containers=[number], iso_type=iso_type))
    return sorted(events, key=lambda event: event.ts)


def assert_invariants(yard: Yard) -> None:
    spec = yard.spec
    caps = {
        "gate_busy": spec.gate.lanes,
        "exception_busy": spec.gate.exception_lanes,
        "stack_teu": spec.stack.capacity_teu,
        "plugs_in_use": spec.stack.reefer_plugs,
        "handling_busy": spec.handling.rmgs + spec.handling.reach_stackers,
    }
    for name, series in yard.levels.items():
        assert min(series.values) >= 0, name
        assert list(series.times) == sorted(series.times), name
        if name in caps:
            assert max(series.values) <= caps[name], name
    holders = [box.container_id for box in yard.boxes.values() if box.plug_request is not None]
    assert len(holders) == len(set(holders))
    assert len(yard.plugs.users) + len(yard.plugs.queue) == len(holders)
    assert len(yard.plugs.users) <= spec.stack.reefer_plugs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trucks=truck_specs, trains=train_specs)
def test_yard_invariants_hold_on_random_traffic(
    trucks: list[tuple[float, str, bool]], trains: list[tuple[float, int]]
) -> None:
    twin = Twin(STATIONS, seed=3)
    yard = twin.yards["yuzui"]
    for event in build_events(trucks, trains):
        twin.apply(event)
        assert_invariants(yard)
    twin.advance_to(at(3000))
    assert_invariants(yard)
    tables: dict[str, list[Any]] = twin.tables()

    entered = {box.container_id for box in tables["box_visits"]}
    left = {box.container_id for box in tables["box_visits"] if not math.isnan(box.left)}
    still_in = set(yard.boxes)
    assert entered == left | still_in  # every box that entered left or is still in the yard
    assert not left & still_in
    # by t=3000 every train has left, so a box in the yard with a stacking time is in the stack
    in_stack_teu = sum(box.teu for box in yard.boxes.values() if not math.isnan(box.stacked))
    assert yard.levels["stack_teu"].value == in_stack_teu

    for visit in tables["truck_visits"]:
        steps = [
            visit.dispatched,
            visit.arrived,
            visit.gate_start,
            visit.gate_end,
            visit.lift_start,
            visit.lift_end,
            visit.departed,
        ]
        assert all(t >= 0 for t in steps)
        assert steps == sorted(steps)
    for box in tables["box_visits"]:
        assert box.plug_wait_min >= 0
        assert math.isnan(box.left) or box.left >= box.entered
        # the milestones of its stay come in order, and once one is missing so are the later
        # ones but `left` (an import box has no export milestones)
        stages = [box.entered, box.stacked, box.inspection_start, box.cleared, box.loading_start]
        if box.direction == "import":
            stages = stages[:2]
        passed = [t for t in stages if not math.isnan(t)]
        assert stages[: len(passed)] == passed == sorted(passed)
        assert math.isnan(box.left) or (len(passed) == len(stages) and box.left >= passed[-1])
    for lift in tables["lifts"]:
        assert 0 <= lift.start <= lift.end
    for excursion in tables["reefer_excursions"]:
        assert math.isnan(excursion.end) or excursion.end >= excursion.start >= 0
