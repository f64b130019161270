"""A log put in each yard's event-time order as it streams, holding only a bounded stretch of it.

`corridor.engine.twin.replay` applies each yard's events ordered by (time, same-instant rank,
position in the log). Sorting a whole log that way holds every event at once (90 days: most of
a gigabyte). A log that is in time order *within a bound* (`REORDER_BOUND`: every event is at
most that far behind the newest one before it) can be ordered exactly as the sort would, holding
only about that bound's worth of events: events are gathered per yard; every `CHUNK` events each
yard's buffer is sorted (the same two stable passes) and the events more than the bound behind
the newest one so far are released; no later event can sort before them. A generated log, one
written by `corridor generate` or `corridor record`, is in time order. An event further behind
than the bound, or earlier than the first event released (whose hour became the twin's
epoch), raises `OutOfOrderError`: the caller then sorts the whole log in memory instead.

Yards are independent, so releasing them interleaved changes nothing for a yard; the one thing
that can tell is an `event_id` repeated in two yards, which the twin keeps the first copy of:
here the earlier in time, in a whole-log sort the one in the yard modelled first.
"""

import operator
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from corridor.contract.events import Event, same_instant_rank

REORDER_BOUND = timedelta(days=1)
"""How far behind the newest event an event of a streamed log may be (a day: a recorded log's
partitions are interleaved within the worker's lateness, minutes)."""
CHUNK = 65_536
"""Events between two releases: the sorts stay in C, a release's cost is spread thin."""

_EVENT_TIME = operator.attrgetter("ts")


class OutOfOrderError(ValueError):
    """An event of a streamed log is further behind the newest one than `REORDER_BOUND`."""


class InYardOrder:
    """Iterate a log's events in each yard's event-time order, holding a bounded stretch.

    `first` (the earliest event time) is known before the first event is yielded; `newest` and
    `count` are complete once iteration ends.
    """

    def __init__(self, events: Iterable[Event], bound: timedelta = REORDER_BOUND) -> None:
        self._events = events
        self._bound = bound
        self.first: datetime | None = None
        self.newest: datetime | None = None
        self.count = 0

    def __iter__(self) -> Iterator[Event]:
        per_yard: dict[str, list[Event]] = {}
        released: datetime | None = None  # events before this moment have been yielded
        for event in self._events:
            self.count += 1
            ts = event.ts
            if released is not None and ts < released:
                raise OutOfOrderError(
                    f"event {event.event_id!r} at {ts.isoformat()} is more than "
                    f"{self._bound} behind an earlier event of the log"
                )
            if self.newest is None or ts > self.newest:
                self.newest = ts
            queue = per_yard.get(event.yard)
            if queue is None:
                queue = per_yard[event.yard] = []
            queue.append(event)
            if self.count % CHUNK == 0:
                released = self.newest - self._bound
                yield from self._release(per_yard, released)
                if self.first is not None and self.first > released:
                    released = self.first  # the epoch is chosen: nothing may come before it
        yield from self._release(per_yard, None)

    def _release(
        self, per_yard: dict[str, list[Event]], before: datetime | None
    ) -> Iterator[Event]:
        """Sort each yard's held events; yield those before `before` (None: all of them)."""
        for queue in per_yard.values():
            # by (ts, rank), stable, in two stable passes: the second key is C-level
            queue.sort(key=same_instant_rank)
            queue.sort(key=_EVENT_TIME)
        if self.first is None:
            heads = [queue[0].ts for queue in per_yard.values() if queue]
            self.first = min(heads) if heads else None
        for yard, queue in per_yard.items():
            end = len(queue) if before is None else bisect_left(queue, before, key=_EVENT_TIME)
            if end:
                yield from queue[:end]
                per_yard[yard] = queue[end:]
