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

The tracker is a live heuristic: its decisions reach the twin only as archived clock advances,
so a rebuild never depends on it.
"""

import time
from collections.abc import Callable

from streams.live.reorder import Micros

Partition = tuple[str, int]


class WatermarkTracker:
    """Newest event time and end-of-partition state per input partition."""

    def __init__(
        self,
        partitions: list[Partition],
        *,
        settle_s: float = 0.0,
        behind: Callable[[Partition], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settle_s, self.behind, self.clock = settle_s, behind, clock
        self.newest: dict[Partition, Micros | None] = {}
        self.ended_at: dict[Partition, float | None] = {}  # wall time of its end, if at end
        self.reset(partitions)

    def reset(self, partitions: list[Partition]) -> None:
        """Track a new assignment (after a broker lost its topics, for instance)."""
        self.newest = dict.fromkeys(partitions)
        self.ended_at = dict.fromkeys(partitions)

    def delivered(self, partition: Partition, newest: Micros) -> None:
        """A partition delivered events up to `newest` (the largest time in the batch)."""
        known = self.newest.get(partition)
        if known is None or newest > known:
            self.newest[partition] = newest
        self.ended_at[partition] = None

    def reached_end(self, partition: Partition) -> None:
        """The partition has no more messages right now (as far as the broker says)."""
        if self.ended_at.get(partition) is None:
            self.ended_at[partition] = self.clock()

    def idle(self, partition: Partition) -> bool:
        """At its end, settled there, and not `behind` the broker's log (see the module
        docstring)."""
        ended = self.ended_at.get(partition)
        if ended is None or self.clock() - ended < self.settle_s:
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
