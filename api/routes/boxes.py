"""The boxes stuck in the yards now: those over the one-day target, oldest first, each with the
stage of its stay it is in (the live twin's list, committed by the worker with the yard states).
"""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from api.deps import EngineDep, YardDep
from api.responses import OverdueBoxList
from api.routes.common import NOT_FOUND, UNAUTHORISED
from api.security import ReaderAccess
from api.store import readers
from corridor.engine.live_view import LISTED_FROM_H

MAX_LIMIT = 1000  # boxes in one answer

router = APIRouter(tags=["boxes"], dependencies=[ReaderAccess], responses=UNAUTHORISED)

MinAge = Annotated[
    float,
    Query(
        ge=LISTED_FROM_H,
        le=24 * 366,
        description=f"only boxes at least this many hours in the yard (the twin lists boxes "
        f"from {LISTED_FROM_H:g} h)",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many boxes")]


@router.get("/yards/{yard}/boxes/overdue", responses=NOT_FOUND)
async def yard_overdue_boxes(
    yard: YardDep, engine: EngineDep, min_age_h: MinAge = 24.0, limit: Limit = 100
) -> OverdueBoxList:
    """The boxes in a yard over `min_age_h` now, oldest first, with the stage each is in."""
    return await run_in_threadpool(_overdue, engine, yard, min_age_h, limit)


@router.get("/boxes/overdue")
async def corridor_overdue_boxes(
    engine: EngineDep, min_age_h: MinAge = 24.0, limit: Limit = 100
) -> OverdueBoxList:
    """The boxes in every yard over `min_age_h` now, oldest first, with the stage each is in."""
    return await run_in_threadpool(_overdue, engine, None, min_age_h, limit)


def _overdue(engine: Engine, yard: str | None, min_age_h: float, limit: int) -> OverdueBoxList:
    boxes = readers.overdue_boxes(engine, yard=yard, min_age_h=min_age_h, limit=limit)
    counts = readers.overdue_counts(engine, yard=yard, min_age_h=min_age_h)
    by_stage: dict[str, int] = {}
    for stages in counts.values():
        for stage, count in stages.items():
            by_stage[stage] = by_stage.get(stage, 0) + count
    return OverdueBoxList(
        yard=yard,
        min_age_h=min_age_h,
        limit=limit,
        total=sum(by_stage.values()),
        by_stage=dict(sorted(by_stage.items())),
        boxes=boxes,
    )
