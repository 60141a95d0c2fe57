"""Outcome counters of the stream agents (prometheus_client), labelled by agent and outcome only.

Outcomes: ok, skipped, rejected, unparseable, failed (the stages' outcomes) and duplicate (a redelivered
event the ledger had already recorded). `veiviser worker ... --metrics-port N` serves them over HTTP.
"""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["MESSAGES", "RETRIES", "count"]

MESSAGES = Counter("veiviser_stream_messages", "Messages handled by a stream agent, by outcome",
                   ["agent", "outcome"])
RETRIES = Counter("veiviser_stream_retries", "Batches retried after a transient failure", ["agent", "outcome"])


def count(agent: str, outcome: str, n: int = 1) -> None:
    if n:
        MESSAGES.labels(agent=agent, outcome=outcome).inc(n)
