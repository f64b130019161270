"""The worker's forecasts: when the live twin is forecast, and where the work runs.

The worker owns the live twin, so it is the one to forecast from it (`docs/forecast.md`, "The
worker's schedule"). After each batch (`streams.forecasting_worker`) the schedule asks:

- is the worker caught up? (the batch was not full, fewer than a batch of messages wait on its
  partitions, as their cached end offsets say, and the watermark is within the lateness and
  one KPI step of the newest event: a backlog is read at full speed, with no forecast, so
  catching up is as fast as without them; `streams.forecasting_worker`);
- has the watermark entered a new step of `every_min` minutes of event time since the last
  forecast was started (15 min by default)?
- have `min_wall_s` seconds of wall time passed since then (a fast replay of old events does
  not start one forecast per step)?
- is no forecast running? One runs at a time; a step that comes while one runs is not queued
  but dropped (the next batch after it finishes starts one from the twin as it is then, so no
  stale state is ever forecast).

If so, the live twin's engine snapshot is taken at the watermark (`Twin.snapshot`, tens of
milliseconds), written to a file, and a process of its own is spawned for it (in the kernel's
idle scheduling class `SCHED_IDLE` where there is one, so that it runs only on CPU time
nothing else wants, and reniced by `nice` besides; `idle_class` false: niced only), which
forks the replications from it (`corridor.forecast.live_start.run_live_forecast`: no archive
read, no history replayed) and writes the result to another file. The consume loop never
waits for it, not even on a pipe (a starved idle-class process must not hold the loop): a
later batch sees the process gone, reads the file and stores the forecast
(`ForecastSink.put_forecast`, `api.store.forecasts`), where the API reads it. A forecast that
fails is logged and counted; the next step tries again. A snapshot refused at a busy instant
(`SnapshotError`) is tried at the next batch. On close a forecast under way is killed.

Settings come from the environment (`CORRIDOR_FORECAST_<FIELD>`); `every_min` 0 turns it off.
A consumer group's member forecasts only while it holds every partition (a group of one, as
`docker compose` runs by default); with several, none does (each twin holds only its share).
"""

import logging
import math
import multiprocessing
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Annotated, Any, Protocol, runtime_checkable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from corridor.engine.snapshots import encode
from corridor.forecast.live_start import LiveForecastJob, run_live_forecast
from corridor.forecast.run import MAX_HOURS
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
    """Where forecasts go: a store with a `put_forecast` (`api.store.sql_store.SqlStore`)."""

    def put_forecast(self, result: dict[str, Any], keep: int) -> None:
        """Store a forecast's plain values, keeping the newest `keep`."""
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


def forecast_process(job_path: str, result_path: str, nice: int, idle_class: bool) -> None:
    """The forecast process's body: read the job, forecast, write the result (or the error)."""
    _lower_priority(nice, idle_class)
    try:
        with open(job_path, "rb") as file:
            job = pickle.load(file)
        outcome: tuple[str, Any] = ("ok", run_live_forecast(job))
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


class ForecastSchedule:
    """Starts forecasts from the live twin when due, one at a time, and stores them."""

    def __init__(
        self, settings: ForecastSettings, sink: ForecastSink, stations: Mapping[str, StationSpec]
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.stations = dict(stations)
        self.every: Micros = settings.every_min * _MICROS_PER_MIN
        self._files: Path | None = None  # the jobs' and results' directory, made on first use
        self._running: _Running | None = None
        self._last_step: int | None = None  # the event-time step of the last forecast started
        self._last_wall = -math.inf
        self._dropped_step: int | None = None  # a step that came while a forecast ran
        self.started = self.stored = self.failed = self.dropped = 0

    @property
    def running(self) -> bool:
        """Whether a forecast is being computed."""
        return self._running is not None

    def consider(self, live: LiveTwin, *, caught_up: bool) -> bool:
        """Collect a finished forecast, then start one if due (see the module docstring).

        Returns whether one was started."""
        self.collect()
        watermark = live.watermark
        if self.every <= 0 or not caught_up or live.twin is None or watermark is None:
            return False
        step = watermark // self.every
        if self._last_step is not None and step <= self._last_step:
            return False
        if self._running is not None:  # dropped, not queued: counted once per step
            self.dropped += int(step != self._dropped_step)
            self._dropped_step = step
            return False
        if time.monotonic() - self._last_wall < self.settings.min_wall_s:
            return False
        try:
            data = encode(live.twin.snapshot())
        except SnapshotError as error:  # an event due at this very instant: at the next batch
            log.debug("no forecast at this watermark: %s", error)
            return False
        settings = self.settings
        job = LiveForecastJob(
            data,
            self.stations,
            from_micros(watermark),
            settings.hours,
            settings.replications,
            settings.workers,
        )
        self._start(job)
        self._last_step, self._last_wall = step, time.monotonic()
        self.started += 1
        return True

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
            self.sink.put_forecast(value, self.settings.kept)
        except Exception as error:  # the forecast's or the store's: the next step tries again
            self.failed += 1
            log.error("forecast failed (%s: %.300s)", type(error).__name__, error)
            return False
        self.stored += 1
        log.info("forecast from %s stored (%d h)", value["now"], value["horizon_h"])
        return True

    def close(self) -> None:
        """Stop a forecast under way (killed, not stored) and remove the files."""
        running, self._running = self._running, None
        if running is not None and running.process.exitcode is None:
            running.process.kill()
            running.process.join(5.0)
        if self._files is not None:
            shutil.rmtree(self._files, ignore_errors=True)
            self._files = None

    def _start(self, job: LiveForecastJob) -> None:
        """Spawn the forecast process (spawned: the worker has threads and must not fork)."""
        if self._files is None:
            self._files = Path(tempfile.mkdtemp(prefix="corridor-forecast-"))
        number = self.started
        job_path = self._files / f"job-{number}.pickle"
        result_path = self._files / f"result-{number}.pickle"
        with open(job_path, "wb") as file:
            pickle.dump(job, file, protocol=pickle.HIGHEST_PROTOCOL)
        settings = self.settings
        context = multiprocessing.get_context("spawn")
        process = context.Process(
            target=forecast_process,
            args=(str(job_path), str(result_path), settings.nice, settings.idle_class),
            name="corridor-forecast",
            daemon=True,
        )
        process.start()
        self._running = _Running(process, result_path)

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
    settings: ForecastSettings, store: object, stations: Mapping[str, StationSpec]
) -> ForecastSchedule | None:
    """The schedule for a worker on `store`, or None: turned off, or a store without a place
    for forecasts (the in-memory one of tests)."""
    if settings.every_min <= 0 or not isinstance(store, ForecastSink):
        return None
    return ForecastSchedule(settings, store, stations)
