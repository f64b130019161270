"""Appointment slots for trucks: the whole-yard dispatch lever (全场集卡调度).

Today every dispatched truck drives to the gate for its own ETA, so the gate sees the daytime
peak of the dispatch profile. With whole-yard dispatch the yard cuts the day into slots of
`slot_min` minutes and admits at most `trucks_per_slot` trucks in each: a truck is booked, in
dispatch order, into the first slot at or after its ETA with room left, and is told to come at
its own time within the slot, the slot's bookings spread evenly over it. A truck never comes
earlier than its ETA (its box may not be ready), only later when its slot is full: the peak is
shifted into the quieter slots that follow it.
"""

import math

from stations.policies import AppointmentPolicy
from stations.types import Minutes


class AppointmentBook:
    """The slots of one yard and how many trucks each has booked."""

    __slots__ = ("booked", "policy")

    def __init__(self, policy: AppointmentPolicy) -> None:
        self.policy = policy
        self.booked: dict[int, int] = {}  # slot index (from Minutes 0) -> trucks booked

    def arrival(self, eta: Minutes) -> Minutes:
        """Book the truck that would come at `eta`; returns when it is told to come."""
        slot_min, capacity = self.policy.slot_min, self.policy.trucks_per_slot
        slot = math.floor(eta / slot_min)
        while self.booked.get(slot, 0) >= capacity:
            slot += 1
        place = self.booked.get(slot, 0)
        self.booked[slot] = place + 1
        told = slot * slot_min + place * slot_min / capacity
        return max(eta, told)
