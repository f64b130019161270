"""Container trucks (集卡): the gate queue, the lift, and out again.

A dispatched truck arrives at the in-gate at its ETA and queues for a smart lane; a share of
trucks is sent to the manual exception lane instead. Past the gate it drives to the stack
block, where an export truck waits for stack room and a reach stacker to take its box off, and
an import truck waits until its box is in the stack (its train may still be unloading) and for
a reach stacker to put it on. Then it drives back and leaves through the out-gate.
"""

from typing import NamedTuple

from stations import boxes, tallying
from stations.records import Lift, TruckVisit
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


def truck_visit(yard: Yard, order: TruckOrder) -> ProcessGenerator:
    """The whole visit of one truck; records a `TruckVisit` when it leaves."""
    env = yard.env
    eta = order.eta if yard.appointments is None else yard.appointments.arrival(order.eta)
    if eta > env.now:
        yield env.timeout(eta - env.now)
    arrived = yard.now
    gate_start, exception_lane = yield from pass_gate(yard)
    gate_end = yard.now
    yard.milestone(order.truck_id, "gate_in", gate_end)
    yard.level("trucks_in_yard", 1)
    yield env.timeout(yard.sample("yard_drive", yard.spec.gate.yard_drive_min))
    if order.direction == "export":
        box = boxes.receive_export(
            yard, order.container_id, order.teu, order.reefer, gate_end, order.train_id
        )
        room = yard.stack.reserve(order.teu)
        if room is not None:
            yield room
        lift_start, lift_end = yield from lift_off_truck(yard, order.container_id)
        boxes.stack_box(yard, box)
    else:
        box = yield from boxes.await_import(yard, order.container_id)
        lift_start, lift_end = yield from lift_off_truck(yard, order.container_id)
        boxes.lift_out(yard, box)
    drive_back = yard.sample("yard_drive", yard.spec.gate.yard_drive_min)
    yield env.timeout(drive_back + yard.sample("exit", yard.spec.gate.exit_min))
    yard.level("trucks_in_yard", -1)
    if order.direction == "import":
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
            arrived,
            gate_start,
            gate_end,
            exception_lane,
            lift_start,
            lift_end,
            yard.now,
        )
    )


def pass_gate(yard: Yard) -> ProcessGenerator:
    """Queue for a lane and be checked in; returns (service start, used exception lane).

    `gate_queue` counts every truck waiting at the gate; `exception_queue` the part of it
    waiting for the manual lane. `gate_busy` counts the smart lanes serving, `exception_busy`
    the manual ones.
    """
    gate_spec, tally = yard.spec.gate, yard.spec.policies.tallying
    exception_share = tallying.exception_share(tally, gate_spec.exception_share)
    exception_lane = yard.streams["gate_exception"].chance(exception_share)
    lanes = yard.exception_gate if exception_lane else yard.gate
    service = gate_spec.exception_service_min if exception_lane else gate_spec.service_min
    levels, now = yard.levels, yard.env.now
    with lanes.claim() as lane:
        if lane is not None:
            levels["gate_queue"].change(now, 1)
            if exception_lane:
                levels["exception_queue"].change(now, 1)
            yield lane
            now = yard.env.now
            levels["gate_queue"].change(now, -1)
            if exception_lane:
                levels["exception_queue"].change(now, -1)
        gate_start = now
        busy = levels["exception_busy" if exception_lane else "gate_busy"]
        busy.change(now, 1)
        yield yard.env.timeout(tallying.gate_time(tally, yard.sample("gate_service", service)))
        busy.change(yard.env.now, -1)
    return gate_start, exception_lane


def lift_off_truck(yard: Yard, container_id: str) -> ProcessGenerator:
    """A reach stacker moves the box between truck and stack; returns (start, end)."""
    with yard.reach_stackers.claim() as reach_stacker:
        if reach_stacker is not None:
            yield reach_stacker
        start = yard.now
        yard.level("handling_busy", 1)
        drawn = yard.sample("truck_lift", yard.spec.handling.reach_stacker_lift_min)
        yield yard.env.timeout(tallying.lift_time(yard.spec.policies.tallying, drawn))
        yard.level("handling_busy", -1)
    yard.records.lifts.append(
        Lift(yard.spec.id, "reach_stacker", container_id, "truck", start, yard.now)
    )
    return start, yard.now
