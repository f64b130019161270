"""Boxes in the stack: stacking, reefer plugs, customs holds, and leaving.

An export box enters with its truck at the gate, is set down in the stack, may be held for
customs inspection, and is then booked on a train (`stations.timetable.Railway.book`: the
departure its shipper booked, else the next one with room whose cut-off has not passed). An
import box enters with its train, is unloaded into the stack and waits for the truck
dispatched to collect it. A reefer draws a plug while stacked and waits for one when none is
free; it gives the plug back when it is lifted out.
"""

from dataclasses import dataclass

import simpy

from stations import actors, reefer_checks, reefer_risk
from stations.box import Box
from stations.pool import Claim
from stations.reefers import ReeferMonitor
from stations.types import Minutes, ProcessGenerator
from stations.yard import Yard


def receive_export(
    yard: Yard, container_id: str, teu: int, reefer: bool, entered: Minutes, booked_on: str = ""
) -> Box:
    """The box passed the gate on its truck: from now on it counts as in the yard.

    `booked_on` is the departure its shipper booked it on ("" = the first with room).
    """
    box = yard.boxes.get(container_id)
    if box is None:
        box = Box(container_id, "export", teu, reefer, entered=entered)
        yard.boxes[container_id] = box
    else:
        box.entered = entered
    box.booked_on = booked_on
    return box


def stack_box(yard: Yard, box: Box) -> None:
    """The box is set down in the stack (its TEU already reserved by the caller)."""
    box.stacked = yard.now
    yard.level("stack_teu", box.teu)
    if box.in_stack is not None:
        box.in_stack.succeed()
    if box.reefer:
        actors.start(hold_plug(yard, box), box)
    if box.direction == "export":
        checks = yard.spec.policies.reefer_checks
        if box.reefer and checks is not None:
            check = reefer_checks.ReeferCheckProgress(box)
            actors.start(
                reefer_checks.check_then_clear(yard, checks, check, clear_for_departure), check
            )
        else:
            clear_for_departure(yard, box)


def hold_plug(yard: Yard, box: Box, resume: simpy.Event | None = None) -> ProcessGenerator:
    """A stacked reefer takes a plug as soon as one is free and keeps it until lifted out.

    The box is this actor's progress: its `plug_request` is the request waited on (`resume`,
    restored from a snapshot, when the box was waiting for a plug).
    """
    if resume is None:
        request = yard.plugs.request()
        box.plug_request = request
        if not request.triggered:
            reefer_risk.plug_awaited(yard, box)
        yield request
    else:
        yield actors.waited(resume)
    box.plug_wait_min = yard.now - box.stacked
    yard.level("plugs_in_use", 1)


def unplug(yard: Yard, box: Box) -> None:
    """Give the plug back (or stop waiting for one) as the box is lifted out."""
    request = box.plug_request
    if request is None:
        return
    if request.triggered:
        yard.plugs.release(request)
        yard.level("plugs_in_use", -1)
    else:
        request.cancel()
        box.plug_wait_min = yard.now - box.stacked
    box.plug_request = None


def clear_for_departure(yard: Yard, box: Box) -> None:
    """Customs may hold the box for inspection; then it is booked on a train."""
    inspection = yard.spec.inspection
    share = inspection.share_reefer if box.reefer else inspection.share_general
    stream = yard.streams["inspection"]
    if stream.chance(share):
        box.inspected = True
        opened = stream.chance(inspection.opened_share)
        duration = inspection.opened_min if opened else inspection.scan_min
        # drawn now, with the hold, so each box keeps its inspection time whatever the bays do
        # (common random numbers: a scenario with other inspection times changes only these)
        held = InspectionProgress(box, yard.sample("inspection", duration))
        actors.start(inspect(yard, held), held)
    else:
        box.inspection_start = box.cleared = yard.now  # not held: both stages last 0
        yard.railway.book(box, yard.now)


BAY_QUEUE, INSPECTING = 1, 2  # the waits of an inspection (`InspectionProgress.stage`)


@dataclass(slots=True)
class InspectionProgress:
    """A held box's customs inspection: its drawn duration, the wait it is at, since when."""

    box: Box
    duration: Minutes
    stage: int = 0


def inspect(
    yard: Yard, p: InspectionProgress, resume: simpy.Event | None = None
) -> ProcessGenerator:
    """The box waits for a bay, is inspected, and only then can be booked on a train."""
    box, bays = p.box, yard.inspection_bays
    fresh = p.stage < BAY_QUEUE
    claim = bays.claim() if fresh else Claim(bays, resume if p.stage == BAY_QUEUE else None)
    with claim as bay:
        if bay is not None:
            p.stage = BAY_QUEUE
            yield bay
        if p.stage < INSPECTING:
            box.inspection_start = yard.now
            yard.inspections_in_progress += 1
            p.stage = INSPECTING
            yield yard.env.timeout(p.duration)
        else:
            yield actors.waited(resume)
        yard.inspections_in_progress -= 1
    box.cleared = yard.now
    yard.railway.book(box, yard.now)


def lift_out(yard: Yard, box: Box) -> None:
    """The box is lifted out of the stack for good (onto a truck or a wagon)."""
    unplug(yard, box)
    yard.stack.free(box.teu)
    yard.level("stack_teu", -box.teu)


def leave(yard: Yard, box: Box, left: Minutes) -> None:
    """The box is out of the yard (on a truck past the gate, or on a departed train)."""
    del yard.boxes[box.container_id]
    if box.reefer_monitor is not None:
        yard.monitored.pop(box.container_id, None)
        yard.records.reefer_excursions.extend(box.reefer_monitor.close(left))
    yard.records.box_visits.append(box.visit(yard.spec.id, left, box.plug_wait_min))


def monitor_of(yard: Yard, box: Box, setpoint_c: float) -> ReeferMonitor:
    """The box's thermal state, created at its first reading."""
    if box.reefer_monitor is None:
        box.reefer_monitor = ReeferMonitor(
            yard.spec.id, box.container_id, setpoint_c, yard.spec.reefer
        )
        yard.monitored[box.container_id] = box
    return box.reefer_monitor
