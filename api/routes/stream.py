"""Server-sent events: every new KPI snapshot, as the worker commits it.

Each connection starts at the newest stored snapshot (or after `Last-Event-ID`, when an
EventSource reconnects), announces itself with a `ready` event, then polls the store and sends
each snapshot stored since as a `snapshot` event whose id is the snapshot's storage id.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sse_starlette import EventSourceResponse

from api.deps import ServicesDep
from api.kpi_views import snapshot_json
from api.responses import ErrorMessage, Scope, Window
from api.routes.common import UNAUTHORISED
from api.security import ReaderAccess
from api.settings import WINDOWS
from api.store import readers

router = APIRouter(
    prefix="/stream", tags=["stream"], dependencies=[ReaderAccess], responses=UNAUTHORISED
)

SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "one event; `data` is JSON: {cursor} for ready, a KpiView for snapshot",
    "properties": {
        "event": {"type": "string", "enum": ["ready", "snapshot"]},
        "data": {"type": "string"},
        "id": {"type": "string"},
    },
    "required": ["event", "data"],
}
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "an endless text/event-stream of `ready` then `snapshot` events",
        "content": {"text/event-stream": {"schema": SSE_EVENT}},
    },
    422: {"model": ErrorMessage},
}


@router.get("/kpis", response_class=EventSourceResponse, responses=EVENT_STREAM)
async def stream_kpis(
    request: Request,
    services: ServicesDep,
    scope: Annotated[
        list[Scope] | None, Query(description="yard ids or corridor; default all")
    ] = None,
    window: Annotated[list[Window] | None, Query(description="windows; default all")] = None,
    last_event_id: Annotated[
        str | None, Header(description="resume after this snapshot id")
    ] = None,
) -> EventSourceResponse:
    """Push each new KPI snapshot (data: the same JSON as `GET /yards/{yard}/kpis`)."""
    scopes = _known_scopes(scope, [*services.stations, "corridor"])
    windows: list[str] = list(window) if window else list(WINDOWS)
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    events = _events(request, services, scopes, windows, start)
    return EventSourceResponse(events, ping=15)


def _known_scopes(asked: list[str] | None, known: list[str]) -> list[str]:
    """The scopes asked for (default all), each a yard of the station files or the corridor."""
    for scope in asked or []:
        if scope not in known:
            detail = f"query.scope: unknown {scope!r}; known: {', '.join(known)}"
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
    return list(asked) if asked else known


async def _events(
    request: Request,
    services: ServicesDep,
    scopes: list[str],
    windows: list[str],
    start: int | None,
) -> AsyncIterator[dict[str, str]]:
    engine = services.store.engine
    cursor = (
        start if start is not None else await run_in_threadpool(readers.last_snapshot_id, engine)
    )
    yield {"event": "ready", "data": json.dumps({"cursor": cursor})}
    while not await request.is_disconnected():
        rows = await run_in_threadpool(
            readers.snapshots_after, engine, cursor=cursor, scopes=scopes, windows=windows
        )
        for row in rows:
            cursor = row.id if row.id is not None else cursor
            yield {"event": "snapshot", "id": str(cursor), "data": snapshot_json(row).decode()}
        if rows:
            services.kpi_cache.clear()  # new snapshots: the next poll should see them at once
        await asyncio.sleep(services.settings.stream_poll_s)
