"""The yards: who they are, what they have, what is in them now, and their reefers."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from api.deps import EngineDep, ServicesDep, YardDep
from api.responses import (
    Departure,
    Facilities,
    ReeferFilter,
    ReeferList,
    ReeferOrder,
    YardDetail,
    YardSummary,
)
from api.routes.common import NOT_FOUND, READ_ERRORS
from api.security import ReaderAccess
from api.store import readers
from api.store.tables import ReeferStatusPublic, YardStatePublic
from stations.spec import StationSpec

router = APIRouter(
    prefix="/yards", tags=["yards"], dependencies=[ReaderAccess], responses=READ_ERRORS
)


@router.get("")
async def list_yards(services: ServicesDep) -> list[YardSummary]:
    """The corridor's yards: Chinese names, pinyin, codes, dashboard colours and twin clocks."""
    engine = services.store.engine
    alarms = await run_in_threadpool(readers.open_alarm_counts, engine)
    summaries = []
    for spec in services.stations.values():
        state = await run_in_threadpool(readers.yard_state, engine, yard=spec.id)
        summaries.append(_summary(spec, state, alarms.get(spec.id, 0)))
    return summaries


@router.get("/{yard}", responses=NOT_FOUND)
async def get_yard(yard: YardDep, services: ServicesDep) -> YardDetail:
    """A yard's facilities and current state (queues, occupancy, plugs, next trains)."""
    engine = services.store.engine
    state = await run_in_threadpool(readers.yard_state, engine, yard=yard)
    alarms = await run_in_threadpool(readers.open_alarm_counts, engine)
    spec = services.stations[yard]
    summary = _summary(spec, state, alarms.get(yard, 0))
    return YardDetail(
        **summary.model_dump(),
        facilities=_facilities(spec),
        state=YardStatePublic.model_validate(state) if state is not None else None,
    )


@router.get("/{yard}/reefers", responses=NOT_FOUND)
async def list_reefers(
    yard: YardDep,
    engine: EngineDep,
    status: Annotated[
        ReeferFilter | None, Query(description="only reefers in this condition")
    ] = None,
    order: Annotated[
        ReeferOrder,
        Query(description="by container number, or most urgent first (least time to breach)"),
    ] = "container",
) -> ReeferList:
    """The reefers in a yard with their latest reading and time to breach, optionally only
    those in trouble, optionally most urgent first."""
    rows = await run_in_threadpool(_reefers, engine, yard, status, order)
    return ReeferList(yard=yard, status=status, reefers=rows, order=order)


def _reefers(engine: Engine, yard: str, status: str | None, order: str) -> list[ReeferStatusPublic]:
    return readers.reefers(engine, yard=yard, status=status, order=order)


def _summary(spec: StationSpec, state: dict[str, object] | None, alarms: int) -> YardSummary:
    return YardSummary(
        id=spec.id,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        code=spec.identity.code,
        colour=spec.identity.dashboard_colour,
        timezone=spec.timezone,
        clock=YardStatePublic.model_validate(state).clock if state is not None else None,
        open_reefer_alarms=alarms,
    )


def _facilities(spec: StationSpec) -> Facilities:
    return Facilities(
        gate_lanes=spec.gate.lanes,
        exception_lanes=spec.gate.exception_lanes,
        rmgs=spec.handling.rmgs,
        reach_stackers=spec.handling.reach_stackers,
        stack_capacity_teu=spec.stack.capacity_teu,
        reefer_plugs=spec.stack.reefer_plugs,
        loading_tracks=spec.rail.loading_tracks,
        inspection_bays=spec.inspection.bays,
        timetable=[
            Departure(
                service=entry.service,
                departure=entry.departure,
                destination=entry.destination,
                capacity_teu=entry.capacity_teu,
                cutoff_h=entry.cutoff_h,
            )
            for entry in spec.rail.timetable
        ],
    )
