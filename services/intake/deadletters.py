"""Keeping what the intake rejected: the original bytes (identity numbers masked) on the dead-letter topic.

Reasons travel in headers, so an operator can read why, fix the sender and replay the value as it came.
The intake waits for the broker's acknowledgement: a rejection is only answered once it is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from events import identity, topics
from events.deadletters import dead_letter_headers as _headers
from events.problems import Problem

__all__ = ["DeadLetters", "dead_letter_headers"]


def dead_letter_headers(problems: Sequence[Problem], *, system: str, endpoint: str, status: int
                        ) -> list[tuple[str, bytes]]:
    summary = f"{len(problems)} problem(s); first: {problems[0]}" if problems else "rejected"
    return _headers(problems, summary, {
        "dlq_source": "intake", "dlq_system": system, "dlq_endpoint": endpoint, "dlq_status": str(status),
        "dlq_received_at": datetime.now(UTC).isoformat(),
    })


class DeadLetters:
    """Sends rejected request bodies to the dead-letter topic through a Publisher."""

    def __init__(self, publisher: Any, topic: str = topics.DEAD_LETTER, timeout_s: float = 30.0):
        self.publisher = publisher
        self.topic = topic
        self.timeout_s = timeout_s

    def keep(self, raw: bytes, problems: Sequence[Problem], *, system: str, endpoint: str, status: int) -> None:
        """Dead-letter the body; raises when the broker does not acknowledge it (the caller answers 503)."""
        headers = dead_letter_headers(problems, system=system, endpoint=endpoint, status=status)
        future = self.publisher.send_raw(self.topic, identity.mask_bytes(raw), system.encode(), headers)
        self.publisher.flush()
        future.get(timeout=self.timeout_s)
