"""Prometheus metrics of the field service, in a registry of its own (one per app).

    veiviser_field_requests_total{method, route, status}       requests by route template and status code
    veiviser_field_request_duration_seconds{method, route}     latency (histogram)       (services.httpmetrics)
    veiviser_field_actions_total{action, outcome}              start/complete/fail by outcome:
        published | duplicate | conflict | rejected | refused (401/403/404) | unavailable
Labels are bounded: route templates, never a worker, case or visit id.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from services.httpmetrics import CONTENT_TYPE_LATEST, HttpMetrics

__all__ = ["Metrics", "CONTENT_TYPE_LATEST"]


class Metrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__("veiviser_field", CollectorRegistry())
        self.actions = Counter("veiviser_field_actions", "Stop actions by action and outcome",
                               ["action", "outcome"], registry=self.registry)

    def action(self, action: str, outcome: str) -> None:
        self.actions.labels(action=action, outcome=outcome).inc()
