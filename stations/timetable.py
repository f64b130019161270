"""The yard's departures and the export boxes booked on them.

A cleared export box is booked on the first departure (in the loading plan's order, today
departure order: `stations.loading_plan`) whose cut-off has not passed and which still has
room for its TEU; a box that fits on none waits, in clearing order, for the next departure to
be scheduled.
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from stations.box import Box
from stations.records import NOT_YET
from stations.types import Minutes


@dataclass(slots=True)
class TrainPlan:
    """A departure as the yard knows it, with the boxes booked on it so far."""

    train_id: str
    departure: Minutes
    cutoff: Minutes
    capacity_teu: int
    destination: str = ""
    booked: list[Box] = field(default_factory=list)
    booked_teu: int = 0
    departed: Minutes = NOT_YET

    def has_room_for(self, box: Box, now: Minutes) -> bool:
        return now <= self.cutoff and self.booked_teu + box.teu <= self.capacity_teu


BookingOrder = Callable[[TrainPlan], tuple[float, float, str]]
"""The sort key of the departures a box is offered, first one first (`stations.loading_plan`)."""


def by_departure(plan: TrainPlan) -> tuple[float, float, str]:
    """Today's order: departure time, then train id (the middle term repeats the departure so
    that every booking order has one shape)."""
    return (plan.departure, plan.departure, plan.train_id)


@dataclass(frozen=True, slots=True)
class ArrivingBox:
    """A box on an arriving train."""

    container_id: str
    teu: int
    reefer: bool


@dataclass(slots=True)
class Railway:
    """The yard's departures (in booking order, today departure order) and the boxes waiting
    for one."""

    plans: list[TrainPlan] = field(default_factory=list)
    waiting: deque[Box] = field(default_factory=deque)
    known: dict[str, TrainPlan] = field(default_factory=dict)
    booking_order: BookingOrder = by_departure

    def add(self, plan: TrainPlan, now: Minutes) -> None:
        """Take a new departure into the timetable; the boxes waiting are booked again."""
        self.known[plan.train_id] = plan
        self.plans.append(plan)
        self.plans.sort(key=self.booking_order)
        still_waiting: deque[Box] = deque()
        while self.waiting:
            box = self.waiting.popleft()
            if not self._book_on_first_with_room(box, now):
                still_waiting.append(box)
        self.waiting = still_waiting

    def book(self, box: Box, now: Minutes) -> None:
        """Book a cleared export box on the next departure with room before its cut-off."""
        if not self._book_on_first_with_room(box, now):
            self.waiting.append(box)

    def _book_on_first_with_room(self, box: Box, now: Minutes) -> bool:
        for plan in self.plans:
            if plan.has_room_for(box, now):
                plan.booked.append(box)
                plan.booked_teu += box.teu
                box.train_id = plan.train_id
                if now >= plan.cutoff:  # booked at the cut-off instant, its loading under way
                    box.loading_start = now
                return True
        return False
