"""KPIs over rolling windows, for one yard or the whole corridor, live and as history.

The live answer is the latest snapshot the worker committed for that window; it carries the
event time it reflects (`as_of`) and when it was computed. These are the endpoints polled all
shift, so the answer is served from a short-lived cache of its serialised bytes.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime

from api import kpi_views
from api.deps import ServicesDep, YardDep
from api.limits import client_address
from api.responses import KpiHistory, KpiView, Window
from api.routes.common import BUSY, NOT_FOUND, READ_ERRORS
from api.security import ReaderAccess

router = APIRouter(tags=["kpis"], dependencies=[ReaderAccess], responses=READ_ERRORS)
CORRIDOR = "corridor"

WindowQuery = Annotated[Window, Query(description="rolling window: 1h, shift (8 h), 24h or 7d")]
FromQuery = Annotated[
    AwareDatetime | None,
    Query(alias="from", description="RFC 3339 with offset; default: `to` minus 24 h"),
]
ToQuery = Annotated[
    AwareDatetime | None,
    Query(description="RFC 3339 with offset; default: the latest snapshot's event time"),
]
IntervalQuery = Annotated[
    str, Query(description="bucket size: a number and m, h or d", examples=["15m", "1h", "1d"])
]


async def _latest(services: ServicesDep, scope: str, window: str) -> Response:
    cached = services.kpi_cache.get((scope, window))
    if cached is None:
        engine = services.store.engine
        cached = await run_in_threadpool(
            kpi_views.latest_json, engine, services.kpi_cache, scope=scope, window=window
        )
    return Response(cached, media_type="application/json")


@router.get("/yards/{yard}/kpis", response_model=KpiView, responses=NOT_FOUND)
async def yard_kpis(yard: YardDep, services: ServicesDep, window: WindowQuery = "24h") -> Response:
    """A yard's KPIs over a rolling window, as of the latest event time the twin has seen."""
    return await _latest(services, yard, window)


@router.get("/corridor/kpis", response_model=KpiView, responses=NOT_FOUND)
async def corridor_kpis(services: ServicesDep, window: WindowQuery = "24h") -> Response:
    """The corridor's KPIs (all three yards together) over a rolling window."""
    return await _latest(services, CORRIDOR, window)


async def _history(
    request: Request,
    services: ServicesDep,
    scope: str,
    window: str,
    start: datetime | None,
    end: datetime | None,
    interval: str,
) -> KpiHistory:
    with services.histories.hold(client_address(request.scope)):
        return await run_in_threadpool(
            kpi_views.history,
            services.store.engine,
            scope=scope,
            window=window,
            start=start,
            end=end,
            interval=interval,
            max_rows=services.settings.history_max_rows,
        )


@router.get("/yards/{yard}/kpis/history", responses={**NOT_FOUND, **BUSY})
async def yard_history(
    request: Request,
    yard: YardDep,
    services: ServicesDep,
    start: FromQuery = None,
    to: ToQuery = None,
    interval: IntervalQuery = "1h",
    window: WindowQuery = "1h",
) -> KpiHistory:
    """A yard's snapshots of one window over time, the last in each interval (for charts)."""
    return await _history(request, services, yard, window, start, to, interval)


@router.get("/corridor/kpis/history", responses=BUSY)
async def corridor_history(
    request: Request,
    services: ServicesDep,
    start: FromQuery = None,
    to: ToQuery = None,
    interval: IntervalQuery = "1h",
    window: WindowQuery = "1h",
) -> KpiHistory:
    """The corridor's snapshots of one window over time, the last in each interval."""
    return await _history(request, services, CORRIDOR, window, start, to, interval)
