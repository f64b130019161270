"""DCSA events become v1 events where the twin has a counterpart, notes otherwise.

The official examples (tests/data/dcsa, sources in its README) are at ports far from Chongqing,
so each test names which of their places stands for a yard, as a planner would with
`--facility`. Expected mappings are listed by hand, position by position.
"""

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from corridor.contract.container_ids import with_check_digit
from corridor.contract.dcsa import convert_dcsa, facility_codes, import_dcsa_files
from corridor.contract.dcsa_shapes import read_dcsa_bytes
from corridor.contract.events import (
    ReeferReading,
    TrainArrived,
    TrainDeparted,
    TrainScheduled,
    TruckDispatched,
    TruckGateIn,
    TruckGateOut,
    event_type,
)
from stations.spec import load_all_stations

DATA = Path(__file__).resolve().parent / "data" / "dcsa"
DOC = Path(__file__).resolve().parents[1] / "docs" / "events.md"
STATIONS = load_all_stations()
CST = timezone(timedelta(hours=8))
OFFICIAL_PLACES = {"FRPAR": "tuanjiecun", "NLRAM": "xiaonanya", "NLRTM": "yuzui", "DEHAM": "yuzui",
                   "GBSOU": "yuzui", "USNYC": "yuzui", "BEANR": "yuzui"}  # fmt: skip


def convert(values: list[Any], **options: Any) -> Any:
    return convert_dcsa(read_dcsa_bytes(json.dumps(values).encode()), STATIONS, **options)


def v2(code: str, **fields: Any) -> dict[str, Any]:
    """A T&T 2.2 equipment event at 团结村, shaped like the official example."""
    record = json.loads((DATA / "tnt-2.2-response.json").read_text())[2]
    record.update(
        eventID=f"ev-{code}", eventClassifierCode="ACT", equipmentEventTypeCode=code,
        eventDateTime="2026-01-01T08:00:00+08:00", equipmentReference="HLXU4018226",
        ISOEquipmentCode="45G1", emptyIndicatorCode="LADEN",
        eventLocation={"UNLocationCode": "CNCKG", "facilityCode": "TJC"},
    )  # fmt: skip
    record["transportCall"] = {"modeOfTransport": "RAIL" if code in ("DISC", "LOAD") else "TRUCK"}
    return {**record, **fields}


@pytest.mark.parametrize(
    ("name", "mapped", "types"),
    [
        ("tnt-2.2-response.json", set(), []),
        ("tnt-3.0.0-beta-1-examples.json", set(), []),
        ("tnt-3.0-response.json", {5}, ["reefer.reading"]),
        ("tnt-3.0-request-reefer.json", {1}, ["reefer.reading"]),
        ("tnt-3.0-request-equipment.json", set(), []),
        ("tnt-3.0-request-transport.json", set(), []),
    ],
)
def test_every_official_example_event_is_mapped_or_reported(
    name: str, mapped: set[int], types: list[str]
) -> None:
    conversion = import_dcsa_files([DATA / name], STATIONS, facilities=OFFICIAL_PLACES)
    noted = {note.position for note in conversion.notes}
    used = {position for _, position in conversion.used}
    count = len(read_dcsa_bytes((DATA / name).read_bytes()))
    assert used == mapped
    assert noted == set(range(1, count + 1)) - mapped  # every other event, with its reason
    assert all(note.reason for note in conversion.notes)
    assert [event_type(event) for event in conversion.events] == types


def test_official_reasons_name_the_field() -> None:
    notes = import_dcsa_files([DATA / "tnt-3.0.0-beta-1-examples.json"], STATIONS).notes
    fields = [note.field for note in notes]
    assert fields[:5] == [
        "eventType",  # SHIPMENT
        "eventClassifierCode",  # an estimated LOAD
        "equipmentEventTypeCode",  # DROP
        "equipmentEventTypeCode",  # PICK
        "retraction",
    ]


