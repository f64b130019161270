"""The FastAPI application: `create_app(settings)` wires settings, store, routers and dashboard.

Startup brings the schema to the latest migration (unless told not to) and opens the job
pools; shutdown fails the jobs still pending, saying why, and ends their processes at once.
Everything the routes need hangs off `app.state`, so two apps in one process (tests) never
share state.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api.errors import (
    DATABASE_DOWN,
    VALIDATION_RESPONSE,
    database_unavailable,
    method_not_allowed,
    upload_refused,
    validation_error,
)
from api.head import HeadAsGetMiddleware
from api.limits import LimitExceededError, StreamLimitMiddleware, limit_exceeded
from api.metrics import MetricsMiddleware
from api.routes import (
    bottleneck,
    boxes,
    dashboard,
    dead_letters,
    forecast,
    health,
    kpis,
    metrics,
    replays,
    stream,
    whatif,
    yards,
)
from api.services import Services
from api.settings import ApiSettings
from api.store.db import upgrade
from api.store.sql_store import SqlStore
from api.upload import UploadRefusedError

DESCRIPTION = """\
Live and historical KPIs of the Chongqing corridor's rail container yards (one station file
each, listed by `GET /yards`), as computed by the digital twin:
truck turnaround, gate queues, container dwell against the one-day target, throughput,
equipment and plug use, and reefer alarms. Times are RFC 3339 with an offset.
"""


def create_app(settings: ApiSettings | None = None, *, store: SqlStore | None = None) -> FastAPI:
    """The service, reading `settings` (default: the environment) and `store` (default: its URL)."""
    settings = settings if settings is not None else ApiSettings()
    services = Services.build(settings, store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await run_in_threadpool(upgrade, services.store.engine)
        services.replays.start()
        services.forecaster.start()
        await run_in_threadpool(services.whatifs.start)
        try:
            yield
        finally:  # each kind's jobs failed saying why, then their processes ended (not awaited)
            await run_in_threadpool(services.whatifs.stop)
            await run_in_threadpool(services.forecaster.stop)
            await run_in_threadpool(services.replays.stop)

    # /docs and /redoc from assets shipped in the fastapi-offline wheel (under
    # /static-offline-docs), not a CDN: the pages work on a yard's network with no internet.
    app = FastAPIOffline(
        title="Corridor twin API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=VALIDATION_RESPONSE,
    )
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED, method_not_allowed)
    app.add_exception_handler(LimitExceededError, limit_exceeded)
    app.add_exception_handler(UploadRefusedError, upload_refused)
    for error in DATABASE_DOWN:
        app.add_exception_handler(error, database_unavailable)
    app.state.settings = settings
    app.state.services = services
    for module in (
        health,
        yards,
        boxes,
        bottleneck,
        kpis,
        forecast,
        whatif,
        stream,
        metrics,
        dead_letters,
        replays,
        dashboard,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=dashboard.STATIC), name="static")
    # The last added runs first: metrics see every request as sent, HEAD included.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(StreamLimitMiddleware, slots=services.streams, path="/stream/kpis")
    app.add_middleware(MetricsMiddleware, metrics=services.metrics)
    return app
