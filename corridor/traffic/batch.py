"""One day of one yard's generated traffic: columns of facts, and the events they become.

The generator draws a day's trains, trucks, milestones and reefer readings as arrays, then
keeps them here as plain lists. Each event to emit is one *row*: its time, its kind and the
index of its facts. Rows are sorted across days by the caller; an event object is built only
when its row is emitted, so memory holds arrays, not millions of objects.
"""

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from corridor.contract.events import (
    ArrivingBox,
    Direction,
    Event,
    ReeferReading,
    TrainArrived,
    TrainScheduled,
    TruckDispatched,
    TruckGateIn,
    TruckGateOut,
)
from corridor.traffic.reefers import EXCURSION_ALARM, Readings
from corridor.traffic.timebase import Departure, Instants, Ints

SCHEDULED, ARRIVED, DISPATCHED, GATE_IN, GATE_OUT, READING = range(6)
KIND_BITS = 3  # a row's code is day << KIND_BITS | kind
KIND_MASK = (1 << KIND_BITS) - 1
_Builder = Callable[[list[int], list[str], list[datetime]], list[Event]]


class TruckColumns:
    """Trucks of one day, one box each: export deliveries and import pickups."""

    __slots__ = (
        "booked_trains",
        "container_ids",
        "directions",
        "eta_ms",
        "iso_types",
        "setpoints",
        "truck_ids",
    )

    def __init__(self) -> None:
        self.truck_ids: list[str] = []
        self.container_ids: list[str] = []
        self.iso_types: list[str] = []
        self.directions: list[Direction] = []
        self.eta_ms: list[int] = []
        self.setpoints: list[float | None] = []
        self.booked_trains: list[str | None] = []

    def __len__(self) -> int:
        return len(self.truck_ids)

    def extend(
        self,
        truck_ids: list[str],
        container_ids: list[str],
        iso_types: list[str],
        direction: Direction,
        eta_ms: Ints,
        setpoints: Sequence[float],
        booked_trains: Sequence[str | None] | None = None,
    ) -> None:
        """Append trucks; a NaN setpoint means a dry box; exports may be booked on a train."""
        self.truck_ids += truck_ids
        self.container_ids += container_ids
        self.iso_types += iso_types
        self.directions += [direction] * len(truck_ids)
        self.eta_ms += eta_ms.tolist()
        self.setpoints += [None if s != s else s for s in setpoints]
        self.booked_trains += booked_trains or [None] * len(truck_ids)


