"""DCSA equipment events become v1 events where the twin has a counterpart, notes otherwise."""

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from corridor.contract.container_ids import with_check_digit
from corridor.contract.dcsa import DcsaNote, from_dcsa, parse_dcsa
from corridor.contract.events import TrainArrived, TruckDispatched, TruckGateIn, TruckGateOut

DOC = Path(__file__).resolve().parents[1] / "docs" / "events.md"
CST = timezone(timedelta(hours=8))


def equipment(code: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventID": f"ev-{code}",
        "eventType": "EQUIPMENT",
        "eventClassifierCode": "ACT",
        "equipmentEventTypeCode": code,
        "eventDateTime": "2026-01-01T08:00:00+08:00",
        "equipmentReference": "HLXU4018226",
        "ISOEquipmentCode": "45G1",
        "emptyIndicatorCode": "LADEN",
        "eventLocation": {"UNLocationCode": "CNCKG", "facilityCode": "TJC"},
        "transportCall": {"modeOfTransport": "RAIL" if code == "DISC" else "TRUCK"},
    }
    return {**record, **fields}


def test_gate_in_is_an_export_delivery_with_its_observed_gate_in() -> None:
    dispatched, gate_in = from_dcsa([equipment("GTIN")])
    assert isinstance(dispatched, TruckDispatched)
    assert isinstance(gate_in, TruckGateIn)
    at = datetime(2026, 1, 1, 8, tzinfo=CST)
    assert (dispatched.direction, dispatched.eta, dispatched.ts, gate_in.ts) == (
        "export",
        at,
        at,
        at,
    )
    assert (dispatched.yard, dispatched.container_id, dispatched.iso_type) == (
        "tuanjiecun",
        "HLXU4018226",
        "45G1",
    )
    assert dispatched.truck_id == gate_in.truck_id
    assert (dispatched.event_id, gate_in.event_id) == ("dcsa-ev-GTIN-dispatch", "dcsa-ev-GTIN")


def test_gate_out_is_an_import_pickup_dispatched_a_turnaround_earlier() -> None:
    dispatched, gate_out = from_dcsa([equipment("GTOT")], pickup_turnaround_min=45)
    assert isinstance(dispatched, TruckDispatched)
    assert isinstance(gate_out, TruckGateOut)
    assert dispatched.direction == "import"
    assert gate_out.ts - dispatched.eta == timedelta(minutes=45)
    assert dispatched.truck_id == gate_out.truck_id


def test_discharges_of_one_rail_call_make_one_train_arrival_in_place_of_the_first() -> None:
    numbers = [with_check_digit(f"CBHU{serial:06d}") for serial in range(4)]
    call = {"modeOfTransport": "RAIL", "transportCallID": "X8001"}
    other = {"modeOfTransport": "RAIL", "transportCallID": "X8002"}
    records = [
        equipment("DISC", eventID="d1", equipmentReference=numbers[0], transportCall=call,
                  eventDateTime="2026-01-01T06:10:00+08:00"),
        equipment("GTIN", eventID="g1"),
        equipment("DISC", eventID="d2", equipmentReference=numbers[1], transportCall=call,
                  eventDateTime="2026-01-01T06:05:00+08:00", ISOEquipmentCode="22R1"),
        equipment("DISC", eventID="d3", equipmentReference=numbers[2], transportCall=other),
        equipment("DISC", eventID="d4", equipmentReference=numbers[3], transportCall=call),
    ]  # fmt: skip
    items = from_dcsa(records)
    assert [type(item).__name__ for item in items] == [
        "TrainArrived",
        "TruckDispatched",
        "TruckGateIn",
        "TrainArrived",
    ]
    first, second = items[0], items[3]
    assert isinstance(first, TrainArrived)
    assert isinstance(second, TrainArrived)
    assert first.train_id == "X8001"
    assert [box.container_id for box in first.boxes] == [numbers[0], numbers[1], numbers[3]]
    assert first.boxes[1].iso_type == "22R1"
    assert first.boxes[1].setpoint_c is None  # DCSA equipment events carry no setpoint
    assert first.ts == datetime(2026, 1, 1, 6, 5, tzinfo=CST)
    assert [box.container_id for box in second.boxes] == [numbers[2]]


