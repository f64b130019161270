"""The SimPy environment of one yard, with a cheap way to catch up to an event's time."""

from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import BoundClass
from simpy.events import NORMAL

from stations.types import Minutes


class YardEnvironment(simpy.Environment):
    """A `simpy.Environment` that can process everything due before a time, then stop there.

    `run(until=t)` does the same by scheduling a stop event and raising an exception to end
    the loop; the engine calls it once per incoming event, so that overhead mattered. Events
    due at exactly `t` are left for after the incoming event, as `run(until=t)` leaves them
    (its stop event is urgent).
    """

    def __init__(self, initial_time: Minutes = 0.0) -> None:
        super().__init__(initial_time)
        # SimPy binds `timeout`, `event` and the like to each environment once, but only those
        # of the instance's own class; a subclass would rebind them at every call.
        for name, attribute in vars(simpy.Environment).items():
            if isinstance(attribute, BoundClass):
                setattr(self, name, getattr(self, name))

    def timeout(self, delay: Minutes = 0.0, value: Any | None = None) -> simpy.Timeout:
        """A `simpy.Timeout`, made and scheduled as its constructor does, minus two calls.

        A year of three yards makes millions of them (every gate pass, drive and lift).
        """
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        timeout: simpy.Timeout = object.__new__(simpy.Timeout)
        timeout.env = self
        timeout.callbacks = []
        timeout._value = value
        timeout._delay = delay
        timeout._ok = True
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), timeout))
        return timeout

    def run_before(self, until: Minutes) -> None:
        """Process every event scheduled before `until`, then set the clock to `until`."""
        queue = self._queue
        while queue and queue[0][0] < until:
            # `step()` inlined: this loop runs every event of a year of yards
            self._now, _, _, event = heappop(queue)
            callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                raise event._value  # a failed event nobody handled, as `step()` raises it
        if until > self._now:
            self._now = until

    def timeout_at(self, time: Minutes) -> simpy.Timeout:
        """A timeout due at exactly `time` (`now + (time - now)` may round to another float),
        for a restored yard's timers."""
        if time < self._now:
            raise ValueError(f"a timer due at {time}, before now ({self._now})")
        timeout: simpy.Timeout = object.__new__(simpy.Timeout)
        timeout.env = self
        timeout.callbacks = []
        timeout._value = None
        timeout._delay = time - self._now
        timeout._ok = True
        heappush(self._queue, (time, NORMAL, next(self._eid), timeout))
        return timeout