class DayBatch:
    """The facts of one yard-day and the rows (time, kind, index) of the events they make."""

    def __init__(self, yard: str, instants: Instants) -> None:
        self.yard = yard
        self._at = instants.at
        self._rows: list[tuple[Ints, int, Ints]] = []
        self.departures: list[Departure] = []
        self.train_ids: list[str] = []
        self.train_boxes: list[tuple[int, int]] = []
        self.trucks = TruckColumns()
        self._readings: tuple[list[int], list[float], list[float], list[bool], list[bool]] = (
            [],
            [],
            [],
            [],
            [],
        )
        self._builders: tuple[_Builder, ...] = (
            self._scheduled,
            self._arrived,
            self._dispatched,
            self._gate_in,
            self._gate_out,
            self._reading,
        )

    def add_rows(self, kind: int, ms: Ints, index: Ints | None = None) -> None:
        """Events of one kind at `ms`, built from the facts at `index` (default 0..n-1)."""
        self._rows.append((ms, kind, np.arange(len(ms)) if index is None else index))

    def add_departures(self, departures: list[Departure], announce_ms: Ints) -> None:
        """Timetabled departures, each announced (train.scheduled) at `announce_ms`."""
        self.departures = departures
        self.add_rows(SCHEDULED, announce_ms)

    def add_trains(self, train_ids: list[str], arrival_ms: Ints, first_truck: Ints) -> None:
        """Arriving trains; train i brings the boxes of trucks first_truck[i]..first_truck[i+1]."""
        self.train_ids = train_ids
        bounds = first_truck.tolist()
        self.train_boxes = list(itertools.pairwise(bounds))
        self.add_rows(ARRIVED, arrival_ms)

    def add_readings(self, readings: Readings) -> None:
        """Reefer readings; `readings.box` indexes `trucks` (each box has its one truck)."""
        self._readings = (
            readings.box.tolist(),
            readings.supply_c.tolist(),
            readings.return_c.tolist(),
            readings.off.tolist(),
            readings.alarm.tolist(),
        )
        self.add_rows(READING, readings.ms)

    def rows(self, day: int, end_ms: int) -> tuple[Ints, Ints, Ints]:
        """All rows in generation order as (ms, code, index), keeping those in [0, end_ms)."""
        if not self._rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        ms = np.concatenate([row[0] for row in self._rows]).astype(np.int64)
        kind = np.concatenate([np.full(len(row[0]), row[1], dtype=np.int64) for row in self._rows])
        index = np.concatenate([row[2] for row in self._rows]).astype(np.int64)
        keep = (ms >= 0) & (ms < end_ms)
        return ms[keep], (day << KIND_BITS | kind)[keep], index[keep]

    def events(
        self, kind: int, index: list[int], ids: list[str], ts: list[datetime]
    ) -> list[Event]:
        """The events of rows of one kind: facts at `index`, with these ids and timestamps."""
        return self._builders[kind](index, ids, ts)

    def _scheduled(self, index: list[int], ids: list[str], ts: list[datetime]) -> list[Event]:
        at, yard = self._at, self.yard
        return [
            TrainScheduled(
                event_id=event_id,
                ts=moment,
                yard=yard,
                train_id=departure.train_id,
                departure=at(departure.ms),
                cutoff=at(departure.cutoff_ms),
                capacity_teu=departure.capacity_teu,
                destination=departure.destination,
            )
            for departure, event_id, moment in zip(
                [self.departures[i] for i in index], ids, ts, strict=True
            )
        ]

    def _arrived(self, index: list[int], ids: list[str], ts: list[datetime]) -> list[Event]:
        return [
            TrainArrived(
                event_id=event_id,
                ts=moment,
                yard=self.yard,
                train_id=self.train_ids[i],
                boxes=self._boxes(*self.train_boxes[i]),
            )
            for i, event_id, moment in zip(index, ids, ts, strict=True)
        ]

    def _boxes(self, first: int, stop: int) -> list[ArrivingBox]:
        trucks = self.trucks
        return [
            ArrivingBox(trucks.container_ids[j], trucks.iso_types[j], trucks.setpoints[j])
            for j in range(first, stop)
        ]

    def _dispatched(self, index: list[int], ids: list[str], ts: list[datetime]) -> list[Event]:
        trucks, at, yard = self.trucks, self._at, self.yard
        truck_ids, containers, iso_types = trucks.truck_ids, trucks.container_ids, trucks.iso_types
        directions, etas, setpoints = trucks.directions, trucks.eta_ms, trucks.setpoints
        booked = trucks.booked_trains
        return [
            TruckDispatched(
                event_id=event_id,
                ts=moment,
                yard=yard,
                truck_id=truck_ids[i],
                container_id=containers[i],
                iso_type=iso_types[i],
                direction=directions[i],
                eta=at(etas[i]),
                setpoint_c=setpoints[i],
                train_id=booked[i],
            )
            for i, event_id, moment in zip(index, ids, ts, strict=True)
        ]

    def _gate_in(self, index: list[int], ids: list[str], ts: list[datetime]) -> list[Event]:
        truck_ids, yard = self.trucks.truck_ids, self.yard
        return [
            TruckGateIn(event_id=event_id, ts=moment, yard=yard, truck_id=truck_ids[i])
            for i, event_id, moment in zip(index, ids, ts, strict=True)
        ]

    def _gate_out(self, index: list[int], ids: list[str], ts: list[datetime]) -> list[Event]:
        truck_ids, yard = self.trucks.truck_ids, self.yard
        return [
            TruckGateOut(event_id=event_id, ts=moment, yard=yard, truck_id=truck_ids[i])
            for i, event_id, moment in zip(index, ids, ts, strict=True)
        ]

    def _reading(self, index: list[int], ids: list[str], ts: list[datetime]) -> list[Event]:
        box, supply, back, off, alarm = self._readings
        containers, setpoints, yard = self.trucks.container_ids, self.trucks.setpoints, self.yard
        return [
            ReeferReading(
                event_id=event_id,
                ts=moment,
                yard=yard,
                container_id=containers[box[i]],
                setpoint_c=setpoints[box[i]] or 0.0,
                supply_c=supply[i],
                return_c=back[i],
                power="off" if off[i] else "on",
                alarms=[EXCURSION_ALARM] if alarm[i] else [],
            )
            for i, event_id, moment in zip(index, ids, ts, strict=True)
        ]
