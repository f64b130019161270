"""The yard's departures and the export boxes booked on them.

A cleared export box is booked on the first departure (in departure order) whose cut-off has
not passed and which still has room for its TEU; a box that fits on none waits, in clearing
order, for the next departure to be scheduled.
"""

from collections import deque
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


@dataclass(frozen=True, slots=True)
class ArrivingBox:
    """A box on an arriving train."""

    container_id: str
    teu: int
    reefer: bool


@dataclass(slots=True)
class Railway:
    """The yard's departures (in departure order) and the boxes waiting for one."""

    plans: list[TrainPlan] = field(default_factory=list)
    waiting: deque[Box] = field(default_factory=deque)
    known: dict[str, TrainPlan] = field(default_factory=dict)

    def add(self, plan: TrainPlan, now: Minutes) -> None:
        """Take a new departure into the timetable; the boxes waiting are booked again."""
        self.known[plan.train_id] = plan
        self.plans.append(plan)
        self.plans.sort(key=lambda known: (known.departure, known.train_id))
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
                return True
        return False
