"""The publishing library on the real broker: topic, partition, key, headers, order, and nothing for rejects."""

from __future__ import annotations

import json
import time

import pytest

from events import topics
from events.publisher import Accepted, Publisher, Rejected
from tests.integration.events.kafka_read import expected_partition, read_all
from tests.unit.events.examples import VALID_FNR, event

pytestmark = pytest.mark.integration


def _case_events(case_id: str, count: int) -> list[dict]:
    names = ["case.opened", "appointment.requested", "appointment.booked", "appointment.completed", "case.closed"]
    out = []
    for i in range(count):
        e = event(names[i % len(names)], ordering_key=case_id)
        e["payload"]["case_id"] = case_id
        out.append(e)
    return out


def test_published_events_land_where_the_results_say_keyed_and_in_order(bootstrap_servers, new_topic):
    case_topic = new_topic(partitions=12)
    events = [e for c in ("case-A1", "case-B2", "case-C3", "case-D4") for e in _case_events(c, 5)]
    with Publisher(bootstrap_servers, topic_map={topics.CASE_EVENTS: case_topic}) as publisher:
        results = publisher.publish_batch(events)
    assert all(isinstance(r, Accepted) for r in results)
    records = {(r.partition, r.offset): r for r in read_all(bootstrap_servers, case_topic, expect=len(events))}
    assert len(records) == len(events)
    for sent, result in zip(events, results, strict=True):
        record = records[(result.partition, result.offset)]
        assert result.topic == case_topic
        assert record.key == sent["ordering_key"].encode()
        assert result.partition == expected_partition(record.key, 12)
        assert json.loads(record.value) == sent
        headers = dict(record.headers)
        assert headers["event_id"] == sent["event_id"].encode()
        assert headers["event_name"] == sent["event_name"].encode()
        assert headers["producing_system"] == b"modia"
    for case in ("case-A1", "case-B2"):
        offsets = [r.offset for e, r in zip(events, results, strict=True) if e["ordering_key"] == case]
        assert offsets == sorted(offsets) and len({r.partition for e, r in zip(events, results, strict=True)
                                                   if e["ordering_key"] == case}) == 1


def test_rejected_events_are_not_sent_and_the_rest_are(bootstrap_servers, new_topic):
    case_topic = new_topic(partitions=3)
    good = _case_events("case-ok1", 2)
    bad = event("case.opened")
    bad["payload"]["person_ref"] = VALID_FNR
    with Publisher(bootstrap_servers, topic_map={topics.CASE_EVENTS: case_topic}) as publisher:
        results = publisher.publish_batch([good[0], bad, good[1]])
    assert [type(r) for r in results] == [Accepted, Rejected, Accepted]
    assert any("identity number" in p.message for p in results[1].problems)
    values = [r.value for r in read_all(bootstrap_servers, case_topic, expect=2)]
    assert len(values) == 2 and all(VALID_FNR.encode() not in v for v in values)


def test_publish_stream_yields_a_result_per_event_in_order(bootstrap_servers, new_topic):
    case_topic = new_topic(partitions=6)
    events = _case_events("case-S1", 40)
    events[7]["payload"]["case_id"] = "x"  # rejected: pattern and key
    with Publisher(bootstrap_servers, topic_map={topics.CASE_EVENTS: case_topic}) as publisher:
        results = list(publisher.publish_stream(iter(events), window=5))
    assert [r.event_id for r in results] == [e["event_id"] for e in events]
    assert isinstance(results[7], Rejected)
    assert len(read_all(bootstrap_servers, case_topic, expect=39)) == 39


def test_an_unreachable_broker_is_a_clear_error_naming_the_address_and_the_fix():
    from events.errors import PublishError

    with pytest.raises(PublishError, match=r"127\.0\.0\.1:1 .*veiviser up"):
        Publisher("127.0.0.1:1", timeout_s=2, max_block_ms=2000, bootstrap_timeout_ms=2000)


def test_a_paced_stream_reaches_the_broker_event_by_event(bootstrap_servers, new_topic):
    """A slow office system (one event now and then) is not held until a chunk of 5,000 fills: before the
    source gives its next event, the previous one can be read from the topic."""
    from kafka import KafkaConsumer, TopicPartition

    case_topic = new_topic(partitions=3)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    partitions = [TopicPartition(case_topic, p) for p in range(3)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    seen: list[bytes] = []
    latencies: list[float] = []

    def paced_source():
        for e in _case_events("case-P1", 4):
            yield e
            started = time.monotonic()
            while e["event_id"].encode() not in seen and time.monotonic() - started < 15:
                seen.extend(dict(r.headers)["event_id"] for rs in consumer.poll(timeout_ms=200).values() for r in rs)
            latencies.append(time.monotonic() - started)

    try:
        with Publisher(bootstrap_servers, topic_map={topics.CASE_EVENTS: case_topic}) as publisher:
            results = list(publisher.publish_stream(paced_source()))
    finally:
        consumer.close()
    assert all(isinstance(r, Accepted) for r in results) and len(results) == 4
    assert len(seen) == 4 and max(latencies) < 5, latencies  # seconds; held events would wait the full 15 s
