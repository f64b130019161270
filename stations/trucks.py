"""Container trucks (集卡): the gate queue, the lift, and out again.

A dispatched truck arrives at the in-gate at its ETA and queues for a smart lane; a share of
trucks is sent to the manual exception lane instead. Past the gate it drives to the stack
block, where an export truck waits for stack room and a reach stacker to take its box off, and
an import truck waits until its box is in the stack (its train may still be unloading) and for
a reach stacker to put it on. Then it drives back and leaves through the out-gate.
"""

from dataclasses import dataclass
from typing import NamedTuple

import simpy

from stations import actors, boxes, tallying
from stations.pool import Claim
from stations.records import NOT_YET, Lift, TruckVisit
from stations.types import Minutes, ProcessGenerator
from stations.yard import Yard


class TruckOrder(NamedTuple):
    """A dispatch: which truck, which box, which way, and when it should reach the gate."""

    truck_id: str
    container_id: str
    teu: int
    reefer: bool
    direction: str  # "export" | "import"
    dispatched: Minutes
    eta: Minutes
    setpoint_c: float | None
    train_id: str = ""  # export: the departure the box is booked on ("" = the first with room)


# The waits of a truck's visit, in order: `TruckProgress.stage` is the last one reached.
NEW, ETA, GATE_QUEUE, GATE, DRIVE_IN, STACK_ROOM, AWAIT_TRAIN, AWAIT_STACK = range(8)
LIFT_QUEUE, LIFT, DRIVE_OUT = range(8, 11)
STAGES = (
    "new",
    "eta",
    "gate_queue",
    "gate",
    "drive_in",
    "stack_room",
    "await_train",
    "await_stack",
    "lift_queue",
    "lift",
    "drive_out",
)


@dataclass(slots=True)
class TruckProgress:
    """How far one truck's visit has gone: the wait it is at and the times it recorded so far.

    The truck's generator updates it at every stage; a yard snapshot reads it, and a restored
    truck is the same generator started from it (`truck_visit(yard, progress, resume)`).
    """

    order: TruckOrder
    stage: int = NEW
    exception_lane: bool = False
    arrived: Minutes = NOT_YET
    gate_start: Minutes = NOT_YET
    gate_end: Minutes = NOT_YET
    lift_start: Minutes = NOT_YET
    lift_end: Minutes = NOT_YET


def dispatch(yard: Yard, order: TruckOrder) -> None:
    """A dispatched truck sets off: its visit runs until its first wait."""
    progress = TruckProgress(order)
    actors.start(truck_visit(yard, progress), progress)


def truck_visit(
    yard: Yard, p: TruckProgress, resume: simpy.Event | None = None
) -> ProcessGenerator:
    """The whole visit of one truck; records a `TruckVisit` when it leaves.

    A fresh truck starts at `NEW`; a restored one (`resume`: the event it was waiting on when
    the yard was snapshotted) yields that event first and goes on after the stage `p.stage`.
    """
    env, order = yard.env, p.order
    if p.stage == NEW:
        eta = order.eta if yard.appointments is None else yard.appointments.arrival(order.eta)
        if eta > env.now:
            p.stage = ETA
            yield env.timeout(eta - env.now)
    elif p.stage == ETA:
        yield actors.waited(resume)
    if p.stage < GATE_QUEUE:
        p.arrived = yard.now
    if p.stage < DRIVE_IN:
        yield from pass_gate(yard, p, resume)
        p.gate_end = yard.now
        yard.milestone(order.truck_id, "gate_in", p.gate_end)
        yard.level("trucks_in_yard", 1)
        p.stage = DRIVE_IN
        yield env.timeout(yard.sample("yard_drive", yard.spec.gate.yard_drive_min))
    elif p.stage == DRIVE_IN:
        yield actors.waited(resume)
    # a restored truck past the gate finds its box in the yard (an import box once it came)
    box = yard.boxes.get(order.container_id) if p.stage > DRIVE_IN else None
    if order.direction == "export":
        if p.stage < STACK_ROOM:
            box = boxes.receive_export(
                yard, order.container_id, order.teu, order.reefer, p.gate_end, order.train_id
            )
            room = yard.stack.reserve(order.teu)
            if room is not None:
                p.stage = STACK_ROOM
                yield room
        elif p.stage == STACK_ROOM:
            yield actors.waited(resume)
        if p.stage < DRIVE_OUT:
            yield from lift_off_truck(yard, p, resume)
            assert box is not None
            boxes.stack_box(yard, box)
    else:
        if p.stage < AWAIT_TRAIN:
            box = yield from await_import(yard, order.container_id, p)
        elif p.stage == AWAIT_TRAIN:
            box = yield actors.waited(resume)
            if box.in_stack is not None and not box.in_stack.triggered:
                p.stage = AWAIT_STACK
                yield box.in_stack
        elif p.stage == AWAIT_STACK:
            yield actors.waited(resume)
        if p.stage < DRIVE_OUT:
            yield from lift_off_truck(yard, p, resume)
            assert box is not None
            boxes.lift_out(yard, box)
    if p.stage < DRIVE_OUT:
        drive_back = yard.sample("yard_drive", yard.spec.gate.yard_drive_min)
        p.stage = DRIVE_OUT
        yield env.timeout(drive_back + yard.sample("exit", yard.spec.gate.exit_min))
    else:
        yield actors.waited(resume)
    yard.level("trucks_in_yard", -1)
    if order.direction == "import":
        assert box is not None
        boxes.leave(yard, box, yard.now)
    yard.milestone(order.truck_id, "gate_out", yard.now)
    yard.records.truck_visits.append(
        TruckVisit(
            yard.spec.id,
            order.truck_id,
            order.container_id,
            order.direction,
            order.teu,
            order.reefer,
            order.dispatched,
            p.arrived,
            p.gate_start,
            p.gate_end,
            p.exception_lane,
            p.lift_start,
            p.lift_end,
            yard.now,
        )
    )