def test_the_official_reefer_measurement_becomes_a_reading() -> None:
    conversion = import_dcsa_files([DATA / "tnt-3.0-request-reefer.json"], STATIONS,
                                   facilities={"USNYC": "yuzui"})  # fmt: skip
    (event,) = conversion.events
    assert isinstance(event, ReeferReading)
    assert (event.container_id, event.setpoint_c, event.supply_c, event.power) == (
        "APZU4812090",
        -18.5,
        round((-18.2 - 18.7) / 2, 2),
        "on",
    )
    assert event.ts == datetime(2026, 1, 20, 18, tzinfo=UTC)


def official(name: str, index: int) -> dict[str, Any]:
    values = json.loads((DATA / name).read_text())
    events = values["events"] if isinstance(values, dict) else values
    return copy.deepcopy(events[index])


def test_official_shapes_made_actual_at_a_yard_map_in_each_version() -> None:
    beta = official("tnt-3.0.0-beta-1-examples.json", 8)  # the rail ARRI example, estimated
    beta["payload"]["eventClassifierCode"] = "ACT"
    beta["payload"]["transportCall"]["location"]["UNLocationCode"] = "CNCKG"
    v3 = official("tnt-3.0-request-equipment.json", 0)  # an actual LOAD at a depot
    v3["eventClassification"]["equipmentEventTypeCode"] = "GTIN"
    v3["eventLocation"]["facility"] = {"facilityCode": "YZU"}
    items = convert([v2("GTIN"), beta, v3], facilities={"CNCKG": "xiaonanya"}).events
    assert [(event_type(e), e.yard) for e in items] == [  # in time order
        ("train.arrived", "xiaonanya"),  # 2022
        ("truck.dispatched", "tuanjiecun"), ("truck.gate_in", "tuanjiecun"),
        ("truck.dispatched", "yuzui"), ("truck.gate_in", "yuzui"),
    ]  # fmt: skip


def test_gate_in_is_an_export_delivery_with_its_observed_gate_in() -> None:
    dispatched, gate_in = convert([v2("GTIN")]).events
    assert isinstance(dispatched, TruckDispatched)
    assert isinstance(gate_in, TruckGateIn)
    at = datetime(2026, 1, 1, 8, tzinfo=CST)
    assert (dispatched.direction, dispatched.eta, gate_in.ts) == ("export", at, at)
    assert dispatched.truck_id == gate_in.truck_id


def test_a_truck_call_gives_the_eta_and_the_gate_out_of_its_box() -> None:
    call = {"transportCallID": "TRK-1", "modeOfTransport": "TRUCK"}
    arrival = {"eventID": "a", "eventType": "TRANSPORT", "eventClassifierCode": "ACT",
               "transportEventTypeCode": "ARRI", "eventDateTime": "2026-01-01T07:50:00+08:00",
               "eventLocation": {"facilityCode": "TJC"}, "transportCall": call}  # fmt: skip
    departure = {**arrival, "eventID": "d", "transportEventTypeCode": "DEPA",
                 "eventDateTime": "2026-01-01T08:30:00+08:00"}  # fmt: skip
    events = convert([arrival, v2("GTIN", transportCall=call), departure]).events
    dispatched, gate_in, gate_out = events
    assert isinstance(dispatched, TruckDispatched)
    assert isinstance(gate_out, TruckGateOut)
    assert dispatched.eta == datetime(2026, 1, 1, 7, 50, tzinfo=CST)
    assert gate_out.ts == datetime(2026, 1, 1, 8, 30, tzinfo=CST)
    assert dispatched.truck_id == gate_in.truck_id == gate_out.truck_id == "TRK-1"


