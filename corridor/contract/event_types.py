"""The registry of v1 event types: each type declares, in its class, everything the twin needs.

A type is a frozen msgspec `Struct` subclassing `EventBase`, and it declares in one place:

- its `type` tag and its fields (the struct itself, see `docs/events.md`);
- its `channel`: the logical feed it travels on (`trains`, `dispatch`, `reefer`), which the
  Kafka edge maps to a configured topic (`streams.topics`);
- its `rank`: the order of one yard's events stamped the same instant (trains, then trucks,
  then readings), one rank per channel;
- its own checks beyond the schema (`problem`), such as ISO 6346 check digits.

The engine registers one handler per type (`corridor.engine.yard_events`) with
`require_every_type`, so a type without a handler fails at import, as does a type missing
from the `Event` union or declaring a channel or rank that disagrees with the others.
"""

import functools
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, ClassVar, Literal, TypeVar

import msgspec

from corridor.contract.container_ids import container_number_error, size_type_error

Channel = Literal["trains", "dispatch", "reefer"]
CHANNELS: tuple[Channel, ...] = ("trains", "dispatch", "reefer")  # in same-instant order
TRAINS_FIRST, TRUCKS_NEXT, READINGS_LAST = 0, 1, 2

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
Celsius = Annotated[float, msgspec.Meta(ge=-80.0, le=80.0)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Direction = Literal["export", "import"]
PowerState = Literal["on", "off"]

EARLIEST_TS = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_TS = datetime(2100, 1, 1, tzinfo=UTC)


class EventRegistryError(Exception):
    """The event types, or a table meant to cover them, are incomplete or disagree."""


class DecodeError(msgspec.Struct, frozen=True):
    """Why a message is not an event: the field (JSON path, or '' for the whole message)."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


# Unknown fields are refused here and tolerated by `corridor.contract.events.decode_event`,
# which decodes messages with extra fields through a lenient copy of these types: the strict
# decoder never recurses into a field it does not know, however deep that field nests.
class EventBase(
    msgspec.Struct, frozen=True, gc=False, tag_field="type", forbid_unknown_fields=True
):
    """Fields every event has; a subclass is one event type (see the module docstring)."""

    channel: ClassVar[Channel]
    rank: ClassVar[int]

    event_id: Identifier
    ts: AwareDatetime
    yard: str

    def problem(self) -> DecodeError | None:
        """What the schema cannot check in this type's own fields, in field order."""
        return None


class TruckDispatched(EventBase, tag="truck.dispatched", frozen=True):
    """A truck is sent to the yard to deliver (export) or collect (import) one box."""

    channel: ClassVar[Channel] = "dispatch"
    rank: ClassVar[int] = TRUCKS_NEXT

    truck_id: Identifier
    container_id: str
    iso_type: str
    direction: Direction
    eta: AwareDatetime
    setpoint_c: Celsius | None = None
    train_id: Identifier | None = None  # export: the departure the box is booked on, if known

    def problem(self) -> DecodeError | None:
        # `time_error`, `_number_error_at` and `_size_type_error_at` in order, their common
        # case inline: a quarter of the messages are dispatches, three calls less each
        eta = self.eta
        if not 2000 < eta.year < 2099:
            found = time_error("eta", eta)
            if found is not None:
                return found
        number = _number_error(self.container_id)
        if number is not None:
            return DecodeError("container_id", number)
        size_type = _size_type_error(self.iso_type)
        return None if size_type is None else DecodeError("iso_type", size_type)


class TruckGateIn(EventBase, tag="truck.gate_in", frozen=True):
    """Observed: the truck passed the in-gate."""

    channel: ClassVar[Channel] = "dispatch"
    rank: ClassVar[int] = TRUCKS_NEXT

    truck_id: Identifier


class TruckGateOut(EventBase, tag="truck.gate_out", frozen=True):
    """Observed: the truck passed the out-gate."""

    channel: ClassVar[Channel] = "dispatch"
    rank: ClassVar[int] = TRUCKS_NEXT

    truck_id: Identifier


class TrainScheduled(EventBase, tag="train.scheduled", frozen=True):
    """A departure that export boxes can be booked on until its cut-off."""

    channel: ClassVar[Channel] = "trains"
    rank: ClassVar[int] = TRAINS_FIRST

    train_id: Identifier
    departure: AwareDatetime
    cutoff: AwareDatetime
    capacity_teu: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    destination: str = ""

    def problem(self) -> DecodeError | None:
        found = time_error("departure", self.departure) or time_error("cutoff", self.cutoff)
        if found is None and self.cutoff > self.departure:
            return DecodeError("cutoff", "cut-off is after the departure")
        return found


class ArrivingBox(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """A box an arriving train brings, to be unloaded and collected later by truck."""

    container_id: str
    iso_type: str
    setpoint_c: Celsius | None = None


class TrainArrived(EventBase, tag="train.arrived", frozen=True):
    """A train is at the yard with import boxes to unload."""

    channel: ClassVar[Channel] = "trains"
    rank: ClassVar[int] = TRAINS_FIRST

    train_id: Identifier
    boxes: Annotated[list[ArrivingBox], msgspec.Meta(max_length=500)] = []

    def problem(self) -> DecodeError | None:
        boxes = self.boxes
        for i, box in enumerate(boxes):  # every number first, then every size-type code
            found = _number_error_at(f"boxes[{i}].container_id", box.container_id)
            if found is not None:
                return found
        for i, box in enumerate(boxes):
            found = _size_type_error_at(f"boxes[{i}].iso_type", box.iso_type)
            if found is not None:
                return found
        return None


class TrainDeparted(EventBase, tag="train.departed", frozen=True):
    """Observed: a train left the yard."""

    channel: ClassVar[Channel] = "trains"
    rank: ClassVar[int] = TRAINS_FIRST

    train_id: Identifier


class ReeferReading(EventBase, tag="reefer.reading", frozen=True):
    """A remote reading of a reefer's controller."""

    channel: ClassVar[Channel] = "reefer"
    rank: ClassVar[int] = READINGS_LAST

    container_id: str
    setpoint_c: Celsius
    supply_c: Celsius
    return_c: Celsius
    power: PowerState
    alarms: Annotated[list[str], msgspec.Meta(max_length=32)] = []

    def problem(self) -> DecodeError | None:
        found = _number_error(self.container_id)  # memoised, called directly: every reading
        return None if found is None else DecodeError("container_id", found)


Event = (
    TruckDispatched
    | TruckGateIn
    | TruckGateOut
    | TrainScheduled
    | TrainArrived
    | TrainDeparted
    | ReeferReading
)
EVENT_TYPES: tuple[type[EventBase], ...] = typing.get_args(Event)


def type_name(kind: type[EventBase]) -> str:
    """The `type` tag of an event type, e.g. "truck.dispatched"."""
    return str(kind.__struct_config__.tag)


def time_error(name: str, moment: datetime) -> DecodeError | None:
    """Why a time is not plausible for the twin (outside 2000-2099), or None."""
    # a local year of 2001-2098 is inside the range whatever the offset (fast path)
    if 2000 < moment.year < 2099 or EARLIEST_TS <= moment < LATEST_TS:
        return None
    return DecodeError(name, f"{moment.isoformat()} is outside 2000-2099")


def _number_error_at(field: str, container_id: str) -> DecodeError | None:
    found = _number_error(container_id)
    return DecodeError(field, found) if found is not None else None


def _size_type_error_at(field: str, iso_type: str) -> DecodeError | None:
    found = _size_type_error(iso_type)
    return DecodeError(field, found) if found is not None else None


@functools.lru_cache(maxsize=1 << 16)
def _number_error(number: str) -> str | None:
    """`container_number_error`, memoised: a reefer's number recurs in every reading."""
    return container_number_error(number)


@functools.lru_cache(maxsize=1 << 10)
def _size_type_error(code: str) -> str | None:
    return size_type_error(code)


Key = TypeVar("Key")
Value = TypeVar("Value")


def require_entries(
    table: Mapping[Key, Value], expected: Iterable[Key], what: str, name: Callable[[Key], str]
) -> dict[Key, Value]:
    """`table` as a dict, if it has exactly one entry per expected key; else a clear error."""
    wanted = list(expected)
    missing = [name(key) for key in wanted if key not in table]
    unknown = [repr(key) for key in table if key not in wanted]
    if missing or unknown:
        raise EventRegistryError(
            f"{what}: " + "; ".join(_listed("missing for", missing) + _listed("unknown", unknown))
        )
    return dict(table)


def require_every_type(
    table: Mapping[type[EventBase], Value], what: str
) -> dict[type[EventBase], Value]:
    """`table` as a dict, if it covers every event type and nothing else (e.g. handlers)."""
    return dict(require_entries(table, EVENT_TYPES, what, type_name))


def _listed(label: str, names: list[str]) -> list[str]:
    return [f"{label} {', '.join(names)}"] if names else []


def check_event_types(kinds: Iterable[type[EventBase]], declared: Iterable[type]) -> None:
    """Raise `EventRegistryError` unless the types are complete and agree with each other.

    `kinds` are the types of the `Event` union, `declared` every class subclassing
    `EventBase`: each must be in the union, carry a tag, a known channel and an integer rank;
    all types on one channel share one rank, and two channels never share one (so ties at
    the same instant never depend on how the channels were interleaved).
    """
    kinds = list(kinds)
    problems = [
        f"{kind.__name__} is not in the Event union" for kind in declared if kind not in kinds
    ]
    rank_of: dict[str, set[object]] = {}
    for kind in kinds:
        problems += _declaration_problems(kind)
        rank_of.setdefault(str(getattr(kind, "channel", None)), set()).add(
            getattr(kind, "rank", None)
        )
    for channel, ranks in rank_of.items():
        if len(ranks) > 1:
            problems.append(f"channel {channel!r} has several ranks {sorted(map(str, ranks))}")
    all_ranks = [rank for ranks in rank_of.values() for rank in ranks]
    if len(set(all_ranks)) < len(all_ranks):
        problems.append("two channels share a same-instant rank")
    if problems:
        raise EventRegistryError("event types: " + "; ".join(problems))


def _declaration_problems(kind: type[EventBase]) -> list[str]:
    problems = []
    if not isinstance(kind.__struct_config__.tag, str):
        problems.append(f"{kind.__name__} has no type tag")
    if getattr(kind, "channel", None) not in CHANNELS:
        problems.append(f"{kind.__name__} declares no channel among {', '.join(CHANNELS)}")
    if not isinstance(getattr(kind, "rank", None), int):
        problems.append(f"{kind.__name__} declares no integer same-instant rank")
    return problems


check_event_types(EVENT_TYPES, EventBase.__subclasses__())
