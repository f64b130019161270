"""DCSA Track & Trace files as they come, read into one flat record per event.

A DCSA file is JSON in one of several layouts, and its events in one of three shapes. The layouts:
a JSON array of events, an object with an event list (`{"events": [...]}`, the T&T 3.0
response), a single event, any of these pretty-printed, or JSON Lines (one value per line).
The shapes:

- **2.2** (and 2.x): flat events, `eventType`, `eventClassifierCode`, `equipmentEventTypeCode`
  or `transportEventTypeCode`, `equipmentReference`, `transportCall.transportCallID`;
- **3.0.0-Beta-1 envelopes**: `{"metadata": {"eventID", "eventType", "retractedEventID"?},
  "payload": {...}}`, the payload shaped much like 2.2 (`transportCallReference`);
- **3.0**: `eventClassification` (`eventTypeCode`, `eventClassifierCode`, `...EventTypeCode`),
  `equipmentDetails`, `transportDetails.transportCall`, `reeferDetails`, `isRetracted`.

`read_dcsa_bytes` turns each event into a `DcsaRecord` with the same fields whatever its
shape, or a `DcsaNote` saying why it cannot (not an object, too deeply nested). Positions are
1-based: the index in the event list when the file is one JSON document, the line number for
JSON Lines. Input is bounded: a file larger than `MAX_DCSA_BYTES` or nested deeper than
`MAX_DEPTH` is refused with a reason, never a crash.
"""

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corridor.contract.json_depth import MAX_JSON_DEPTH, nests_deeper_than

MAX_DCSA_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
"""Deepest nesting of objects and arrays accepted in one event (the official examples reach 5)."""
_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class DcsaNote:
    """A DCSA event (1-based `position` in `source`) that gives no v1 event, and why."""

    position: int
    field: str
    reason: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        what = f"{self.field}: " if self.field else ""
        return f"{where}DCSA event {self.position}: {what}{self.reason}"


class DcsaFileError(Exception):
    """The file as a whole cannot be read as DCSA (missing, too large, not UTF-8, empty)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DcsaRecord:
    """One DCSA event, whatever its version's shape; '' where the event does not say."""

    position: int
    source: str
    event_id: str
    event_type: str  # EQUIPMENT, TRANSPORT, REEFER, SHIPMENT, IOT
    classifier: str  # ACT, EST, PLN
    code: str  # GTIN, DISC, ARRI, MEAS...
    moment: Any  # eventDateTime as given
    equipment: str
    iso_type: str
    empty: str  # LADEN or EMPTY
    movement: str  # 3.0 movementType: IMPORT, EXPORT, TRANSSHIPMENT
    mode: str  # the transport call's modeOfTransport
    call: str  # the transport call's reference (3.x) or id (2.x)
    places: tuple[Mapping[str, Any], ...]  # where it happened, most specific first
    reefer: Mapping[str, Any]  # 3.0 reeferDetails
    retracts: str  # the eventID this event retracts

    def note(self, field: str, reason: str) -> DcsaNote:
        """A note about this event."""
        return DcsaNote(self.position, field, reason, self.source)


DcsaItem = DcsaRecord | DcsaNote


