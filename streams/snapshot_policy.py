"""When the worker takes a KPI snapshot, and when it refreshes the yard views.

A snapshot is taken at a cadence boundary of event time (`KafkaSettings.kpi_every`); its
value depends only on the events up to that boundary, so *which* boundaries are taken is a
matter of cost, decided here. Live, at most one per batch (the latest boundary crossed), and
never more than half the worker's time; while catching up (full batches), at most one per
`catchup_kpi_every_s` and never more than a tenth of its time, so a backlog is not slowed by
KPIs nobody reads yet. A consumer group's member follows the same catch-up rule, but on a grid
the members share, since the corridor's figure is merged from all the members' yard partials
at one boundary (`docs/scaling.md`): it takes every boundary it crosses on a grid of
`cadence × 2^level` aligned on event time (the epoch), the level chosen per batch from the
event-time pace so that its snapshots come as far apart in wall time as the single worker's
(live, boundaries minutes apart: level 0, every one). Grids of any two levels nest, so
whatever level each member is at as it crosses a moment, the coarser one's boundaries are
taken by both and the corridor is merged there.

Yard states, reefer lists and old boxes go to the store with every snapshot while catching up
or as the input falls quiet, and while events stream in live once per `VIEWS_EVERY_S` (not
with every live snapshot: at a live snapshot's pace, several a second, they were a third of
its cost, for a view the API shows to the second).
"""

import time
from collections.abc import Callable
from math import ceil, log2

from streams.live.reorder import Micros
from streams.live.twin import LiveTwin
from streams.settings import KafkaSettings

VIEWS_EVERY_S = 1.0  # live: yard states and reefers refreshed at most this often
MAX_LEVEL = 20  # a member's grid: at most 2^20 cadences apart (30 years of 15 min), or
# `KafkaSettings.member_kpi_every_max` if closer


class SnapshotPolicy:
    """The last snapshot taken (event time, wall time, cost) and the decisions that follow."""

    def __init__(
        self,
        catchup_every_s: float,
        monotonic: Callable[[], float] = time.monotonic,
        max_level: int = MAX_LEVEL,
    ) -> None:
        self.catchup_every_s = catchup_every_s
        self.max_level = max_level
        self.monotonic = monotonic
        self.last_at: Micros | None = None
        self._last_wall = float("-inf")
        self._cost = 0.0
        self._last_views_wall = float("-inf")
        self.level = 0  # a group member's grid: `cadence << level` (`member_level`)
        self._paced_from: Micros | None = None  # the target of its last batch with snapshots

    @classmethod
    def of(cls, settings: KafkaSettings) -> "SnapshotPolicy":
        """The policy `settings` ask for: a member's grid at most `member_kpi_every_max` apart
        (the largest power-of-two multiple of `kpi_every` within it), or as its pace says."""
        bound = settings.member_kpi_every_max
        if bound is None:  # MAX_LEVEL is a level (2^20 cadences), not a bound to take it from
            return cls(settings.catchup_kpi_every_s)
        ratio = bound // settings.kpi_every
        return cls(settings.catchup_kpi_every_s, max_level=min(MAX_LEVEL, ratio.bit_length() - 1))

    def boundaries(
        self, live: LiveTwin, target: Micros, cadence: Micros, member: bool, catching_up: bool
    ) -> list[Micros]:
        """The cadence boundaries to consider on the way from the live twin's watermark to
        `target`: the latest crossed (or none); for a group `member`, each one crossed on its
        grid (`member_level`), from its earliest held event on a new twin (a member's partials,
        which the corridor is merged from, must be at boundaries every member takes, whenever
        it loaded)."""
        latest = target - target % cadence
        since = live.watermark
        if since is not None and latest <= since:
            return []
        if member and since is None:
            since = live.buffer.earliest()
        if not member or since is None:
            return [latest] if self.after_last(latest) else []
        crossing = (latest - since) // cadence  # boundaries this batch crosses
        step = cadence << self.member_level(target, cadence, crossing, catching_up=catching_up)
        first = since - since % step + step
        crossed = [moment for moment in range(first, latest + 1, step) if self.after_last(moment)]
        if crossed:  # the pace is measured from this batch's end on (`member_level`)
            self._paced_from = target
        return crossed

    def due(self, boundary: Micros, *, catching_up: bool) -> bool:
        """Is a snapshot at this cadence boundary worth its cost now (the single worker's)?"""
        if not self.after_last(boundary):
            return False
        return self.monotonic() - self._last_wall >= self._gap(catching_up)

    def member_level(
        self, target: Micros, cadence: Micros, crossing: int, *, catching_up: bool
    ) -> int:
        """A group member's grid level for a batch reaching `target` and `crossing` that many
        boundaries: at most two snapshots a batch (the single worker takes one), and from the
        event-time pace since the batch of its last snapshot, so that they come about as far
        apart in wall time as the single worker's (`_gap`): raised as soon as the pace or the
        batch asks for a coarser grid, lowered once they ask for one at least four times finer
        (live, boundaries minutes apart: level 0, every boundary)."""
        wanted = max(0, crossing.bit_length() - 1)  # 2^wanted <= crossing: one or two on it
        if self._paced_from is not None:
            waited = max(self.monotonic() - self._last_wall, 1e-6)
            asked = (target - self._paced_from) * self._gap(catching_up) / waited / cadence
            if asked > 1:  # asked: cadences between snapshots at this pace
                wanted = max(wanted, ceil(log2(asked)))
        wanted = min(self.max_level, wanted)
        if wanted > self.level or wanted < self.level - 1:
            self.level = wanted
        return self.level

    def _gap(self, catching_up: bool) -> float:
        """Wall seconds between snapshots: live, the last one's cost (at most half the time);
        catching up, `catchup_every_s`, or ten times that cost if more (at most a tenth)."""
        return max(self.catchup_every_s, 10 * self._cost) if catching_up else self._cost

    def after_last(self, moment: Micros) -> bool:
        """Whether `moment` is later than the last snapshot taken (or none was)."""
        return self.last_at is None or moment > self.last_at

    def taken(self, moment: Micros, cost_s: float) -> None:
        """A snapshot at `moment` was taken and cost `cost_s` seconds."""
        self.last_at = moment
        self._cost = cost_s
        self._last_wall = self.monotonic()

    def views_due(self, *, streaming: bool, snapshot: bool) -> bool:
        """Time to send the yard views again? While events stream in live, when they were not
        refreshed for `VIEWS_EVERY_S`; catching up, or as the input falls quiet, with every
        `snapshot` (so the views of a quiet twin are its last state)."""
        if not streaming:
            return snapshot
        return self.monotonic() - self._last_views_wall >= VIEWS_EVERY_S

    def views_sent(self) -> None:
        """The yard views went out with this batch."""
        self._last_views_wall = self.monotonic()
