"""How each v1 event type acts on a yard: the translation from the contract to the model.

Events arrive here validated and in order; this module checks what only the yard can know
(is that box here? was that train scheduled?) and starts or feeds the SimPy processes.
Each type of the contract's registry (`corridor.contract.event_types`) has exactly one
handler in `_HANDLERS`, checked when this module is imported: a new event type without a
handler stops the program at start, naming the type.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from corridor.contract.container_ids import is_reefer, teu_of
from corridor.contract.event_types import EventBase, require_every_type
from corridor.contract.events import (
    DecodeError,
    Event,
    ReeferReading,
    TrainArrived,
    TrainDeparted,
    TrainScheduled,
    TruckDispatched,
    TruckGateIn,
    TruckGateOut,
)
from corridor.engine.clock import to_minutes
from stations import boxes, rail, reefer_risk, trucks
from stations.records import ReadingReceived
from stations.reefers import Reading
from stations.timetable import ArrivingBox, TrainPlan
from stations.types import Minutes
from stations.yard import Yard

Kind = TypeVar("Kind", bound=EventBase)
Handler = Callable[[Yard, Kind, Minutes, datetime], DecodeError | None]
"""Applies one event of its type to a yard at model time `now`; returns why not, or None."""


def apply_to_yard(yard: Yard, event: Event, now: Minutes, epoch: datetime) -> DecodeError | None:
    """Apply one event to its yard at model time `now`; returns why not, or None."""
    return _HANDLERS[type(event)](yard, event, now, epoch)


def handles(kind: type[Kind], handler: Handler[Kind]) -> tuple[type[EventBase], Handler[Any]]:
    """One entry of the handler table; the type checker matches the handler to its type."""
    return kind, handler


def _dispatch(
    yard: Yard, event: TruckDispatched, now: Minutes, epoch: datetime
) -> DecodeError | None:
    if event.direction == "export" and event.container_id in yard.boxes:
        return DecodeError("container_id", "export box is already in the yard")
    reefer = is_reefer(event.iso_type)
    order = trucks.TruckOrder(
        truck_id=event.truck_id,
        container_id=event.container_id,
        teu=teu_of(event.iso_type),
        reefer=reefer,
        direction=event.direction,
        dispatched=now,
        eta=max(now, to_minutes(event.eta, epoch)),
        setpoint_c=event.setpoint_c,
        train_id=event.train_id or "",
    )
    dispatched = yard.dispatched_trucks  # in time order: dispatched again, to the newest end
    dispatched.pop(event.truck_id, None)  # (`stations.yard.Yard.forget_before` reads it so)
    dispatched[event.truck_id] = now
    trucks.dispatch(yard, order)
    return None


def _truck_milestone(
    yard: Yard, event: TruckGateIn | TruckGateOut, now: Minutes, epoch: datetime
) -> DecodeError | None:
    if event.truck_id not in yard.dispatched_trucks:
        return DecodeError("truck_id", "milestone for a truck never dispatched to this yard")
    milestone = "gate_in" if isinstance(event, TruckGateIn) else "gate_out"
    yard.observe(event.truck_id, milestone, now)
    return None


def _schedule(
    yard: Yard, event: TrainScheduled, now: Minutes, epoch: datetime
) -> DecodeError | None:
    if event.train_id in yard.railway.known:
        return DecodeError("train_id", "train already scheduled")
    plan = TrainPlan(
        train_id=event.train_id,
        departure=to_minutes(event.departure, epoch),
        cutoff=to_minutes(event.cutoff, epoch),
        capacity_teu=event.capacity_teu,
        destination=event.destination,
    )
    rail.schedule(yard, yard.railway, plan)
    return None


def _arrival(yard: Yard, event: TrainArrived, now: Minutes, epoch: datetime) -> DecodeError | None:
    for index, box in enumerate(event.boxes):
        if box.container_id in yard.boxes:
            return DecodeError(f"boxes[{index}].container_id", "box is already in the yard")
    if len({box.container_id for box in event.boxes}) != len(event.boxes):
        return DecodeError("boxes", "the same box twice on one train")
    arriving = [
        ArrivingBox(box.container_id, teu_of(box.iso_type), is_reefer(box.iso_type))
        for box in event.boxes
    ]
    rail.receive_train(yard, event.train_id, arriving)
    return None


def _departure(
    yard: Yard, event: TrainDeparted, now: Minutes, epoch: datetime
) -> DecodeError | None:
    if event.train_id not in yard.railway.known:
        return DecodeError("train_id", "departure of a train never scheduled at this yard")
    yard.observe(event.train_id, "train_departed", now)
    return None


def _reading(yard: Yard, event: ReeferReading, now: Minutes, epoch: datetime) -> DecodeError | None:
    box = yard.boxes.get(event.container_id)
    if box is None:
        return DecodeError("container_id", "reading for a box that is not in the yard")
    if not box.reefer:
        return DecodeError("container_id", "reading for a box that is not a reefer")
    monitor = boxes.monitor_of(yard, box, event.setpoint_c)
    reading = Reading(
        now,
        float(event.setpoint_c),
        float(event.supply_c),
        float(event.return_c),
        event.power == "on",
        tuple(event.alarms),
    )
    yard.records.reefer_excursions.extend(monitor.observe(reading))
    reefer_risk.reading_taken(yard, box, reading)
    yard.records.reefer_readings.append(ReadingReceived(yard.spec.id, box.container_id, now))
    return None


_HANDLERS = require_every_type(
    dict(
        [
            handles(TruckDispatched, _dispatch),
            handles(TruckGateIn, _truck_milestone),
            handles(TruckGateOut, _truck_milestone),
            handles(TrainScheduled, _schedule),
            handles(TrainArrived, _arrival),
            handles(TrainDeparted, _departure),
            handles(ReeferReading, _reading),
        ]
    ),
    "yard event handler",
)
