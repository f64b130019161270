"""A worker that also forecasts: the loop of `streams.worker`, with the forecast schedule
(`streams.forecast_schedule`) consulted as the watermark moves and after each batch, and stopped
on a hand-over and first thing on close.

Kept apart from `streams.worker` so the loop itself stays as it is: the schedule only reads the
live twin between batches (and stops the watermark at a grid point of its own, where it takes
the twin's snapshot), and its work runs in another process.
"""

from typing import Any

from corridor.store_contract import TwinBatch
from streams import rebalance
from streams.forecast_schedule import ForecastSchedule
from streams.live.reorder import Micros
from streams.outputs_sink import Letter
from streams.worker import Worker


class ForecastingWorker(Worker):
    """`Worker` plus forecasts from its live twin on a schedule."""

    def __init__(self, *args: Any, forecasts: ForecastSchedule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forecasts = forecasts

    def step(self) -> int:
        """One batch (`Worker.step`), then a forecast if one waits and the worker is caught up."""
        consumed = super().step()
        self.forecasts.consider(self.live, caught_up=self.caught_up(consumed))
        return consumed

    def caught_up(self, consumed: int) -> bool:
        """The batch was not full, less than a batch waits on the partitions (their ends as the
        last fetches saw them), and the watermark is within the lateness and one KPI step of
        the newest event: a backlog, even read in short batches, is caught up first, and a
        partition still delivering old events holds no forecast back to its time."""
        if consumed >= self.settings.batch_size:
            return False
        live = self.live
        if live.watermark is None or live.newest is None:
            return False
        if live.newest - live.watermark > self.lateness + self.cadence:
            return False
        waiting = self.recovery.lag(self.consumer, self.positions)
        return waiting is not None and waiting < self.settings.batch_size

    def forecast_yards(self) -> frozenset[str]:
        """The yards this worker forecasts: every yard, or a group member's own (those its
        twin has events of: the yards of its partitions)."""
        if self.group is None or self.group.owns_all:
            return frozenset(self.live.stations)
        return frozenset(rebalance.yards_of(self.live))

    def _advance(self, moment: Micros, batch: TwinBatch, letters: list[Letter]) -> None:
        """Move the watermark to `moment`, stopping at the forecast grid point on the way if a
        forecast is due there, to snapshot the twin at it (`ForecastSchedule.take`)."""
        at_end = self.tracker.all_at_end()
        point = self.forecasts.boundary(self.live.watermark, moment, at_end=at_end)
        if point is None:
            super()._advance(moment, batch, letters)
            return
        super()._advance(point, batch, letters)
        claim = self.group.claim if self.group is not None else None
        self.forecasts.take(self.live, point, self.forecast_yards(), claim)
        if moment > point:
            super()._advance(moment, batch, letters)

    def hand_over(self) -> None:
        """Hand the partitions over (`Worker.hand_over`); a forecast of their yards under way
        or waiting is dropped (the new owner forecasts them from now on)."""
        try:
            super().hand_over()
        finally:
            self.forecasts.cancel()

    def close(self) -> None:
        """Stop the forecast process (a forecast under way is killed: nothing would store it
        after the close, and it would take CPU from the close), then close the worker
        (`Worker.close`)."""
        try:
            self.forecasts.close()
        finally:
            super().close()
