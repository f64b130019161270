"""The next-shift forecast of a yard or the corridor, from the yards as they are now.

Computed by the service from the worker's archive at most once per 15 minutes of event time
and horizon (`api.forecasts`, docs/forecast.md); the first request of a step waits for it.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool

from api.deps import ServicesDep, YardDep
from api.forecast_responses import ForecastView, forecast_view
from api.routes.common import BUSY, NOT_FOUND, READ_ERRORS
from api.security import ReaderAccess
from corridor.forecast.run import DEFAULT_HOURS, MAX_HOURS

router = APIRouter(tags=["forecast"], dependencies=[ReaderAccess], responses=READ_ERRORS)
CORRIDOR = "corridor"

HoursQuery = Annotated[
    int, Query(ge=1, le=MAX_HOURS, description=f"the horizon in hours, 1 to {MAX_HOURS}")
]


async def _forecast(services: ServicesDep, scope: str, hours: int) -> ForecastView:
    result = await run_in_threadpool(services.forecaster.latest, hours)
    if result is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "no forecast yet: the worker has archived no event to start from",
        )
    return forecast_view(result, scope)


@router.get("/yards/{yard}/forecast", response_model=ForecastView, responses={**NOT_FOUND, **BUSY})
async def yard_forecast(
    yard: YardDep, services: ServicesDep, hours: HoursQuery = DEFAULT_HOURS
) -> ForecastView:
    """A yard's next hours: gate queue, turnaround and plug bands, boxes over 24 h, trains."""
    return await _forecast(services, yard, hours)


@router.get("/corridor/forecast", response_model=ForecastView, responses={**NOT_FOUND, **BUSY})
async def corridor_forecast(
    services: ServicesDep, hours: HoursQuery = DEFAULT_HOURS
) -> ForecastView:
    """The corridor's next hours (the yards' sums; turnaround the mean of the yards')."""
    return await _forecast(services, CORRIDOR, hours)
