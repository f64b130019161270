"""What an operator sees of a yard right now: queues, occupancy, next trains, reefers, and
the boxes that have been in it longest, with the stage of their stay each is in.

A box's stage is read from where the model has it now. Export: passed the gate and not yet
set down (`gate_to_stack`), held for customs and waiting for a bay (`waiting_for_inspection`)
or in one (`inspection`), cleared and waiting for its train's cut-off, booked or not yet
(`waiting_for_train`), its train past the cut-off and being loaded (`loading`). Import: on
its train until unloaded (`waiting_for_unloading`), then in the stack until its truck takes it
out (`waiting_for_pickup`). The names are those of `dwell_h.stages` (docs/kpis.md).
"""

import math
from dataclasses import dataclass
from datetime import datetime

from corridor.engine.clock import to_datetime
from stations import reefer_risk
from stations.box import Box
from stations.yard import Yard

EXPORT_STAGES = (
    "gate_to_stack",
    "waiting_for_inspection",
    "inspection",
    "waiting_for_train",
    "loading",
)
IMPORT_STAGES = ("waiting_for_unloading", "waiting_for_pickup")
STAGES = (*EXPORT_STAGES, *IMPORT_STAGES)
"""Every stage a box can be in, export first, each direction in the order a box goes through."""

LISTED_FROM_H = 12.0
"""The live view lists the boxes at least this old (hours): those over the 24 h target and
those about to be. Younger boxes are only counted (`YardState.boxes_in_yard`), so the list a
worker commits every second stays a fraction of the stack."""


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
    epoch: datetime | None = None  # minute 0 of the yard's records (`stations.types.Minutes`)


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
    minutes_to_breach: float | None = (
        None  # until the estimate leaves its band; 0: over; None: never
    )
    breach_at: datetime | None = None  # that moment (in the past when already over)


@dataclass(frozen=True, slots=True)
class ReeferBreach:
    """A reefer whose estimated cargo temperature leaves its band on its present course: the
    course began at `course_start` (its last reading, or its plug wait) and crosses at
    `breach_at` (Minutes; at or before the yard's clock when it is already over)."""

    container_id: str
    course_start: float
    breach_at: float


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
        epoch=epoch,
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
        waiting = plug_wait_since(box)
        estimate = monitor.estimated_cargo_c(yard.now, ambient_c, waiting) if monitor else math.nan
        breach = monitor.breach_at(ambient_c, waiting) if monitor is not None else None
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
                minutes_to_breach=None if breach is None else round(max(0.0, breach - yard.now), 1),
                breach_at=None if breach is None else to_datetime(breach, epoch),
            )
        )
    return statuses


def plug_wait_since(box: Box) -> float | None:
    """When a stacked reefer began waiting for a plug, if it still is (unpowered meanwhile)."""
    request = box.plug_request
    if request is None or request.triggered or math.isnan(box.stacked):
        return None
    return box.stacked


def reefer_breaches(yard: Yard, epoch: datetime) -> list[ReeferBreach]:
    """The reefers of the yard heading out of their band, by container number: what a
    time-to-breach alert is decided from (`breach_at - yard.now` is the time left).

    Only the reefers at risk can be (`stations.reefer_risk`); those of them found safe since
    (granted a plug, or gone) leave the yard's set here, until a reading or a plug wait puts
    them back."""
    at_risk = yard.reefers_at_risk
    if not at_risk:
        return []
    ambient_c = yard.spec.reefer.ambient_c(yard.spec.local_month(to_datetime(yard.now, epoch)))
    breaches = []
    monitored = yard.monitored
    for container_id in sorted(at_risk):
        box = monitored.get(container_id)
        if box is None or not reefer_risk.at_risk(yard, box):
            at_risk.discard(container_id)
            continue
        monitor = box.reefer_monitor
        assert monitor is not None  # a box at risk has a monitor and a reading
        waiting = plug_wait_since(box)
        breach = monitor.breach_at(ambient_c, waiting)
        if breach is not None:
            course = monitor.course(waiting)
            start = breach if course is None else course.start
            breaches.append(ReeferBreach(container_id, start, breach))
    return breaches


@dataclass(frozen=True, slots=True)
class BoxNow:
    """A box in the yard at the yard's clock (`as_of`): how long it has been there, its stage."""

    yard: str
    container_id: str
    direction: str  # "export" | "import"
    reefer: bool
    teu: int
    entered: datetime  # truck gate-in (export) or train arrival (import)
    as_of: datetime
    age_h: float  # hours from `entered` to `as_of`
    stage: str  # one of STAGES
    train_id: str | None  # booked on (export) or arrived with (import); None while unbooked


def boxes_now(yard: Yard, epoch: datetime, min_age_h: float = LISTED_FROM_H) -> list[BoxNow]:
    """The boxes in the yard at least `min_age_h` old, oldest first (then by container)."""
    if not min_age_h >= 0:
        raise ValueError(f"min_age_h must be a non-negative number of hours, got {min_age_h}")
    now = yard.now
    old = [box for box in yard.boxes.values() if (now - box.entered) / 60 >= min_age_h]
    if not old:
        return []
    stages = _StageReader(yard)
    as_of = to_datetime(now, epoch)
    return [
        BoxNow(
            yard=yard.spec.id,
            container_id=box.container_id,
            direction=box.direction,
            reefer=box.reefer,
            teu=box.teu,
            entered=to_datetime(box.entered, epoch),
            as_of=as_of,
            age_h=round((now - box.entered) / 60, 4),
            stage=stages.stage_of(box),
            train_id=box.train_id or None,
        )
        for box in sorted(old, key=lambda box: (box.entered, box.container_id))
    ]


class _StageReader:
    """Where each box of one yard is now, from the yard's queues and timetable.

    Customs holds a box from its stacking until it is cleared (`stations.boxes.inspect`): then
    it is booked on a train, or waits unbooked in the timetable (`Railway.unbooked`: for any
    departure, or held for the one its shipper booked, not announced yet). Bays are served
    first come first served in stacking order, so of the boxes held, the last
    `len(bays.waiting)` to be stacked are waiting for a bay and the others are in one.
    """

    def __init__(self, yard: Yard) -> None:
        self.yard = yard
        self._unbooked = {id(box) for box in yard.railway.unbooked()}
        held = [box for box in yard.boxes.values() if self._held_by_customs(box)]
        held.sort(key=lambda box: box.stacked)
        in_bays = len(held) - len(yard.inspection_bays.waiting)
        self._waiting_for_bay = {id(box) for box in held[in_bays:]}

    def stage_of(self, box: Box) -> str:
        """The stage of `box` (one of `STAGES`)."""
        if box.direction == "import":
            unloaded = box.in_stack is None or box.in_stack.triggered
            return "waiting_for_pickup" if unloaded else "waiting_for_unloading"
        if math.isnan(box.stacked):
            return "gate_to_stack"
        if self._held_by_customs(box):
            return "waiting_for_inspection" if id(box) in self._waiting_for_bay else "inspection"
        plan = self.yard.railway.known.get(box.train_id) if box.train_id else None
        if plan is not None and self.yard.now >= plan.cutoff:
            return "loading"
        return "waiting_for_train"

    def _held_by_customs(self, box: Box) -> bool:
        return (
            box.direction == "export"
            and box.inspected
            and not box.train_id
            and not math.isnan(box.stacked)
            and id(box) not in self._unbooked
        )
