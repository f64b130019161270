"""DCSA Track & Trace equipment events, turned into v1 events where the twin has a counterpart.

Carriers and terminals report container moves as DCSA equipment events: `GTIN` (the box came
in through the gate), `GTOT` (it went out through the gate), `DISC` (discharged, here from a
train) and `LOAD` (loaded). They describe the *box*; the twin is driven by trucks and trains.
The mapping (see `docs/events.md`, "DCSA"):

- `GTIN`, laden, by truck: an export delivery, `truck.dispatched` (direction export, eta =
  the gate-in time) plus the observed `truck.gate_in`;
- `GTOT`, laden: an import pickup, `truck.dispatched` (direction import, eta = gate-out time
  minus a typical turnaround, 30 min by default) plus the observed `truck.gate_out`;
- `DISC` by rail: the boxes of one transport call become one `train.arrived`, stamped with
  the first discharge;
- `LOAD`: recorded only; the twin decides itself which train takes a box.

Anything else (empty boxes, estimated or planned events, unknown facilities, invalid
container numbers) becomes a `DcsaNote` naming the DCSA field and the reason, never a
silent drop. DCSA equipment events carry no reefer setpoint, so converted reefers have none.
"""

import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from corridor.contract.container_ids import container_number_error, size_type_error
from corridor.contract.events import DecodeError, Event, decode_event
from corridor.contract.json_depth import MAX_JSON_DEPTH, nests_deeper_than

DEFAULT_FACILITIES: Mapping[str, str] = {
    "tuanjiecun": "tuanjiecun",
    "xiaonanya": "xiaonanya",
    "yuzui": "yuzui",
    "TJC": "tuanjiecun",
    "XNY": "xiaonanya",
    "YZU": "yuzui",
}
"""Facility (or location) code -> yard. Chongqing's UN/LOCODE (CNCKG) covers all three
yards, so it maps nowhere unless a caller says which yard it means."""
PICKUP_TURNAROUND_MIN = 30.0
MAX_TRAIN_BOXES = 500
_TO_DCSA_FIELD = {
    "container_id": "equipmentReference",
    "iso_type": "ISOEquipmentCode",
    "ts": "eventDateTime",
    "eta": "eventDateTime",
    "event_id": "eventID",
    "yard": "eventLocation",
}


@dataclass(frozen=True, slots=True)
class DcsaNote:
    """A DCSA event (1-based `position` in the input) that gives no v1 event, and why."""

    position: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"DCSA event {self.position}: {self.field}: {self.reason}"


DcsaItem = Event | DcsaNote


@dataclass(slots=True)
class _Train:
    """Discharges of one rail transport call, collected into one train arrival."""

    slot: int
    position: int
    yard: str
    call: str
    first: datetime
    boxes: list[dict[str, str]] = field(default_factory=list)


def parse_dcsa(raw: bytes) -> list[Any]:
    """DCSA events from a JSON array or JSON Lines, one item per line (None for a blank one).

    A line that is not JSON, or nests deeper than `MAX_JSON_DEPTH`, becomes a `DcsaNote`;
    positions are line numbers. A JSON array is one document: too deep or not JSON, it is one
    note at position 1.
    """
    text = raw.decode("utf-8", errors="replace")
    if text.lstrip().startswith("["):
        records = _json(1, text, MAX_JSON_DEPTH + 1)  # the array holding the events is a level
        if isinstance(records, DcsaNote):
            return [records]
        return records if isinstance(records, list) else [records]
    return [
        _json(number, line, MAX_JSON_DEPTH) if line.strip() else None
        for number, line in enumerate(text.splitlines(), 1)
    ]


def _json(position: int, text: str, depth: int) -> Any:
    """The JSON value of `text`, or a note; the depth is bounded before the parser recurses."""
    if nests_deeper_than(text.encode("utf-8"), depth):
        return DcsaNote(position, "", f"nested deeper than {depth} levels of arrays and objects")
    try:
        return json.loads(text)
    except ValueError as error:  # JSONDecodeError, or an integer of more than 4,300 digits
        return DcsaNote(position, "", f"not JSON: {error}")


