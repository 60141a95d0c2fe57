"""Natural batching between faust and an agent (streams.batches), on a stand-in faust stream."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from streams.batches import Backlog, process_stream
from streams.delivery import Summary

pytestmark = pytest.mark.unit


def _event(offset: int, generation: int = 1) -> SimpleNamespace:
    message = SimpleNamespace(value=str(offset).encode(), topic="t", partition=0, offset=offset, key=b"k",
                              headers=[], timestamp=0, generation_id=generation)
    return SimpleNamespace(message=message)


class Stream:
    """What process_stream uses of a faust stream: noack_take (chunks, then waits like a live topic) and ack."""

    def __init__(self, chunks: list[list], gap_s: float = 0.0, generation: int = 1) -> None:
        self.chunks, self.gap_s, self.acked, self.log = chunks, gap_s, [], []
        self.app = SimpleNamespace(consumer_generation_id=generation)

    async def noack_take(self, size: int, within: float):
        for chunk in self.chunks:
            await asyncio.sleep(self.gap_s)
            self.log.append(("taken", [e.message.offset for e in chunk]))
            yield chunk
        await asyncio.Event().wait()

    async def ack(self, event) -> None:
        self.acked.append(event.message.offset)
        self.log.append(("ack", event.message.offset))


class Agent:
    def __init__(self, stream: Stream, busy_s: float = 0.0, block: asyncio.Event | None = None) -> None:
        self.stream, self.busy_s, self.block, self.batches = stream, busy_s, block, []

    async def process(self, messages) -> Summary:
        offsets = [m.origin.offset for m in messages]
        self.stream.log.append(("start", offsets))
        if self.block is not None:
            await self.block.wait()
        await asyncio.sleep(self.busy_s)
        self.batches.append(offsets)
        self.stream.log.append(("done", offsets))
        return Summary({"ok": len(messages)})


async def _run_until(stream: Stream, agent: Agent, size: int, acked: int, timeout_s: float = 5.0) -> None:
    task = asyncio.ensure_future(process_stream(agent, stream, size, within=0.01))
    try:
        async with asyncio.timeout(timeout_s):
            while len(stream.acked) < acked:
                await asyncio.sleep(0.005)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_a_busy_agent_gets_everything_that_arrived_meanwhile_as_one_batch_in_order():
    chunks = [[_event(i)] for i in range(30)]  # faust hands over one message at a time
    stream = Stream(chunks, gap_s=0.002)
    agent = Agent(stream, busy_s=0.03)
    asyncio.run(_run_until(stream, agent, size=100, acked=30))
    assert [o for batch in agent.batches for o in batch] == list(range(30))
    assert len(agent.batches) < 15  # batches grew while the agent was busy (one message per batch otherwise)


def test_batches_never_exceed_the_size():
    stream = Stream([[_event(i) for i in range(j * 7, j * 7 + 7)] for j in range(6)])
    agent = Agent(stream, busy_s=0.02)
    asyncio.run(_run_until(stream, agent, size=5, acked=42))
    assert max(map(len, agent.batches)) <= 5
    assert [o for batch in agent.batches for o in batch] == list(range(42))


def test_each_message_is_acked_once_and_only_after_its_batch_was_processed():
    stream = Stream([[_event(i) for i in range(j * 4, j * 4 + 4)] for j in range(5)], gap_s=0.001)
    agent = Agent(stream, busy_s=0.01)
    asyncio.run(_run_until(stream, agent, size=6, acked=20))
    assert sorted(stream.acked) == list(range(20)) and len(set(stream.acked)) == 20
    done_at = {}
    for position, (what, value) in enumerate(stream.log):
        if what == "done":
            done_at.update({offset: position for offset in value})
        if what == "ack":
            assert value in done_at and done_at[value] < position, f"offset {value} acked before it was processed"


def test_faust_keeps_taking_messages_while_the_agent_works():
    gate = asyncio.Event()
    stream = Stream([[_event(i)] for i in range(4)])
    agent = Agent(stream, block=gate)

    async def scenario():
        task = asyncio.ensure_future(process_stream(agent, stream, 10, within=0.01))
        await asyncio.sleep(0.05)  # the first batch is stuck in the agent
        taken = [v for what, v in stream.log if what == "taken"]
        gate.set()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return taken

    taken = asyncio.run(scenario())
    assert len(taken) == 4  # all four taken although the first batch had not finished
    assert agent.batches == [[0], [1, 2, 3]]


def test_stopping_finishes_the_batch_in_hand_and_leaves_the_rest_unacknowledged():
    gate = asyncio.Event()
    stream = Stream([[_event(0), _event(1)], [_event(2)], [_event(3)]])
    agent = Agent(stream, block=gate)

    async def scenario():
        task = asyncio.ensure_future(process_stream(agent, stream, 2, within=0.01))
        await asyncio.sleep(0.05)  # batch [0, 1] in the agent, [2] and [3] held
        task.cancel()
        await asyncio.sleep(0.01)
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert agent.batches == [[0, 1]]
    assert stream.acked == [0, 1]  # 2 and 3 were never processed, so never acked: redelivered after restart


def test_a_full_backlog_makes_faust_wait_and_take_makes_room():
    async def scenario():
        backlog = Backlog(size=2, limit=3)
        await backlog.put([1, 2, 3])
        blocked = asyncio.ensure_future(backlog.put([4]))
        await asyncio.sleep(0.01)
        waiting = not blocked.done()
        first = await backlog.take()
        await asyncio.wait_for(blocked, 1)
        return waiting, first, await backlog.take(), len(backlog)

    waiting, first, second, left = asyncio.run(scenario())
    assert waiting and first == [1, 2] and second == [3, 4] and left == 0


def test_closing_releases_a_waiting_take_and_drops_what_is_held():
    async def scenario():
        backlog = Backlog(size=5, limit=5)
        waiter = asyncio.ensure_future(backlog.take())
        await asyncio.sleep(0.01)
        await backlog.put([1])
        taken = await waiter
        later = asyncio.ensure_future(backlog.take())
        await asyncio.sleep(0.01)
        await backlog.put([2, 3])
        backlog.close()
        return taken, await later, len(backlog)

    taken, later, held = asyncio.run(scenario())
    assert taken == [1] and held == 0
    assert later is None  # closed before the waiting take ran: what was held is dropped, not handed over


@pytest.mark.parametrize("size, limit", [(0, 5), (6, 5)])
def test_a_backlog_with_impossible_bounds_is_refused_with_the_values(size, limit):
    with pytest.raises(ValueError, match=f"size={size}, limit={limit}"):
        Backlog(size, limit)


def test_messages_taken_before_a_rebalance_are_neither_processed_nor_acked():
    stream = Stream([[_event(0, generation=1), _event(1, generation=2)], [_event(2, generation=2)]], generation=2)
    agent = Agent(stream)
    asyncio.run(_run_until(stream, agent, size=10, acked=2))
    assert [o for batch in agent.batches for o in batch] == [1, 2] and stream.acked == [1, 2]


def test_a_failing_ack_exits_the_worker_instead_of_carrying_on(monkeypatch):
    exits = []
    monkeypatch.setattr("streams.batches.exit_unacknowledged", lambda what, why: exits.append(why))

    class Broken(Stream):
        async def ack(self, event) -> None:
            raise RuntimeError("the consumer is gone")

    stream = Broken([[_event(0)], [_event(1)]])
    agent = Agent(stream)

    async def scenario():
        task = asyncio.ensure_future(process_stream(agent, stream, 5, within=0.01))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert exits and "runner failed" in exits[0]


def test_the_backlog_never_holds_more_than_its_limit_when_faust_hands_over_full_batches():
    async def scenario():
        backlog = Backlog(size=3, limit=6)
        await backlog.put([1, 2, 3])
        await backlog.put([4, 5, 6])
        blocked = asyncio.ensure_future(backlog.put([7, 8, 9]))
        await asyncio.sleep(0.01)
        held_while_blocked, waiting = len(backlog), not blocked.done()
        await backlog.take()
        await asyncio.wait_for(blocked, 1)
        return held_while_blocked, waiting, len(backlog)

    held, waiting, after = asyncio.run(scenario())
    assert waiting and held == 6 and after == 6
