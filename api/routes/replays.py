"""What-if replays: upload an event log with a seed and scenario, fetch the KPI report later.

Starting a replay changes the store, so it needs the API key, and the key is checked before
a byte of the body is read: the route declares no body parameter (FastAPI would read a form
whole before any dependency runs) and streams the multipart body itself (`api.upload`). The
log's name, the seed and the scenario are checked before the job is queued: a bad request is
refused at once with the reason, never turned into a failed job, and leaves nothing on disk.
"""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.replay_input import MAX_SEED, DigitsOnly, parse_scenario_json, parse_seed
from api.replay_job import LOG_SUFFIXES, log_suffix
from api.responses import ErrorMessage
from api.routes.common import NOT_FOUND, READ_ERRORS, REFUSED, UNAVAILABLE
from api.security import KeyAccess, ReaderAccess
from api.store.tables import ReplayJobPublic
from api.upload import TEXT_FIELD_LIMITS, receive_upload, unprocessable

router = APIRouter(prefix="/replays", tags=["replays"])

SCENARIO_HELP = (
    'scenario overrides as JSON, in the TOML scenario shape: {"stations": {"yuzui": '
    '{"gate": {"lanes": 6}}}, "run": {"seed": 7}}'
)
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["log"],
                    "properties": {
                        "log": {
                            "type": "string",
                            "format": "binary",
                            "description": f"the event log ({', '.join(LOG_SUFFIXES)})",
                        },
                        "seed": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": MAX_SEED,
                            "description": "random seed",
                        },
                        "scenario": {
                            "type": "string",
                            "maxLength": TEXT_FIELD_LIMITS["scenario"],
                            "default": "{}",
                            "description": SCENARIO_HELP,
                        },
                    },
                }
            }
        },
    }
}
JOB_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[KeyAccess],
    responses={
        **REFUSED,
        **UNAVAILABLE,
        400: {"model": ErrorMessage},
        413: {"model": ErrorMessage},
    },
    openapi_extra=UPLOAD_BODY,
)
async def start_replay(
    request: Request, services: ServicesDep, response: Response
) -> ReplayJobPublic:
    """Queue a replay of the uploaded log; poll `GET /replays/{id}` for its KPI report."""
    runner = services.replays
    job_id = runner.new_job_id()

    def place_log(filename: str) -> Path:
        suffix = log_suffix(filename)
        if suffix is None:
            raise unprocessable(
                f"log: the file name must end with one of {', '.join(LOG_SUFFIXES)}"
            )
        return runner.spool_path(job_id, suffix)

    upload = await receive_upload(
        request, place_log=place_log, max_log_bytes=services.settings.max_upload_bytes
    )
    try:
        seed = parse_seed(upload.fields.get("seed"))
        scenario = parse_scenario_json(upload.fields.get("scenario"))
        job = await run_in_threadpool(
            runner.submit,
            job_id=job_id,
            filename=upload.filename,
            path=upload.path,
            seed=seed,
            scenario=scenario,
        )
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    response.headers["Location"] = f"/replays/{job.id}"
    return ReplayJobPublic.model_validate(job.model_dump())


@router.get("", dependencies=[ReaderAccess], responses=READ_ERRORS)
async def list_replays(
    services: ServicesDep, limit: Annotated[int, DigitsOnly, Query(ge=1, le=200)] = 50
) -> list[ReplayJobPublic]:
    """The latest replay jobs, newest first."""
    jobs = await run_in_threadpool(services.replays.recent, limit)
    return [ReplayJobPublic.model_validate(job.model_dump()) for job in jobs]


@router.get("/{job_id}", dependencies=[ReaderAccess], responses={**READ_ERRORS, **NOT_FOUND})
async def get_replay(
    services: ServicesDep,
    job_id: Annotated[
        str, PathParam(pattern=JOB_ID_PATTERN, description="a job id (a lower-case UUID)")
    ],
) -> ReplayJobPublic:
    """A replay job: its status and, once done, the KPI report and the rejected lines."""
    job = await run_in_threadpool(services.replays.get, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no replay job {job_id!r}")
    return ReplayJobPublic.model_validate(job.model_dump())
