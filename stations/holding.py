"""Holding an announced departure: it leaves later, and until its cut-off it takes more boxes.

A planner holds a train to let late boxes on. Held by N minutes before its cut-off, a departure
keeps its loading window: the cut-off and the departure both move N minutes later, so boxes
cleared after the old cut-off are booked on it (`stations.timetable.TrainPlan.has_room_for`
reads the plan's cut-off) instead of rolling over to a later train. Held once its loading has
begun (booking closed), it only leaves N minutes later with the boxes it has. The train's
loading process (`stations.rail.load_train`) wakes at the old times and, finding them moved,
waits again; nothing else changes, so a yard that holds no train runs exactly as before.
"""

from dataclasses import dataclass

from stations.timetable import TrainPlan
from stations.types import Minutes
from stations.yard import Yard


class HoldError(ValueError):
    """A departure that cannot be held: unknown at the yard, already gone, or a bad delay."""


@dataclass(frozen=True, slots=True)
class Held:
    """What a hold changed: the departure's times before and after."""

    train_id: str
    departure: Minutes  # as scheduled
    cutoff: Minutes
    held_departure: Minutes
    held_cutoff: Minutes  # the cut-off it keeps when its loading had begun

    @property
    def bookings_reopened(self) -> bool:
        """Whether the cut-off moved (the hold came before loading began)."""
        return self.held_cutoff != self.cutoff


def next_departure(yard: Yard) -> TrainPlan:
    """The announced departure due to leave next among those still taking bookings (cut-off
    ahead): the next one a hold can let more boxes onto (scheduled departure, then train id)."""
    open_ = [plan for plan in yard.railway.plans if plan.cutoff > yard.now]
    if not open_:
        raise HoldError(f"{yard.spec.id}: no announced departure still taking bookings to hold")
    return min(open_, key=lambda plan: (plan.departure, plan.train_id))


def hold_departure(yard: Yard, train_id: str, minutes: float) -> Held:
    """Hold `train_id` at `yard` for `minutes` (> 0) from now on (module doc)."""
    if not minutes > 0.0:
        raise HoldError(f"{yard.spec.id} {train_id}: a hold must be longer than 0 minutes")
    plan = yard.railway.known.get(train_id)
    if plan is None:
        raise HoldError(f"{yard.spec.id}: no departure {train_id!r} is announced")
    if plan not in yard.railway.plans:
        raise HoldError(f"{yard.spec.id} {train_id}: already left, cannot be held")
    departure, cutoff = plan.departure, plan.cutoff
    plan.departure += minutes
    if cutoff > yard.now:  # booking still open: the loading window moves with it
        plan.cutoff += minutes
    yard.railway.plans.sort(key=yard.railway.booking_order)
    return Held(train_id, departure, cutoff, plan.departure, plan.cutoff)
