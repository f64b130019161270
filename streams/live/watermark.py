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

A confirmed end is true of one moment, the moment its request was sent, and says nothing about
what was produced after it: a partition confirmed at its end and then produced to, while the
worker reads another partition's new messages, is idle for the tracker until its own messages
arrive. Taken as idle then, it let that other partition's first batch move the watermark past
its events, which came a moment later and were applied late (issue 14: `bench_year.py --feed
broker` dead-lettered hundreds of pickups and readings as `rejected:container_id` when a day was
published after the worker had caught up; `docs/streams.md`, "Watermark"). So an answer vouches
for the input received before its request, and for nothing after: the request is stamped with
`seen`, the newest event time delivered on any partition when it was sent, and an idle
partition holds the watermark at most at its stamp minus the lateness (whatever its producer
sends later is produced after every event seen then, so no more than the lateness earlier
than they are, the rule the watermark already applies to every partition). Input newer than
the stamp has the end asked again at once, the old answer standing until the new one comes: the
watermark follows the input one answer behind (a round trip to the broker, 1-20 ms on the
embedded one). Every partition counts as at its end (`all_at_end`, which lets a quiet worker
flush its buffer) only with every answer as new as the input.

The settling time, the fallback when the broker does not answer (or `end_confirm` is off), is
bounded the same way: a settle is stamped with the newest event time delivered when it began,
and vouches for that input only; input newer than the stamp has the partition settle again
(`settle_s` more at its end), the old settle standing meanwhile, so the watermark follows the
input one settling time behind. Without the stamp a settled partition stayed idle however
much was produced to it since, and the race above came back whenever the broker did not answer
(`tests/test_ends_after_input.py`).

The tracker is a live heuristic: its decisions reach the twin only as archived clock advances,
so a rebuild never depends on it.
"""

import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

from streams.live.reorder import Micros

Partition = tuple[str, int]


class EndAnswer(NamedTuple):
    """The broker's word on a partition's end, and the input it vouches for."""

    at_end: bool | None  # nothing past the worker's position, something, or no answer yet
    seen: Micros | None = None  # at_end: the newest event time delivered when it was asked


NO_ANSWER = EndAnswer(None)


class Settle(NamedTuple):
    """A partition at its end without the broker's answer: since when (wall time), and the
    newest event time delivered on any partition then (the input its settle vouches for)."""

    began: float
    seen: Micros | None


class EndCheck(Protocol):
    """Confirms a partition's end by asking the broker, without waiting for the answer."""

    def ended(self, partition: Partition) -> None:
        """The partition reported a new end: ask about it (a request made from now on)."""

    def forget(self, partition: Partition) -> None:
        """The partition delivered again (or left the assignment): its answer is void."""

    def verdict(self, partition: Partition, seen: Micros | None) -> EndAnswer:
        """The latest answer; asked again if it is older than `seen`, the newest event time
        delivered on any partition now (the old answer stands until the new one comes)."""


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
        self.settling: dict[Partition, Settle] = {}  # at its end, no answer: the settle under way
        self.settled: dict[Partition, Settle] = {}  # ... and the last one completed, standing
        self.seen: Micros | None = None  # the newest time any partition delivered
        self.reset(partitions)

    def reset(self, partitions: list[Partition]) -> None:
        """Track a new assignment (after a broker lost its topics, for instance)."""
        if self.confirm is not None:
            for partition in self.ended_at:
                self.confirm.forget(partition)
        self.newest = dict.fromkeys(partitions)
        self.ended_at = dict.fromkeys(partitions)
        self.settling, self.settled = {}, {}

    def delivered(self, partition: Partition, newest: Micros) -> None:
        """A partition delivered events up to `newest` (the largest time in the batch)."""
        known = self.newest.get(partition)
        if known is None or newest > known:
            self.newest[partition] = newest
        if self.seen is None or newest > self.seen:
            self.seen = newest
        if self.ended_at.get(partition) is not None and self.confirm is not None:
            self.confirm.forget(partition)
        self.ended_at[partition] = None
        self.settling.pop(partition, None)
        self.settled.pop(partition, None)

    def reached_end(self, partition: Partition) -> None:
        """The partition has no more messages right now (as far as the broker says)."""
        if self.ended_at.get(partition) is None:
            now = self.ended_at[partition] = self.clock()
            self.settling[partition] = Settle(now, self.seen)
            if self.confirm is not None:
                self.confirm.ended(partition)

    def idle(self, partition: Partition) -> bool:
        """At its end, confirmed there (or, with no answer, settled there), and not `behind`
        the broker's log (see the module docstring)."""
        return self._idle(partition) is not None

    def all_at_end(self) -> bool:
        """Every partition is idle, each confirmed end asked after the newest input (the
        worker is live, not catching up)."""
        for partition in self.ended_at:
            answer = self._idle(partition)
            if answer is None or (answer.at_end and asked_before(answer.seen, self.seen)):
                return False
        return True

    def watermark(self, lateness: Micros) -> Micros | None:
        """The event time every future on-time event is at or after, if known yet."""
        delivering: list[Partition] = []
        vouched: list[Micros | None] = []  # what each confirmed idle partition vouches for
        for partition in self.ended_at:
            answer = self._idle(partition)
            if answer is None:
                delivering.append(partition)
            elif answer.at_end:
                vouched.append(answer.seen)
        if any(self.newest[p] is None for p in delivering):
            return None
        times = [self.newest[p] for p in delivering] if delivering else list(self.newest.values())
        known = [t for t in times if t is not None]
        if not known:
            return None
        mark = (min(known) if delivering else max(known)) - lateness
        if not vouched:
            return mark
        stamps = [stamp for stamp in vouched if stamp is not None]
        if len(stamps) < len(vouched):  # confirmed before any input: vouches for none of it
            return None
        return min(mark, min(stamps) - lateness)

    def _idle(self, partition: Partition) -> EndAnswer | None:
        """None if the partition is not idle; else the answer that makes it so (without the
        broker's, its settle's: `_settled`)."""
        if self.ended_at.get(partition) is None:
            return None
        confirm = self.confirm
        answer = NO_ANSWER if confirm is None else confirm.verdict(partition, self.seen)
        if answer.at_end is False:
            return None
        settled = self._settled(partition) if answer.at_end is None else answer
        if settled is None or (self.behind is not None and self.behind(partition)):
            return None
        return settled

    def _settled(self, partition: Partition) -> EndAnswer | None:
        """The partition's last completed settle as an answer stamped with the input it vouches
        for, or None before its first; a new settle begins once input newer than the stamp of
        the one under way has arrived (see the module docstring)."""
        now, under_way = self.clock(), self.settling[partition]
        if now - under_way.began >= self.settle_s:
            self.settled[partition] = under_way
            if asked_before(under_way.seen, self.seen):
                self.settling[partition] = Settle(now, self.seen)
        done = self.settled.get(partition)
        return None if done is None else EndAnswer(True, done.seen)


def asked_before(stamp: Micros | None, seen: Micros | None) -> bool:
    """Whether a question stamped `stamp` (the newest time delivered when it was sent) was
    asked before input up to `seen` arrived: its answer says nothing of that input."""
    return seen is not None and (stamp is None or stamp < seen)
