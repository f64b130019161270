"""A pool of identical servers (gate lanes, reach stackers, gantries) with a FIFO queue.

It does what `simpy.Resource` does for these actors, with fewer scheduled events: a server
that is free is taken at once without an event, and a released server is handed straight to
the first waiter. A yard replays millions of lifts and gate passages, and SimPy's request
and release events would be a third of all the steps it schedules.

Actors hold a server the way SimPy's `with resource.request() as req: yield req` does:

    with yard.rmgs.claim() as wait:
        if wait is not None:  # no server free: wait in line
            yield wait
        ...  # work while holding the server

Leaving the block, by its end, an exception or an interrupt, gives the server back, or gives
up the place in line if the server never came.
"""

from collections import deque
from types import TracebackType

import simpy


class Pool:
    """`capacity` identical servers, `busy` of them in use; waiters are served in arrival order."""

    __slots__ = ("_at_once", "busy", "capacity", "env", "waiting")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self.waiting: deque[simpy.Event] = deque()
        # a claim granted at once carries no state of its own, so one serves them all
        self._at_once = Claim(self, None)

    def resize(self, capacity: int) -> None:
        """Take `capacity` servers from now on (a what-if forked from the live yard): new ones
        serve the line at once; when there are fewer, busy servers leave as they are freed."""
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        while self.busy < capacity and self.waiting:
            self.busy += 1
            self.waiting.popleft().succeed()

    def claim(self) -> "Claim":
        """Take a free server, or a place in line, for a `with` block that gives it back."""
        if self.busy < self.capacity and not self.waiting:
            self.busy += 1
            return self._at_once
        wait = self.env.event()
        self.waiting.append(wait)
        return Claim(self, wait)


class Claim:
    """One actor's hold on a server of a pool, from `Pool.claim` to the end of its `with` block.

    Entering gives the wait: None when a server was free, else the event to yield until one
    is. Leaving releases the server, or, if the wait was never served (the actor was
    interrupted or failed while in line), takes the actor out of the line.
    """

    __slots__ = ("pool", "wait")

    def __init__(self, pool: Pool, wait: simpy.Event | None) -> None:
        self.pool = pool
        self.wait = wait

    def __enter__(self) -> simpy.Event | None:
        return self.wait

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        wait, waiting = self.wait, self.pool.waiting
        if wait is not None and not wait.triggered:
            waiting.remove(wait)  # never served: leave the line
        elif waiting and self.pool.busy <= self.pool.capacity:
            waiting.popleft().succeed()  # the server goes straight to the first in line
        else:
            self.pool.busy -= 1