def test_gate_out_is_an_import_pickup_dispatched_a_turnaround_earlier() -> None:
    dispatched, gate_out = convert([v2("GTOT")], pickup_turnaround_min=45).events
    assert isinstance(dispatched, TruckDispatched)
    assert isinstance(gate_out, TruckGateOut)
    assert dispatched.direction == "import"
    assert gate_out.ts - dispatched.eta == timedelta(minutes=45)


def test_a_rail_call_gives_an_arrival_with_its_boxes_and_a_scheduled_departure() -> None:
    numbers = [with_check_digit(f"CBHU{serial:06d}") for serial in range(3)]
    call = {"modeOfTransport": "RAIL", "transportCallID": "X8001"}
    depart = {"eventID": "dep", "eventType": "TRANSPORT", "eventClassifierCode": "ACT",
              "transportEventTypeCode": "DEPA", "eventDateTime": "2026-01-01T20:00:00+08:00",
              "eventLocation": {"facilityCode": "TJC"}, "transportCall": call}  # fmt: skip
    records = [
        v2("DISC", eventID="d1", equipmentReference=numbers[0], transportCall=call,
           eventDateTime="2026-01-01T06:10:00+08:00"),
        v2("DISC", eventID="d2", equipmentReference=numbers[1], transportCall=call,
           eventDateTime="2026-01-01T06:05:00+08:00", ISOEquipmentCode="22R1"),
        v2("LOAD", eventID="l1", equipmentReference=numbers[2], transportCall=call,
           eventDateTime="2026-01-01T15:30:00+08:00"),
        depart,
    ]  # fmt: skip
    conversion = convert(records)
    arrived, scheduled, departed = conversion.events
    assert isinstance(arrived, TrainArrived)
    assert [box.container_id for box in arrived.boxes] == numbers[:2]
    assert arrived.ts == datetime(2026, 1, 1, 6, 5, tzinfo=CST)
    assert isinstance(scheduled, TrainScheduled)
    assert isinstance(departed, TrainDeparted)
    assert scheduled.departure == departed.ts == datetime(2026, 1, 1, 20, tzinfo=CST)
    assert scheduled.cutoff == datetime(2026, 1, 1, 15, 30, tzinfo=CST)  # the LOAD, before 17:00
    assert scheduled.capacity_teu == 2  # the one 40 ft box loaded
    assert scheduled.ts == arrived.ts  # announced at the yard's first fact
    assert {position for _, position in conversion.used} == {1, 2, 3, 4}


def test_a_load_without_its_departure_is_reported() -> None:
    (note,) = convert([v2("LOAD")]).notes
    assert "departure" in note.reason


def test_a_call_of_more_than_500_boxes_is_split() -> None:
    call = {"modeOfTransport": "RAIL", "transportCallID": "BIG"}
    records = [
        v2("DISC", eventID=f"d{k}", equipmentReference=with_check_digit(f"MSCU{k:06d}"),
           transportCall=call)
        for k in range(620)
    ]  # fmt: skip
    trains = convert(records).events
    assert [(t.train_id, len(t.boxes)) for t in trains] == [("BIG", 500), ("BIG-2", 120)]


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (v2("STRP"), "equipmentEventTypeCode", "no counterpart"),
        (v2("GTIN", emptyIndicatorCode="EMPTY"), "emptyIndicatorCode", "empty"),
        (v2("GTIN", eventClassifierCode="EST"), "eventClassifierCode", "actual"),
        (v2("GTIN", eventClassifierCode="PLN"), "eventClassifierCode", "plans"),
        (v2("GTIN", eventType="SHIPMENT"), "eventType", "counterpart"),
        (v2("DISC", transportCall={"modeOfTransport": "VESSEL"}), "modeOfTransport", "RAIL"),
        (v2("GTIN", eventLocation={"UNLocationCode": "CNCKG"}), "eventLocation", "yards"),
        (v2("GTIN", equipmentReference="HLXU4018227"), "equipmentReference", "check"),
        (v2("GTIN", ISOEquipmentCode="4310"), "ISOEquipmentCode", "size-type"),
        (v2("GTIN", eventDateTime="2026-01-01T08:00:00"), "eventDateTime", "offset"),
        (v2("GTIN", eventDateTime="1999-12-31T08:00:00Z"), "v1 ts", "2000"),
        (["not", "an", "object"], "", "JSON object"),
    ],
)
def test_events_without_a_counterpart_give_a_note_naming_the_field(
    record: Any, field: str, reason: str
) -> None:
    conversion = convert([v2("GTIN"), record])
    (note,) = conversion.notes
    assert note.position == 2
    assert note.field.startswith(field)
    assert reason in note.reason
    assert "DCSA event 2:" in str(note)


