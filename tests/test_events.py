"""The v1 event contract: every type decodes, every hostile input is a named DecodeError."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corridor.contract.container_ids import with_check_digit
from corridor.contract.events import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    ArrivingBox,
    DecodeError,
    Event,
    ReeferReading,
    TrainArrived,
    TrainDeparted,
    TrainScheduled,
    TruckDispatched,
    TruckGateIn,
    TruckGateOut,
    decode_event,
    encode_event,
    event_type,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "events.md"
BASE = {"event_id": "e-1", "ts": "2026-01-01T08:00:00+08:00", "yard": "tuanjiecun"}


def message(type_: str, **fields: object) -> bytes:
    return json.dumps({"type": type_, **BASE, **fields}).encode()


def dispatched(**fields: object) -> bytes:
    defaults: dict[str, object] = {
        "truck_id": "T1",
        "container_id": "CSQU3054383",
        "iso_type": "45G1",
        "direction": "export",
        "eta": "2026-01-01T09:00:00+08:00",
    }
    return message("truck.dispatched", **{**defaults, **fields})


def reading(**fields: object) -> bytes:
    defaults: dict[str, object] = {
        "container_id": "CSQU3054383",
        "setpoint_c": -18.0,
        "supply_c": -17.5,
        "return_c": -16.0,
        "power": "on",
    }
    return message("reefer.reading", **{**defaults, **fields})


def decoded(raw: bytes | str) -> Event:
    event = decode_event(raw)
    assert not isinstance(event, DecodeError), str(event)
    return event


def doc_blocks(language: str) -> list[str]:
    text = DOC.read_text("utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_every_json_example_in_the_doc_decodes_and_covers_every_type() -> None:
    events = [decoded(block.strip()) for block in doc_blocks("json")]
    assert {type(event) for event in events} == set(EVENT_TYPES)


def test_truck_dispatched_decodes_with_its_fields() -> None:
    event = decoded(dispatched(iso_type="22R1", setpoint_c=-18.0))
    assert isinstance(event, TruckDispatched)
    assert event.eta - event.ts == timedelta(hours=1)
    assert (event.direction, event.setpoint_c, event.iso_type) == ("export", -18.0, "22R1")
    assert event.train_id is None
    booked = decoded(dispatched(train_id="TJC-20260102-0230"))
    assert isinstance(booked, TruckDispatched)
    assert booked.train_id == "TJC-20260102-0230"


def test_milestones_and_trains_decode() -> None:
    assert isinstance(decoded(message("truck.gate_in", truck_id="T1")), TruckGateIn)
    assert isinstance(decoded(message("truck.gate_out", truck_id="T1")), TruckGateOut)
    assert isinstance(decoded(message("train.departed", train_id="X")), TrainDeparted)
    scheduled = decoded(
        message(
            "train.scheduled",
            train_id="TJC-20260102-0230",
            departure="2026-01-02T02:30:00+08:00",
            cutoff="2026-01-01T22:30:00+08:00",
            capacity_teu=100,
        )
    )
    assert isinstance(scheduled, TrainScheduled)
    assert scheduled.departure - scheduled.cutoff == timedelta(hours=4)


def test_train_arrived_brings_typed_boxes() -> None:
    boxes = [
        {"container_id": "CSQU3054383", "iso_type": "22G1"},
        {"container_id": "CBHU1234561", "iso_type": "45R1", "setpoint_c": 2.5},
    ]
    event = decoded(message("train.arrived", train_id="A", boxes=boxes))
    assert isinstance(event, TrainArrived)
    assert event.boxes == [
        ArrivingBox("CSQU3054383", "22G1", None),
        ArrivingBox("CBHU1234561", "45R1", 2.5),
    ]


def test_reefer_reading_decodes() -> None:
    event = decoded(reading(power="off", alarms=["AL20"]))
    assert isinstance(event, ReeferReading)
    assert (event.power, event.alarms, event.supply_c) == ("off", ["AL20"], -17.5)


def test_unknown_fields_are_ignored() -> None:
    assert isinstance(decoded(dispatched(plate="渝A12345")), TruckDispatched)


_HOSTILE = [
    ("non-utf8", b'{"type":"truck.gate_in","truck_id":"\xff"}', "", "not UTF-8"),
    ("lone surrogate", '{"event_id":"\ud800"}', "", "not UTF-8"),
    ("not json", b'{"type": "truck.gate_in",', "", "not JSON"),
    ("empty", b"", "", "not JSON"),
    ("array", b'[{"type": "truck.gate_in"}]', "", "Expected `object`"),
    ("missing field", message("truck.gate_in"), "truck_id", "missing required field"),
    ("missing type", json.dumps(BASE).encode(), "type", "missing required field"),
    ("mistyped id", message("truck.gate_in", truck_id=5), "truck_id", "Expected `str`"),
    ("bad check digit", dispatched(container_id="CSQU3054384"), "container_id", "check digit"),
    ("not a number", dispatched(container_id="CSQ3054383"), "container_id", "3 letters"),
    ("bad size type", dispatched(iso_type="4310"), "iso_type", "size-type"),
    ("bad direction", dispatched(direction="both"), "direction", "Invalid enum value"),
    ("unknown yard", message("truck.gate_in", truck_id="T", yard="chengdu"), "yard", "unknown"),
    ("naive ts", message("truck.gate_in", truck_id="T", ts="2026-01-01T08:00:00"), "ts", "time"),
    ("naive eta", dispatched(eta="2026-01-01T09:00:00"), "eta", "timezone"),
    ("year 9999", message("truck.gate_in", truck_id="T", ts="9999-01-01T00:00:00Z"), "ts", "2099"),
    ("year 1999", message("truck.gate_in", truck_id="T", ts="1999-12-31T23:00:00Z"), "ts", "2000"),
    ("nan", reading().replace(b"-17.5", b"NaN"), "", "not JSON"),
    ("huge temperature", reading().replace(b"-17.5", b"1e999"), "supply_c", "out of range"),
    ("hot", reading(return_c=80.5), "return_c", "<= 80"),
    ("bad power", reading(power="maybe"), "power", "Invalid enum value"),
    ("unknown type", message("truck.teleported"), "type", "not an event type"),
    ("oversized", dispatched(truck_id="T" * MAX_EVENT_BYTES), "", "exceeds"),
    ("long id", message("truck.gate_in", truck_id="T" * 65), "truck_id", "length"),
    (
        "box check digit",
        message(
            "train.arrived",
            train_id="A",
            boxes=[{"container_id": "CSQU3054384", "iso_type": "22G1"}],
        ),
        "boxes[0].container_id",
        "check digit",
    ),
    (
        "cutoff after departure",
        message(
            "train.scheduled",
            train_id="X",
            departure="2026-01-02T02:30:00+08:00",
            cutoff="2026-01-02T03:30:00+08:00",
            capacity_teu=100,
        ),
        "cutoff",
        "after the departure",
    ),
]


@pytest.mark.parametrize(
    ("raw", "field", "reason"), [case[1:] for case in _HOSTILE], ids=[case[0] for case in _HOSTILE]
)
def test_hostile_input_is_a_decode_error_naming_the_field(
    raw: bytes | str, field: str, reason: str
) -> None:
    error = decode_event(raw)
    assert isinstance(error, DecodeError)
    assert error.field == field
    assert reason in error.reason


def test_size_limit_counts_bytes_not_characters() -> None:
    text = dispatched(truck_id="T").decode().replace('"T"', '"' + "文" * 25_000 + '"')
    assert len(text) < MAX_EVENT_BYTES < len(text.encode())
    error = decode_event(text)
    assert isinstance(error, DecodeError)
    assert "exceeds" in error.reason


@pytest.mark.parametrize(
    ("ts", "valid"),
    [
        ("2000-01-01T00:00:00Z", True),
        ("2000-01-01T07:59:59+08:00", False),  # 1999-12-31T23:59:59Z
        ("2099-12-31T23:59:59Z", True),
        ("2099-12-31T20:00:00-05:00", False),  # 2100-01-01T01:00:00Z
        ("2100-01-01T06:00:00+08:00", True),  # 2099-12-31T22:00:00Z
    ],
)
def test_time_range_is_judged_on_the_instant_not_the_local_year(ts: str, valid: bool) -> None:
    result = decode_event(message("truck.gate_in", truck_id="T", ts=ts))
    assert isinstance(result, TruckGateIn) is valid


def test_decode_event_accepts_str_and_bytes_alike() -> None:
    raw = dispatched()
    assert decode_event(raw.decode()) == decode_event(raw)


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
# hypothesis takes naive bounds and attaches the generated offsets itself
moments = st.datetimes(
    min_value=datetime(2000, 1, 2),  # noqa: DTZ001
    max_value=datetime(2099, 12, 30),  # noqa: DTZ001
    timezones=offsets,
)
identifiers = st.text(min_size=1, max_size=64)
celsius = st.floats(-80.0, 80.0, allow_nan=False)
size_types = st.sampled_from(["22G1", "45G1", "22R1", "45R1", "L5G1"])
container_ids = st.builds(
    lambda owner, category, serial: with_check_digit(f"{owner}{category}{serial:06d}"),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    st.sampled_from("UJZ"),
    st.integers(0, 999_999),
)
common = {"event_id": identifiers, "ts": moments, "yard": st.sampled_from(["yuzui", "xiaonanya"])}
events = st.one_of(
    st.builds(
        TruckDispatched,
        **common,
        truck_id=identifiers,
        container_id=container_ids,
        iso_type=size_types,
        direction=st.sampled_from(["export", "import"]),
        eta=moments,
        setpoint_c=st.none() | celsius,
        train_id=st.none() | identifiers,
    ),
    st.builds(TruckGateIn, **common, truck_id=identifiers),
    st.builds(TruckGateOut, **common, truck_id=identifiers),
    st.builds(TrainDeparted, **common, train_id=identifiers),
    st.builds(
        TrainArrived,
        **common,
        train_id=identifiers,
        boxes=st.lists(
            st.builds(ArrivingBox, container_ids, size_types, st.none() | celsius), max_size=5
        ),
    ),
    st.builds(
        ReeferReading,
        **common,
        container_id=container_ids,
        setpoint_c=celsius,
        supply_c=celsius,
        return_c=celsius,
        power=st.sampled_from(["on", "off"]),
        alarms=st.lists(st.text(max_size=8), max_size=3),
    ),
    st.builds(
        lambda event_id, ts, yard, train_id, lead, capacity: TrainScheduled(
            event_id, ts, yard, train_id, ts + lead, ts, capacity
        ),
        **common,
        train_id=identifiers,
        lead=st.timedeltas(timedelta(0), timedelta(hours=30)),
        capacity=st.integers(1, 1000),
    ),
)


@given(events)
def test_encode_then_decode_gives_the_same_event(event: Event) -> None:
    back = decode_event(encode_event(event))
    assert back == event
    assert event_type(event) == json.loads(encode_event(event))["type"]


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_decoding_arbitrary_bytes_never_raises(raw: bytes) -> None:
    assert isinstance(decode_event(raw), DecodeError | Event)


def test_utc_and_offset_timestamps_are_the_same_instant() -> None:
    utc = decoded(message("truck.gate_in", truck_id="T", ts="2026-01-01T00:00:00Z"))
    local = decoded(message("truck.gate_in", truck_id="T", ts="2026-01-01T08:00:00+08:00"))
    assert utc.ts == local.ts == datetime(2026, 1, 1, tzinfo=UTC)
