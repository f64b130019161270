"""The event contract, v1: what the yards tell the twin (see `docs/events.md`).

One JSON object per event. Every event has an `event_id` (a repeat is ignored), a `type`, an
event time `ts` (RFC 3339 with an offset; a naive timestamp is rejected) and the `yard` it
happened in. The types themselves, with their channel and same-instant rank, are declared in
`corridor.contract.event_types`; this module decodes and encodes them.

Decoding never raises: it returns either a frozen, typed event or a `DecodeError` naming the
field and the reason, ready for a dead-letter path. Two paths, one result:

- the fast one, for the layout `encode_event` writes (the `type` first, no fields the type
  does not define): the strict decoder, which cannot recurse deeper than an event's own
  shape, so nothing is scanned first;
- every other message (fields in another order, extra fields a producer added, anything
  invalid): its nesting is measured on the bytes first (`corridor.contract.json_depth`, at
  most `MAX_JSON_DEPTH` levels), then it is decoded by a copy of the types that ignores
  unknown fields, and the event rebuilt as its real type.
"""

import typing
from typing import Annotated, Any, get_args, get_origin

import msgspec

from corridor.contract.event_types import (
    EARLIEST_TS,
    EVENT_TYPES,
    LATEST_TS,
    ArrivingBox,
    AwareDatetime,
    Celsius,
    DecodeError,
    Direction,
    Event,
    EventBase,
    Identifier,
    PowerState,
    ReeferReading,
    TrainArrived,
    TrainDeparted,
    TrainScheduled,
    TruckDispatched,
    TruckGateIn,
    TruckGateOut,
    time_error,
    type_name,
)
from corridor.contract.json_depth import MAX_JSON_DEPTH, nests_deeper_than
from stations.catalog import station_id_set, station_ids

__all__ = [
    "EARLIEST_TS",
    "EVENT_TYPES",
    "LATEST_TS",
    "MAX_EVENT_BYTES",
    "MAX_JSON_DEPTH",
    "NOT_JSON",
    "NOT_UTF8",
    "OVERSIZED",
    "TOO_DEEP",
    "ArrivingBox",
    "AwareDatetime",
    "Celsius",
    "DecodeError",
    "Direction",
    "Event",
    "EventBase",
    "Identifier",
    "PowerState",
    "ReeferReading",
    "TrainArrived",
    "TrainDeparted",
    "TrainScheduled",
    "TruckDispatched",
    "TruckGateIn",
    "TruckGateOut",
    "decode_event",
    "encode_event",
    "event_type",
    "same_instant_rank",
    "semantic_error",
]

MAX_EVENT_BYTES = 64 * 1024
# Reasons of whole-message errors; `streams.dead_letters` maps them to dead-letter reasons.
OVERSIZED = "message of"
NOT_UTF8 = "not UTF-8"
NOT_JSON = "not JSON"
TOO_DEEP = "nested deeper than"

_TYPE_NAMES: dict[type, str] = {kind: type_name(kind) for kind in EVENT_TYPES}
_TYPE_FIRST = b'{"type":"'  # how `encode_event` starts every event (9 bytes)


def event_type(event: Event) -> str:
    """The event's `type` tag, e.g. "truck.dispatched"."""
    return _TYPE_NAMES[type(event)]


def same_instant_rank(event: Event) -> int:
    """Order of one yard's events at the same instant: trains, then trucks, then readings.

    One rank per channel (Kafka topic), so neither a replay nor a live consumer depends on how
    the topics were interleaved; and it reads well in the yard: boxes a train brings are there
    for a truck or a reading stamped the same second.
    """
    return event.rank


def _lenient(kind: Any, copies: dict[Any, Any]) -> Any:
    """A copy of a struct type (and of the structs in its fields) that ignores unknown fields."""
    if kind not in copies:
        config = kind.__struct_config__
        copies[kind] = msgspec.defstruct(
            kind.__name__,
            [_lenient_field(info, copies) for info in msgspec.structs.fields(kind)],
            tag_field=config.tag_field,
            tag=config.tag,
            frozen=True,
        )
    return copies[kind]


def _lenient_field(info: msgspec.structs.FieldInfo, copies: dict[Any, Any]) -> tuple[Any, ...]:
    annotation = _lenient_type(info.type, copies)
    if info.default is not msgspec.NODEFAULT:
        return (info.name, annotation, info.default)
    if info.default_factory is not msgspec.NODEFAULT:
        return (info.name, annotation, msgspec.field(default_factory=info.default_factory))
    return (info.name, annotation)


