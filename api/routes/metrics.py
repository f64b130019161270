"""`GET /metrics`: the KPIs and the service's own health, for Prometheus to scrape.

The exposition is `prometheus_client`'s, from the app's own registry (`api.metrics`): the
store's figures (`api.store_metrics`) and the request counters. It runs in the thread pool,
since collecting reads the store.
"""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from api.deps import ServicesDep
from api.metrics import CONTENT_TYPE
from api.routes.common import READ_ERRORS
from api.security import ReaderAccess

router = APIRouter(tags=["metrics"], dependencies=[ReaderAccess], responses=READ_ERRORS)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(services: ServicesDep) -> PlainTextResponse:
    """Prometheus exposition: KPI gauges, dead letters, worker lag, request counts and latency."""
    body = await run_in_threadpool(services.metrics.exposition)
    return PlainTextResponse(body, media_type=CONTENT_TYPE)
