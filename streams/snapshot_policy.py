"""When the worker takes a KPI snapshot, and when it refreshes the yard views.

A snapshot is taken at a cadence boundary of event time (`KafkaSettings.kpi_every`); its
value depends only on the events up to that boundary, so *which* boundaries are taken is a
matter of cost, decided here. Live, at most one per batch (the latest boundary crossed), and
never more than half the worker's time; while catching up (full batches), at most one per
`catchup_kpi_every_s` and never more than a tenth of its time, so a backlog is not slowed by
KPIs nobody reads yet. A consumer group's member follows the same catch-up rule, but on a grid
the members share, since the corridor's figure is merged from all the members' yard partials
at one boundary (`docs/scaling.md`): it takes every boundary live, and catching up every
boundary on a grid of `cadence × 2^level` aligned on event time (the epoch), the level raised
when its snapshots come closer than the rule allows and lowered when they are four times
farther apart. Grids of any two levels nest, so whatever level each member is at as it crosses
a moment, the coarser one's boundaries are taken by both and the corridor is merged there.

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

VIEWS_EVERY_S = 1.0  # live: yard states and reefers refreshed at most this often
MAX_LEVEL = 20  # a member's catch-up grid: at most 2^20 cadences apart (30 years of 15 min)


class SnapshotPolicy:
    """The last snapshot taken (event time, wall time, cost) and the decisions that follow."""

    def __init__(
        self, catchup_every_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.catchup_every_s = catchup_every_s
        self.monotonic = monotonic
        self.last_at: Micros | None = None
        self._last_wall = float("-inf")
        self._cost = 0.0
        self._last_views_wall = float("-inf")
        self.level = 0  # a group member's catch-up grid: `cadence << level` (see `due`)

    def boundaries(
        self, live: LiveTwin, target: Micros, cadence: Micros, *, every: bool
    ) -> list[Micros]:
        """The cadence boundaries to consider on the way from the live twin's watermark to
        `target`: the latest crossed (or none), or with `every` each one crossed, from its
        earliest held event on a new twin (a group member's partials, which the corridor is
        merged from, must be at the boundaries every member takes, whenever it loaded)."""
        latest = target - target % cadence
        since = live.watermark
        if since is not None and latest <= since:
            return []
        if every and since is None:
            since = live.buffer.earliest()
        if not every or since is None:
            return [latest] if self.after_last(latest) else []
        first = since - since % cadence + cadence
        return [moment for moment in range(first, latest + 1, cadence) if self.after_last(moment)]

    def due(
        self, boundary: Micros, *, catching_up: bool, member_cadence: Micros | None = None
    ) -> bool:
        """Is a snapshot at this cadence boundary worth its cost now? A group member (its
        `member_cadence` given) answers on its shared grid instead (`member_due`)."""
        if not self.after_last(boundary):
            return False
        if member_cadence is not None:
            return self.member_due(boundary, member_cadence, catching_up=catching_up)
        waited = self.monotonic() - self._last_wall
        if not catching_up:
            return waited >= self._cost
        return waited >= self._catchup_gap()

    def member_due(self, boundary: Micros, cadence: Micros, *, catching_up: bool) -> bool:
        """A group member's rule: live every boundary; catching up, the boundaries on its grid,
        whose level moves, at a boundary on the grid, to keep the snapshots between one and
        four catch-up gaps apart (`_catchup_gap`): up at once to the grid the pace since the
        last snapshot asks for, down one level at a time."""
        if not catching_up:
            return True
        if boundary % (cadence << self.level):
            return False
        waited, gap = self.monotonic() - self._last_wall, self._catchup_gap()
        if waited < gap and self.last_at is not None:
            spacing = (boundary - self.last_at) * gap / max(waited, 1e-6)  # event time asked
            self.level = min(MAX_LEVEL, max(self.level + 1, ceil(log2(spacing / cadence))))
        elif waited >= 4 * gap and self.level > 0:
            self.level -= 1
        return boundary % (cadence << self.level) == 0

    def _catchup_gap(self) -> float:
        """Wall seconds between catch-up snapshots: `catchup_every_s`, or ten times the last
        one's cost if more (so snapshots take at most a tenth of a backlog's time)."""
        return max(self.catchup_every_s, 10 * self._cost)

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
