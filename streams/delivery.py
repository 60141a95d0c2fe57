"""What every agent shares: the consumed message, the batch summary, and sending outputs with retry.

`deliver` sends a batch's outputs and awaits their delivery; a broker error is a TransientError retried
with backoff (the whole list is sent again: receivers dedupe, a follow-up by its id), never a drop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from streams import metrics
from streams.errors import TransientError
from streams.retry import Backoff, retry_async
from streams.stages import Origin, Output

__all__ = ["REPLAY_HEADER", "Message", "Summary", "Send", "deliver", "on_retry"]

log = logging.getLogger(__name__)
Send = Callable[[Sequence[Output]], Awaitable[None]]


REPLAY_HEADER = "veiviser_replay_of"  # set by the operators' dead-letter replay (services/operators)


@dataclass(frozen=True)
class Message:
    value: bytes | None
    origin: Origin
    replayed: bool = False  # an operator replayed it from the dead-letter topic (after a fix)
    published_s: float | None = None  # its Kafka timestamp (seconds since the epoch), for the latency


@dataclass
class Summary:
    outcomes: dict[str, int] = field(default_factory=dict)
    followups: int = 0
    dead_letters: int = 0

    def add(self, outcome: str, n: int = 1) -> None:
        if n:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n

    def count(self, agent: str) -> None:
        for outcome, n in self.outcomes.items():
            metrics.count(agent, outcome, n)


def on_retry(agent: str) -> Callable[[int, Exception], None]:
    def retrying(attempt: int, error: Exception) -> None:
        metrics.RETRIES.labels(agent=agent, outcome="transient").inc()
        log.warning("%s: transient failure, retry %d of the batch: %s", agent, attempt, error)

    return retrying


async def deliver(send: Send, outputs: Sequence[Output], backoff: Backoff, agent: str) -> None:
    if not outputs:
        return

    async def attempt() -> None:
        try:
            await send(outputs)
        except (asyncio.CancelledError, TransientError):
            raise
        except Exception as exc:  # noqa: BLE001 - the broker is away or refused: retry, never drop
            raise TransientError(f"sending {len(outputs)} message(s) failed: {type(exc).__name__}: {exc}") from exc

    await retry_async(attempt, backoff, on_retry(agent))