def read_dcsa_file(path: Path) -> list[DcsaItem]:
    """The events of a DCSA file; raises `DcsaFileError` if it cannot be read at all."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_DCSA_BYTES:
            raise DcsaFileError(path, f"{size:,} bytes exceeds {MAX_DCSA_BYTES:,}; split it")
        raw = path.read_bytes()
    except OSError as error:
        raise DcsaFileError(path, error.strerror or str(error)) from error
    try:
        items = read_dcsa_bytes(raw, source=str(path))
    except ValueError as error:
        raise DcsaFileError(path, str(error)) from None
    return items


def read_dcsa_bytes(raw: bytes, *, source: str = "") -> list[DcsaItem]:
    """The events in `raw`; ValueError when it holds no JSON value at all or is not UTF-8."""
    if len(raw) > MAX_DCSA_BYTES:
        raise ValueError(f"{len(raw):,} bytes exceeds {MAX_DCSA_BYTES:,}; split it")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8: {error.reason} at byte {error.start}") from None
    if not text.strip():
        raise ValueError("the file is empty")
    values = _json_values(text)
    single = len(values) == 1
    items: list[DcsaItem] = []
    for line, value in values:
        if isinstance(value, DcsaNote):
            items.append(DcsaNote(line, "", value.reason, source))
            continue
        events = _event_list(value)
        for index, event in enumerate(events, len(items) + 1):
            items.append(_record(index if single else line, event, source))
    return items


def _json_values(text: str) -> list[tuple[int, Any]]:
    """(line, value) for each JSON value in `text`: one document, or JSON Lines.

    The file is one document when it parses whole (pretty-printed or not). Otherwise it is JSON
    Lines if its first line parses alone; then a line that does not parse becomes a note and
    costs that line only. Anything else is not JSON: ValueError with the line and column.
    """
    try:
        return [(1, _loads(text))]
    except json.JSONDecodeError as error:
        if not _first_line_parses(text):
            raise ValueError(f"not JSON: {error}") from None
    except _NestedTooDeepError as error:  # one deep line of JSON Lines costs that line only
        if not _first_line_parses(text):
            raise ValueError(f"not readable: {error}") from None
    values: list[tuple[int, Any]] = []
    for line, content in enumerate(text.splitlines(), 1):
        if content.strip():
            values.append((line, _line_value(line, content)))
    return values


def _first_line_parses(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return isinstance(_loads(first), dict | list)
    except (json.JSONDecodeError, _NestedTooDeepError):
        return False


def _line_value(line: int, content: str) -> Any:
    try:
        return _loads(content)
    except json.JSONDecodeError as error:
        return DcsaNote(line, "", f"not JSON: {error.msg} (column {error.colno})")
    except _NestedTooDeepError as error:
        return DcsaNote(line, "", f"not readable: {error}")


class _NestedTooDeepError(Exception):
    """A JSON text nests deeper than `MAX_JSON_DEPTH`: measured before parsing it."""


def _loads(text: str) -> Any:
    """`json.loads`, after measuring the nesting on the bytes, so the parser never recurses far.

    A file nested 100,000 deep is refused in milliseconds, not by `RecursionError`.
    """
    if nests_deeper_than(text.encode("utf-8", "surrogatepass"), MAX_JSON_DEPTH):
        levels = f"{MAX_JSON_DEPTH} levels of arrays and objects"
        raise _NestedTooDeepError(f"nested deeper than {levels}")
    return json.loads(text)


def _event_list(value: Any) -> list[Any]:
    """The events of one JSON value: an array, `{"events": [...]}`, or one event."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and isinstance(value.get("events"), list):
        return list(value["events"])
    return [value]


def _record(position: int, event: Any, source: str) -> DcsaItem:
    if not isinstance(event, dict):
        return DcsaNote(position, "", "expected a JSON object (one DCSA event)", source)
    if _too_deep(event):
        return DcsaNote(position, "", f"nested deeper than {MAX_DEPTH} levels", source)
    if isinstance(event.get("metadata"), dict):
        return _from_envelope(position, event, source)
    if isinstance(event.get("eventClassification"), dict):
        return _from_v3(position, event, source)
    return _from_v2(position, event, source)


