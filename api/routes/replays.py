"""What-if replays: upload an event log with a seed and scenario, fetch the KPI report later.

Starting a replay changes the store, so it needs the API key. The log is checked for a known
format by its name and the scenario is validated before the job is queued: a bad request is
refused at once with the reason, never turned into a failed job.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.replay_job import LOG_SUFFIXES, check_scenario, log_suffix
from api.replay_runner import UploadTooLargeError
from api.responses import ErrorMessage
from api.routes.common import NOT_FOUND, REFUSED, UNAUTHORISED
from api.security import KeyAccess, ReaderAccess
from api.store.tables import ReplayJobPublic

router = APIRouter(prefix="/replays", tags=["replays"])

SCENARIO_HELP = (
    'scenario overrides as JSON, in the TOML scenario shape: {"stations": {"yuzui": '
    '{"gate": {"lanes": 6}}}, "run": {"seed": 7}}'
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[KeyAccess],
    responses={**REFUSED, 400: {"model": ErrorMessage}, 413: {"model": ErrorMessage}},
)
async def start_replay(
    services: ServicesDep,
    response: Response,
    log: Annotated[UploadFile, File(description=f"the event log ({', '.join(LOG_SUFFIXES)})")],
    seed: Annotated[int | None, Form(ge=0, le=2**31 - 1, description="random seed")] = None,
    scenario: Annotated[str, Form(description=SCENARIO_HELP, max_length=100_000)] = "{}",
) -> ReplayJobPublic:
    """Queue a replay of the uploaded log; poll `GET /replays/{id}` for its KPI report."""
    suffix = log_suffix(log.filename or "")
    if suffix is None:
        raise _refuse(f"log: the file name must end with one of {', '.join(LOG_SUFFIXES)}")
    table = _scenario(scenario)
    try:
        job = await run_in_threadpool(
            services.replays.submit,
            filename=log.filename or "log",
            suffix=suffix,
            upload=log.file,
            seed=seed,
            scenario=table,
        )
    except UploadTooLargeError as error:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(error)) from None
    response.headers["Location"] = f"/replays/{job.id}"
    return ReplayJobPublic.model_validate(job.model_dump())


@router.get("", dependencies=[ReaderAccess], responses=UNAUTHORISED)
async def list_replays(
    services: ServicesDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ReplayJobPublic]:
    """The latest replay jobs, newest first."""
    jobs = await run_in_threadpool(services.replays.recent, limit)
    return [ReplayJobPublic.model_validate(job.model_dump()) for job in jobs]


@router.get("/{job_id}", dependencies=[ReaderAccess], responses={**UNAUTHORISED, **NOT_FOUND})
async def get_replay(
    services: ServicesDep, job_id: Annotated[str, Path(max_length=64)]
) -> ReplayJobPublic:
    """A replay job: its status and, once done, the KPI report and the rejected lines."""
    job = await run_in_threadpool(services.replays.get, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no replay job {job_id!r}")
    return ReplayJobPublic.model_validate(job.model_dump())


def _refuse(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


def _scenario(text: str) -> dict[str, Any]:
    try:
        table = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise _refuse(f"scenario: not JSON: {error}") from None
    if not isinstance(table, dict):
        raise _refuse("scenario: expected a JSON object")
    try:
        check_scenario(table)
    except (ValueError, TypeError, KeyError) as error:
        raise _refuse(f"scenario: {error}") from None
    return table
