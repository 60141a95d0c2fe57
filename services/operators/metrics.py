"""The console's own Prometheus metrics (base units, counters end in _total, bounded labels only)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["INDEXED", "ACTIONS", "OPEN", "REQUESTS", "SAMPLE_SECONDS", "set_open"]

INDEXED = Counter("veiviser_operators_dead_letters_indexed", "Dead letters read into the console's index")
ACTIONS = Counter("veiviser_operators_actions", "Operator actions on dead letters", ["action", "outcome"])
OPEN = Gauge("veiviser_operators_dead_letters_open", "Dead letters neither replayed nor discarded, by origin "
             "topic (or 'intake') and stage", ["origin", "stage"])
REQUESTS = Histogram("veiviser_operators_request_duration_seconds", "Console HTTP requests by route template "
                     "and status", ["route", "status"])
SAMPLE_SECONDS = Histogram("veiviser_operators_sample_duration_seconds", "Time to take one health sample and sync "
                           "the dead-letter index")
_known: set[tuple[str, str]] = set()


def set_open(groups: list[dict]) -> None:
    """Set the open counts from a dead-letter summary; origins no longer open go to 0."""
    now = {(g["origin"] or "unknown", g["stage"] or "none"): g["count"] for g in groups}
    for labels in _known - now.keys():
        OPEN.labels(*labels).set(0)
    for labels, count in now.items():
        OPEN.labels(*labels).set(count)
    _known.update(now)
