"""What-if jobs: a scenario run against the live yard, baseline and scenario from one state.

`POST /whatif` records a job in the store (`api.store.whatif_jobs_table`) and queues it in the
forecast process (`api.forecasts`), after the forecasts and what-ifs before it. There,
`compute_whatif` marks it running, rebuilds the yards from the worker's archive as for a
forecast, runs both sides with common random numbers (`corridor.forecast.whatif.what_if`,
holding the trains the scenario holds) and stores the answer (the differences with their
paired 95 % intervals, both sides' forecasts, the held trains) and the planner's
`report.html` in the job's row. Any API process sharing the store answers `GET /whatif/{id}`,
before and after a restart.

The process that accepted a job renews its lease while it is pending (`api.store.job_leases`);
one that stops fails its pending jobs with the reason, and any process fails the pending jobs of
one that died once their lease has expired. At most `whatif_max_jobs` jobs wait or run at once
across the processes sharing the store (beyond that: 503 with `Retry-After`).
"""

import logging
import threading
import uuid
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import status
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from api.forecasts import Forecaster, ForecastRequest, NoHistoryError, read_start
from api.limits import LimitExceededError
from api.store import whatif_jobs_table as jobs
from api.store.db import make_engine
from api.store.job_leases import PENDING, JobLeases, LeaseHeartbeat, new_owner_id
from api.store.whatif_jobs_table import WhatIfJobRow, utc_now
from corridor.compare.page import report_html
from corridor.compare.table import markdown
from corridor.forecast import held_report
from corridor.forecast.holds import TrainHold
from corridor.forecast.whatif import what_if
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import parse_scenario

log = logging.getLogger(__name__)
STOPPED = "interrupted: the API stopped before the what-if finished; ask again"
LEASES = JobLeases(
    jobs.table(),
    "interrupted: the API process running it stopped (no heartbeat for {lease_s:g} s); "
    "ask again: a what-if starts from the yard as it is now",
)


@dataclass(frozen=True, slots=True)
class WhatIfRequest:
    """One what-if to run in the forecast process (picklable)."""

    job_id: str
    forecast: ForecastRequest
    scenario: dict[str, Any]  # the scenario table, TOML-shaped, already validated
    name: str
    holds: tuple[TrainHold, ...] = ()


def compute_whatif(request: WhatIfRequest) -> str:
    """In the forecast process: run the job and store its outcome; returns its final status."""
    engine = make_engine(request.forecast.database_url)
    try:
        started: dict[str, Any] = {"status": "running", "started_at": utc_now()}
        if not LEASES.move(engine, request.job_id, ["queued"], **started):
            return "gone"  # failed meanwhile (its owner stopped): not run
        try:
            values = _answer(request)
        except (NoHistoryError, ValueError) as error:
            values = {"status": "failed", "error": str(error)[:2000]}
        except Exception as error:
            log.exception("what-if %s failed", request.job_id)
            values = {"status": "failed", "error": f"internal error: {type(error).__name__}"}
        LEASES.move(engine, request.job_id, ["running"], finished_at=utc_now(), **values)
        return str(values["status"])
    finally:
        engine.dispose()


def _answer(request: WhatIfRequest) -> dict[str, Any]:
    """Rebuild the yards from the archive, run both sides, compare: the job's done values."""
    tune_gc_for_a_long_lived_twin()
    forecast = request.forecast
    start = read_start(forecast)
    scenario = parse_scenario(request.scenario, name=request.name)
    result = what_if(
        start,
        scenario.stations,
        seed=forecast.seed,
        name=request.name,
        hours=forecast.hours,
        replications=forecast.replications,
        workers=forecast.workers,
        holds=request.holds,
    )
    comparison = result.comparison
    frame = comparison.frame.astype(object).where(comparison.frame.notna(), None)
    held = held_report.summary(result.held)
    section = held_report.html_section(held)
    text = markdown(comparison.frame, comparison.base, comparison.scenarios)
    page = report_html(
        comparison.frame, comparison.base, comparison.scenarios, [section] if section else []
    )
    return {
        "status": "done",
        "error": None,
        "result": {
            "differences": frame.to_dict("records"),
            "held_trains": held,
            "baseline": result.baseline.as_dict(),
            "scenario": result.scenario.as_dict(),
            "markdown": "\n".join([text, *held_report.markdown_lines(held)]),
        },
        "report_html": page,
    }