def await_import(yard: Yard, container_id: str, p: TruckProgress) -> ProcessGenerator:
    """An import truck waits in the yard until its box is in the stack.

    If no train has brought the box yet, the truck waits for the train that will; a box no
    train ever brings keeps its truck in the yard, visible in `trucks_in_yard`. The truck's
    progress says which of the two waits it is at (`AWAIT_TRAIN`, `AWAIT_STACK`).
    """
    box = yard.boxes.get(container_id)
    if box is None:
        awaited = yard.awaited_boxes.get(container_id)
        if awaited is None:
            awaited = yard.awaited_boxes[container_id] = yard.env.event()
        p.stage = AWAIT_TRAIN
        box = yield awaited
    if box.in_stack is not None and not box.in_stack.triggered:
        p.stage = AWAIT_STACK
        yield box.in_stack
    return box


def pass_gate(yard: Yard, p: TruckProgress, resume: simpy.Event | None) -> ProcessGenerator:
    """Queue for a lane and be checked in; `p` gets the service start and the lane used.

    `gate_queue` counts every truck waiting at the gate; `exception_queue` the part of it
    waiting for the manual lane. `gate_busy` counts the smart lanes serving, `exception_busy`
    the manual ones.
    """
    gate_spec, tally = yard.spec.gate, yard.spec.policies.tallying
    fresh = p.stage < GATE_QUEUE
    if fresh:
        exception_share = tallying.exception_share(tally, gate_spec.exception_share)
        p.exception_lane = yard.streams["gate_exception"].chance(exception_share)
    exception_lane = p.exception_lane
    lanes = yard.exception_gate if exception_lane else yard.gate
    service = gate_spec.exception_service_min if exception_lane else gate_spec.service_min
    levels, now = yard.levels, yard.env.now
    claim = lanes.claim() if fresh else Claim(lanes, resume if p.stage == GATE_QUEUE else None)
    with claim as lane:
        if lane is not None:
            if fresh:
                levels["gate_queue"].change(now, 1)
                if exception_lane:
                    levels["exception_queue"].change(now, 1)
                p.stage = GATE_QUEUE
            yield lane
            now = yard.env.now
            levels["gate_queue"].change(now, -1)
            if exception_lane:
                levels["exception_queue"].change(now, -1)
        busy = levels["exception_busy" if exception_lane else "gate_busy"]
        if p.stage < GATE:
            p.gate_start = now
            busy.change(now, 1)
            p.stage = GATE
            yield yard.env.timeout(tallying.gate_time(tally, yard.sample("gate_service", service)))
        else:
            yield actors.waited(resume)
        busy.change(yard.env.now, -1)


def lift_off_truck(yard: Yard, p: TruckProgress, resume: simpy.Event | None) -> ProcessGenerator:
    """A reach stacker moves the box between truck and stack; `p` gets its start and end."""
    fresh = p.stage < LIFT_QUEUE
    stackers = yard.reach_stackers
    claim = (
        stackers.claim() if fresh else Claim(stackers, resume if p.stage == LIFT_QUEUE else None)
    )
    with claim as reach_stacker:
        if reach_stacker is not None:
            if fresh:
                p.stage = LIFT_QUEUE
            yield reach_stacker
        if p.stage < LIFT:
            p.lift_start = yard.now
            yard.level("handling_busy", 1)
            drawn = yard.sample("truck_lift", yard.spec.handling.reach_stacker_lift_min)
            p.stage = LIFT
            yield yard.env.timeout(tallying.lift_time(yard.spec.policies.tallying, drawn))
        else:
            yield actors.waited(resume)
        yard.level("handling_busy", -1)
    p.lift_end = yard.now
    yard.records.lifts.append(
        Lift(yard.spec.id, "reach_stacker", p.order.container_id, "truck", p.lift_start, p.lift_end)
    )
