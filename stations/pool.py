"""A pool of identical servers (gate lanes, reach stackers, gantries) with a FIFO queue.

It does what `simpy.Resource` does for these actors, with fewer scheduled events: a server
that is free is taken at once without an event, and a released server is handed straight to
the first waiter. A yard replays millions of lifts and gate passages, and SimPy's request
and release events were a third of all the steps it scheduled.
"""

from collections import deque

import simpy


class Pool:
    """`capacity` identical servers, `busy` of them in use; waiters are served in arrival order."""

    __slots__ = ("busy", "capacity", "env", "waiting")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self.waiting: deque[simpy.Event] = deque()

    def acquire(self) -> simpy.Event | None:
        """Take a server: None when one was free, else an event to yield until one is."""
        if self.busy < self.capacity and not self.waiting:
            self.busy += 1
            return None
        wait = self.env.event()
        self.waiting.append(wait)
        return wait

    def release(self) -> None:
        """Give the server back, or straight to the first in line."""
        if self.waiting:
            self.waiting.popleft().succeed()
        else:
            self.busy -= 1
