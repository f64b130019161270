"""The yard's departures and the export boxes booked on them.

A box its shipper booked on a given departure (`TruckDispatched.train_id`, kept as
`Box.booked_on`) is held for that train, even while the train is not announced yet; once it
is, the box goes on it, or, if the train is full or its cut-off has passed, on a departure
after it with room: later, never earlier. Any other cleared export box is booked on the first
departure (in the loading plan's order, today departure order: `stations.loading_plan`) whose
cut-off has not passed and which still has room for its TEU. The loading plan also orders the
later departures a booked box falls back on: it chooses among trains, never overrides a
booking. A box that fits on none waits, in clearing order, for the next departure to be
scheduled.
"""

import math
from collections import deque
from collections.abc import Callable, Iterator
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
    for one.

    `waiting` boxes take the first departure with room in booking order (a booked box its own
    train first, then none that leaves before it); `held` boxes wait, by train id, for the
    departure they are booked on.
    """

    plans: list[TrainPlan] = field(default_factory=list)
    waiting: deque[Box] = field(default_factory=deque)
    held: dict[str, list[Box]] = field(default_factory=dict)  # booked on a train not yet known
    known: dict[str, TrainPlan] = field(default_factory=dict)
    booking_order: BookingOrder = by_departure

    def add(self, plan: TrainPlan, now: Minutes) -> None:
        """Take a new departure into the timetable; the boxes held for it, then those
        waiting, are booked again."""
        self.known[plan.train_id] = plan
        self.plans.append(plan)
        self.plans.sort(key=self.booking_order)
        for box in self.held.pop(plan.train_id, []):
            self.book(box, now)
        still_waiting: deque[Box] = deque()
        while self.waiting:
            box = self.waiting.popleft()
            if not self._book_on_first_with_room(box, now):
                still_waiting.append(box)
        self.waiting = still_waiting

    def book(self, box: Box, now: Minutes) -> None:
        """Book a cleared export box on its shipper's departure, else the next one with room."""
        if box.booked_on and box.booked_on not in self.known:  # not announced yet: wait for it
            self.held.setdefault(box.booked_on, []).append(box)
        elif not self._book_on_first_with_room(box, now):
            self.waiting.append(box)

    def unbooked(self) -> Iterator[Box]:
        """The cleared boxes on no train yet: waiting for any departure or held for theirs."""
        yield from self.waiting
        for boxes in self.held.values():
            yield from boxes

    def _book_on_first_with_room(self, box: Box, now: Minutes) -> bool:
        """Book on the box's own train if it has room, else on the first departure in booking
        order with room that does not leave before the one the box was booked on."""
        wanted = self.known.get(box.booked_on) if box.booked_on else None
        earliest = wanted.departure if wanted is not None else -math.inf
        candidates = self.plans if wanted is None else [wanted, *self.plans]
        for plan in candidates:
            if plan.departure >= earliest and plan.has_room_for(box, now):
                plan.booked.append(box)
                plan.booked_teu += box.teu
                box.train_id = plan.train_id
                if now >= plan.cutoff:  # booked at the cut-off instant, its loading under way
                    box.loading_start = now
                return True
        return False
