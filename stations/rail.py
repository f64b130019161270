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
from dataclasses import dataclass, field

import simpy

from stations import actors, boxes, tallying
from stations.box import Box
from stations.pool import Claim
from stations.records import NOT_YET, Lift, TrainVisit
from stations.timetable import ArrivingBox, Railway, TrainPlan
from stations.types import Minutes, ProcessGenerator
from stations.yard import Yard

# The waits of a train's work (`TrainWork.stage`) and of one gantry's box (`GantryProgress.stage`)
CUTOFF, TRACK_QUEUE, PLACEMENT, WORK, DEPART = range(1, 6)
STACK_ROOM, RMG_QUEUE, RMG_LIFT = range(1, 4)
MOVED_MIN = 1e-6
"""A cut-off or departure further ahead than this after the train woke for it was moved later
(a held train): it waits again. Woken for an unmoved one, the clock can sit an ulp short of it."""


@dataclass(slots=True)
class TrainWork:
    """A train in the yard's hands: a departure from its cut-off (`plan`), or an arrival with
    the boxes it brought (`unloading`), and how far its work has gone.

    `queue` holds the boxes no gantry has taken yet; the train's process updates the rest at
    every stage, and a yard snapshot reads it.
    """

    train_id: str
    direction: str  # "export" (loading a departure) | "import" (unloading an arrival)
    plan: TrainPlan | None = None
    unloading: list[Box] = field(default_factory=list)  # until the gantries start on them
    boxes: int = 0  # an arrival: how many boxes it brought
    teu: int = 0  # and their TEU
    arrived: Minutes = NOT_YET
    stage: int = 0
    work_start: Minutes = NOT_YET
    work_end: Minutes = NOT_YET
    queue: deque[Box] = field(default_factory=deque)


@dataclass(slots=True)
class GantryProgress:
    """One gantry of a train: the box it is moving (None between boxes) and its wait."""

    work: TrainWork
    box: Box | None = None
    stage: int = 0
    start: Minutes = NOT_YET


BoxMove = Callable[[Yard, GantryProgress, simpy.Event | None], ProcessGenerator]


def schedule(yard: Yard, railway: Railway, plan: TrainPlan) -> None:
    """Take a new departure into the timetable and start its loading process."""
    railway.add(plan, yard.now)
    work = TrainWork(plan.train_id, "export", plan=plan)
    actors.process(yard.env, load_train(yard, railway, work), work)


def load_train(
    yard: Yard, railway: Railway, work: TrainWork, resume: simpy.Event | None = None
) -> ProcessGenerator:
    """From the cut-off: take a track, place wagons, load the booked boxes, depart.

    A train restored from a snapshot yields `resume` (what it waited on) and goes on after
    `work.stage`."""
    env, plan = yard.env, work.plan
    assert plan is not None
    if work.stage == 0:
        if plan.cutoff > env.now:
            work.stage = CUTOFF
            yield env.timeout(plan.cutoff - env.now)
    elif work.stage == CUTOFF:
        yield actors.waited(resume)
    while plan.cutoff - env.now > MOVED_MIN:  # held (`stations.holding`): the cut-off moved
        work.stage = CUTOFF
        yield env.timeout(plan.cutoff - env.now)
    if work.stage < TRACK_QUEUE:
        for box in plan.booked:  # booking is closed: from now on its boxes are being loaded
            box.loading_start = env.now
    with _track_claim(yard, work, resume) as track:
        if track is not None:
            work.stage = TRACK_QUEUE
            yield track
        yield from _place_and_work(yard, work, resume)
        if work.stage < DEPART:
            work.work_end = yard.now
            if plan.departure > env.now:
                work.stage = DEPART
                yield env.timeout(plan.departure - env.now)
        else:
            yield actors.waited(resume)
        while plan.departure - env.now > MOVED_MIN:  # held while it was being loaded
            work.stage = DEPART
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
            work.work_start,
            work.work_end,
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
    teu = sum(box.teu for box in unloading)
    work = TrainWork(train_id, "import", None, unloading, len(unloading), teu, yard.now)
    actors.process(yard.env, unload_train(yard, work), work)


