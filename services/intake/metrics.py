"""Prometheus metrics of the HTTP intake, in a registry of its own (one per app), served at GET /metrics.

    veiviser_intake_requests_total{method, route, status}   requests by route template and status code
    veiviser_intake_request_duration_seconds{method, route} request latency (histogram, seconds)
    veiviser_intake_events_total{outcome}                   events: accepted | duplicate | rejected
Labels are bounded: route templates and outcomes, never a system token, case or person reference.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter

from services.httpmetrics import CONTENT_TYPE_LATEST, HttpMetrics

__all__ = ["IntakeMetrics", "CONTENT_TYPE_LATEST"]


class IntakeMetrics(HttpMetrics):
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        super().__init__("veiviser_intake", registry if registry is not None else CollectorRegistry())
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

    def _add(self, outcome: str, n: int) -> None:
        if n > 0:
            self.events.labels(outcome=outcome).inc(n)
