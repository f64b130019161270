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
from typing import Generic, TypeVar

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


class ReorderBuffer(Generic[Item]):
    """Per yard: arrivals appended as they come, sorted only when the watermark moves.

    Events of one partition mostly arrive in event-time order, so a heap push and pop per event
    would pay for an order that is almost there already. Here `push` appends
    an entry (event time, rank, arrival number, item) to the yard's fresh list; `release` sorts
    the fresh entries once (Timsort merges the topics' in-order stretches in linear time) into a
    sorted run, cuts every run of the yard at `moment` by bisection, and sorts the released
    pieces together. Arrival numbers are unique, so the order is exactly (time, rank, arrival),
    whatever the runs: the same order a heap would give. Runs not yet released wait for a later
    watermark; more than `MAX_RUNS` of them are merged into one so a release stays cheap.
    """

    MAX_RUNS = 8

    def __init__(self) -> None:
        self._fresh: dict[str, list[tuple[Micros, int, int, Item]]] = {}
        self._runs: dict[str, list[list[tuple[Micros, int, int, Item]]]] = {}
        self._arrivals = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, yard: str, ts: Micros, item: Item, rank: int = 0) -> None:
        """Hold an event until the watermark reaches its time."""
        fresh = self._fresh.get(yard)
        if fresh is None:
            fresh = self._fresh[yard] = []
            self._runs[yard] = []
        fresh.append((ts, rank, self._arrivals, item))
        self._arrivals += 1
        self._size += 1

    def release(self, moment: Micros) -> list[Item]:
        """Every held event at or before `moment`: yard by yard (in first-seen order), in order."""
        after = (moment, _AFTER_EVERY_RANK)  # above every entry at `moment`, below any later one
        released: list[Item] = []
        for yard, fresh in self._fresh.items():
            runs = self._runs[yard]
            if fresh:
                fresh.sort()
                runs.append(fresh)
                self._fresh[yard] = []
            due: list[tuple[Micros, int, int, Item]] = []
            pieces = 0
            kept: list[list[tuple[Micros, int, int, Item]]] = []
            for run in runs:
                cut = bisect.bisect_right(run, after)
                if cut:
                    due += run[:cut]
                    pieces += 1
                if cut < len(run):
                    kept.append(run[cut:] if cut else run)
            if len(kept) > self.MAX_RUNS:
                merged = [entry for run in kept for entry in run]
                merged.sort()
                kept = [merged]
            self._runs[yard] = kept
            if pieces > 1:
                due.sort()
            released += map(_ITEM, due)
        self._size -= len(released)
        return released

    def held(self) -> list[tuple[str, Micros, int, int, Item]]:
        """Every held entry as (yard, time, rank, arrival number, item), yards in first-seen
        order: the buffer as data, for a snapshot (`streams.live.state`)."""
        return [
            (yard, *entry)
            for yard, fresh in self._fresh.items()
            for entry in sorted([*fresh, *(entry for run in self._runs[yard] for entry in run)])
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
        buffer._arrivals, buffer._size = arrivals, len(held)
        return buffer

    def yards(self) -> list[str]:
        """The yards seen, in first-seen order (the order `release` goes through them)."""
        return list(self._fresh)

    def earliest(self) -> Micros | None:
        """The earliest held event time, if any."""
        heads = [entry[0] for fresh in self._fresh.values() for entry in fresh]
        heads += [run[0][0] for runs in self._runs.values() for run in runs]
        return min(heads) if heads else None


_AFTER_EVERY_RANK = 1 << 30
"""A rank above every topic rank: `(moment, _AFTER_EVERY_RANK)` sorts after `moment`'s entries."""

_ITEM = operator.itemgetter(3)
"""An entry's item (in C: a release maps it over every released entry)."""
