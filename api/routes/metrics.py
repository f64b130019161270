"""`GET /metrics`: the KPIs and the service's own health, for Prometheus to scrape."""

from collections.abc import Iterable, Mapping
from typing import Any

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

DWELL_TARGET_H = 24.0  # the corridor's one-day target for cargo in a yard

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
    stages: list[str] = []
    for snapshot in latest:
        labels = {"scope": snapshot.scope, "window": snapshot.window}
        as_of.append(sample("corridor_kpi_as_of_seconds", labels, snapshot.as_of.timestamp()))
        kpis.extend(
            sample("corridor_kpi", {**labels, "kpi": name}, value)
            for name, value in flatten(snapshot.kpis)
        )
        stages.extend(_stage_samples(labels, snapshot.kpis))
    return [
        *family("corridor_kpi", "gauge", "Latest KPI figure by scope, window and name.", kpis),
        *family("corridor_kpi_as_of_seconds", "gauge", "Event time of the latest snapshot.", as_of),
        *family(
            "corridor_dwell_stage_hours",
            "gauge",
            "Mean hours a box spends in each stage of its dwell (dwell_h.stages), by direction.",
            stages,
        ),
        *_boxes(services),
        *_dead_letters(services),
        *_flags(services),
        *_alarms(services),
        *_workers(services),
    ]


def _stage_samples(labels: Mapping[str, str], kpis: Mapping[str, Any]) -> Iterable[str]:
    """`dwell_h.stages` ({direction: {stage: hours}}) when the snapshot has it (docs/kpis.md)."""
    dwell = kpis.get("dwell_h")
    stages = dwell.get("stages") if isinstance(dwell, Mapping) else None
    if not isinstance(stages, Mapping):
        return
    for direction, hours_by_stage in sorted(stages.items()):
        if not isinstance(hours_by_stage, Mapping):
            continue
        for stage, hours in sorted(hours_by_stage.items()):
            if isinstance(hours, int | float) and not isinstance(hours, bool):
                where = {**labels, "direction": direction, "stage": stage}
                yield sample("corridor_dwell_stage_hours", where, hours)


def _boxes(services: Services) -> list[str]:
    """Boxes in each yard now and those over the 24 h target (the live view, not a window)."""
    engine = services.store.engine
    over = readers.overdue_counts(engine, yard=None, min_age_h=DWELL_TARGET_H)
    in_yard, over_24h = [], []
    for yard in services.stations:
        state = readers.yard_state(engine, yard=yard)
        if state is None:  # no live view of this yard yet: no figure rather than a false 0
            continue
        in_yard.append(sample("corridor_boxes_in_yard", {"yard": yard}, state["boxes_in_yard"]))
        count = sum(over.get(yard, {}).values())
        over_24h.append(sample("corridor_boxes_over_24h", {"yard": yard}, count))
    return [
        *family("corridor_boxes_in_yard", "gauge", "Boxes in the yard at its twin clock.", in_yard),
        *family(
            "corridor_boxes_over_24h",
            "gauge",
            "Boxes in the yard for 24 h or more at its twin clock (the one-day target).",
            over_24h,
        ),
    ]


def _dead_letters(services: Services) -> Iterable[str]:
    counts = readers.dead_letter_counts(services.store.engine)
    return family(
        "corridor_dead_letters_total",
        "counter",
        "Messages that could not be applied, by reason.",
        (sample("corridor_dead_letters_total", {"reason": c.reason}, c.count) for c in counts),
    )


def _flags(services: Services) -> Iterable[str]:
    counts = readers.input_flag_counts(services.store.engine)
    return family(
        "corridor_input_flags_total",
        "counter",
        "Valid events applied but flagged (gate-out before gate-in, key not the yard), by kind.",
        (sample("corridor_input_flags_total", {"kind": kind}, n) for kind, n in counts.items()),
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
    ahead = [
        sample("corridor_worker_yard_ahead_seconds", {"group": r.group, "yard": yard}, seconds)
        for r in rows
        for yard, seconds in sorted((r.yards_ahead or {}).items())
    ]
    return [
        *family(
            "corridor_worker_yard_ahead_seconds",
            "gauge",
            "Yard clock ahead of the newest input by more than the lateness.",
            ahead,
        ),
        *family(
            "corridor_worker_last_commit_seconds", "gauge", "Wall time of the last commit.", commits
        ),
        *family(
            "corridor_worker_last_event_seconds", "gauge", "Latest archived event time.", events
        ),
        *family("corridor_worker_lag_messages", "gauge", "Messages behind the feeds' ends.", lag),
    ]
