"""Retrying a message whose handling hit a TransientError: exponential backoff, capped, with jitter.

A transient failure (database or broker briefly away) holds the partition and retries the same message:
dead-lettering it would lose an event that is fine. The delay doubles from `first_s` up to `max_s`; it
retries until it succeeds or `give_up_after` attempts (None: keep trying while the worker runs, the
operator sees the stall in consumer lag).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from streams.errors import TransientError

__all__ = ["Backoff", "retry_async"]

R = TypeVar("R")
_JITTER = random.Random()


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.1
    max_s: float = 10.0
    give_up_after: int | None = None

    def delay(self, attempt: int, rng: random.Random = _JITTER) -> float:
        """Delay before retry number `attempt` (1-based): doubling, capped, with +-20 % jitter."""
        base = min(self.max_s, self.first_s * 2 ** (attempt - 1))
        return base * rng.uniform(0.8, 1.2)


async def retry_async(
    fn: Callable[[], Awaitable[R]],
    backoff: Backoff,
    on_retry: Callable[[int, TransientError], None] = lambda _n, _e: None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> R:
    attempt = 0
    while True:
        try:
            return await fn()
        except TransientError as exc:
            attempt += 1
            if backoff.give_up_after is not None and attempt >= backoff.give_up_after:
                raise
            on_retry(attempt, exc)
            await sleep(backoff.delay(attempt))
