"""The worker's forecasts: when the live twin is forecast, and where the work runs.

The worker owns the live twin, so it is the one to forecast from it (`docs/forecast.md`, "The
worker's schedule"). Forecasts start on a grid of `every_min` minutes of event time (15 min by
default, aligned on event time), so that members of a consumer group, each holding some yards,
forecast the same moments and their yards' parts merge into the corridor's forecast
(`api.store.yard_forecasts`). As the worker moves its watermark (`streams.forecasting_worker`),
the schedule asks (`boundary`) whether the move crosses a grid point B it wants:

- was the worker caught up after its last batch, or is every input partition at its end?
  (caught up: the batch was not full, fewer than a batch of messages wait on its partitions,
  as their cached end offsets say, and the watermark is within the lateness and one KPI step
  of the newest event: a backlog is read at full speed, with no forecast, so catching up is as
  fast as without them; `streams.forecasting_worker`);
- is B in a later step than the last forecast taken?
- have `min_wall_s` seconds of wall time passed since then (a fast replay of old events does
  not start one forecast per step)?

If so, the worker stops its watermark at B, and the live twin's engine snapshot is taken there
(`Twin.snapshot`, tens of milliseconds), cut to the worker's yards (a group member's: those of
its partitions; a single worker's: all). After the batch (`consider`), if the worker is still
caught up, a process of its own is spawned for it (in the kernel's idle scheduling class
`SCHED_IDLE` where there is one, so that it runs only on CPU time nothing else wants, and
reniced by `nice` besides; `idle_class` false: niced only), which forks the replications from
it (`corridor.forecast.live_start.run_live_parts`: no archive read, no history replayed) and
writes each yard's part (every replication's figures) to a file. One runs at a time: a snapshot
taken while one runs waits for it (only the newest waits; an older one is dropped and
counted). The consume loop never waits for the process, not even on a pipe (a starved
idle-class process must not hold the loop): a later batch sees the process gone, reads the
file and stores the parts (`ForecastSink.put_yard_forecasts`), fenced by the claim the member
held when the snapshot was taken; the store merges the corridor's forecast once every yard's
part of that moment is in, and the API reads it. A forecast that fails (or is refused: the
yards were handed over since) is logged and counted; the next step tries again. A snapshot
refused at a busy instant (`SnapshotError`) skips that step. On a hand-over (`cancel`) and on
close (first thing in the worker's close) a forecast under way is killed, its forked
replications with it, and a waiting one dropped. A worker that dies (`kill -9`, or ended by
its stop deadline, `streams.stopping`) takes its forecast along too: the forecast process
watches it (`corridor.runtime.orphan_watch`) and exits at once, removing the job's files
(`tests/test_forecast_process_exit.py`: gone within 0.1 s).

Settings come from the environment (`CORRIDOR_FORECAST_<FIELD>`); `every_min` 0 turns it off.
"""

import logging
import math
import multiprocessing
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Annotated, Any, Protocol, runtime_checkable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from corridor.engine.snapshots import encode
from corridor.forecast.forking import fork_safe
from corridor.forecast.live_start import LiveForecastJob, run_live_parts
from corridor.forecast.run import MAX_HOURS
from corridor.forecast.yard_parts import PartsOwner
from corridor.runtime import orphan_watch
from stations.snapshot import SnapshotError
from stations.spec import StationSpec
from streams.live.reorder import Micros, from_micros
from streams.live.twin import LiveTwin

log = logging.getLogger(__name__)
_MICROS_PER_MIN = 60_000_000


class ForecastSettings(BaseSettings):
    """The worker's forecast schedule and the size of each forecast (docs/forecast.md)."""

    model_config = SettingsConfigDict(env_prefix="CORRIDOR_FORECAST_", frozen=True, extra="forbid")

    every_min: Annotated[int, Field(ge=0, le=24 * 60)] = 15  # event time between; 0: off
    min_wall_s: Annotated[float, Field(ge=0)] = 60.0  # wall time between two forecasts' starts
    hours: Annotated[int, Field(ge=1, le=MAX_HOURS)] = MAX_HOURS  # the API serves any up to it
    replications: Annotated[int, Field(ge=2, le=64)] = 8
    workers: Annotated[int, Field(ge=1, le=16)] = 2  # replications forked at a time
    nice: Annotated[int, Field(ge=0, le=19)] = 10  # the forecast process's priority below ours
    idle_class: bool = True  # and in SCHED_IDLE (Linux): only CPU time nothing else wants
    kept: Annotated[int, Field(ge=1, le=1000)] = 16  # the newest stored forecasts


