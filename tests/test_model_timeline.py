"""A hand-checkable yard: constant times, four trucks, one departure, one arrival.

Every time below was worked out by hand from the spec override (gate 1 min on one lane, a
5 min drive each way between gate and block, reach stacker 3 min with one machine, exit 2 min,
RMG 2 min with one gantry per train, wagon placement 10 min). Minutes are since 08:00 local,
the epoch.
"""

import math

import pytest

from corridor.engine.twin import Twin, replay
from stations.spec import load_all_stations
from tests.factories import arrival, at, box_number, dispatch, reading, schedule

CONSTANT_YUZUI = {
    "yuzui": {
        "gate": {
            "lanes": 1,
            "service_min": {"dist": "constant", "value": 1},
            "exception_share": 0.0,
            "exit_min": {"dist": "constant", "value": 2},
            "yard_drive_min": {"dist": "constant", "value": 5},
        },
        "handling": {
            "reach_stackers": 1,
            "reach_stacker_lift_min": {"dist": "constant", "value": 3},
            "rmg_lift_min": {"dist": "constant", "value": 2},
        },
        "inspection": {"share_general": 0.0, "share_reefer": 0.0},
        "rail": {
            "loading_tracks": 1,
            "gantries_per_train": 1,
            "wagon_placement_min": {"dist": "constant", "value": 10},
        },
    }
}
IMPORT_BOX = box_number(900, owner="MSKU")
REEFER_BOX = box_number(3)


@pytest.fixture(scope="module")
def twin() -> Twin:
    stations = load_all_stations(CONSTANT_YUZUI)
    events = [
        schedule("T1", ts=0, cutoff=240, departure=300),
        dispatch(1, ts=0, eta=0),
        dispatch(2, ts=0, eta=0),
        dispatch(3, ts=0, eta=1, iso_type="22R1", setpoint_c=2.0),
        dispatch(4, ts=5, eta=20, direction="import", container=IMPORT_BOX),
        arrival("I1", ts=30, containers=[IMPORT_BOX]),
        reading(REEFER_BOX, ts=60, setpoint=2.0, supply=4.0),
        reading(REEFER_BOX, ts=75, setpoint=2.0, supply=4.0),
        reading(REEFER_BOX, ts=90, setpoint=2.0, supply=3.2),
        reading(REEFER_BOX, ts=105, setpoint=2.0, supply=2.1),
    ]
    return replay(events, stations, seed=7, until=at(360))


def test_trucks_follow_the_hand_worked_timeline(twin: Twin) -> None:
    visits = {visit.truck_id: visit for visit in twin.tables()["truck_visits"]}
    times = {
        truck: (v.arrived, v.gate_start, v.gate_end, v.lift_start, v.lift_end, v.departed)
        for truck, v in visits.items()
    }
    assert times == {
        "truck-1": (0, 0, 1, 6, 9, 16),
        "truck-2": (0, 1, 2, 9, 12, 19),  # at the block at 7, the reach stacker is busy until 9
        "truck-3": (1, 2, 3, 12, 15, 22),
        # the import truck is at the block at 26 but its box is stacked only at 42
        "truck-4": (20, 20, 21, 42, 45, 52),
    }


def test_boxes_dwell_from_entry_to_departure(twin: Twin) -> None:
    boxes = {box.container_id: box for box in twin.tables()["box_visits"]}
    assert {number: (b.entered, b.stacked, b.left, b.train_id) for number, b in boxes.items()} == {
        box_number(1): (1, 9, 300, "T1"),
        box_number(2): (2, 12, 300, "T1"),
        REEFER_BOX: (3, 15, 300, "T1"),
        IMPORT_BOX: (30, 42, 52, "I1"),
    }


def test_gantry_loads_at_cutoff_and_train_leaves_on_time(twin: Twin) -> None:
    lifts = [
        (lift.container_id, lift.purpose, lift.start, lift.end)
        for lift in twin.tables()["lifts"]
        if lift.equipment == "rmg"
    ]
    assert lifts == [
        (IMPORT_BOX, "train_unload", 40, 42),
        (box_number(1), "train_load", 250, 252),
        (box_number(2), "train_load", 252, 254),
        (REEFER_BOX, "train_load", 254, 256),
    ]
    trains = {train.train_id: train for train in twin.tables()["train_visits"]}
    assert (trains["T1"].work_start, trains["T1"].work_end, trains["T1"].departed) == (
        240,
        256,
        300,
    )
    assert (trains["T1"].boxes, trains["T1"].teu) == (3, 3)
    assert (trains["I1"].work_start, trains["I1"].work_end) == (30, 42)


def test_reefer_excursion_needs_duration_and_clears_with_hysteresis(twin: Twin) -> None:
    excursions = twin.tables()["reefer_excursions"]
    # 2 °C above for 15 min opens it at 60; 3.2 (1.2 off) is inside hysteresis; 2.1 clears it
    assert [(e.kind, e.start, e.end, e.peak_deviation_c) for e in excursions] == [
        ("temperature", 60, 105, 2.0)
    ]


def test_levels_return_to_zero_and_stack_follows_boxes(twin: Twin) -> None:
    yard = twin.yards["yuzui"]
    stack = list(zip(yard.levels["stack_teu"].times, yard.levels["stack_teu"].values, strict=True))
    assert stack == [
        (0, 0),
        (9, 1),
        (12, 2),
        (15, 3),
        (42, 4),
        (45, 3),
        (252, 2),
        (254, 1),
        (256, 0),
    ]
    queue = list(
        zip(yard.levels["gate_queue"].times, yard.levels["gate_queue"].values, strict=True)
    )
    assert queue == [(0, 1), (1, 1), (2, 0)]  # trucks served at once never count as queueing
    plugs = list(
        zip(yard.levels["plugs_in_use"].times, yard.levels["plugs_in_use"].values, strict=True)
    )
    assert plugs == [(0, 0), (15, 1), (256, 0)]
    assert all(series.value == 0 for name, series in yard.levels.items() if name != "stack_teu")


def test_other_yards_saw_nothing(twin: Twin) -> None:
    assert not any(visit.yard != "yuzui" for visit in twin.tables()["truck_visits"])
    assert twin.counts.per_yard.keys() == {"yuzui"}
    assert math.isclose(twin.yards["tuanjiecun"].now, 360)
