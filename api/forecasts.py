"""Forecasts from the live yard: the worker's, read from the store; what-ifs, run here.

The next-shift forecast is computed by the worker from its live twin on a schedule
(`streams.forecast_schedule`, docs/forecast.md) over its longest horizon (24 h by default) and
stored (`api.store.forecasts`). `Forecaster.latest(hours)` reads the newest and keeps its first
`hours` (`first_hours`): the hours, the boxes over 24 h at the end of hour `hours`, the trains
due before then. Under a consumer group each member stores its yards' parts and the store merges
the corridor's forecast once every yard's part of a moment is in (`api.store.yard_forecasts`);
a yard's own forecast is served from its newest part when that is newer than the newest merged
forecast (a member forecasts a moment another has not reached yet), so a yard is never served
older than its owner's newest. The API computes no forecast of its own, so every API process
serves the same one and costs nothing per request.

What-ifs still run here (`api.whatif_jobs`): the yards are rebuilt from the worker's archive's
last `forecast_lookback_h` hours (`corridor.forecast.start_state.replay_start`, with the
worker's seed), at "now" = the newest archived event time rounded down to the
`forecast_every_min` grid. That work runs in one spawned process (never in the API's, which has
threads and must not fork, and whose GIL must stay free), one job at a time; that process forks
the replications (`corridor.forecast.forking`).
"""

from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from api.job_processes import end_at_once, job_pool
from api.settings import ApiSettings
from api.store import forecasts, yard_forecasts
from api.store.archive_window import events_between, newest_event_time
from api.store.sql_store import SqlStore
from corridor.forecast.start_state import ANNOUNCED_AHEAD, ReplayStart, replay_start
from corridor.forecast.yard_parts import merge_parts
from stations.spec import StationSpec

_GRID_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


class NoHistoryError(LookupError):
    """Nothing archived in the lookback window: no yard to start from."""


@dataclass(frozen=True, slots=True)
class ForecastRequest:
    """The start of a what-if, to rebuild in the job process (picklable)."""

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


def on_grid(moment: datetime, every_min: int) -> datetime:
    """`moment` rounded down to the grid of `every_min` minutes (UTC)."""
    return moment - (moment - _GRID_ORIGIN) % timedelta(minutes=every_min)


class Forecaster:
    """Serves the worker's stored forecasts; runs what-ifs in a process of its own."""

    def __init__(
        self, engine: Engine, settings: ApiSettings, stations: Mapping[str, StationSpec]
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.stations = dict(stations)
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Open the (spawned, single) job process lazily: it starts with the first what-if."""
        self._pool = job_pool(1)  # spawned, gone with this process

    def stop(self) -> None:
        """End the job process at once: a what-if under way is abandoned, not waited for."""
        if self._pool is not None:
            end_at_once(self._pool)
        self._pool = None

    def now(self) -> datetime | None:
        """The moment a what-if starts from (None: nothing archived yet)."""
        newest = newest_event_time(self.engine)
        return None if newest is None else on_grid(newest, self.settings.forecast_every_min)

    def latest(self, hours: int, yard: str | None = None) -> dict[str, Any] | None:
        """The worker's newest forecast, its first `hours` only (None: none stored yet); for
        `yard`, its newest part instead when that is newer (see the module docstring).

        Raises `HorizonError` when the stored forecast is shorter than `hours`."""
        stored = forecasts.latest(self.engine)
        result = None if stored is None else stored.result
        part = None if yard is None else yard_forecasts.newest(self.engine, yard)
        if part is not None and (stored is None or part.now > stored.now):
            alone = merge_parts(part.now, part.horizon_h, {part.yard: part.part}).as_dict()
            result = {**alone, "computed_at": part.computed_at.isoformat()}
        return None if result is None else first_hours(result, hours)

    def submit(self, function: Any, *args: Any) -> "Future[Any]":
        """Run a job (a what-if) in the job process, after the jobs before it."""
        if self._pool is None:
            raise RuntimeError("the forecaster is not started")
        return self._pool.submit(function, *args)


class HorizonError(LookupError):
    """The stored forecast does not reach as far as asked."""


def first_hours(result: dict[str, Any], hours: int) -> dict[str, Any]:
    """A stored forecast (`Forecast.as_dict`) cut to its first `hours`: for every scope its
    hours, the boxes over 24 h at the end of hour `hours` and the trains due before then."""
    reach = int(result["horizon_h"])
    if hours > reach:
        raise HorizonError(f"hours: the worker's forecasts reach {reach} h, asked for {hours}")
    end = datetime.fromisoformat(result["now"]) + timedelta(hours=hours)
    scopes = {"corridor": result["corridor"], **result["yards"]}
    cut = {scope: _first_hours(part, hours, end) for scope, part in scopes.items()}
    corridor = cut.pop("corridor")
    return {**result, "horizon_h": hours, "yards": cut, "corridor": corridor}


def _first_hours(part: dict[str, Any], hours: int, end: datetime) -> dict[str, Any]:
    by_hour = part["boxes_over_24h_by_hour"]
    return {
        **part,
        "hours": part["hours"][:hours],
        "boxes_over_24h": by_hour[hours - 1],
        "boxes_over_24h_by_hour": by_hour[:hours],
        "trains_at_risk": [
            train
            for train in part["trains_at_risk"]
            if train["departure"] is not None and datetime.fromisoformat(train["departure"]) < end
        ],
    }