@runtime_checkable
class ForecastSink(Protocol):
    """Where forecasts go: a store with a `put_yard_forecasts` (`api.store.sql_store.SqlStore`)."""

    def put_yard_forecasts(self, result: dict[str, Any], keep: int, owner: PartsOwner) -> bool:
        """Store a forecast's yard parts (fenced by the owner's claim), merging the corridor's
        forecast once every yard of the owner's corridor is in; keep the newest `keep`."""
        ...


def _lower_priority(nice: int, idle_class: bool) -> None:
    """In the forecast process: yield the CPU to the worker and the broker (forked replications
    inherit it). SCHED_IDLE runs a process only when no other wants the CPU; niceness alone
    still takes a share under load (`benchmarks/bench_worker_forecast.py`)."""
    os.nice(nice)
    if idle_class and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError as error:  # not allowed here: niced only
            log.warning("the forecast process stays niced only: %s", error)


def _end_with_the_worker(files: Path) -> None:
    """In the forecast process: exit the moment the worker is gone (killed, or ended by its stop
    deadline), removing the job's files, which the worker cannot any more: nobody is left to
    store the result. The watch only waits, so the replications still fork beside it
    (`corridor.forecast.forking`, which kills them with this process)."""
    watch = orphan_watch("forecast-watch", lambda: shutil.rmtree(files, ignore_errors=True))
    if watch is not None:
        fork_safe(watch).start()


def forecast_process(job_path: str, result_path: str, nice: int, idle_class: bool) -> None:
    """The forecast process's body: read the job, forecast, write the result (or the error);
    gone with the worker."""
    _end_with_the_worker(Path(job_path).parent)
    _lower_priority(nice, idle_class)
    try:
        with open(job_path, "rb") as file:
            job = pickle.load(file)
        outcome: tuple[str, Any] = ("ok", run_live_parts(job))
    except Exception as error:  # reported to the worker, which logs and counts it
        outcome = ("error", f"{type(error).__name__}: {error}")
    partial = result_path + ".partial"
    with open(partial, "wb") as file:
        pickle.dump(outcome, file)
    os.replace(partial, result_path)  # whole or absent


@dataclass
class _Running:
    process: BaseProcess
    result_path: Path
    claim: str | None


@dataclass(frozen=True)
class _Waiting:
    job: LiveForecastJob
    claim: str | None


