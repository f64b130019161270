"""A container while a yard knows it: from entering the yard to leaving it."""

from dataclasses import dataclass

import simpy

from stations.records import BoxVisit
from stations.reefers import ReeferMonitor
from stations.types import Minutes


@dataclass(slots=True)
class Box:
    """A container while the yard knows it; becomes a `BoxVisit` when it leaves."""

    container_id: str
    direction: str
    teu: int
    reefer: bool
    entered: Minutes
    stacked: Minutes = float("nan")
    inspection_start: Minutes = float("nan")
    cleared: Minutes = float("nan")
    loading_start: Minutes = float("nan")
    train_id: str = ""
    booked_on: str = ""  # export: the departure its shipper booked ("" = the first with room)
    inspected: bool = False
    plug_wait_min: float = 0.0
    in_stack: simpy.Event | None = None  # triggered once the box is set down in the stack
    plug_request: simpy.resources.resource.Request | None = None
    reefer_monitor: ReeferMonitor | None = None

    def visit(self, yard: str, left: Minutes, plug_wait_min: float) -> BoxVisit:
        """The record of this box's stay (`left` NaN while it is still in the yard)."""
        return BoxVisit(
            yard,
            self.container_id,
            self.direction,
            self.teu,
            self.reefer,
            self.entered,
            self.stacked,
            left,
            self.train_id,
            self.inspected,
            plug_wait_min,
            self.inspection_start,
            self.cleared,
            self.loading_start,
        )
