"""Liveness and readiness: is the process up, can it answer, is a worker feeding it."""

from datetime import datetime, timedelta

from fastapi import APIRouter, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ServicesDep
from api.responses import DataFreshness, Health, Readiness
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
    whose clock ran ahead of every input (`yards_ahead`, seconds); the newest snapshot's age and
    whether the data is live."""
    engine = services.store.engine
    try:
        await run_in_threadpool(readers.ping, engine)
        rows = await run_in_threadpool(readers.workers, engine)
        newest = await run_in_threadpool(readers.newest_snapshot_times, engine)
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
    fresh = freshness(
        newest, now, stale_after_s=services.settings.snapshot_stale_s, workers=workers
    )
    return Readiness(status="ready", database="ok", workers=workers, freshness=fresh)


def freshness(
    newest: tuple[datetime, datetime] | None,
    now: datetime,
    *,
    stale_after_s: float,
    workers: list[WorkerCommitPublic],
) -> DataFreshness:
    """Live = some worker is running and the newest snapshot is younger than the bound."""
    as_of, computed_at = newest if newest is not None else (None, None)
    age_s = None if computed_at is None else (now - computed_at).total_seconds()
    recent = age_s is not None and age_s <= stale_after_s
    return DataFreshness(
        checked_at=now,
        last_snapshot_as_of=as_of,
        last_snapshot_computed_at=computed_at,
        age_s=age_s,
        stale_after_s=stale_after_s,
        live=recent and any(worker.running for worker in workers),
    )
