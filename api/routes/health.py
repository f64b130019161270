"""Liveness and readiness: is the process up, can it answer, is a worker feeding it."""

from datetime import timedelta

from fastapi import APIRouter, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ServicesDep
from api.responses import Health, Readiness
from api.store import readers
from api.store.sql_store import utc_now
from api.store.tables import WorkerCommitPublic

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers (touches nothing else)."""
    return Health(status="ok")


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(services: ServicesDep, response: Response) -> Readiness:
    """Readiness: the database answers; each worker's last commit, event time, lag and any yard
    whose clock ran ahead of every input (`yards_ahead`, seconds)."""
    engine = services.store.engine
    try:
        await run_in_threadpool(readers.ping, engine)
        rows = await run_in_threadpool(readers.workers, engine)
    except SQLAlchemyError as error:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="unavailable", database=f"error: {type(error).__name__}")
    stale = timedelta(seconds=services.settings.worker_stale_s)
    now = utc_now()
    workers = [
        WorkerCommitPublic(
            **{**row.model_dump(), "yards_ahead": row.yards_ahead or {}},
            running=now - row.committed_at <= stale,
        )
        for row in rows
    ]
    return Readiness(status="ready", database="ok", workers=workers)
