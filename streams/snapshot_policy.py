"""When the worker takes a KPI snapshot, and when it refreshes the yard views.

A snapshot is taken at a cadence boundary of event time (`KafkaSettings.kpi_every`); its
value depends only on the events up to that boundary, so *which* boundaries are taken is a
matter of cost, decided here, except in a consumer group: there every member snapshots every
boundary, since the corridor's figure is merged from all the members' yard partials at one
boundary (`docs/scaling.md`). Live, at most one per batch (the latest boundary crossed), and
never more than half the worker's time; while catching up (full batches), at most one per
`catchup_kpi_every_s` and never more than a tenth of its time, so a backlog is not slowed by
KPIs nobody reads yet. Yard states, reefer lists and old boxes go to the store with every
snapshot while catching up or as the input falls quiet, and while events stream in live once
per `VIEWS_EVERY_S` (not with every live snapshot: at a live snapshot's pace, several a
second, they were a third of its cost, for a view the API shows to the second).
"""

import time
from collections.abc import Callable

from streams.live.reorder import Micros
from streams.live.twin import LiveTwin

VIEWS_EVERY_S = 1.0  # live: yard states and reefers refreshed at most this often


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

    def due(self, boundary: Micros, *, catching_up: bool) -> bool:
        """Is a snapshot at this cadence boundary worth its cost now?"""
        if not self.after_last(boundary):
            return False
        waited = self.monotonic() - self._last_wall
        if not catching_up:
            return waited >= self._cost
        return waited >= max(self.catchup_every_s, 10 * self._cost)

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
