"""Request metrics every HTTP service can share (prometheus_client, one registry per app), with a middleware.

    HttpMetrics("veiviser_intake", registry)
        veiviser_intake_requests_total{method, route, status}     requests by route template and status code
        veiviser_intake_request_duration_seconds{method, route}   latency (histogram, seconds)

Labels are bounded: the route template (never the path with its ids), the method, the status code.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["HttpMetrics", "CONTENT_TYPE_LATEST", "BUCKETS"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HttpMetrics:
    def __init__(self, prefix: str, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(f"{prefix}_requests_total", "HTTP requests by route template and status",
                                ["method", "route", "status"], registry=registry)
        self.latency = Histogram(f"{prefix}_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], buckets=BUCKETS, registry=registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    async def middleware(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", "unmatched")
            method = request.method if request.method in METHODS else "other"
            self.requests.labels(method=method, route=route, status=str(status)).inc()
            self.latency.labels(method=method, route=route).observe(time.perf_counter() - started)