def from_dcsa(
    records: Iterable[Any],
    *,
    facilities: Mapping[str, str] = DEFAULT_FACILITIES,
    pickup_turnaround_min: float = PICKUP_TURNAROUND_MIN,
) -> list[DcsaItem]:
    """v1 events (and notes) for DCSA equipment events, in input order.

    A train's arrival takes the place of its first discharge. None items (blank lines) are
    skipped; `DcsaNote` items (from `parse_dcsa`) pass through.
    """
    out: list[DcsaItem | None] = []
    trains: dict[tuple[str, str], list[_Train]] = {}
    turnaround = timedelta(minutes=pickup_turnaround_min)
    for position, record in enumerate(records, 1):
        if record is None or isinstance(record, DcsaNote):
            out.append(record)
            continue
        parsed = _parse(position, record, facilities)
        if isinstance(parsed, DcsaNote):
            out.append(parsed)
        elif parsed.code == "DISC":
            out += _discharge(position, parsed, trains, len(out))
        else:
            out += _gate_event(position, parsed, turnaround)
    for parts in trains.values():
        for train in parts:
            out[train.slot] = _arrival(train)
    return [item for item in out if item is not None]


@dataclass(frozen=True, slots=True)
class _Move:
    """The facts of one DCSA equipment event that the mapping needs."""

    code: str
    event_id: str
    at: datetime
    yard: str
    container: str
    iso_type: str
    call: str


def _parse(position: int, record: Any, facilities: Mapping[str, str]) -> _Move | DcsaNote:
    def note(name: str, reason: str) -> DcsaNote:
        return DcsaNote(position, name, reason)

    if not isinstance(record, Mapping):
        return note("", "expected a JSON object")
    if str(record.get("eventType", "")).upper() != "EQUIPMENT":
        return note("eventType", "only EQUIPMENT events map to the twin")
    if str(record.get("eventClassifierCode", "ACT")).upper() != "ACT":
        return note("eventClassifierCode", "only actual (ACT) events are facts for the twin")
    code = str(record.get("equipmentEventTypeCode", "")).upper()
    if code not in ("GTIN", "GTOT", "DISC", "LOAD"):
        return note("equipmentEventTypeCode", f"{code or 'missing'}: no v1 counterpart")
    if code == "LOAD":
        return note("equipmentEventTypeCode", "LOAD is recorded only: the twin loads trains")
    if str(record.get("emptyIndicatorCode", "LADEN")).upper() != "LADEN":
        return note("emptyIndicatorCode", "empty equipment: the twin tracks laden boxes only")
    mode = str(_call(record).get("modeOfTransport", "")).upper()
    expected = "RAIL" if code == "DISC" else "TRUCK"
    if mode not in ("", expected):
        return note("transportCall.modeOfTransport", f"{code} by {mode}: expected {expected}")
    return _move(position, record, code, facilities)


def _move(
    position: int, record: Mapping[str, Any], code: str, facilities: Mapping[str, str]
) -> _Move | DcsaNote:
    at = _moment(record.get("eventDateTime"))
    if at is None:
        return DcsaNote(position, "eventDateTime", "expected RFC 3339 with an offset")
    yard = _yard(record, facilities)
    if yard is None:
        return DcsaNote(position, "eventLocation", "facility or location is not a known yard")
    container = str(record.get("equipmentReference", ""))
    iso_type = str(record.get("ISOEquipmentCode", ""))
    for name, problem in (
        ("equipmentReference", container_number_error(container)),
        ("ISOEquipmentCode", size_type_error(iso_type)),
    ):
        if problem is not None:
            return DcsaNote(position, name, problem)
    event_id = _short(str(record.get("eventID") or record.get("eventId") or _digest(record)))
    call = _call(record)
    train = call.get("transportCallID") or call.get("importVoyageNumber") or "unknown-call"
    return _Move(code, event_id, at, yard, container, iso_type, str(train))


