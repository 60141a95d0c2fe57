"""Outcome counters of the stream agents (prometheus_client), labelled by agent and outcome only.

    veiviser_stream_messages_total{agent, outcome}   messages handled, by outcome
    veiviser_stream_retries_total{agent, outcome}    batches retried after a transient failure (outcome: transient)

Outcomes: ok, skipped, rejected, unparseable, failed (the stages' outcomes) and duplicate (a redelivered
event the ledger had already recorded). Labels are bounded (agent names and outcomes; never a case id).
`veiviser worker ... --metrics-port N` serves them over HTTP. Names follow the Prometheus conventions that
tests/unit/health/test_metric_names.py checks for the whole project (counters _total, base units).
"""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["MESSAGES", "RETRIES", "count"]

MESSAGES = Counter("veiviser_stream_messages_total", "Messages handled by a stream agent, by outcome",
                   ["agent", "outcome"])
RETRIES = Counter("veiviser_stream_retries_total", "Batches retried after a transient failure",
                  ["agent", "outcome"])


def count(agent: str, outcome: str, n: int = 1) -> None:
    if n:
        MESSAGES.labels(agent=agent, outcome=outcome).inc(n)
