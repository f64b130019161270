"""The reorder buffer: events wait here until the watermark passes them, then leave in order.

Events of one yard can arrive out of order (three topics, producers that retry, clocks that
drift). Each yard has a heap ordered by (event time, rank, arrival number); `release(moment)`
hands out, yard by yard, every event at or before `moment` in that order. The rank separates
the topics (trains, then trucks, then reefer readings at the same instant: see
`corridor.events.same_instant_rank`), and within one topic a yard's events share a
partition, so ties keep the order they were produced in: the result does not depend on how the
consumer happened to interleave the topics. Times are integer microseconds since 1970 (UTC),
so comparisons are exact and a rebuilt buffer releases exactly what the original did.
"""

import functools
import heapq
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Generic, TypeVar

Item = TypeVar("Item")
Micros = int
"""Event time as integer microseconds since 1970-01-01 UTC."""

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> Micros:
    """Exact microseconds since 1970 (aware datetimes only)."""
    zone = moment.tzinfo
    if zone is not UTC and zone is not None:
        # 1970 in the event's own zone: aware datetimes sharing a tzinfo subtract without
        # asking it for offsets (three times faster; the same exact microseconds)
        return (moment - _unix_epoch_in(zone)) // _MICROSECOND
    return (moment - UNIX_EPOCH) // _MICROSECOND


@functools.lru_cache(maxsize=256)
def _unix_epoch_in(zone: tzinfo) -> datetime:
    return UNIX_EPOCH.astimezone(zone)


def from_micros(micros: Micros) -> datetime:
    """The aware UTC datetime of `micros`."""
    return UNIX_EPOCH + timedelta(microseconds=micros)


class ReorderBuffer(Generic[Item]):
    """One heap per yard of (event time, arrival number, item)."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[Micros, int, int, Item]]] = {}
        self._arrivals = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, yard: str, ts: Micros, item: Item, rank: int = 0) -> None:
        """Hold an event until the watermark reaches its time."""
        heap = self._heaps.get(yard)
        if heap is None:
            heap = self._heaps[yard] = []
        heapq.heappush(heap, (ts, rank, self._arrivals, item))
        self._arrivals += 1
        self._size += 1

    def release(self, moment: Micros) -> Iterator[Item]:
        """Every held event at or before `moment`: yard by yard (in first-seen order), in order."""
        for heap in self._heaps.values():
            while heap and heap[0][0] <= moment:
                item = heapq.heappop(heap)[3]
                self._size -= 1
                yield item

    def earliest(self) -> Micros | None:
        """The earliest held event time, if any."""
        heads = [heap[0][0] for heap in self._heaps.values() if heap]
        return min(heads) if heads else None