class ForecastSchedule:
    """Takes the live twin's snapshot on the forecast grid when due, forecasts it in a process
    of its own, one at a time, and stores the yards' parts."""

    def __init__(
        self,
        settings: ForecastSettings,
        sink: ForecastSink,
        stations: Mapping[str, StationSpec],
        group_id: str = "",
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.stations = dict(stations)
        self.group_id = group_id
        self.every: Micros = settings.every_min * _MICROS_PER_MIN
        self._files: Path | None = None  # the jobs' and results' directory, made on first use
        self._running: _Running | None = None
        self._waiting: _Waiting | None = None  # a snapshot taken while one ran
        self._ready = False  # the last batch left the worker caught up
        self._last_step: int | None = None  # the grid step of the last snapshot taken
        self._last_wall = -math.inf
        self.started = self.stored = self.failed = self.dropped = 0

    @property
    def running(self) -> bool:
        """Whether a forecast is being computed."""
        return self._running is not None

    def boundary(
        self, watermark: Micros | None, moment: Micros, *, at_end: bool = False
    ) -> Micros | None:
        """The grid point in (watermark, moment] to take a snapshot at, if one is due (see the
        module docstring); None otherwise. `at_end`: every input partition is at its end (the
        worker is live whatever its last batch was: the first move after a catch-up may be
        the quiet one to the newest event)."""
        if self.every <= 0 or not (self._ready or at_end):
            return None
        step = moment // self.every
        point = step * self.every
        if watermark is not None and point <= watermark:
            return None
        if self._last_step is not None and step <= self._last_step:
            return None
        if time.monotonic() - self._last_wall < self.settings.min_wall_s:
            return None
        return point

    def take(
        self, live: LiveTwin, point: Micros, yards: Iterable[str], claim: str | None = None
    ) -> bool:
        """Snapshot the twin, now at grid point `point`, for a forecast of `yards` (stored
        under `claim`); it starts after the batch (`consider`). Returns whether it was taken."""
        chosen = frozenset(yards)
        if live.twin is None or live.watermark != point or not chosen:
            return False
        self._last_step, self._last_wall = point // self.every, time.monotonic()
        try:
            data = encode(live.twin.snapshot())
        except SnapshotError as error:  # an event due at this very instant: the next step
            log.debug("no forecast at this grid point: %s", error)
            return False
        settings = self.settings
        job = LiveForecastJob(
            data,
            self.stations,
            from_micros(point),
            settings.hours,
            settings.replications,
            settings.workers,
            chosen,
        )
        self.dropped += int(self._waiting is not None)  # only the newest waits
        self._waiting = _Waiting(job, claim)
        return True

    def consider(self, live: LiveTwin, *, caught_up: bool) -> bool:
        """After a batch: collect a finished forecast, then start the waiting one if the worker
        is caught up (a waiting one is dropped if not). Returns whether one was started."""
        self.collect()
        self._ready = caught_up
        waiting = self._waiting
        if waiting is None:
            return False
        if not caught_up:  # a burst came: catch up first, and forecast a later moment
            self._waiting = None
            self.dropped += 1
            return False
        if self._running is not None:
            return False
        self._waiting = None
        self._start(waiting)
        self.started += 1
        return True

    def cancel(self) -> None:
        """The worker's yards were handed over: kill a forecast under way, drop a waiting one
        (the store would refuse them anyway: their claim is gone)."""
        running, self._running = self._running, None
        if running is not None and running.process.exitcode is None:
            running.process.kill()
            running.process.join(5.0)
        self._waiting = None
        self._ready = False

    def collect(self, timeout: float | None = None) -> bool:
        """Store the running forecast if it has finished (waiting up to `timeout` seconds)."""
        running = self._running
        if running is None:
            return False
        running.process.join(timeout if timeout is not None else 0)
        if running.process.exitcode is None:
            return False
        self._running = None
        try:
            status, value = self._outcome(running)
            if status != "ok":
                raise RuntimeError(value)
            owner = PartsOwner(self.group_id, running.claim, tuple(sorted(self.stations)))
            self.sink.put_yard_forecasts(value, self.settings.kept, owner)
        except Exception as error:  # the forecast's or the store's: the next step tries again
            self.failed += 1
            log.error("forecast failed (%s: %.300s)", type(error).__name__, error)
            return False
        self.stored += 1
        log.info(
            "forecast of %s from %s stored (%d h)",
            ", ".join(value["parts"]),
            value["now"],
            value["horizon_h"],
        )
        return True

    def close(self) -> None:
        """Stop a forecast under way (killed, not stored) and remove the files."""
        self.cancel()
        if self._files is not None:
            shutil.rmtree(self._files, ignore_errors=True)
            self._files = None

    def _start(self, waiting: _Waiting) -> None:
        """Spawn the forecast process (spawned: the worker has threads and must not fork)."""
        if self._files is None:
            self._files = Path(tempfile.mkdtemp(prefix="corridor-forecast-"))
        number = self.started
        job_path = self._files / f"job-{number}.pickle"
        result_path = self._files / f"result-{number}.pickle"
        with open(job_path, "wb") as file:
            pickle.dump(waiting.job, file, protocol=pickle.HIGHEST_PROTOCOL)
        settings = self.settings
        context = multiprocessing.get_context("spawn")
        process = context.Process(
            target=forecast_process,
            args=(str(job_path), str(result_path), settings.nice, settings.idle_class),
            name="corridor-forecast",
            daemon=True,
        )
        process.start()
        self._running = _Running(process, result_path, waiting.claim)

    @staticmethod
    def _outcome(running: _Running) -> tuple[str, Any]:
        path = running.result_path
        if not path.exists():
            code = running.process.exitcode
            return "error", f"the forecast process ended (exit code {code}) without a result"
        try:
            with open(path, "rb") as file:
                outcome: tuple[str, Any] = pickle.load(file)
        finally:
            path.unlink(missing_ok=True)
            path.with_name(path.name.replace("result", "job")).unlink(missing_ok=True)
        return outcome


def schedule_for(
    settings: ForecastSettings,
    store: object,
    stations: Mapping[str, StationSpec],
    group_id: str = "",
) -> ForecastSchedule | None:
    """The schedule for a worker on `store`, or None: turned off, or a store without a place
    for forecasts (the in-memory one of tests)."""
    if settings.every_min <= 0 or not isinstance(store, ForecastSink):
        return None
    return ForecastSchedule(settings, store, stations, group_id)
