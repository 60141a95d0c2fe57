"""Natural batching between faust and an agent: faust keeps taking messages while the agent works, and the
agent takes everything that arrived meanwhile (up to `size`) as its next batch.

    faust stream ─ noack_take (≤ `within` s) ─▶ Backlog (≤ `limit` held) ─▶ agent, one batch at a time
                                                                             └─ ack each message when done

With faust's own `take_events` the agent's batch blocks faust until it returns, and the next batch is cut
after `within` seconds however long the agent was busy: small batches (each costs a transaction, ~5 ms)
followed by idle intake. Here, at low rates a batch is what arrived within `within` (low latency); under load
it is whatever queued while the previous one was stored (large, cheap per event).

Acks are manual: a message is acknowledged (its offset may be committed) only after the agent stored and
sent what its batch caused, so a crash or stop at any point redelivers it (the ledger makes the redelivery a
no-op). Batches go to the agent strictly in order, one at a time: a case's events keep their order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from streams.worker import FINISH_ON_STOP_S, Agent, exit_unacknowledged, process_or_exit

__all__ = ["Backlog", "process_stream", "HELD_BATCHES"]

HELD_BATCHES = 2  # the backlog holds at most this many full batches before faust waits


class Backlog:
    """Messages taken from faust and not yet handed to the agent, in arrival order: at most `limit`, when
    faust hands over at most `size` at a time."""

    def __init__(self, size: int, limit: int) -> None:
        if size < 1 or limit < size:
            raise ValueError(f"a backlog needs 1 <= size <= limit, got size={size}, limit={limit}")
        self.size, self.limit = size, limit
        self._held: list = []
        self._arrived, self._room = asyncio.Event(), asyncio.Event()
        self._room.set()
        self.closed = False

    def __len__(self) -> int:
        return len(self._held)

    async def put(self, messages: list) -> None:
        """Add messages; waits while the backlog is full (faust then stops taking more)."""
        await self._room.wait()
        if self.closed:
            return
        self._held.extend(messages)
        self._arrived.set()
        if len(self._held) + self.size > self.limit:  # another full put would overrun the limit
            self._room.clear()

    async def take(self) -> list | None:
        """The next batch: everything held, up to `size`; waits for a message. None once closed."""
        await self._arrived.wait()
        if self.closed:
            return None
        batch, self._held = self._held[:self.size], self._held[self.size:]
        if not self._held:
            self._arrived.clear()
        if len(self._held) + self.size <= self.limit:
            self._room.set()
        return batch

    def close(self) -> None:
        """Stop: what is held is dropped (never acknowledged, so redelivered) and waiters are released."""
        self.closed = True
        self._held.clear()
        self._arrived.set()
        self._room.set()


async def process_stream(agent: Agent, stream: Any, size: int, within: float) -> None:
    """Hand a faust stream's messages to the agent in batches of up to `size`, acknowledging each batch only
    after the agent returned (streams.worker.process_or_exit: it exits rather than return unprocessed)."""
    backlog = Backlog(size, HELD_BATCHES * size)
    runner = asyncio.ensure_future(_run(agent, stream, backlog))
    try:
        async for messages in stream.noack_take(size, within=within):
            await backlog.put(messages)
    except asyncio.CancelledError:
        raise
    except BaseException:  # noqa: BLE001 - held messages would never be acknowledged: exit, redeliver them
        exit_unacknowledged(agent, "taking messages from faust failed")
    finally:
        await _stop(runner, backlog)


async def _run(agent: Agent, stream: Any, backlog: Backlog) -> None:
    """Crash-only: if anything here fails (acking, say), the worker exits rather than let faust carry on past
    messages that were taken but never acknowledged (their partition's committed offset would stop there)."""
    try:
        while (batch := await backlog.take()) is not None:
            current = _current(stream, batch)
            if current:
                await process_or_exit(agent, current)
            for event in current:
                await stream.ack(event)
    except asyncio.CancelledError:
        raise
    except BaseException:  # noqa: BLE001 - crash-only, see above
        exit_unacknowledged(agent, "the batch runner failed")


def _current(stream: Any, batch: list) -> list:
    """The batch without messages taken before a rebalance (faust skips those too: their partition may now
    be another worker's, which processes them from its committed offset)."""
    generation = getattr(getattr(stream, "app", None), "consumer_generation_id", None)
    return [e for e in batch if getattr(e.message, "generation_id", generation) == generation]


async def _stop(runner: asyncio.Future, backlog: Backlog) -> None:
    """Stopping: what was not started is dropped unacknowledged (redelivered after the restart); the batch
    being processed finishes and is acknowledged, or, when it cannot finish in time (the database is away),
    the worker exits without acknowledging it."""
    backlog.close()
    try:
        await asyncio.wait_for(asyncio.shield(runner), FINISH_ON_STOP_S)
    except TimeoutError:
        exit_unacknowledged(runner, f"stopping, and the batch did not finish within {FINISH_ON_STOP_S:.0f} s")
