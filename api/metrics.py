"""Prometheus text exposition (format 0.0.4), written by hand: the KPIs and the service's health.

Request counts and latency histograms are kept by a pure ASGI middleware (it wraps streaming
responses without buffering them), labelled by the route's *template* (`/yards/{yard}/kpis`),
never the raw path, so a scanner probing random URLs cannot blow up the label set. KPI gauges
flatten each latest snapshot: `corridor_kpi{scope="yuzui",window="24h",kpi="dwell_h.p50"}`.
"""

import math
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
"""Latency histogram bounds, seconds."""


def escape(value: str) -> str:
    """A label value as the exposition format wants it."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def sample(name: str, labels: Mapping[str, str], value: float) -> str:
    """One exposition line."""
    inner = ",".join(f'{key}="{escape(text)}"' for key, text in labels.items())
    number = "NaN" if math.isnan(value) else repr(float(value))
    return f"{name}{{{inner}}} {number}" if inner else f"{name} {number}"


def family(name: str, kind: str, doc: str, lines: Iterable[str]) -> list[str]:
    """A metric family: HELP and TYPE, then its samples."""
    return [f"# HELP {name} {doc}", f"# TYPE {name} {kind}", *lines]


def flatten(kpis: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, float]]:
    """Numeric leaves of a KPI block as (dotted name, value); nulls are skipped."""
    for key, value in kpis.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield name, float(value)


class RequestMetrics:
    """Request counts by (method, route, status) and latency histograms by route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            counts = self.buckets.setdefault(route, [0] * (len(BUCKETS) + 1))
            index = next((i for i, bound in enumerate(BUCKETS) if seconds <= bound), len(BUCKETS))
            counts[index] += 1
            self.sums[route] = self.sums.get(route, 0.0) + seconds

    def render(self) -> list[str]:
        """The request families, in a stable order."""
        with self._lock:
            requests = sorted(self.requests.items())
            histograms = sorted((route, list(counts)) for route, counts in self.buckets.items())
            sums = dict(self.sums)
        lines = family(
            "corridor_api_requests_total",
            "counter",
            "HTTP requests answered, by method, route template and status.",
            (
                sample("corridor_api_requests_total", {"method": m, "route": r, "status": s}, n)
                for (m, r, s), n in requests
            ),
        )
        latency: list[str] = []
        for route, counts in histograms:
            latency.extend(_histogram("corridor_api_request_duration_seconds", route, counts, sums))
        return lines + family(
            "corridor_api_request_duration_seconds",
            "histogram",
            "Time to answer a request (streams: until closed), by route template.",
            latency,
        )


def _histogram(name: str, route: str, counts: list[int], sums: Mapping[str, float]) -> list[str]:
    lines, running = [], 0
    for bound, count in zip([*BUCKETS, math.inf], counts, strict=True):
        running += count
        le = "+Inf" if math.isinf(bound) else repr(bound)
        lines.append(sample(f"{name}_bucket", {"route": route, "le": le}, running))
    lines.append(sample(f"{name}_sum", {"route": route}, sums.get(route, 0.0)))
    lines.append(sample(f"{name}_count", {"route": route}, running))
    return lines


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