def _from_v2(position: int, event: Mapping[str, Any], source: str) -> DcsaRecord:
    """T&T 2.x: every field at the top level."""
    call = _mapping(event.get("transportCall"))
    return DcsaRecord(
        position=position,
        source=source,
        event_id=_event_id(event.get("eventID") or event.get("eventId"), event),
        event_type=_code(event.get("eventType")),
        classifier=_code(event.get("eventClassifierCode")),
        code=_code(_type_code(event)),
        moment=event.get("eventDateTime"),
        equipment=_text(event.get("equipmentReference")),
        iso_type=_text(event.get("ISOEquipmentCode")),
        empty=_code(event.get("emptyIndicatorCode")),
        movement="",
        mode=_code(call.get("modeOfTransport")),
        call=_text(call.get("transportCallReference") or call.get("transportCallID")),
        places=_places(event.get("eventLocation"), event.get("location"), call),
        reefer=_EMPTY,
        retracts="",
    )


def _from_envelope(position: int, event: Mapping[str, Any], source: str) -> DcsaRecord:
    """T&T 3.0.0-Beta-1: a `metadata` part and a 2.x-like `payload`."""
    metadata = _mapping(event.get("metadata"))
    payload = _mapping(event.get("payload"))
    flat = _from_v2(position, payload, source)
    kind = metadata.get("eventType") or payload.get("eventType")
    return _replace(
        flat,
        event_id=_event_id(metadata.get("eventID"), event),
        event_type=_code(kind),
        retracts=_text(metadata.get("retractedEventID")),
    )


def _from_v3(position: int, event: Mapping[str, Any], source: str) -> DcsaRecord:
    """T&T 3.0: classification, equipment, transport and reefer details in their own objects."""
    classification = _mapping(event.get("eventClassification"))
    equipment = _mapping(event.get("equipmentDetails"))
    call = _mapping(_mapping(event.get("transportDetails")).get("transportCall"))
    event_id = _event_id(event.get("eventID"), event)
    return DcsaRecord(
        position=position,
        source=source,
        event_id=event_id,
        event_type=_code(classification.get("eventTypeCode")),
        classifier=_code(classification.get("eventClassifierCode")),
        code=_code(_type_code(classification)),
        moment=event.get("eventDateTime"),
        equipment=_text(equipment.get("equipmentReference")),
        iso_type=_text(equipment.get("ISOEquipmentCode")),
        empty=_code(equipment.get("emptyIndicatorCode")),
        movement=_code(equipment.get("movementType")),
        mode=_code(call.get("modeOfTransport")),
        call=_text(call.get("transportCallReference")),
        places=_places(event.get("eventLocation"), call),
        reefer=_mapping(event.get("reeferDetails")),
        retracts=event_id if event.get("isRetracted") is True else "",
    )


def _type_code(fields: Mapping[str, Any]) -> Any:
    for name in ("equipmentEventTypeCode", "transportEventTypeCode", "reeferEventTypeCode"):
        if fields.get(name):
            return fields[name]
    return fields.get("shipmentEventTypeCode") or fields.get("iotEventTypeCode")


def _places(*candidates: Any) -> tuple[Mapping[str, Any], ...]:
    """Each location-like object, then its nested `location` and `facility` objects."""
    places: list[Mapping[str, Any]] = []
    for candidate in candidates:
        place = _mapping(candidate)
        if place:
            places.append(place)
            places += [
                _mapping(place.get(key)) for key in ("facility", "location") if place.get(key)
            ]
            places += [_mapping(_mapping(place.get("location")).get("facility"))]
    return tuple(place for place in places if place)


def _replace(record: DcsaRecord, **changes: Any) -> DcsaRecord:
    fields = {name: getattr(record, name) for name in DcsaRecord.__slots__}
    return DcsaRecord(**{**fields, **changes})


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else _EMPTY


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _code(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def _event_id(value: Any, event: Mapping[str, Any]) -> str:
    """The event's id, or for an event without one a stable CRC of its canonical JSON."""
    if isinstance(value, str) and value:
        return value
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return f"crc{zlib.crc32(canonical.encode()):08x}"


def _too_deep(value: Any) -> bool:
    """Whether objects and arrays nest deeper than `MAX_DEPTH` (iteratively: no recursion)."""
    level: list[Any] = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True
