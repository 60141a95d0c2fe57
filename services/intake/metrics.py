"""Prometheus metrics of the HTTP intake, in a registry of its own (one per app), served at GET /metrics.

    veiviser_intake_requests_total{route, status}          requests by route template and status code
    veiviser_intake_request_duration_seconds{route}        request latency (histogram, seconds)
    veiviser_intake_events_total{outcome}                  events: accepted | duplicate | rejected
Labels are bounded: route templates and outcomes, never a system token, case or person reference.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["IntakeMetrics", "CONTENT_TYPE_LATEST"]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class IntakeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter("veiviser_intake_requests_total", "HTTP requests by route template and status",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("veiviser_intake_request_duration_seconds", "HTTP request latency",
                                 ["route"], buckets=BUCKETS, registry=self.registry)
        self.events = Counter("veiviser_intake_events_total", "Events by outcome: accepted, duplicate (already "
                              "published; not published again), rejected (kept on the dead-letter topic)",
                              ["outcome"], registry=self.registry)

    def count_events(self, status: int, body: dict[str, Any]) -> None:
        """Count the events of one answered request from its response body."""
        accepted = body.get("accepted") or []
        duplicates = sum(1 for item in accepted if item.get("duplicate"))
        self._add("accepted", len(accepted) - duplicates)
        self._add("duplicate", duplicates)
        if status in (403, 422):
            self._add("rejected", len(body.get("rejected") or []))

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
            self.requests.labels(route=route, status=str(status)).inc()
            self.latency.labels(route=route).observe(time.perf_counter() - started)

    def _add(self, outcome: str, n: int) -> None:
        if n > 0:
            self.events.labels(outcome=outcome).inc(n)
