"""The live watermark: how far event time has surely progressed on every input partition.

Each input partition (topic, partition) reports the newest event time it delivered. While a
partition still has messages waiting, the watermark cannot pass what it delivered (a backlog on
the dispatch topic must not make the telemetry topic's events late), so the watermark is the
*smallest* newest-time over the partitions still delivering, minus the allowed lateness. A
partition is idle, holding nothing back, once it reported its end (librdkafka's
end-of-partition event) and then delivered nothing for `settle_s` of wall time; when all are
idle, the newest time seen anywhere counts. Until every partition has delivered an event or is
idle, there is no watermark.

Why the settling time: an end-of-partition event only says the consumer's fetch reached the
high watermark the broker reported, and a broker may report it behind its log (the embedded
broker does, under load, by hundreds of messages: `docs/streams.md`, "Watermark"). A
partition taken as idle at such an early end let the watermark run ahead on its yard's other
topics, and its own events, delivered a moment later, were applied late (pickups before the
drop-offs they collect, dead-lettered `rejected:container_id`). A partition really at its
end stays there; one that was not usually delivers again within a fetch or two, before it
settles. The worker also gives `behind`: whether the broker's latest high watermark is past the
position read (`streams.partition_ends`); a partition behind is not idle, settled or not.

A confirmed end replaces the settling time: the worker gives `confirm` (an `EndCheck`), which
asks the broker afresh, off the loop, where the partition ends, in a request made after the end
event (`streams.partition_ends.FreshEnds`). Its answer decides at once: nothing past the
position, idle; something past it, not idle, however long it waits. Only while there is no
answer (the request still out, or failed) does the settling time decide, as before.

The tracker is a live heuristic: its decisions reach the twin only as archived clock advances,
so a rebuild never depends on it.
"""

import time
from collections.abc import Callable
from typing import Protocol

from streams.live.reorder import Micros

Partition = tuple[str, int]


class EndCheck(Protocol):
    """Confirms a partition's end by asking the broker, without waiting for the answer."""

    def ended(self, partition: Partition) -> None:
        """The partition reported a new end: ask about it (a request made from now on)."""

    def forget(self, partition: Partition) -> None:
        """The partition delivered again (or left the assignment): its answer is void."""

    def verdict(self, partition: Partition) -> bool | None:
        """Nothing past the worker's position (True), something (False), or no answer yet."""


class WatermarkTracker:
    """Newest event time and end-of-partition state per input partition."""

    def __init__(
        self,
        partitions: list[Partition],
        *,
        settle_s: float = 0.0,
        behind: Callable[[Partition], bool] | None = None,
        confirm: EndCheck | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settle_s, self.behind, self.confirm, self.clock = settle_s, behind, confirm, clock
        self.newest: dict[Partition, Micros | None] = {}
        self.ended_at: dict[Partition, float | None] = {}  # wall time of its end, if at end
        self.reset(partitions)

    def reset(self, partitions: list[Partition]) -> None:
        """Track a new assignment (after a broker lost its topics, for instance)."""
        if self.confirm is not None:
            for partition in self.ended_at:
                self.confirm.forget(partition)
        self.newest = dict.fromkeys(partitions)
        self.ended_at = dict.fromkeys(partitions)

    def delivered(self, partition: Partition, newest: Micros) -> None:
        """A partition delivered events up to `newest` (the largest time in the batch)."""
        known = self.newest.get(partition)
        if known is None or newest > known:
            self.newest[partition] = newest
        if self.ended_at.get(partition) is not None and self.confirm is not None:
            self.confirm.forget(partition)
        self.ended_at[partition] = None

    def reached_end(self, partition: Partition) -> None:
        """The partition has no more messages right now (as far as the broker says)."""
        if self.ended_at.get(partition) is None:
            self.ended_at[partition] = self.clock()
            if self.confirm is not None:
                self.confirm.ended(partition)

    def idle(self, partition: Partition) -> bool:
        """At its end, confirmed there (or, with no answer, settled there), and not `behind`
        the broker's log (see the module docstring)."""
        ended = self.ended_at.get(partition)
        if ended is None:
            return False
        verdict = self.confirm.verdict(partition) if self.confirm is not None else None
        if verdict is False or (verdict is None and self.clock() - ended < self.settle_s):
            return False
        return self.behind is None or not self.behind(partition)

    def all_at_end(self) -> bool:
        """Every partition is idle (the worker is live, not catching up)."""
        return all(self.idle(partition) for partition in self.ended_at)

    def watermark(self, lateness: Micros) -> Micros | None:
        """The event time every future on-time event is at or after, if known yet."""
        delivering = [p for p in self.ended_at if not self.idle(p)]
        if any(self.newest[p] is None for p in delivering):
            return None
        times = [self.newest[p] for p in delivering] if delivering else list(self.newest.values())
        known = [t for t in times if t is not None]
        if not known:
            return None
        return (min(known) if delivering else max(known)) - lateness
