"""The next-shift forecast of a yard or the corridor, from the yards as they were at `now`.

The worker computes it from its live twin every 15 minutes of event time once caught up and
stores it; these routes serve the newest stored one, cut to `hours` (`api.forecasts`,
docs/forecast.md). Nothing is computed per request.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool

from api.deps import ServicesDep, YardDep
from api.forecast_responses import ForecastView, forecast_view
from api.forecasts import HorizonError
from api.routes.common import NOT_FOUND, READ_ERRORS
from api.security import ReaderAccess
from corridor.forecast.run import DEFAULT_HOURS, MAX_HOURS

router = APIRouter(tags=["forecast"], dependencies=[ReaderAccess], responses=READ_ERRORS)
CORRIDOR = "corridor"

HoursQuery = Annotated[
    int, Query(ge=1, le=MAX_HOURS, description=f"the horizon in hours, 1 to {MAX_HOURS}")
]


async def _forecast(services: ServicesDep, scope: str, hours: int) -> ForecastView:
    try:
        yard = None if scope == CORRIDOR else scope
        result = await run_in_threadpool(services.forecaster.latest, hours, yard)
    except HorizonError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    if result is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "no forecast yet: the worker stores one every 15 min of event time once it has "
            "caught up with its input (docs/forecast.md)",
        )
    return forecast_view(result, scope)


@router.get("/yards/{yard}/forecast", response_model=ForecastView, responses=NOT_FOUND)
async def yard_forecast(
    yard: YardDep, services: ServicesDep, hours: HoursQuery = DEFAULT_HOURS
) -> ForecastView:
    """A yard's next hours: gate queue, turnaround and plug bands, boxes over 24 h, trains."""
    return await _forecast(services, yard, hours)


@router.get("/corridor/forecast", response_model=ForecastView, responses=NOT_FOUND)
async def corridor_forecast(
    services: ServicesDep, hours: HoursQuery = DEFAULT_HOURS
) -> ForecastView:
    """The corridor's next hours (the yards' sums; turnaround the mean of the yards')."""
    return await _forecast(services, CORRIDOR, hours)
