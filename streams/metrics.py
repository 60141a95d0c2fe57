"""Outcome counters of the stream agents (prometheus_client), labelled by agent and outcome only.

    veiviser_stream_messages_total{agent, outcome}   messages handled, by outcome
    veiviser_stream_retries_total{agent, outcome}    batches retried after a transient failure (outcome: transient)
    veiviser_pipeline_latency_seconds{agent}         an event's publish (its Kafka timestamp) to its decision
                                                     committed and its follow-up acknowledged by Kafka

Outcomes: ok, skipped, rejected, unparseable, failed (the stages' outcomes) and duplicate (a redelivered
event the ledger had already recorded). Labels are bounded (agent names and outcomes; never a case id).
`veiviser worker ... --metrics-port N` serves them over HTTP. Names follow the Prometheus conventions that
tests/unit/health/test_metric_names.py checks for the whole project (counters _total, base units).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from prometheus_client import Counter, Histogram

__all__ = ["MESSAGES", "RETRIES", "PIPELINE_LATENCY", "count", "observe_latency"]

MESSAGES = Counter("veiviser_stream_messages_total", "Messages handled by a stream agent, by outcome",
                   ["agent", "outcome"])
RETRIES = Counter("veiviser_stream_retries_total", "Batches retried after a transient failure",
                  ["agent", "outcome"])


log = logging.getLogger(__name__)
PIPELINE_LATENCY = Histogram("veiviser_pipeline_latency_seconds",
                             "Publish (Kafka timestamp) to decision committed and follow-up acknowledged",
                             ["agent"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))


def observe_latency(agent: str, published_s: Iterable[float | None], now_s: float | None = None) -> None:
    """Observe now - publish time for each event (None: the message had no timestamp)."""
    now_s = time.time() if now_s is None else now_s
    histogram = PIPELINE_LATENCY.labels(agent=agent)
    for published in published_s:
        if published:
            histogram.observe(max(0.0, now_s - published))


def count(agent: str, outcome: str, n: int = 1) -> None:
    """Count n messages; a count below zero is a bug in the caller and is logged, never raised (a metric must
    not stop a worker)."""
    if n > 0:
        MESSAGES.labels(agent=agent, outcome=outcome).inc(n)
    elif n < 0:
        log.error("%s: a negative count %d of %s messages was not recorded", agent, n, outcome)
