"""The yard's departures and the export boxes booked on them."""

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
    """The yard's departures (in departure order) and the boxes waiting for one.

    `waiting` boxes take the next departure announced; `held` boxes wait for the one they
    are booked on, by train id.
    """

    plans: list[TrainPlan] = field(default_factory=list)
    waiting: deque[Box] = field(default_factory=deque)
    held: dict[str, list[Box]] = field(default_factory=dict)  # booked on a train not yet known
    known: dict[str, TrainPlan] = field(default_factory=dict)