def _lenient_type(annotation: Any, copies: dict[Any, Any]) -> Any:
    """The annotation with each struct type in it (alone, in a list, annotated) made lenient."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return _lenient(annotation, copies)
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        return Annotated[(_lenient_type(inner, copies), *metadata)]
    if origin is list:
        return list[_lenient_type(get_args(annotation)[0], copies)]  # type: ignore[misc]
    return annotation


_LENIENT_COPIES: dict[Any, Any] = {}
_decoder = msgspec.json.Decoder(Event)
_lenient_decoder = msgspec.json.Decoder(
    typing.Union[tuple(_lenient(kind, _LENIENT_COPIES) for kind in EVENT_TYPES)]  # noqa: UP007
)
_REAL_OF = {copy: kind for kind, copy in _LENIENT_COPIES.items()}
_encoder = msgspec.json.Encoder()


def decode_event(raw: bytes | str) -> Event | DecodeError:
    """Decode and validate one message; never raises."""
    # one slice compare picks the fast path: bytes, in the layout `encode_event` writes (a str
    # never equals bytes, so text takes the other path, which measures its size in bytes)
    if raw[:9] == _TYPE_FIRST and len(raw) <= MAX_EVENT_BYTES:
        try:
            event = _decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            return _decode_any_layout(raw)  # for the error it names, or for extra fields
        # `semantic_error`'s common case inline (a known yard, a year well inside the range:
        # one call less a message); anything else goes through it, which checks in order
        if event.yard in station_id_set() and 2000 < event.ts.year < 2099:
            problem = event.problem()
        else:
            problem = semantic_error(event)
        return problem if problem is not None else event
    return _decode_any_layout(raw)


def _decode_any_layout(raw: bytes | str) -> Event | DecodeError:
    """The slow path: text or bytes, any field order, unknown fields ignored, nesting bounded
    before the parser runs."""
    if isinstance(raw, str):  # measure the size in bytes; lone surrogates are not UTF-8
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as error:
            return DecodeError("", f"{NOT_UTF8}: {error.reason} at character {error.start}")
    if len(raw) > MAX_EVENT_BYTES:
        return DecodeError("", f"{OVERSIZED} {len(raw)} bytes exceeds {MAX_EVENT_BYTES}")
    if nests_deeper_than(raw, MAX_JSON_DEPTH):
        return DecodeError("", f"{TOO_DEEP} {MAX_JSON_DEPTH} levels of arrays and objects")
    try:
        lenient = _lenient_decoder.decode(raw)
    except msgspec.ValidationError as error:
        return _validation_error(str(error))
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        # msgspec checks UTF-8 inside strings; a bad byte elsewhere reads as bad JSON
        return _not_utf8(raw) or DecodeError("", f"{NOT_JSON}: {error}")
    event: Event = msgspec.convert(lenient, _REAL_OF[type(lenient)], from_attributes=True)
    problem = semantic_error(event)
    return problem if problem is not None else event


def _not_utf8(raw: bytes) -> DecodeError | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return DecodeError("", f"{NOT_UTF8}: {error.reason} at byte {error.start}")
    return None


def encode_event(event: Event) -> bytes:
    """One event as compact JSON (the inverse of `decode_event`)."""
    return _encoder.encode(event)


def semantic_error(event: Event) -> DecodeError | None:
    """Checks a schema cannot express: yards, plausible times, then the type's own checks."""
    yards = station_ids()  # cached; the catalogue of station files names them
    if event.yard not in yards:
        return DecodeError("yard", f"unknown yard {event.yard!r}; known: {', '.join(yards)}")
    if not 2000 < event.ts.year < 2099:  # inside the range whatever the offset: no call
        problem = time_error("ts", event.ts)
        if problem is not None:
            return problem
    return event.problem()


def _validation_error(message: str) -> DecodeError:
    reason, _, path = message.partition(" - at `")
    field = path.rstrip("`").removeprefix("$").removeprefix(".")
    missing = reason.partition("missing required field `")[2].rstrip("`")
    if missing:
        field = f"{field}.{missing}" if field else missing
        reason = "missing required field"
    if reason.startswith("Invalid value") and field == "type":
        reason = f"{reason}: not an event type of the v1 contract"
    return DecodeError(field, reason)
