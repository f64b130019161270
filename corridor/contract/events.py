"""The event contract, v1: what the yards tell the twin (see `docs/events.md`).

One JSON object per event. Every event has an `event_id` (a repeat is ignored), a `type`, an
event time `ts` (RFC 3339 with an offset; a naive timestamp is rejected) and the `yard` it
happened in. Decoding never raises: it returns either a frozen, typed event or a
`DecodeError` naming the field and the reason, ready for a dead-letter path.
"""

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from corridor.contract.container_ids import container_number_error, size_type_error
from stations.catalog import station_ids

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
Celsius = Annotated[float, msgspec.Meta(ge=-80.0, le=80.0)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Direction = Literal["export", "import"]
PowerState = Literal["on", "off"]

EARLIEST_TS = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_TS = datetime(2100, 1, 1, tzinfo=UTC)
MAX_EVENT_BYTES = 64 * 1024


class _Event(msgspec.Struct, frozen=True, gc=False, tag_field="type", forbid_unknown_fields=False):
    event_id: Identifier
    ts: AwareDatetime
    yard: str


class TruckDispatched(_Event, tag="truck.dispatched", frozen=True):
    """A truck is sent to the yard to deliver (export) or collect (import) one box."""

    truck_id: Identifier
    container_id: str
    iso_type: str
    direction: Direction
    eta: AwareDatetime
    setpoint_c: Celsius | None = None
    train_id: Identifier | None = None  # export: the departure the box is booked on, if known


class TruckGateIn(_Event, tag="truck.gate_in", frozen=True):
    """Observed: the truck passed the in-gate."""

    truck_id: Identifier


class TruckGateOut(_Event, tag="truck.gate_out", frozen=True):
    """Observed: the truck passed the out-gate."""

    truck_id: Identifier


class TrainScheduled(_Event, tag="train.scheduled", frozen=True):
    """A departure that export boxes can be booked on until its cut-off."""

    train_id: Identifier
    departure: AwareDatetime
    cutoff: AwareDatetime
    capacity_teu: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    destination: str = ""


class ArrivingBox(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=False):
    """A box an arriving train brings, to be unloaded and collected later by truck."""

    container_id: str
    iso_type: str
    setpoint_c: Celsius | None = None


class TrainArrived(_Event, tag="train.arrived", frozen=True):
    """A train is at the yard with import boxes to unload."""

    train_id: Identifier
    boxes: Annotated[list[ArrivingBox], msgspec.Meta(max_length=500)] = []


class TrainDeparted(_Event, tag="train.departed", frozen=True):
    """Observed: a train left the yard."""

    train_id: Identifier


class ReeferReading(_Event, tag="reefer.reading", frozen=True):
    """A remote reading of a reefer's controller."""

    container_id: str
    setpoint_c: Celsius
    supply_c: Celsius
    return_c: Celsius
    power: PowerState
    alarms: Annotated[list[str], msgspec.Meta(max_length=32)] = []


Event = (
    TruckDispatched
    | TruckGateIn
    | TruckGateOut
    | TrainScheduled
    | TrainArrived
    | TrainDeparted
    | ReeferReading
)
EVENT_TYPES: tuple[type[_Event], ...] = (
    TruckDispatched,
    TruckGateIn,
    TruckGateOut,
    TrainScheduled,
    TrainArrived,
    TrainDeparted,
    ReeferReading,
)

_TYPE_NAMES: dict[type, str] = {kind: str(kind.__struct_config__.tag) for kind in EVENT_TYPES}


def event_type(event: Event) -> str:
    """The event's `type` tag, e.g. "truck.dispatched"."""
    return _TYPE_NAMES[type(event)]


_SAME_INSTANT_RANK: dict[type, int] = {
    TrainScheduled: 0,
    TrainArrived: 0,
    TrainDeparted: 0,
    TruckDispatched: 1,
    TruckGateIn: 1,
    TruckGateOut: 1,
    ReeferReading: 2,
}


def same_instant_rank(event: Event) -> int:
    """Order of one yard's events at the same instant: trains, then trucks, then readings.

    One rank per Kafka topic, so neither a replay nor a live consumer depends on how the topics
    were interleaved; and it reads well in the yard: boxes a train brings are there for a truck
    or a reading stamped the same second.
    """
    return _SAME_INSTANT_RANK[type(event)]


class DecodeError(msgspec.Struct, frozen=True):
    """Why a message is not an event: the field (JSON path, or '' for the whole message)."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


_decoder = msgspec.json.Decoder(Event)
_encoder = msgspec.json.Encoder()


def decode_event(raw: bytes | str) -> Event | DecodeError:
    """Decode and validate one message; never raises."""
    if isinstance(raw, str):  # measure the size in bytes; lone surrogates are not UTF-8
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as error:
            return DecodeError("", f"not UTF-8: {error.reason} at character {error.start}")
    if len(raw) > MAX_EVENT_BYTES:
        return DecodeError("", f"message of {len(raw)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        event = _decoder.decode(raw)
    except msgspec.ValidationError as error:
        return _validation_error(str(error))
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        # msgspec checks UTF-8 inside strings; a bad byte elsewhere reads as bad JSON
        return _not_utf8(raw) or DecodeError("", f"not JSON: {error}")
    problem = semantic_error(event)
    return problem if problem is not None else event


def _not_utf8(raw: bytes) -> DecodeError | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return DecodeError("", f"not UTF-8: {error.reason} at byte {error.start}")
    return None


def encode_event(event: Event) -> bytes:
    """One event as compact JSON (the inverse of `decode_event`)."""
    return _encoder.encode(event)


def semantic_error(event: Event) -> DecodeError | None:
    """Checks a schema cannot express: yards, ISO 6346 numbers, plausible times."""
    if event.yard not in station_ids():
        return DecodeError(
            "yard", f"unknown yard {event.yard!r}; known: {', '.join(station_ids())}"
        )
    return _time_error("ts", event.ts) or _TYPE_CHECKS[type(event)](event)


def _time_error(name: str, moment: datetime) -> DecodeError | None:
    # a local year of 2001-2098 is inside the range whatever the offset (fast path)
    if 2000 < moment.year < 2099 or EARLIEST_TS <= moment < LATEST_TS:
        return None
    return DecodeError(name, f"{moment.isoformat()} is outside 2000-2099")


def _number_error_at(field: str, container_id: str) -> DecodeError | None:
    problem = _number_error(container_id)
    return DecodeError(field, problem) if problem is not None else None


def _size_type_error_at(field: str, iso_type: str) -> DecodeError | None:
    problem = _size_type_error(iso_type)
    return DecodeError(field, problem) if problem is not None else None


def _dispatch_error(event: TruckDispatched) -> DecodeError | None:
    return (
        _time_error("eta", event.eta)
        or _number_error_at("container_id", event.container_id)
        or _size_type_error_at("iso_type", event.iso_type)
    )


def _schedule_error(event: TrainScheduled) -> DecodeError | None:
    problem = _time_error("departure", event.departure) or _time_error("cutoff", event.cutoff)
    if problem is None and event.cutoff > event.departure:
        return DecodeError("cutoff", "cut-off is after the departure")
    return problem


def _arrival_error(event: TrainArrived) -> DecodeError | None:
    boxes = event.boxes
    for i, box in enumerate(boxes):  # every number first, then every size-type code
        problem = _number_error_at(f"boxes[{i}].container_id", box.container_id)
        if problem is not None:
            return problem
    for i, box in enumerate(boxes):
        problem = _size_type_error_at(f"boxes[{i}].iso_type", box.iso_type)
        if problem is not None:
            return problem
    return None


def _reading_error(event: ReeferReading) -> DecodeError | None:
    return _number_error_at("container_id", event.container_id)


def _no_more_checks(event: Event) -> DecodeError | None:
    return None


# after the common checks (yard, `ts`), what each type still needs checking, in field order
_TYPE_CHECKS: dict[type, Callable[[Any], DecodeError | None]] = {
    TruckDispatched: _dispatch_error,
    TruckGateIn: _no_more_checks,
    TruckGateOut: _no_more_checks,
    TrainScheduled: _schedule_error,
    TrainArrived: _arrival_error,
    TrainDeparted: _no_more_checks,
    ReeferReading: _reading_error,
}


@functools.lru_cache(maxsize=1 << 16)
def _number_error(number: str) -> str | None:
    """`container_number_error`, memoised: a reefer's number recurs in every reading."""
    return container_number_error(number)


@functools.lru_cache(maxsize=1 << 10)
def _size_type_error(code: str) -> str | None:
    return size_type_error(code)


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
