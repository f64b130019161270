"""`GET /yards/{yard}/bottleneck`: which resource held a yard back over a past window.

Computed on request by `corridor.kpis.bottleneck` from the truck, box and train visits the
worker has stored (a record is stored when its truck, box or train is done, so a window
that ends now misses those still in the yard; RMG lifts are not stored: no RMG figure).
"""

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime

from api.bottleneck_responses import BottleneckView, ResourceLoadView
from api.deps import ServicesDep, YardDep
from api.routes.common import NOT_FOUND, READ_ERRORS
from api.security import ReaderAccess
from api.services import Services
from api.store import readers
from corridor.engine.clock import to_minutes
from corridor.kpis.bottleneck import bottlenecks
from corridor.kpis.frames import Window

MAX_WINDOW = timedelta(days=7)
COUNTED = "the truck, box and train visits the worker has stored (those done by then)"

router = APIRouter(tags=["yards"], dependencies=[ReaderAccess], responses=READ_ERRORS)

FromQuery = Annotated[AwareDatetime, Query(alias="from", description="RFC 3339 with offset")]
ToQuery = Annotated[
    AwareDatetime | None,
    Query(description="RFC 3339 with offset; default: the yard's twin clock"),
]


@router.get("/yards/{yard}/bottleneck", responses=NOT_FOUND)
async def yard_bottleneck(
    yard: YardDep, services: ServicesDep, start: FromQuery, to: ToQuery = None
) -> BottleneckView:
    """Waits and utilisation per resource over `[from, to)` and the bottleneck named."""
    return await run_in_threadpool(_bottleneck, services, yard, start, to)


def _bottleneck(
    services: Services, yard: str, start: datetime, end: datetime | None
) -> BottleneckView:
    state = readers.yard_state(services.store.engine, yard=yard)
    if state is None or not state.get("epoch"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live state of {yard} yet")
    epoch, clock = _moment(state["epoch"]), _moment(state["clock"])
    end = clock if end is None else end
    _check(yard, start, end, epoch, clock)
    first, last = to_minutes(start, epoch), to_minutes(end, epoch)
    frames = readers.records_in(services.store.engine, yard=yard, start=first, end=last)
    stations = {yard: services.stations[yard]}
    [found] = bottlenecks(frames, stations, Window(first, last))
    return BottleneckView(
        yard=yard,
        from_=start,
        to=end,
        bottleneck=found.bottleneck,
        resources=[
            ResourceLoadView.model_validate(load, from_attributes=True) for load in found.resources
        ],
        counted=COUNTED,
    )


def _check(yard: str, start: datetime, end: datetime, epoch: datetime, clock: datetime) -> None:
    """A window inside what the twin has seen of the yard, forwards, at most `MAX_WINDOW`."""
    problem = None
    if end <= start:
        problem = f"from ({start.isoformat()}) must be before to ({end.isoformat()})"
    elif end > clock:
        problem = (
            f"to ({end.isoformat()}) is after the twin's clock at {yard} ({clock.isoformat()}): "
            "the future is not known yet"
        )
    elif start < epoch:
        problem = (
            f"from ({start.isoformat()}) is before the twin's first event ({epoch.isoformat()})"
        )
    elif end - start > MAX_WINDOW:
        problem = f"from..to is longer than {MAX_WINDOW.days} days; ask for shorter windows"
    if problem is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
