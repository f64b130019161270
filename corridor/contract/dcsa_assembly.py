"""DCSA facts assembled into the twin's trucks, trains and reefer readings (v1 events).

DCSA reports each box move and each call separately; the twin needs whole trucks and trains.
Facts are grouped by yard and transport call:

- a **rail call**: its `ARRI` (or, without one, its first `DISC`) is a `train.arrived` carrying
  the boxes discharged from it (500 at most per arrival: "-2", "-3"... beyond). Its `DEPA` is a
  `train.scheduled` (departure = the DEPA, cut-off = the yard's shortest timetable cut-off
  before it, or the first `LOAD` if earlier; capacity = the TEU loaded, or the yard's largest
  timetable train without LOADs), announced at the yard's first fact, plus the observed
  `train.departed`. The twin then loads its own choice of boxes, as it would any train;
- a **truck call**: each `GTIN` (export delivery) or `GTOT` (import pickup) is one truck
  visit, `truck.dispatched` with the `ARRI` as its `eta` (without one: the GTIN itself, or the
  GTOT minus a typical turnaround), the gate milestone, and the `DEPA` as the gate-out of an
  export truck. Gate moves without a call reference are trucks of their own;
- a reefer `MEAS` is a `reefer.reading`: setpoint as given; DCSA carries probe (cargo)
  temperatures, not supply and return air, so both are the probes' mean; power on.

A fact that completes nothing (a LOAD whose train never departs in the input, a truck call
without a box) is a note. Every v1 event passes the v1 decoder, so it obeys every contract rule.
"""

import statistics
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from corridor.contract.container_ids import teu_of
from corridor.contract.dcsa_shapes import DcsaNote, DcsaRecord
from corridor.contract.events import DecodeError, Event, decode_event
from stations.spec import StationSpec

MAX_TRAIN_BOXES = 500
DEFAULT_CUTOFF_H = 4.0
DEFAULT_CAPACITY_TEU = 100
MAX_CAPACITY_TEU = 1000
Origin = tuple[str, int]
"""Where a DCSA event was: its source file and 1-based position."""


@dataclass(frozen=True, slots=True)
class Fact:
    """A DCSA event the twin can use: the record, its time and its yard."""

    record: DcsaRecord
    at: datetime
    yard: str

    @property
    def origin(self) -> Origin:
        """The event's source and position."""
        return (self.record.source, self.record.position)

    def note(self, field: str, reason: str) -> DcsaNote:
        """A note about this event."""
        return self.record.note(field, reason)


@dataclass(frozen=True, slots=True)
class Conversion:
    """The v1 events (time order), the notes, and which DCSA events gave events (`used`)."""

    events: list[Event]
    notes: list[DcsaNote]
    used: frozenset[Origin]

    def with_notes(self, notes: Iterable[DcsaNote]) -> "Conversion":
        """The same conversion with more notes, all in input order."""
        every = sorted([*self.notes, *notes], key=lambda note: (note.source, note.position))
        return Conversion(self.events, every, self.used)


@dataclass(slots=True)
class _Output:
    events: list[Event] = field(default_factory=list)
    notes: list[DcsaNote] = field(default_factory=list)
    used: set[Origin] = field(default_factory=set)

    def emit(self, message: dict[str, Any], facts: Iterable[Fact]) -> None:
        """Validate through the v1 decoder; on failure every source fact gets the reason."""
        sources = list(facts)
        item = decode_event(msgspec.json.encode(message))
        if isinstance(item, DecodeError):
            noted = {(note.source, note.position) for note in self.notes}
            fresh = [fact for fact in sources if fact.origin not in noted]
            self.notes += [fact.note(f"v1 {item.field}", item.reason) for fact in fresh]
            return
        self.events.append(item)
        self.used.update(fact.origin for fact in sources)


@dataclass(slots=True)
class _Call:
    """The facts of one transport call at one yard."""

    arrival: Fact | None = None
    departure: Fact | None = None
    moves: list[Fact] = field(default_factory=list)
    extra: list[Fact] = field(default_factory=list)  # a second ARRI or DEPA


def assemble(
    facts: list[Fact], stations: Mapping[str, StationSpec], turnaround: timedelta
) -> Conversion:
    """Trucks, trains and readings from the facts; see the module docstring for the rules."""
    out = _Output()
    rail: dict[tuple[str, str], _Call] = defaultdict(_Call)
    road: dict[tuple[str, str], _Call] = defaultdict(_Call)
    first_fact: dict[str, datetime] = {}
    for fact in facts:
        first_fact[fact.yard] = min(first_fact.get(fact.yard, fact.at), fact.at)
        _file(fact, rail, road, out, turnaround)
    for (yard, call), facts_of_call in rail.items():
        spec = stations.get(yard)
        _train(out, yard, call, facts_of_call, first_fact[yard], spec)
    for (yard, call), facts_of_call in road.items():
        _trucks(out, yard, call, facts_of_call, turnaround)
    out.events.sort(key=lambda event: event.ts)
    return Conversion(out.events, out.notes, frozenset(out.used))


