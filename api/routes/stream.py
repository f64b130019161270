"""Server-sent events: every new KPI snapshot, as the worker commits it.

Each connection starts at the newest stored snapshot (or after `Last-Event-ID`, when an
EventSource reconnects), announces itself with a `ready` event, then polls the store and sends
each snapshot stored since as a `snapshot` event whose id is the snapshot's storage id.
Open streams are limited in total and per client address (`api.limits`, held by a middleware
for the connection's whole life), and a resuming client is sent at most `stream_max_backlog`
snapshots it missed: a `Last-Event-ID: 0` on a year-old store is not a year of replay.
"""

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sse_starlette import EventSourceResponse

from api.deps import ServicesDep
from api.errors import DATABASE_DOWN
from api.kpi_views import snapshot_json
from api.responses import ErrorMessage, Scope, Window
from api.routes.common import BUSY, READ_ERRORS
from api.security import ReaderAccess
from api.settings import WINDOWS
from api.store import readers

log = logging.getLogger(__name__)
router = APIRouter(
    prefix="/stream", tags=["stream"], dependencies=[ReaderAccess], responses=READ_ERRORS
)
_EVENT_ID = re.compile(r"[0-9]{1,18}")

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
    **BUSY,
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
    newest = await run_in_threadpool(readers.last_snapshot_id, services.store.engine)
    cursor = _resume_from(last_event_id, newest, services.settings.stream_max_backlog)
    return EventSourceResponse(_events(request, services, scopes, windows, cursor), ping=15)


def _resume_from(last_event_id: str | None, newest: int, backlog: int) -> int:
    """Where the stream starts: after the client's last id, but at most `backlog` back."""
    if last_event_id is None or not _EVENT_ID.fullmatch(last_event_id.strip()):
        return newest
    return min(newest, max(int(last_event_id), newest - backlog))


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
    cursor: int,
) -> AsyncIterator[dict[str, str]]:
    engine = services.store.engine
    yield {"event": "ready", "data": json.dumps({"cursor": cursor})}
    while not await request.is_disconnected():
        try:
            rows = await run_in_threadpool(
                readers.snapshots_after, engine, cursor=cursor, scopes=scopes, windows=windows
            )
        except DATABASE_DOWN as error:  # end the stream; the EventSource reconnects later
            log.warning("event stream ended, database unavailable: %s", type(error).__name__)
            return
        for row in rows:
            cursor = row.id if row.id is not None else cursor
            yield {"event": "snapshot", "id": str(cursor), "data": snapshot_json(row).decode()}
        if rows:
            services.kpi_cache.clear()  # new snapshots: the next poll should see them at once
        await asyncio.sleep(services.settings.stream_poll_s)
