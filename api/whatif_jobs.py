"""What-if jobs: a scenario run against the live yard, baseline and scenario from one state.

`POST /whatif` queues a job here; it runs in the forecast process (`api.forecasts`), after the
forecasts and what-ifs before it: the yards are rebuilt from the worker's archive as for a
forecast, then `corridor.forecast.whatif.what_if` runs both sides with common random numbers
and compares them in the planner's format (`corridor.compare`). The answer (the differences
with their paired 95 % intervals, and both sides' forecasts) and the self-contained
`report.html` are fetched by job id.

Jobs live in this process's memory: at most `whatif_max_jobs` wait or run at once (beyond
that a request is refused with 503 and `Retry-After`), the last `KEPT_JOBS` are kept, and a
restart forgets them (a what-if is a question about now: asked again, it starts from the newer
now).
"""

import threading
import uuid
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import status

from api.forecasts import Forecaster, ForecastRequest, NoHistoryError, read_start
from api.limits import LimitExceededError
from corridor.compare.page import report_html
from corridor.compare.table import markdown
from corridor.forecast.whatif import what_if
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import parse_scenario

KEPT_JOBS = 64


@dataclass(frozen=True, slots=True)
class WhatIfRequest:
    """One what-if to run in the forecast process (picklable)."""

    forecast: ForecastRequest
    scenario: dict[str, Any]  # the scenario table, TOML-shaped, already validated
    name: str


@dataclass(slots=True)
class WhatIfJob:
    """A queued, running or finished what-if."""

    id: str
    name: str
    now: datetime
    hours: int
    replications: int
    created_at: datetime
    future: "Future[dict[str, Any]]" = field(repr=False)

    @property
    def status(self) -> str:
        """queued, running, done or failed."""
        if not self.future.done():
            return "running" if self.future.running() else "queued"
        return "failed" if self.future.exception() is not None else "done"

    def error(self) -> str | None:
        """Why it failed (None unless it did)."""
        if not self.future.done() or self.future.exception() is None:
            return None
        error = self.future.exception()
        return str(error) if isinstance(error, NoHistoryError | ValueError) else "internal error"

    def result(self) -> dict[str, Any] | None:
        """The answer, once done."""
        return self.future.result() if self.status == "done" else None


def compute_whatif(request: WhatIfRequest) -> dict[str, Any]:
    """Rebuild the yards from the archive, run both sides, compare; plain values and the page."""
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
    )
    comparison = result.comparison
    frame = comparison.frame.astype(object).where(comparison.frame.notna(), None)
    return {
        "differences": frame.to_dict("records"),
        "baseline": result.baseline.as_dict(),
        "scenario": result.scenario.as_dict(),
        "markdown": markdown(comparison.frame, comparison.base, comparison.scenarios),
        "report_html": report_html(comparison.frame, comparison.base, comparison.scenarios),
    }


class WhatIfJobs:
    """The what-if jobs of this process."""

    def __init__(self, forecaster: Forecaster) -> None:
        self.forecaster = forecaster
        self._jobs: OrderedDict[str, WhatIfJob] = OrderedDict()
        self._lock = threading.Lock()

    def submit(
        self, *, scenario: dict[str, Any], name: str, hours: int, replications: int
    ) -> WhatIfJob | None:
        """Queue a what-if from now (None: nothing archived yet to start from)."""
        now = self.forecaster.now()
        if now is None:
            return None
        settings = self.forecaster.settings
        request = WhatIfRequest(
            ForecastRequest(
                database_url=settings.database_url,
                stations=self.forecaster.stations,
                seed=settings.forecast_seed,
                now=now,
                hours=hours,
                lookback=timedelta(hours=settings.forecast_lookback_h),
                replications=replications,
                workers=settings.forecast_workers,
            ),
            scenario,
            name,
        )
        with self._lock:
            active = sum(1 for job in self._jobs.values() if not job.future.done())
            if active >= settings.whatif_max_jobs:
                raise LimitExceededError(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    f"{active} what-if jobs are waiting or running (at most "
                    f"{settings.whatif_max_jobs}); try again when one is done",
                    settings.retry_after_s,
                )
            future = self.forecaster.submit(compute_whatif, request)
            job = WhatIfJob(
                str(uuid.uuid4()), name, now, hours, replications, datetime.now(UTC), future
            )
            self._jobs[job.id] = job
            while len(self._jobs) > KEPT_JOBS:
                self._jobs.popitem(last=False)
        return job

    def get(self, job_id: str) -> WhatIfJob | None:
        """A job by id (None: unknown, or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id)
