"""What an operator sees of a yard right now: queues, occupancy, next trains, reefers."""

import math
from dataclasses import dataclass
from datetime import datetime

from corridor.engine.clock import to_datetime
from stations.yard import Yard


@dataclass(frozen=True, slots=True)
class TrainPlanView:
    """A departure still to come, with what is booked on it."""

    train_id: str
    departure: datetime
    cutoff: datetime
    capacity_teu: int
    booked_teu: int


@dataclass(frozen=True, slots=True)
class YardState:
    """One yard at its current clock."""

    yard: str
    clock: datetime
    gate_queue: int
    exception_queue: int
    trucks_in_yard: int
    boxes_in_yard: int
    stack_teu: int
    stack_capacity_teu: int
    plugs_in_use: int
    reefer_plugs: int
    reefers_waiting_for_plug: int
    handling_busy: int
    handling_capacity: int
    inspections_in_progress: int
    next_trains: list[TrainPlanView]


@dataclass(frozen=True, slots=True)
class ReeferStatus:
    """A reefer in the yard with its latest reading and what the twin makes of it."""

    container_id: str
    yard: str
    setpoint_c: float | None
    supply_c: float | None
    return_c: float | None
    power: str | None  # "on" | "off" | None before the first reading
    alarms: list[str]
    last_reading: datetime | None
    plugged: bool
    in_excursion: bool
    excursion_since: datetime | None
    estimated_cargo_c: float | None


def yard_state(yard: Yard, epoch: datetime, upcoming: int = 5) -> YardState:
    """Snapshot the yard's levels and timetable."""
    levels = {name: int(series.value) for name, series in yard.levels.items()}
    handling = yard.spec.handling
    trains = [
        TrainPlanView(
            plan.train_id,
            to_datetime(plan.departure, epoch),
            to_datetime(plan.cutoff, epoch),
            plan.capacity_teu,
            plan.booked_teu,
        )
        for plan in yard.railway.plans[:upcoming]
    ]
    return YardState(
        yard=yard.spec.id,
        clock=to_datetime(yard.now, epoch),
        gate_queue=levels["gate_queue"],
        exception_queue=levels["exception_queue"],
        trucks_in_yard=levels["trucks_in_yard"],
        boxes_in_yard=len(yard.boxes),
        stack_teu=levels["stack_teu"],
        stack_capacity_teu=yard.spec.stack.capacity_teu,
        plugs_in_use=levels["plugs_in_use"],
        reefer_plugs=yard.spec.stack.reefer_plugs,
        reefers_waiting_for_plug=len(yard.plugs.queue),
        handling_busy=levels["handling_busy"],
        handling_capacity=handling.rmgs + handling.reach_stackers,
        inspections_in_progress=yard.inspections_in_progress,
        next_trains=trains,
    )


def reefer_statuses(yard: Yard, epoch: datetime) -> list[ReeferStatus]:
    """Every reefer the yard holds, ordered by container number."""
    statuses = []
    month = yard.spec.local_month(to_datetime(yard.now, epoch))
    ambient_c = yard.spec.reefer.ambient_c(month)
    for box in sorted(yard.boxes.values(), key=lambda known: known.container_id):
        if not box.reefer:
            continue
        monitor, reading = box.reefer_monitor, None
        if monitor is not None:
            reading = monitor.last
        since = monitor.excursion_since if monitor is not None else None
        estimate = monitor.estimated_cargo_c(yard.now, ambient_c) if monitor else math.nan
        statuses.append(
            ReeferStatus(
                container_id=box.container_id,
                yard=yard.spec.id,
                setpoint_c=reading.setpoint_c if reading else None,
                supply_c=reading.supply_c if reading else None,
                return_c=reading.return_c if reading else None,
                power=("on" if reading.power_on else "off") if reading else None,
                alarms=list(reading.alarms) if reading else [],
                last_reading=to_datetime(reading.time, epoch) if reading else None,
                plugged=box.plug_request is not None and box.plug_request.triggered,
                in_excursion=monitor is not None and monitor.in_excursion,
                excursion_since=to_datetime(since, epoch) if since is not None else None,
                estimated_cargo_c=None if math.isnan(estimate) else round(estimate, 3),
            )
        )
    return statuses
