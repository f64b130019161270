"""`GET /metrics`: the KPIs and the service's own health, for Prometheus to scrape."""

from collections.abc import Iterable

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from api.deps import ServicesDep
from api.metrics import family, flatten, sample
from api.routes.common import READ_ERRORS
from api.security import ReaderAccess
from api.services import Services
from api.settings import WINDOWS
from api.store import readers

router = APIRouter(tags=["metrics"], dependencies=[ReaderAccess], responses=READ_ERRORS)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(services: ServicesDep) -> PlainTextResponse:
    """Prometheus exposition: KPI gauges, dead letters, worker lag, request counts and latency."""
    lines = await run_in_threadpool(_store_lines, services)
    lines += services.metrics.render()
    return PlainTextResponse("\n".join(lines) + "\n", media_type=CONTENT_TYPE)


def _store_lines(services: Services) -> list[str]:
    engine = services.store.engine
    scopes = [*services.stations, "corridor"]
    latest = [
        snapshot
        for scope in scopes
        for window in WINDOWS
        if (snapshot := readers.latest_snapshot(engine, scope=scope, window=window)) is not None
    ]
    kpis: list[str] = []
    as_of: list[str] = []
    for snapshot in latest:
        labels = {"scope": snapshot.scope, "window": snapshot.window}
        as_of.append(sample("corridor_kpi_as_of_seconds", labels, snapshot.as_of.timestamp()))
        kpis.extend(
            sample("corridor_kpi", {**labels, "kpi": name}, value)
            for name, value in flatten(snapshot.kpis)
        )
    return [
        *family("corridor_kpi", "gauge", "Latest KPI figure by scope, window and name.", kpis),
        *family("corridor_kpi_as_of_seconds", "gauge", "Event time of the latest snapshot.", as_of),
        *_dead_letters(services),
        *_alarms(services),
        *_workers(services),
    ]


def _dead_letters(services: Services) -> Iterable[str]:
    counts = readers.dead_letter_counts(services.store.engine)
    return family(
        "corridor_dead_letters_total",
        "counter",
        "Messages that could not be applied, by reason.",
        (sample("corridor_dead_letters_total", {"reason": c.reason}, c.count) for c in counts),
    )


def _alarms(services: Services) -> Iterable[str]:
    counts = readers.open_alarm_counts(services.store.engine)
    return family(
        "corridor_open_reefer_alarms",
        "gauge",
        "Reefers in alarm or in excursion, by yard.",
        (
            sample("corridor_open_reefer_alarms", {"yard": y}, counts.get(y, 0))
            for y in services.stations
        ),
    )


def _workers(services: Services) -> Iterable[str]:
    rows = readers.workers(services.store.engine)
    commits = [
        sample(
            "corridor_worker_last_commit_seconds", {"group": r.group}, r.committed_at.timestamp()
        )
        for r in rows
    ]
    events = [
        sample(
            "corridor_worker_last_event_seconds", {"group": r.group}, r.last_event_time.timestamp()
        )
        for r in rows
        if r.last_event_time is not None
    ]
    lag = [
        sample("corridor_worker_lag_messages", {"group": r.group}, r.lag)
        for r in rows
        if r.lag is not None
    ]
    return [
        *family(
            "corridor_worker_last_commit_seconds", "gauge", "Wall time of the last commit.", commits
        ),
        *family(
            "corridor_worker_last_event_seconds", "gauge", "Latest archived event time.", events
        ),
        *family("corridor_worker_lag_messages", "gauge", "Messages behind the feeds' ends.", lag),
    ]
