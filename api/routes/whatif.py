"""What-ifs against the live yard: `POST /whatif` with a scenario, then fetch the answer.

Starting one makes the service work for seconds, so it needs the API key. The scenario is the
TOML scenario's table (docs/scenarios.md), given as JSON (`scenario`) or as TOML text
(`scenario_toml`), with the what-if's own lever `hold` (hold announced trains); it is checked
before the job is queued (`api.whatif_input`), and a bad one is refused at once with the reason
(422), as are a horizon outside 1..24 h and more replications than allowed. Jobs are rows of
the store (`api.whatif_jobs`): any API process sharing it answers for them, after a restart too.
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ServicesDep
from api.forecasts import NoHistoryError
from api.responses import ErrorMessage
from api.routes.common import BUSY, NOT_FOUND, READ_ERRORS, REFUSED
from api.routes.replays import JOB_ID_PATTERN
from api.security import KeyAccess, ReaderAccess
from api.store.whatif_jobs_table import WhatIfJobRow
from api.whatif_input import MAX_SCENARIO_CHARS, resolve_holds, scenario_table
from corridor.forecast.run import DEFAULT_HOURS, DEFAULT_REPLICATIONS, MAX_HOURS

router = APIRouter(prefix="/whatif", tags=["what-if"])
MAX_REPLICATIONS = 32


def _json_error(description: str) -> dict[str, Any]:
    """An error answered as JSON by a route whose own answer is HTML."""
    schema = {"$ref": "#/components/schemas/ErrorMessage"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


HTML_ROUTE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _json_error("the read token is missing or wrong"),
    404: _json_error("no such what-if job"),
    409: _json_error("the what-if is not done yet"),
    422: _json_error("the job id is not a lower-case UUID"),
    503: _json_error("the database cannot be reached"),
}
JobId = Annotated[str, PathParam(pattern=JOB_ID_PATTERN, description="a what-if job id")]


class WhatIfCreate(BaseModel):
    """A what-if: the scenario (JSON table or TOML text), its name, the horizon, replications."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "name": "one more reach stacker at 鱼嘴",
                "scenario": {
                    "stations": {"yuzui": {"handling": {"reach_stackers": 5}}},
                    "hold": [{"yard": "tuanjiecun", "train": "next", "minutes": 30}],
                },
                "hours": 8,
                "replications": 8,
            }
        },
    )

    name: str = Field(default="scenario", min_length=1, max_length=80)
    scenario: dict[str, Any] | None = None
    scenario_toml: str | None = Field(default=None, max_length=MAX_SCENARIO_CHARS)
    hours: int = Field(default=DEFAULT_HOURS, ge=1, le=MAX_HOURS)
    replications: int = Field(default=DEFAULT_REPLICATIONS, ge=2, le=MAX_REPLICATIONS)


class WhatIfPublic(BaseModel):
    """A what-if job; `result` once it is done, `error` if it failed."""

    id: str
    status: str = Field(description="queued, running, done or failed")
    name: str
    now: str = Field(description="the event time both sides start from")
    hours: int
    replications: int
    holds: list[dict[str, Any]] = Field(
        default_factory=list, description="the trains held: yard, train_id, minutes"
    )
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = Field(
        default=None,
        description="differences (scenario - baseline, paired 95 % intervals) per scope and "
        "figure, the held trains (when they left, boxes on, left behind), and both sides' "
        "forecasts",
    )


def _public(job: WhatIfJobRow) -> WhatIfPublic:
    def moment(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return WhatIfPublic(
        id=job.id,
        status=job.status,
        name=job.name,
        now=job.now.isoformat(),
        hours=job.hours,
        replications=job.replications,
        holds=job.holds,
        created_at=job.created_at.isoformat(),
        started_at=moment(job.started_at),
        finished_at=moment(job.finished_at),
        error=job.error,
        result=job.result if job.status == "done" else None,
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[KeyAccess],
    responses={
        **REFUSED,
        **BUSY,
        400: {"model": ErrorMessage, "description": "the body is not JSON"},
        404: {"model": ErrorMessage},
    },
)
async def start_whatif(
    body: WhatIfCreate, services: ServicesDep, response: Response
) -> WhatIfPublic:
    """Run a scenario against the yards as they are now; poll `GET /whatif/{id}`."""
    table, holds = scenario_table(body.scenario, body.scenario_toml, services.stations)
    now = await run_in_threadpool(services.forecaster.now)
    if now is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "no live yard yet: the worker has archived no event"
        )
    if holds:
        holds = await run_in_threadpool(
            resolve_holds, services.store.engine, holds, now, body.hours
        )
    try:
        job = await run_in_threadpool(
            services.whatifs.submit,
            now=now,
            scenario=table,
            holds=holds,
            name=body.name,
            hours=body.hours,
            replications=body.replications,
        )
    except NoHistoryError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    response.headers["Location"] = f"/whatif/{job.id}"
    return _public(job)


def _job(services: ServicesDep, job_id: str, *, with_report: bool = False) -> WhatIfJobRow:
    job = services.whatifs.get(job_id, with_report=with_report)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no what-if job {job_id!r}")
    return job


@router.get("/{job_id}", dependencies=[ReaderAccess], responses={**READ_ERRORS, **NOT_FOUND})
async def get_whatif(services: ServicesDep, job_id: JobId) -> WhatIfPublic:
    """A what-if job: its status and, once done, the differences and both forecasts."""
    return _public(await run_in_threadpool(_job, services, job_id))


@router.get(
    "/{job_id}/report.html",
    dependencies=[ReaderAccess],
    response_class=HTMLResponse,
    responses=HTML_ROUTE_ERRORS,
)
async def whatif_report(services: ServicesDep, job_id: JobId) -> HTMLResponse:
    """The comparison report of a finished what-if (the planner's `report.html`)."""
    job = await run_in_threadpool(lambda: _job(services, job_id, with_report=True))
    if job.status != "done" or job.report_html is None:
        detail = f"the what-if is {job.status}: no report" + (
            " (yet)" if job.status in ("queued", "running") else ""
        )
        raise HTTPException(status.HTTP_409_CONFLICT, detail)
    return HTMLResponse(job.report_html)