class WhatIfJobs:
    """The what-if jobs this process accepted, and the lease that keeps them its own."""

    def __init__(self, engine: Engine, forecaster: Forecaster, lease_s: float) -> None:
        self.engine = engine
        self.forecaster = forecaster
        self.lease_s = lease_s
        self.owner = new_owner_id()
        self._pending: dict[str, Future[str]] = {}
        self._lock = threading.Lock()
        self._heartbeat = LeaseHeartbeat(
            LEASES, engine, self.owner, lease_s, self._pending_ids, "what-if"
        )

    def start(self) -> None:
        """Fail the jobs of dead owners, then renew this process's leases every quarter lease."""
        self._heartbeat.start()

    def stop(self) -> None:
        """Fail this process's pending jobs, before the forecast process ends (with the API,
        at once: `Forecaster.stop`), so its end is not taken for their outcome."""
        self._heartbeat.abandon(STOPPED)
        with self._lock:
            self._pending = {}

    def submit(
        self,
        *,
        now: datetime,
        scenario: dict[str, Any],
        holds: tuple[TrainHold, ...],
        name: str,
        hours: int,
        replications: int,
    ) -> WhatIfJobRow:
        """Record and queue a what-if from `now` (`Forecaster.now`: the holds were resolved at
        it), unless `whatif_max_jobs` are pending already."""
        settings = self.forecaster.settings
        with self._lock:
            created = utc_now()
            row = WhatIfJobRow(
                id=str(uuid.uuid4()),
                status="queued",
                name=name,
                now=now,
                hours=hours,
                replications=replications,
                scenario=scenario,
                holds=[asdict(hold) for hold in holds],
                created_at=created,
                owner=self.owner,
                heartbeat_at=created,
            )
            limit = settings.whatif_max_jobs
            running = jobs.insert_within(self.engine, row, limit=limit, lease_s=self.lease_s)
            if running is not None:  # counted with every replica's, atomically (its module)
                raise LimitExceededError(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    f"{running} what-if jobs are waiting or running (at most {limit}); try "
                    "again when one is done",
                    settings.retry_after_s,
                )
            forecast = self._forecast(now, hours, replications)
            request = WhatIfRequest(row.id, forecast, scenario, name, holds)
            try:
                future: Future[str] = self.forecaster.submit(compute_whatif, request)
            except BaseException as error:
                self._fail(row.id, f"not queued: {error}"[:2000])
                raise
            self._pending[row.id] = future
        future.add_done_callback(lambda done: self._finished(row.id, done))
        return row

    def get(self, job_id: str, *, with_report: bool = False) -> WhatIfJobRow | None:
        """A job by id, whichever process ran it (None: unknown, or forgotten)."""
        return jobs.get(self.engine, job_id, with_report=with_report)

    def _forecast(self, now: datetime, hours: int, replications: int) -> ForecastRequest:
        settings = self.forecaster.settings
        return ForecastRequest(
            database_url=settings.database_url,
            stations=self.forecaster.stations,
            seed=settings.forecast_seed,
            now=now,
            hours=hours,
            lookback=timedelta(hours=settings.forecast_lookback_h),
            replications=replications,
            workers=settings.forecast_workers,
        )

    def _finished(self, job_id: str, future: "Future[str]") -> None:
        """The forecast process is done with the job: if it died or was cancelled, say so."""
        with self._lock:
            self._pending.pop(job_id, None)
        if future.cancelled():
            reason = STOPPED
        elif future.exception() is not None:
            reason = f"the forecast process failed: {type(future.exception()).__name__}"
        else:
            return
        try:
            self._fail(job_id, reason)
        except SQLAlchemyError as error:  # its lease expires; a process fails it then
            log.warning("what-if %s not failed: %s", job_id, type(error).__name__)

    def _fail(self, job_id: str, reason: str) -> None:
        LEASES.move(
            self.engine, job_id, PENDING, status="failed", finished_at=utc_now(), error=reason
        )

    def _pending_ids(self) -> list[str]:
        with self._lock:
            return list(self._pending)