def test_a_retraction_withdraws_the_event_it_names() -> None:
    retraction = {"metadata": {"eventID": "r", "eventType": "EQUIPMENT",
                               "retractedEventID": "ev-GTIN"}}  # fmt: skip
    conversion = convert([v2("GTIN"), retraction])
    assert not conversion.events
    assert [note.field for note in conversion.notes] == ["eventID", "retraction"]


def test_yards_are_named_by_the_station_files() -> None:
    codes = facility_codes(STATIONS)
    assert {codes["tjc"], codes["tuanjiecun"], codes["团结村"]} == {"tuanjiecun"}
    assert "cnckg" not in codes  # Chongqing's UN/LOCODE covers all three yards
    record = v2("GTIN", eventLocation={"UNLocationCode": "CNCKG"})
    (dispatched, _) = convert([record], facilities={"CNCKG": "yuzui"}).events
    assert dispatched.yard == "yuzui"


def test_dcsa_examples_in_the_doc_convert() -> None:
    blocks = re.findall(r"```jsonc\n(.*?)```", DOC.read_text("utf-8"), flags=re.DOTALL)
    assert blocks
    conversion = convert([json.loads(block) for block in blocks])
    assert conversion.events
    assert not conversion.notes, conversion.notes


@pytest.mark.parametrize("name", sorted(path.name for path in DATA.glob("*.json")))
def test_layouts_give_the_same_events(name: str) -> None:
    """Pretty JSON, compact JSON, JSON Lines and `{"events": [...]}` read alike."""
    values = json.loads((DATA / name).read_text())
    events = values["events"] if isinstance(values, dict) else values
    layouts = [
        json.dumps(events, indent=4),
        json.dumps(events),
        json.dumps({"events": events}),
        "\n".join(json.dumps(event) for event in events) + "\n",
    ]
    kinds = [[type(i).__name__ for i in read_dcsa_bytes(text.encode())] for text in layouts]
    assert kinds == [kinds[0]] * 4
    assert len(kinds[0]) == len(events)


def test_json_lines_with_a_bad_line_cost_that_line_only() -> None:
    line = json.dumps(v2("GTIN")).encode()
    items = read_dcsa_bytes(line + b"\n{broken\n\n" + line.replace(b"ev-GTIN", b"ev-2"))
    assert [type(item).__name__ for item in items] == ["DcsaRecord", "DcsaNote", "DcsaRecord"]
    assert [item.position for item in items] == [1, 2, 4]  # line numbers


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"[1, 2", "not JSON"),
        (b'{\n  "eventID": "x",\n  "broken"\n}', "not JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
    ],
)
def test_a_file_that_is_not_dcsa_json_is_one_clear_error(raw: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        read_dcsa_bytes(raw)


def test_deep_events_and_big_files_are_refused_not_crashed(tmp_path: Path) -> None:
    deep: Any = "leaf"
    for _ in range(40):
        deep = {"nested": deep}
    (note,) = read_dcsa_bytes(json.dumps([{**v2("GTIN"), "extra": deep}]).encode())
    assert "nested deeper" in str(note)
    with pytest.raises(ValueError, match="exceeds"):
        read_dcsa_bytes(b" " * (64 * 1024 * 1024 + 1))
