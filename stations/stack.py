"""The stack's capacity in TEU, reserved by boxes on their way in and freed as they leave.

`simpy.Container` does the same with a put event for every box, scheduled even when there is
room; here a box that fits takes its room at once and only a box that must wait gets an event.
Waiters are served strictly in arrival order, as the container serves its put queue.
"""

from collections import deque

import simpy


class Stack:
    """`capacity` TEU of stacking room, `level` of them taken."""

    __slots__ = ("capacity", "env", "level", "waiting")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1 TEU, got {capacity}")
        self.env = env
        self.capacity = capacity
        self.level = 0
        self.waiting: deque[tuple[int, simpy.Event]] = deque()

    def reserve(self, teu: int) -> simpy.Event | None:
        """Take room for a box: None when it fits now, else an event to yield until it does."""
        if not self.waiting and self.level + teu <= self.capacity:
            self.level += teu
            return None
        room = self.env.event()
        self.waiting.append((teu, room))
        return room

    def free(self, teu: int) -> None:
        """A box left the stack: its room goes to the boxes waiting, first come first served."""
        self.level -= teu
        waiting = self.waiting
        while waiting and self.level + waiting[0][0] <= self.capacity:
            teu, room = waiting.popleft()
            self.level += teu
            room.succeed()
