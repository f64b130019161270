"""A worker that also forecasts: the loop of `streams.worker`, with the forecast schedule
(`streams.forecast_schedule`) consulted after each batch and stopped on close.

Kept apart from `streams.worker` so the loop itself stays as it is: the schedule only reads the
live twin between batches, and its work runs in another process.
"""

from typing import Any

from streams.forecast_schedule import ForecastSchedule
from streams.worker import Worker


class ForecastingWorker(Worker):
    """`Worker` plus forecasts from its live twin on a schedule."""

    def __init__(self, *args: Any, forecasts: ForecastSchedule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forecasts = forecasts

    def step(self) -> int:
        """One batch (`Worker.step`), then a forecast if one is due and the worker is caught up."""
        consumed = super().step()
        self.forecasts.consider(self.live, caught_up=self.caught_up(consumed))
        return consumed

    def caught_up(self, consumed: int) -> bool:
        """The batch was not full, less than a batch waits on the partitions (their ends as the
        last fetches saw them), and the watermark is within the lateness and one KPI step of
        the newest event: a backlog, even read in short batches, is caught up first, and a
        partition still delivering old events holds no forecast back to its time. A consumer
        group's member forecasts only while it holds every partition (a group of one)."""
        if consumed >= self.settings.batch_size:
            return False
        if self.group is not None and not self.group.owns_all:
            return False  # a group's member sees some yards only: no corridor to forecast
        live = self.live
        if live.watermark is None or live.newest is None:
            return False
        if live.newest - live.watermark > self.lateness + self.cadence:
            return False
        waiting = self.recovery.lag(self.consumer, self.positions)
        return waiting is not None and waiting < self.settings.batch_size

    def close(self) -> None:
        """Close the worker (`Worker.close`), then stop the forecast process."""
        try:
            super().close()
        finally:
            self.forecasts.close()
