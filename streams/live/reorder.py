"""The reorder buffer: events wait here until the watermark passes them, then leave in order.

Events of one yard can arrive out of order (three topics, producers that retry, clocks that
drift). Each yard's events are ordered by (event time, rank, arrival number); `release(moment)`
hands out, yard by yard, every event at or before `moment` in that order. The rank separates
the topics (trains, then trucks, then reefer readings at the same instant: see
`corridor.contract.events.same_instant_rank`), and within one topic a yard's events share a
partition, so ties keep the order they were produced in: the result does not depend on how the
consumer happened to interleave the topics. Times are integer microseconds since 1970 (UTC),
so comparisons are exact and a rebuilt buffer releases exactly what the original did.
"""

import bisect
import operator
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from corridor.engine.clock import in_zone_of

Item = TypeVar("Item")
Micros = int
"""Event time as integer microseconds since 1970-01-01 UTC."""

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> Micros:
    """Exact microseconds since 1970 (aware datetimes only)."""
    return (moment - in_zone_of(moment, UNIX_EPOCH)) // _MICROSECOND


def from_micros(micros: Micros) -> datetime:
    """The aware UTC datetime of `micros`."""
    return UNIX_EPOCH + timedelta(microseconds=micros)


Entry = tuple[Micros, int, int, Any]
"""(event time, rank, arrival number, item): the order is the tuple's, arrival numbers unique."""


class _Run:
    """A sorted list of entries, of which those before `start` were released already: a
    release moves `start` instead of copying the rest of the list."""

    __slots__ = ("entries", "start")

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.start = 0

    def __len__(self) -> int:
        return len(self.entries) - self.start

    def pending(self) -> list[Entry]:
        """The entries not released yet."""
        return self.entries[self.start :] if self.start else self.entries

    def cut(self, after: tuple[Micros, int]) -> list[Entry]:
        """Release the leading entries before `after`; the released part of the list is
        dropped once it is the larger part (so each entry is copied O(1) times)."""
        entries, start = self.entries, self.start
        end = bisect.bisect_right(entries, after, lo=start)
        if end == start:
            return []
        due = entries[start:end]
        if end > len(entries) // 2:
            del entries[:end]
            end = 0
        self.start = end
        return due


class ReorderBuffer(Generic[Item]):
    """Per yard: arrivals appended as they come, sorted only when the watermark moves.

    Events of one partition mostly arrive in event-time order, so a heap push and pop per event
    would pay for an order that is almost there already. Here `push` appends
    an entry (event time, rank, arrival number, item) to the yard's fresh list; `release` sorts
    the fresh entries once (Timsort merges the topics' in-order stretches in linear time) into a
    sorted run, cuts every run of the yard at `moment` by bisection, and sorts the released
    pieces together. Arrival numbers are unique, so the order is exactly (time, rank, arrival),
    whatever the runs: the same order a heap would give.

    Each release costs what it releases and what arrived, not what stays held: a worker whose
    one topic lags holds hundreds of thousands of events for a while (a backlog read topic by
    topic), and a release that copied or re-sorted them all made every batch cost the whole
    buffer. A run is cut by moving its start (`_Run`), and runs are merged only with runs of
    similar size (each run at least twice the size of the next younger one, as Timsort keeps
    its stack), so an entry takes part in O(log n) merges and a yard has O(log n) runs.
    """

    def __init__(self) -> None:
        self._fresh: dict[str, list[Entry]] = {}
        self._runs: dict[str, list[_Run]] = {}
        self._arrivals = 0
        self._released = 0  # so the size is `_arrivals - _released`, not counted per push

    def __len__(self) -> int:
        return self._arrivals - self._released

    def push(self, yard: str, ts: Micros, item: Item, rank: int = 0) -> None:
        """Hold an event until the watermark reaches its time."""
        arrival = self._arrivals
        self._arrivals = arrival + 1
        try:  # the yard's fresh list is there for all but its first event (one lookup)
            self._fresh[yard].append((ts, rank, arrival, item))
        except KeyError:
            self._fresh[yard], self._runs[yard] = [(ts, rank, arrival, item)], []

    def release(self, moment: Micros) -> list[Item]:
        """Every held event at or before `moment`: yard by yard (in first-seen order), in order."""
        after = (moment, _AFTER_EVERY_RANK)  # above every entry at `moment`, below any later one
        released: list[Item] = []
        for yard, fresh in self._fresh.items():
            runs = self._runs[yard]
            if fresh:
                fresh.sort()
                _add_run(runs, fresh)
                self._fresh[yard] = []
            due: list[Entry] = []
            pieces = 0
            for run in runs:
                piece = run.cut(after)
                if piece:
                    due += piece
                    pieces += 1
            if pieces:
                runs[:] = [run for run in runs if len(run)]
            if pieces > 1:
                due.sort()
            released += map(_ITEM, due)
        self._released += len(released)
        return released

    def held(self) -> list[tuple[str, Micros, int, int, Item]]:
        """Every held entry as (yard, time, rank, arrival number, item), yards in first-seen
        order: the buffer as data, for a snapshot (`streams.live.state`)."""
        return [
            (yard, *entry)
            for yard, fresh in self._fresh.items()
            for entry in sorted(
                [*fresh, *(entry for run in self._runs[yard] for entry in run.pending())]
            )
        ]

    @property
    def arrivals(self) -> int:
        """Arrival numbers handed out so far (the next one is this)."""
        return self._arrivals

    @classmethod
    def restored(
        cls, yards: list[str], held: list[tuple[str, Micros, int, int, Item]], arrivals: int
    ) -> "ReorderBuffer[Item]":
        """A buffer holding what `held` returned, releasing it in the same order."""
        buffer: ReorderBuffer[Item] = cls()
        for yard in yards:
            buffer._fresh[yard], buffer._runs[yard] = [], []
        for yard, ts, rank, arrival, item in held:
            buffer._fresh[yard].append((ts, rank, arrival, item))
        buffer._arrivals, buffer._released = arrivals, arrivals - len(held)
        return buffer

    def yards(self) -> list[str]:
        """The yards seen, in first-seen order (the order `release` goes through them)."""
        return list(self._fresh)

    def earliest(self) -> Micros | None:
        """The earliest held event time, if any."""
        heads = [entry[0] for fresh in self._fresh.values() for entry in fresh]
        heads += [run.entries[run.start][0] for runs in self._runs.values() for run in runs]
        return min(heads) if heads else None


def _add_run(runs: list[_Run], entries: list[Entry]) -> None:
    """Add a sorted run, merging the youngest runs while one is not twice the next's size
    (Timsort merges two sorted runs in linear time)."""
    runs.append(_Run(entries))
    while len(runs) > 1 and len(runs[-2]) <= 2 * len(runs[-1]):
        younger, older = runs.pop(), runs.pop()
        merged = older.pending() + younger.pending()
        merged.sort()
        runs.append(_Run(merged))


_AFTER_EVERY_RANK = 1 << 30
"""A rank above every topic rank: `(moment, _AFTER_EVERY_RANK)` sorts after `moment`'s entries."""

_ITEM = operator.itemgetter(3)
"""An entry's item (in C: a release maps it over every released entry)."""
