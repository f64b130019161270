"""KPIs over rolling windows, for one yard or the whole corridor, live and as history.

The live answer is the latest snapshot the worker committed for that window; it carries the
event time it reflects (`as_of`) and when it was computed. These are the endpoints polled all
shift, so the answer is served from a short-lived cache of its serialised bytes.
"""

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime

from api import kpi_views
from api.deps import ServicesDep, YardDep
from api.limits import client_address
from api.responses import KpiHistory, KpiView, Window
from api.routes.common import BUSY, NOT_FOUND, PAST, READ_ERRORS
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


AtQuery = Annotated[
    AwareDatetime | None,
    Query(description="a past moment, RFC 3339 with offset: the KPIs rebuilt as of then"),
]


async def _at(services: ServicesDep, scope: str, window: str, at: datetime | None) -> Response:
    if at is None:
        return await _latest(services, scope, window)
    answer = await run_in_threadpool(services.past.kpis, scope, window, at)
    return Response(json.dumps(answer, allow_nan=False), media_type="application/json")


@router.get("/yards/{yard}/kpis", response_model=KpiView, responses={**NOT_FOUND, **PAST})
async def yard_kpis(
    yard: YardDep, services: ServicesDep, window: WindowQuery = "24h", at: AtQuery = None
) -> Response:
    """A yard's KPIs over a rolling window, as of the latest event time the twin has seen or,
    with `at`, as of its last watermark at or before then (rebuilt: docs/api.md, "The past")."""
    return await _at(services, yard, window, at)


@router.get("/corridor/kpis", response_model=KpiView, responses={**NOT_FOUND, **PAST})
async def corridor_kpis(
    services: ServicesDep, window: WindowQuery = "24h", at: AtQuery = None
) -> Response:
    """The corridor's KPIs (all three yards together) over a rolling window (`at`: as then)."""
    return await _at(services, CORRIDOR, window, at)


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
