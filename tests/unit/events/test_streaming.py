"""publish_stream without a broker: a slow source's events go out promptly (the chunk has an age bound),
results come in order, and nothing taken from the source is left unsent when it fails or the caller stops."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from events.publisher import Accepted, Publisher, Rejected
from tests.unit.events.examples import event

pytestmark = pytest.mark.unit


class Producer:
    """Just enough of KafkaProducer: records what was sent and when; every send is acknowledged at once."""

    def __init__(self):
        self.sent: list[bytes] = []
        self.arrived = threading.Condition()

    def send(self, topic, value, key, headers, partition=None):
        with self.arrived:
            self.sent.append(value)
            self.arrived.notify_all()
        return SimpleNamespace(is_done=True, get=lambda timeout=None: SimpleNamespace(
            topic=topic, partition=partition or 0, offset=len(self.sent) - 1))

    def wait_for(self, count: int, timeout_s: float) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.sent) >= count, timeout=timeout_s)

    def partitions_for(self, topic):
        return {0, 1, 2}

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        pass


def _case(i: int) -> dict:
    return event("case.closed", ordering_key=f"case-{i:04d}", payload={"case_id": f"case-{i:04d}", "reason": "resolved"})


def test_a_slow_source_is_sent_promptly_not_held_until_a_chunk_fills():
    """The source waits (up to 5 s) for each event to reach the producer before it gives the next one. A
    stream that held events until 5,000 had come would never send the first."""
    producer, waits = Producer(), []

    def slow_source():
        for i in range(5):
            yield _case(i)
            started = time.monotonic()
            assert producer.wait_for(i + 1, timeout_s=5), f"event {i} was still held after 5 s"
            waits.append(time.monotonic() - started)

    results = list(Publisher("unused:9092", producer=producer).publish_stream(slow_source(), max_delay_s=0.05))
    assert [type(r) for r in results] == [Accepted] * 5
    assert max(waits) < 1.0  # bounded by max_delay_s (0.05 s) plus scheduling, far below the 5 s limit


def test_a_fast_source_is_sent_in_full_chunks_with_results_in_order():
    producer = Producer()
    events = [_case(i) for i in range(2500)]
    events[7]["payload"]["case_id"] = "x"  # rejected: pattern and key
    publisher = Publisher("unused:9092", producer=producer)
    results = list(publisher.publish_stream(iter(events), chunk=1000, max_delay_s=60, window=100))
    assert [r.event_id for r in results] == [e["event_id"] for e in events]
    assert isinstance(results[7], Rejected) and len(producer.sent) == 2499


def test_a_failing_source_sends_and_reports_what_it_gave_then_raises():
    producer, seen = Producer(), []

    def failing_source():
        yield from (_case(i) for i in range(3))
        raise OSError("the file went away")

    with pytest.raises(OSError, match="went away"):
        for result in Publisher("unused:9092", producer=producer).publish_stream(failing_source(), max_delay_s=60):
            seen.append(result)
    assert len(producer.sent) == 3 and [type(r) for r in seen] == [Accepted] * 3


def test_a_caller_that_stops_early_still_gets_every_taken_event_sent():
    producer, taken = Producer(), []

    def source():
        for i in range(10):
            taken.append(i)
            yield _case(i)

    stream = Publisher("unused:9092", producer=producer).publish_stream(source(), chunk=4, max_delay_s=60, window=1)
    next(stream)
    stream.close()
    assert len(taken) >= 4 and len(producer.sent) == len(taken)
    assert not [t for t in threading.enumerate() if t.name == "veiviser-publish-stream"]
