"""The live view's list of old boxes: who is in the yard, for how long, and in which stage.

Hand-checkable timelines at one yard with constant process times (one customs bay, ten-hour
inspections), and a generated week where the stages the list reports agree with the yard's own
counters (boxes in inspection, boxes waiting for a bay).
"""

import dataclasses
from collections import Counter
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from corridor.engine.live_view import EXPORT_STAGES, IMPORT_STAGES, STAGES, BoxNow
from corridor.engine.twin import Twin, replay
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.distributions import Constant
from stations.spec import StationSpec, load_all_stations
from tests.factories import arrival, at, box_number, dispatch, schedule

INSPECTION_MIN = 600.0  # ten hours a box, so a queue for the one bay is easy to see


def one_bay_yuzui(*, inspected_share: float = 1.0, stack_teu: int = 3000) -> dict[str, StationSpec]:
    """Yuzui with one customs bay, every export box held (by default) and fixed times."""
    spec = load_all_stations()["yuzui"]
    inspection = msgspec.structs.replace(
        spec.inspection,
        bays=1,
        share_general=inspected_share,
        share_reefer=inspected_share,
        scan_min=Constant(INSPECTION_MIN),
        opened_min=Constant(INSPECTION_MIN),
    )
    stack = msgspec.structs.replace(spec.stack, capacity_teu=stack_teu)
    return {"yuzui": dataclasses.replace(spec, inspection=inspection, stack=stack)}


def stages_at(twin: Twin, minutes: float, min_age_h: float = 0.0) -> dict[str, str]:
    """Container -> stage, for the boxes at least `min_age_h` old at `minutes` after T0."""
    twin.advance_to(at(minutes))
    return {box.container_id: box.stage for box in twin.boxes_now("yuzui", min_age_h)}


def test_held_boxes_queue_for_the_one_bay_then_wait_for_a_train_then_load() -> None:
    events = [dispatch(n, ts=0, eta=10 * n, direction="export") for n in (1, 2, 3)]
    twin = replay(events, one_bay_yuzui(), seed=1)
    first, second, third = (box_number(n) for n in (1, 2, 3))

    assert stages_at(twin, 120) == {
        first: "inspection",
        second: "waiting_for_inspection",
        third: "waiting_for_inspection",
    }
    # first cleared after ten hours; no train is known yet, so it waits for one unbooked
    assert stages_at(twin, 120 + INSPECTION_MIN) == {
        first: "waiting_for_train",
        second: "inspection",
        third: "waiting_for_inspection",
    }
    departure = 3 * INSPECTION_MIN
    twin.apply(schedule("Y-1", ts=700, cutoff=departure - 180, departure=departure))
    boxes = {box.container_id: box for box in twin.boxes_now("yuzui", 0)}
    assert boxes[first].train_id == "Y-1"  # booked the moment the train became known
    assert boxes[first].stage == "waiting_for_train"
    assert stages_at(twin, departure - 120)[first] == "loading"


def test_a_cleared_box_held_for_its_unannounced_train_waits_for_it() -> None:
    events = [
        msgspec.structs.replace(dispatch(n, ts=0, eta=10 * n), train_id="Y-9") for n in (1, 2)
    ]
    twin = replay(events, one_bay_yuzui(), seed=1)
    first, second = box_number(1), box_number(2)
    assert stages_at(twin, 120) == {first: "inspection", second: "waiting_for_inspection"}
    # first cleared: booked on Y-9, not announced yet, so waiting for it and not for customs
    assert stages_at(twin, 120 + INSPECTION_MIN) == {
        first: "waiting_for_train",
        second: "inspection",
    }
    assert twin.yards["yuzui"].inspections_in_progress == 1
    departure = 4 * INSPECTION_MIN
    twin.apply(schedule("Y-8", ts=800, cutoff=departure - 300, departure=departure - 60))
    twin.apply(schedule("Y-9", ts=800, cutoff=departure - 180, departure=departure))
    boxes = {box.container_id: box for box in twin.boxes_now("yuzui", 0)}
    assert boxes[first].train_id == "Y-9"  # its own train, not the earlier Y-8
    assert boxes[first].stage == "waiting_for_train"