def _file(
    fact: Fact,
    rail: dict[tuple[str, str], _Call],
    road: dict[tuple[str, str], _Call],
    out: _Output,
    turnaround: timedelta,
) -> None:
    """Put a fact with its call, or convert it at once when it needs no partner."""
    record = fact.record
    if record.event_type == "REEFER":
        _reading(out, fact)
    elif record.event_type == "EQUIPMENT" and record.code in ("GTIN", "GTOT") and not record.call:
        _truck_visit(out, fact, f"{record.equipment}-{fact.at:%Y%m%dT%H%M}", None, turnaround)
    else:
        by_rail = record.code in ("DISC", "LOAD") or record.mode == "RAIL"
        call = (rail if by_rail else road)[(fact.yard, record.call or "unknown-call")]
        if record.event_type == "EQUIPMENT":
            call.moves.append(fact)
        elif record.code == "ARRI" and call.arrival is None:
            call.arrival = fact
        elif record.code == "DEPA" and call.departure is None:
            call.departure = fact
        else:
            call.extra.append(fact)


def _train(
    out: _Output, yard: str, call: str, facts: _Call, first: datetime, spec: StationSpec | None
) -> None:
    discharged = [fact for fact in facts.moves if fact.record.code == "DISC"]
    loaded = [fact for fact in facts.moves if fact.record.code == "LOAD"]
    if facts.arrival is not None or discharged:
        _arrivals(out, yard, call, facts.arrival, discharged)
    if facts.departure is not None:
        _departure(out, yard, call, facts.departure, loaded, first, spec)
    else:
        out.notes += [
            fact.note("transportCall", f"loaded on {call}, whose departure (DEPA) is not here")
            for fact in loaded
        ]
    out.notes += [fact.note("transportEventTypeCode", "repeats the call's") for fact in facts.extra]


def _arrivals(
    out: _Output, yard: str, call: str, arrival: Fact | None, discharged: list[Fact]
) -> None:
    """One `train.arrived` per 500 discharged boxes, at the ARRI or the first discharge."""
    stamp = arrival.at if arrival is not None else min(fact.at for fact in discharged)
    parts = [
        discharged[k : k + MAX_TRAIN_BOXES] for k in range(0, len(discharged), MAX_TRAIN_BOXES)
    ] or [[]]
    for number, boxes in enumerate(parts, 1):
        train_id = _short(call if number == 1 else f"{call}-{number}")
        sources = [*boxes, *([arrival] if arrival is not None and number == 1 else [])]
        message = {
            "type": "train.arrived",
            "event_id": _short(f"dcsa-arrival-{yard}-{train_id}"),
            "ts": stamp,
            "yard": yard,
            "train_id": train_id,
            "boxes": [_box(fact.record) for fact in boxes],
        }
        out.emit(message, sources)


def _departure(
    out: _Output,
    yard: str,
    call: str,
    departure: Fact,
    loaded: list[Fact],
    first: datetime,
    spec: StationSpec | None,
) -> None:
    """A `train.scheduled` announced at the yard's first fact, and its `train.departed`."""
    cutoff_h, capacity = _timetable_defaults(spec)
    cutoff = min([departure.at - timedelta(hours=cutoff_h), *(fact.at for fact in loaded)])
    if loaded:
        capacity = sum(teu_of(fact.record.iso_type) for fact in loaded)
    train_id = _short(call)
    schedule = {
        "type": "train.scheduled",
        "event_id": _short(f"dcsa-schedule-{yard}-{train_id}"),
        "ts": min(first, cutoff),
        "yard": yard,
        "train_id": train_id,
        "departure": departure.at,
        "cutoff": cutoff,
        "capacity_teu": min(max(capacity, 1), MAX_CAPACITY_TEU),
    }
    out.emit(schedule, [departure, *loaded])
    departed = {
        "type": "train.departed",
        "event_id": _short(f"dcsa-{departure.record.event_id}"),
        "ts": departure.at,
        "yard": yard,
        "train_id": train_id,
    }
    out.emit(departed, [departure])


