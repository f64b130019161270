"""Trains: booking export boxes, loading departures, unloading arrivals.

A scheduled departure takes bookings until its cut-off; at the cut-off it occupies a loading
track, the wagons are placed, and the gantries assigned to the train load its booked boxes
from the stack; it leaves at its scheduled departure or when loading ends, whichever is
later. Which box goes on which departure is the timetable's business
(`stations.timetable.Railway`): a box its shipper booked waits for that train, even before
it is announced, and rolls over to a later one if it misses it. An arriving train occupies a
track, its wagons are placed, and its boxes are unloaded into the stack for trucks to
collect.
"""

from collections import deque
from collections.abc import Callable, Sequence

import simpy

from stations import boxes, tallying
from stations.box import Box
from stations.records import NOT_YET, Lift, TrainVisit
from stations.timetable import ArrivingBox, Railway, TrainPlan
from stations.types import ProcessGenerator
from stations.yard import Yard

BoxMove = Callable[[Yard, Box, str], ProcessGenerator]


def schedule(yard: Yard, railway: Railway, plan: TrainPlan) -> None:
    """Take a new departure into the timetable and start its loading process."""
    railway.add(plan, yard.now)
    yard.env.process(load_train(yard, railway, plan))


def load_train(yard: Yard, railway: Railway, plan: TrainPlan) -> ProcessGenerator:
    """From the cut-off: take a track, place wagons, load the booked boxes, depart."""
    env = yard.env
    if plan.cutoff > env.now:
        yield env.timeout(plan.cutoff - env.now)
    for box in plan.booked:  # booking is closed: from now on its boxes are being loaded
        box.loading_start = env.now
    with yard.tracks.claim() as track:
        if track is not None:
            yield track
        work_start = yard.now
        yield env.timeout(yard.sample("wagon_placement", yard.spec.rail.wagon_placement_min))
        yield from _work_boxes(yard, list(plan.booked), "train_load", _load_one)
        work_end = yard.now
        if plan.departure > env.now:
            yield env.timeout(plan.departure - env.now)
    plan.departed = yard.now
    railway.plans.remove(plan)
    for box in plan.booked:
        boxes.leave(yard, box, plan.departed)
    yard.milestone(plan.train_id, "train_departed", plan.departed)
    yard.records.train_visits.append(
        TrainVisit(
            yard.spec.id,
            plan.train_id,
            "export",
            plan.departure,
            work_start,
            work_end,
            plan.departed,
            len(plan.booked),
            plan.booked_teu,
        )
    )


def receive_train(yard: Yard, train_id: str, arriving: Sequence[ArrivingBox]) -> None:
    """An arrival: its boxes are in the yard from this instant, then unloaded into the stack."""
    unloading = []
    for spec in arriving:
        box = Box(spec.container_id, "import", spec.teu, spec.reefer, entered=yard.now)
        box.train_id = train_id
        box.in_stack = yard.env.event()
        yard.boxes[spec.container_id] = box
        awaited = yard.awaited_boxes.pop(spec.container_id, None)
        if awaited is not None:
            awaited.succeed(box)
        unloading.append(box)
    yard.env.process(unload_train(yard, train_id, unloading))


def unload_train(yard: Yard, train_id: str, unloading: list[Box]) -> ProcessGenerator:
    """Take a track, place the wagons, and unload the train's boxes with its gantries."""
    env = yard.env
    arrived = yard.now
    with yard.tracks.claim() as track:
        if track is not None:
            yield track
        work_start = yard.now
        yield env.timeout(yard.sample("wagon_placement", yard.spec.rail.wagon_placement_min))
        yield from _work_boxes(yard, unloading, "train_unload", _unload_one)
    yard.records.train_visits.append(
        TrainVisit(
            yard.spec.id,
            train_id,
            "import",
            arrived,
            work_start,
            yard.now,
            NOT_YET,
            len(unloading),
            sum(box.teu for box in unloading),
        )
    )


def _work_boxes(yard: Yard, work: list[Box], purpose: str, move: BoxMove) -> ProcessGenerator:
    """The train's gantries work through the boxes in parallel, one box each at a time."""
    queue = deque(work)
    gangs = min(yard.spec.rail.gantries_per_train, len(queue))
    if gangs:
        yield simpy.AllOf(
            yard.env, [yard.env.process(_gantry(yard, queue, purpose, move)) for _ in range(gangs)]
        )


def _gantry(yard: Yard, queue: deque[Box], purpose: str, move: BoxMove) -> ProcessGenerator:
    while queue:
        box = queue.popleft()
        yield from move(yard, box, purpose)


def _load_one(yard: Yard, box: Box, purpose: str) -> ProcessGenerator:
    yield from _rmg_lift(yard, box, purpose)
    boxes.lift_out(yard, box)


def _unload_one(yard: Yard, box: Box, purpose: str) -> ProcessGenerator:
    room = yard.stack.reserve(box.teu)
    if room is not None:
        yield room
    yield from _rmg_lift(yard, box, purpose)
    boxes.stack_box(yard, box)


def _rmg_lift(yard: Yard, box: Box, purpose: str) -> ProcessGenerator:
    with yard.rmgs.claim() as rmg:
        if rmg is not None:
            yield rmg
        start = yard.now
        yard.level("handling_busy", 1)
        drawn = yard.sample("rail_lift", yard.spec.handling.rmg_lift_min)
        yield yard.env.timeout(tallying.lift_time(yard.spec.policies.tallying, drawn))
        yard.level("handling_busy", -1)
    yard.records.lifts.append(Lift(yard.spec.id, "rmg", box.container_id, purpose, start, yard.now))