def test_a_call_of_more_than_500_boxes_is_split() -> None:
    call = {"modeOfTransport": "RAIL", "transportCallID": "BIG"}
    records = [
        equipment(
            "DISC",
            eventID=f"d{k}",
            equipmentReference=with_check_digit(f"MSCU{k:06d}"),
            transportCall=call,
        )
        for k in range(620)
    ]
    trains = from_dcsa(records)
    assert [(t.train_id, len(t.boxes)) for t in trains] == [("BIG", 500), ("BIG-2", 120)]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (equipment("LOAD"), "equipmentEventTypeCode", "recorded only"),
        (equipment("STRP"), "equipmentEventTypeCode", "no v1 counterpart"),
        (equipment("GTIN", emptyIndicatorCode="EMPTY"), "emptyIndicatorCode", "empty"),
        (equipment("GTIN", eventClassifierCode="EST"), "eventClassifierCode", "actual"),
        (equipment("GTIN", eventType="TRANSPORT"), "eventType", "EQUIPMENT"),
        (equipment("DISC", transportCall={"modeOfTransport": "VESSEL"}), "transportCall", "RAIL"),
        (equipment("GTIN", eventLocation={"UNLocationCode": "CNCKG"}), "eventLocation", "yard"),
        (equipment("GTIN", equipmentReference="HLXU4018227"), "equipmentReference", "check"),
        (equipment("GTIN", ISOEquipmentCode="4310"), "ISOEquipmentCode", "size-type"),
        (equipment("GTIN", eventDateTime="2026-01-01T08:00:00"), "eventDateTime", "offset"),
        (equipment("GTIN", eventDateTime="1999-12-31T08:00:00Z"), "eventDateTime", "2000"),
        (["not", "an", "object"], "", "JSON object"),
    ],
)
def test_events_without_a_counterpart_give_a_note_naming_the_field(
    record: Any, field: str, reason: str
) -> None:
    items = from_dcsa([equipment("GTIN"), record])
    note = items[-1]
    assert isinstance(note, DcsaNote)
    assert note.position == 2
    assert note.field.startswith(field)
    assert reason in note.reason
    assert str(note).startswith("DCSA event 2:")


def test_a_location_code_maps_when_the_caller_says_which_yard() -> None:
    record = equipment("GTIN", eventLocation={"UNLocationCode": "CNCKG"})
    dispatched, _ = from_dcsa([record], facilities={"CNCKG": "yuzui"})
    assert isinstance(dispatched, TruckDispatched)
    assert dispatched.yard == "yuzui"


def test_dcsa_examples_in_the_doc_convert() -> None:
    blocks = re.findall(r"```jsonc\n(.*?)```", DOC.read_text("utf-8"), flags=re.DOTALL)
    assert blocks
    for block in blocks:
        items = from_dcsa([json.loads(block)])
        assert items
        assert not any(isinstance(item, DcsaNote) for item in items), items


def test_json_lines_and_arrays_parse_with_bad_lines_noted() -> None:
    line = json.dumps(equipment("GTIN")).encode()
    items = from_dcsa(parse_dcsa(line + b"\n{broken\n\n" + line.replace(b"ev-GTIN", b"ev-2")))
    assert [type(item).__name__ for item in items] == [
        "TruckDispatched",
        "TruckGateIn",
        "DcsaNote",
        "TruckDispatched",
        "TruckGateIn",
    ]
    assert items[2].position == 2  # type: ignore[union-attr]
    after_blanks = from_dcsa(parse_dcsa(b"\n\n" + line))[0]
    assert isinstance(after_blanks, TruckDispatched)
    array = json.dumps([equipment("GTIN"), equipment("LOAD")]).encode()
    assert [type(item).__name__ for item in from_dcsa(parse_dcsa(array))] == [
        "TruckDispatched",
        "TruckGateIn",
        "DcsaNote",
    ]
