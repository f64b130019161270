"""Forecasts from the live yard, computed by the API from the worker's archive.

The worker archives every event it accepts (`api.store.sql_store`); a forecast needs the yards
as they are now, so this service rebuilds them by replaying the last `forecast_lookback_h`
hours of that archive (`corridor.forecast.start_state.replay_start`, with the worker's seed)
and runs the forecast's replications (`corridor.forecast.run`). "Now" is the newest archived
event time, rounded down to the `forecast_every_min` grid of event time (15 min by default):
a forecast is computed at most once per grid step and horizon, on the first request that
needs it, and served from memory until the archive passes the next step. That keeps the
worker's loop free of forecasting (its batches stay as fast as before) and needs no table of
its own.

Work runs in one spawned process (never in the API's, which has threads and must not fork,
and whose GIL must stay free), one forecast at a time; that process forks the replications
(`corridor.forecast.forking`). At most `MAX_WAITING` distinct forecasts wait for it: past
that, a request is refused with 503 and `Retry-After`.
"""

import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import status
from sqlalchemy import Engine

from api.limits import LimitExceededError
from api.settings import ApiSettings
from api.store.archive_window import events_between, newest_event_time
from api.store.sql_store import SqlStore
from corridor.forecast.run import forecast
from corridor.forecast.start_state import ANNOUNCED_AHEAD, ReplayStart, replay_start
from corridor.runtime import tune_gc_for_a_long_lived_twin
from stations.spec import StationSpec

MAX_WAITING = 4
KEPT = 16  # forecasts kept in memory (grid steps x horizons)
_GRID_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


class NoHistoryError(LookupError):
    """Nothing archived in the lookback window: no yard to start from."""


@dataclass(frozen=True, slots=True)
class ForecastRequest:
    """One forecast to compute in the worker process (picklable)."""

    database_url: str
    stations: Mapping[str, StationSpec]
    seed: int
    now: datetime
    hours: int
    lookback: timedelta
    replications: int
    workers: int


def read_start(request: ForecastRequest) -> ReplayStart:
    """The yards at `request.now`, rebuilt from the archive's lookback window."""
    store = SqlStore.open(request.database_url, migrate=False)
    try:
        since = request.now - request.lookback - ANNOUNCED_AHEAD  # departures announced early
        events = events_between(store.engine, since, request.now)
    finally:
        store.close()  # no connection may be shared with the forked replications
    if not events:
        raise NoHistoryError(f"no event archived in the {request.lookback} before {request.now}")
    return replay_start(events, request.stations, request.seed, request.now, request.lookback)


def compute_forecast(request: ForecastRequest) -> dict[str, Any]:
    """Read the archive's window, rebuild the yards, forecast; the result as plain values."""
    tune_gc_for_a_long_lived_twin()
    result = forecast(
        read_start(request),
        seed=request.seed,
        hours=request.hours,
        replications=request.replications,
        workers=request.workers,
    )
    return {**result.as_dict(), "computed_at": datetime.now(UTC).isoformat()}


def on_grid(moment: datetime, every_min: int) -> datetime:
    """`moment` rounded down to the grid of `every_min` minutes (UTC)."""
    return moment - (moment - _GRID_ORIGIN) % timedelta(minutes=every_min)


class Forecaster:
    """Computes forecasts in a process of its own and keeps the latest ones."""

    def __init__(
        self, engine: Engine, settings: ApiSettings, stations: Mapping[str, StationSpec]
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.stations = dict(stations)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[datetime, int], Future[dict[str, Any]]] = OrderedDict()

    def start(self) -> None:
        """Open the (spawned, single) worker process lazily: it starts on the first forecast."""
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def stop(self) -> None:
        """Stop the worker process (a forecast under way is abandoned)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None
        with self._lock:
            self._kept.clear()

    def now(self) -> datetime | None:
        """The moment the current forecast starts from (None: nothing archived yet)."""
        newest = newest_event_time(self.engine)
        return None if newest is None else on_grid(newest, self.settings.forecast_every_min)

    def latest(self, hours: int) -> dict[str, Any] | None:
        """The forecast of the next `hours` from now (blocks while it is computed)."""
        now = self.now()
        if now is None:
            return None
        future = self._future(now, hours)
        try:
            return future.result()
        except NoHistoryError:
            return None
        except BaseException:
            with self._lock:  # a failure is not kept: the next request tries again
                if self._kept.get((now, hours)) is future:
                    del self._kept[(now, hours)]
            raise

    def submit(self, function: Any, *args: Any) -> "Future[Any]":
        """Run another job (a what-if) in the same process, after the forecasts before it."""
        if self._pool is None:
            raise RuntimeError("the forecaster is not started")
        return self._pool.submit(function, *args)

    def _future(self, now: datetime, hours: int) -> "Future[dict[str, Any]]":
        key = (now, hours)
        with self._lock:
            future = self._kept.get(key)
            if future is not None:
                self._kept.move_to_end(key)
                return future
            if self._pool is None:
                raise RuntimeError("the forecaster is not started")
            waiting = sum(1 for kept in self._kept.values() if not kept.done())
            if waiting >= MAX_WAITING:
                raise LimitExceededError(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    f"{waiting} forecasts are being computed; try again shortly",
                    self.settings.retry_after_s,
                )
            settings = self.settings
            request = ForecastRequest(
                database_url=settings.database_url,
                stations=self.stations,
                seed=settings.forecast_seed,
                now=now,
                hours=hours,
                lookback=timedelta(hours=settings.forecast_lookback_h),
                replications=settings.forecast_replications,
                workers=settings.forecast_workers,
            )
            future = self._pool.submit(compute_forecast, request)
            self._kept[key] = future
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
            return future