def _gate_event(position: int, move: _Move, turnaround: timedelta) -> list[DcsaItem]:
    """GTIN: export truck in; GTOT: import truck out (dispatched a turnaround earlier)."""
    export = move.code == "GTIN"
    eta = move.at if export else move.at - turnaround
    truck_id = f"{move.container}-{move.at:%Y%m%dT%H%M}"
    dispatched = {
        "type": "truck.dispatched",
        "event_id": _short(f"dcsa-{move.event_id}-dispatch"),
        "ts": eta,
        "yard": move.yard,
        "truck_id": truck_id,
        "container_id": move.container,
        "iso_type": move.iso_type,
        "direction": "export" if export else "import",
        "eta": eta,
    }
    milestone = {
        "type": "truck.gate_in" if export else "truck.gate_out",
        "event_id": _short(f"dcsa-{move.event_id}"),
        "ts": move.at,
        "yard": move.yard,
        "truck_id": truck_id,
    }
    return [_v1(position, dispatched), _v1(position, milestone)]


def _discharge(
    position: int, move: _Move, trains: dict[tuple[str, str], list[_Train]], slot: int
) -> list[DcsaItem | None]:
    """Add the box to its train's arrival; the first discharge reserves the output slot.

    A call with more than 500 boxes (the v1 limit) becomes several arrivals, "-2", "-3"...
    """
    parts = trains.setdefault((move.yard, move.call), [])
    fresh = not parts or len(parts[-1].boxes) == MAX_TRAIN_BOXES
    if fresh:
        name = move.call if not parts else f"{move.call}-{len(parts) + 1}"
        parts.append(_Train(slot, position, move.yard, name, move.at))
    train = parts[-1]
    train.first = min(train.first, move.at)
    train.boxes.append({"container_id": move.container, "iso_type": move.iso_type})
    return [None] if fresh else []


def _arrival(train: _Train) -> DcsaItem:
    train_id = _short(train.call)
    return _v1(
        train.position,
        {
            "type": "train.arrived",
            "event_id": _short(f"dcsa-train-{train.yard}-{train_id}"),
            "ts": train.first,
            "yard": train.yard,
            "train_id": train_id,
            "boxes": train.boxes,
        },
    )


def _short(text: str) -> str:
    """An identifier of at most 64 characters: long ones keep a prefix and gain a CRC."""
    if len(text) <= 64:
        return text
    return f"{text[:50]}~{zlib.crc32(text.encode()):08x}"


def _v1(position: int, message: dict[str, Any]) -> DcsaItem:
    """Validate through the v1 decoder, so a converted event obeys every contract rule."""
    item = decode_event(msgspec.json.encode(message))
    if isinstance(item, DecodeError):
        root = item.field.split(".")[0].split("[")[0]
        return DcsaNote(position, _TO_DCSA_FIELD.get(root, item.field), item.reason)
    return item


def _call(record: Mapping[str, Any]) -> Mapping[str, Any]:
    call = record.get("transportCall")
    return call if isinstance(call, Mapping) else {}


def _yard(record: Mapping[str, Any], facilities: Mapping[str, str]) -> str | None:
    """The yard named by the event location or the transport call, facility code first."""
    for place in (record.get("eventLocation"), _call(record)):
        if isinstance(place, str):
            place = {"UNLocationCode": place}
        if not isinstance(place, Mapping):
            continue
        for key in ("facilityCode", "UNLocationCode", "unLocationCode"):
            code = place.get(key)
            if isinstance(code, str) and code in facilities:
                return facilities[code]
    return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _digest(record: Mapping[str, Any]) -> str:
    """A stable id for an event without eventID: the CRC of its canonical JSON."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return f"crc{zlib.crc32(canonical.encode()):08x}"
