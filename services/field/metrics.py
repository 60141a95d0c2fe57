"""Prometheus metrics of the field service, in a registry of its own (one per app).

    veiviser_field_requests_total{method, route, status}       requests by route template and status code
    veiviser_field_request_duration_seconds{method, route}     latency (histogram)
    veiviser_field_actions_total{action, outcome}              start/complete/fail by outcome:
        published | duplicate | conflict | rejected | refused (401/403/404) | unavailable
Labels are bounded: route templates, never a worker, case or visit id.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["Metrics", "CONTENT_TYPE_LATEST"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("veiviser_field_requests", "HTTP requests by route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("veiviser_field_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], buckets=BUCKETS, registry=self.registry)
        self.actions = Counter("veiviser_field_actions", "Stop actions by action and outcome",
                               ["action", "outcome"], registry=self.registry)

    def action(self, action: str, outcome: str) -> None:
        self.actions.labels(action=action, outcome=outcome).inc()

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
