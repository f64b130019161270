"""The live watermark: how far event time has surely progressed on every input partition.

Each input partition (topic, partition) reports the newest event time it delivered. While a
partition still has messages waiting, the watermark cannot pass what it delivered (a backlog on
the dispatch topic must not make the telemetry topic's events late), so the watermark is the
*smallest* newest-time over the partitions still delivering, minus the allowed lateness. A
partition at its end (librdkafka's end-of-partition event) is idle and holds nothing back; when
all are idle, the newest time seen anywhere counts. Until every partition has delivered an event
or reported its end, there is no watermark.

The tracker is a live heuristic: its decisions reach the twin only as archived clock advances,
so a rebuild never depends on it.
"""

from streams.live.reorder import Micros

Partition = tuple[str, int]


class WatermarkTracker:
    """Newest event time and end-of-partition state per input partition."""

    def __init__(self, partitions: list[Partition]) -> None:
        self.newest: dict[Partition, Micros | None] = dict.fromkeys(partitions)
        self.at_end: dict[Partition, bool] = dict.fromkeys(partitions, False)

    def reset(self, partitions: list[Partition]) -> None:
        """Track a new assignment (after a broker lost its topics, for instance)."""
        self.newest = dict.fromkeys(partitions)
        self.at_end = dict.fromkeys(partitions, False)

    def delivered(self, partition: Partition, newest: Micros) -> None:
        """A partition delivered events up to `newest` (the largest time in the batch)."""
        known = self.newest.get(partition)
        if known is None or newest > known:
            self.newest[partition] = newest
        self.at_end[partition] = False

    def reached_end(self, partition: Partition) -> None:
        """The partition has no more messages right now."""
        self.at_end[partition] = True

    def all_at_end(self) -> bool:
        """Every partition is caught up (the worker is live, not catching up)."""
        return all(self.at_end.values())

    def watermark(self, lateness: Micros) -> Micros | None:
        """The event time every future on-time event is at or after, if known yet."""
        delivering = [p for p, at_end in self.at_end.items() if not at_end]
        if any(self.newest[p] is None for p in delivering):
            return None
        times = [self.newest[p] for p in delivering] if delivering else list(self.newest.values())
        known = [t for t in times if t is not None]
        if not known:
            return None
        return (min(known) if delivering else max(known)) - lateness
