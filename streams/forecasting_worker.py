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
        """One batch (`Worker.step`), then a forecast if one is due and the batch was not full
        (a full batch: catching up a backlog, at full speed)."""
        consumed = super().step()
        self.forecasts.consider(self.live, caught_up=consumed < self.settings.batch_size)
        return consumed

    def close(self) -> None:
        """Close the worker (`Worker.close`), then stop the forecast process."""
        try:
            super().close()
        finally:
            self.forecasts.close()