def test_a_box_with_no_stack_room_is_between_gate_and_stack() -> None:
    events = [dispatch(n, ts=0, eta=10 * n, direction="export") for n in (1, 2)]
    twin = replay(events, one_bay_yuzui(inspected_share=0.0, stack_teu=1), seed=1)
    assert stages_at(twin, 200) == {
        box_number(1): "waiting_for_train",
        box_number(2): "gate_to_stack",
    }


def test_import_boxes_wait_for_unloading_then_for_pickup_and_old_ones_come_first() -> None:
    early = [box_number(n, "TGHU") for n in (1, 2)]
    late = [box_number(n, "TGHU") for n in (3, 4)]
    events = [arrival("A-1", ts=0, containers=early), arrival("A-2", ts=600, containers=late)]
    twin = replay(events, one_bay_yuzui(), seed=1, until=at(600))

    assert set(stages_at(twin, 601).values()) == {"waiting_for_pickup", "waiting_for_unloading"}
    assert stages_at(twin, 601)[late[0]] == "waiting_for_unloading"  # its train just arrived
    twin.advance_to(at(26 * 60))
    listed = twin.boxes_now("yuzui", 24.0)
    assert [box.container_id for box in listed] == sorted(early)  # the later ones are 16 h old
    assert {box.stage for box in listed} == {"waiting_for_pickup"}
    assert listed[0].age_h == pytest.approx(26.0)
    assert (listed[0].entered, listed[0].as_of) == (at(0), at(26 * 60))
    assert (listed[0].train_id, listed[0].direction) == ("A-1", "import")
    all_boxes = twin.boxes_now("yuzui", 0)
    assert [box.age_h for box in all_boxes] == sorted((b.age_h for b in all_boxes), reverse=True)


def test_a_negative_age_floor_is_refused() -> None:
    twin = replay([dispatch(1, ts=0, eta=10)], one_bay_yuzui(), seed=1)
    with pytest.raises(ValueError, match="min_age_h"):
        twin.boxes_now("yuzui", -1.0)


def test_every_stage_is_documented_for_the_api() -> None:
    api_doc = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text("utf-8")
    missing = [stage for stage in STAGES if f"`{stage}`" not in api_doc]
    assert missing == []


@pytest.mark.parametrize("cut_h", [30, 55, 80])
def test_on_a_generated_log_the_stages_agree_with_the_yards_own_counters(cut_h: int) -> None:
    """Half the export boxes held, one bay: the stages match the bay's servers and queue."""
    stations = {**load_all_stations(), **one_bay_yuzui(inspected_share=0.5)}
    stations["yuzui"] = dataclasses.replace(
        stations["yuzui"],
        inspection=msgspec.structs.replace(stations["yuzui"].inspection, scan_min=Constant(40.0)),
    )
    until = DEFAULT_START + timedelta(hours=cut_h)
    events = [e for e in generate(stations, days=4, seed=5, start=DEFAULT_START) if e.ts < until]
    twin = replay(events, stations, seed=5, until=until)
    for yard_id, yard in twin.yards.items():
        listed: list[BoxNow] = twin.boxes_now(yard_id, 0)
        stages = Counter(box.stage for box in listed)
        assert len(listed) == len(yard.boxes)
        assert stages["inspection"] == yard.inspections_in_progress
        assert stages["waiting_for_inspection"] == len(yard.inspection_bays.waiting)
        assert set(stages) <= set(STAGES)
        for box in listed:
            allowed = EXPORT_STAGES if box.direction == "export" else IMPORT_STAGES
            assert box.stage in allowed
    assert twin.yards["yuzui"].inspection_bays.waiting  # the bay does queue in this scenario
