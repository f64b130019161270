"""The service's Prometheus metrics: one `CollectorRegistry` per app, exposed by `GET /metrics`.

`prometheus_client` keeps the counts and writes the text exposition (format 0.0.4: escaping,
histogram buckets, `+Inf`, `NaN`); this module only says what is counted. The registry is the
app's own, never the library's global one, so two apps in one process (tests) never share
counts or clash on names. The store's figures come from `api.store_metrics.StoreMetrics`, a
collector registered on the same registry that reads the store on each scrape.

Request counts and latency histograms are kept by a pure ASGI middleware (it wraps streaming
responses without buffering them), labelled by the route's *template* (`/yards/{yard}/kpis`),
never the raw path, so a scanner probing random URLs cannot blow up the label set. As every
`prometheus_client` counter and histogram, they also expose a `_created` gauge (the Unix time
the series began; `PROMETHEUS_DISABLE_CREATED_SERIES=true` in the environment drops it).
"""

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
"""Latency histogram bounds, seconds."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What `generate_latest` writes: the classic text format, which every Prometheus reads."""


class RequestMetrics:
    """Request counts by (method, route, status) and latency histograms by route, on `registry`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "corridor_api_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "corridor_api_request_duration_seconds",
            "Time to answer a request (streams: until closed), by route template.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def exposition(self) -> bytes:
        """Every metric of the registry (requests and store alike) as Prometheus text."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Times every HTTP request and records it under its route template."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, noting its status and duration."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = getattr(scope.get("route"), "path", None)
            template = route if isinstance(route, str) else "<unmatched>"
            if template.startswith("/static"):
                template = "/static"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)