def unload_train(
    yard: Yard, work: TrainWork, resume: simpy.Event | None = None
) -> ProcessGenerator:
    """Take a track, place the wagons, and unload the train's boxes with its gantries."""
    with _track_claim(yard, work, resume) as track:
        if track is not None:
            work.stage = TRACK_QUEUE
            yield track
        yield from _place_and_work(yard, work, resume)
    yard.records.train_visits.append(
        TrainVisit(
            yard.spec.id,
            work.train_id,
            "import",
            work.arrived,
            work.work_start,
            yard.now,
            NOT_YET,
            work.boxes,
            work.teu,
        )
    )


def _track_claim(yard: Yard, work: TrainWork, resume: simpy.Event | None) -> Claim:
    """A new claim of a loading track, or the one a restored train holds or waits for."""
    if work.stage < TRACK_QUEUE:
        return yard.tracks.claim()
    return Claim(yard.tracks, resume if work.stage == TRACK_QUEUE else None)


def _place_and_work(yard: Yard, work: TrainWork, resume: simpy.Event | None) -> ProcessGenerator:
    """On the track: place the wagons, then the train's gantries work through its boxes."""
    if work.stage < PLACEMENT:
        work.work_start = yard.now
        work.stage = PLACEMENT
        yield yard.env.timeout(yard.sample("wagon_placement", yard.spec.rail.wagon_placement_min))
    elif work.stage == PLACEMENT:
        yield actors.waited(resume)
    if work.stage < WORK:
        if work.direction == "export":
            assert work.plan is not None
            work.queue = deque(work.plan.booked)
        else:
            work.queue, work.unloading = deque(work.unloading), []  # some soon leave the yard
        gangs = min(yard.spec.rail.gantries_per_train, len(work.queue))
        if gangs:
            work.stage = WORK
            env = yard.env
            yield simpy.AllOf(env, [start_gantry(yard, GantryProgress(work)) for _ in range(gangs)])
    elif work.stage == WORK:
        yield actors.waited(resume)


def start_gantry(
    yard: Yard, gantry: GantryProgress, resume: simpy.Event | None = None
) -> simpy.Process:
    """A gantry's process (the train waits for all of them); `resume` restores one mid-box."""
    generator = _gantry(yard, gantry, resume)
    if resume is None:
        return actors.process(yard.env, generator, gantry)
    return actors.resumed_process(yard.env, generator, gantry)


def _gantry(yard: Yard, g: GantryProgress, resume: simpy.Event | None) -> ProcessGenerator:
    move = _load_one if g.work.direction == "export" else _unload_one
    queue = g.work.queue
    if g.box is not None:  # restored while moving a box
        yield from move(yard, g, resume)
    while queue:
        g.box, g.stage = queue.popleft(), 0
        yield from move(yard, g, None)
    g.box = None


def _load_one(yard: Yard, g: GantryProgress, resume: simpy.Event | None) -> ProcessGenerator:
    yield from _rmg_lift(yard, g, "train_load", resume)
    assert g.box is not None
    boxes.lift_out(yard, g.box)


def _unload_one(yard: Yard, g: GantryProgress, resume: simpy.Event | None) -> ProcessGenerator:
    box = g.box
    assert box is not None
    if g.stage < STACK_ROOM:
        room = yard.stack.reserve(box.teu)
        if room is not None:
            g.stage = STACK_ROOM
            yield room
    elif g.stage == STACK_ROOM:
        yield actors.waited(resume)
    yield from _rmg_lift(yard, g, "train_unload", resume)
    boxes.stack_box(yard, box)


def _rmg_lift(
    yard: Yard, g: GantryProgress, purpose: str, resume: simpy.Event | None
) -> ProcessGenerator:
    rmgs = yard.rmgs
    fresh = g.stage < RMG_QUEUE
    with rmgs.claim() if fresh else Claim(rmgs, resume if g.stage == RMG_QUEUE else None) as rmg:
        if rmg is not None:
            g.stage = RMG_QUEUE
            yield rmg
        if g.stage < RMG_LIFT:
            g.start = yard.now
            yard.level("handling_busy", 1)
            drawn = yard.sample("rail_lift", yard.spec.handling.rmg_lift_min)
            g.stage = RMG_LIFT
            yield yard.env.timeout(tallying.lift_time(yard.spec.policies.tallying, drawn))
        else:
            yield actors.waited(resume)
        yard.level("handling_busy", -1)
    assert g.box is not None
    yard.records.lifts.append(
        Lift(yard.spec.id, "rmg", g.box.container_id, purpose, g.start, yard.now)
    )