def _trucks(out: _Output, yard: str, call: str, facts: _Call, turnaround: timedelta) -> None:
    """Each gate move of a truck call is one truck visit (the twin's trucks carry one box)."""
    gate_moves = [fact for fact in facts.moves if fact.record.code in ("GTIN", "GTOT")]
    ends = [end for end in (facts.arrival, facts.departure) if end is not None]
    if not gate_moves:
        reason = f"truck call {call} moves no laden box here (no GTIN or GTOT)"
        out.notes += [fact.note("transportCall", reason) for fact in ends]
    for fact in gate_moves:
        truck_id = call if len(gate_moves) == 1 else f"{call}-{fact.record.equipment}"
        _truck_visit(out, fact, truck_id, facts, turnaround)
    exports = any(fact.record.code == "GTIN" for fact in gate_moves)
    if gate_moves and facts.departure is not None and not exports:
        out.notes.append(facts.departure.note("transportCall", "the GTOT is the gate-out"))
    out.notes += [fact.note("transportEventTypeCode", "repeats the call's") for fact in facts.extra]


def _truck_visit(
    out: _Output, fact: Fact, truck_id: str, call: _Call | None, turnaround: timedelta
) -> None:
    record, export = fact.record, fact.record.code == "GTIN"
    arrival = call.arrival if call is not None else None
    departure = call.departure if call is not None and export else None
    eta = fact.at if export else fact.at - turnaround
    if arrival is not None:
        eta = min(arrival.at, fact.at)
    truck_id = _short(truck_id)
    dispatched = {
        "type": "truck.dispatched",
        "event_id": _short(f"dcsa-{record.event_id}-dispatch"),
        "ts": eta,
        "yard": fact.yard,
        "truck_id": truck_id,
        "container_id": record.equipment,
        "iso_type": record.iso_type,
        "direction": "export" if export else "import",
        "eta": eta,
    }
    out.emit(dispatched, [fact, *([arrival] if arrival is not None else [])])
    milestone = "truck.gate_in" if export else "truck.gate_out"
    out.emit(_milestone(milestone, record.event_id, fact.at, fact.yard, truck_id), [fact])
    if departure is not None:
        depa = departure.record.event_id
        gone = _milestone("truck.gate_out", depa, departure.at, fact.yard, truck_id)
        out.emit(gone, [departure])


def _milestone(kind: str, event_id: str, at: datetime, yard: str, truck: str) -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": _short(f"dcsa-{event_id}-{truck}" if kind == "truck.gate_out" else event_id),
        "ts": at,
        "yard": yard,
        "truck_id": truck,
    }


def _reading(out: _Output, fact: Fact) -> None:
    details = fact.record.reefer
    unit = details.get("temperatureUnit") or "CEL"
    setpoint = details.get("internalSetpointTemperature")
    probes: list[float] = [
        probe["measuredTemperatureValue"]
        for probe in details.get("temperatureProbeMeasurements") or []
        if isinstance(probe, dict) and _is_number(probe.get("measuredTemperatureValue"))
    ]
    if unit not in ("CEL", "FAH"):
        out.notes.append(fact.note("temperatureUnit", f"{unit!r}: expected CEL or FAH"))
    elif not isinstance(setpoint, int | float) or isinstance(setpoint, bool):
        out.notes.append(fact.note("internalSetpointTemperature", "missing: a reading needs it"))
    elif not probes:
        out.notes.append(fact.note("temperatureProbeMeasurements", "no measured temperature"))
    else:
        air = _celsius(statistics.fmean(probes), unit)
        message = {
            "type": "reefer.reading",
            "event_id": _short(f"dcsa-{fact.record.event_id}"),
            "ts": fact.at,
            "yard": fact.yard,
            "container_id": fact.record.equipment,
            "setpoint_c": _celsius(setpoint, unit),
            "supply_c": air,
            "return_c": air,
            "power": "on",
        }
        out.emit(message, [fact])


def _box(record: DcsaRecord) -> dict[str, str]:
    return {"container_id": record.equipment, "iso_type": record.iso_type}


def _timetable_defaults(spec: StationSpec | None) -> tuple[float, int]:
    """The yard's shortest cut-off (hours) and largest train (TEU) in its timetable."""
    timetable = spec.rail.timetable if spec is not None else ()
    if not timetable:
        return DEFAULT_CUTOFF_H, DEFAULT_CAPACITY_TEU
    return min(e.cutoff_h for e in timetable), max(e.capacity_teu for e in timetable)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _celsius(value: float, unit: str) -> float:
    return round((value - 32.0) / 1.8 if unit == "FAH" else float(value), 2)


def _short(text: str) -> str:
    """An identifier of at most 64 characters: long ones keep a prefix and gain a CRC."""
    if len(text) <= 64:
        return text
    return f"{text[:50]}~{zlib.crc32(text.encode()):08x}"
