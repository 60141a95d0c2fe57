"""The publishing library's parts that need no broker: where an event goes, its headers, its partition."""

from __future__ import annotations

import pytest

from events.publisher import Partitions, Prepared, Rejected, headers_of, prepare
from tests.unit.events.examples import event

pytestmark = pytest.mark.unit


def test_prepare_routes_keys_and_heads_an_event():
    sent = event("field_worker.shift_scheduled")
    prepared = prepare(sent)
    assert isinstance(prepared, Prepared)
    assert (prepared.topic, prepared.key) == ("veiviser.field-shifts.v1", b"fw-001:2026-11-24")
    assert dict(prepared.headers)["event_name"] == b"field_worker.shift_scheduled"
    assert "causation_id" not in dict(headers_of(sent))


@pytest.mark.parametrize("causation", [None, "5f0c3e0a-1f1e-4c55-9d1a-2b8f6f1d7c10"])
def test_the_stream_path_heads_an_event_exactly_as_headers_of(causation):
    from events.publisher import checked_headers

    for name in ("case.opened", "office.status_changed", "route.planned"):
        sent = event(name, causation_id=causation)
        assert list(checked_headers(sent)) == headers_of(sent)


def test_prepare_refuses_impersonation_and_maps_topics():
    assert isinstance(prepare(event("case.closed"), producing_system="arena"), Rejected)
    mapped = prepare(event("case.closed"), producing_system="modia", topic_map={"veiviser.case-events.v1": "t"})
    assert mapped.topic == "t"


class Metadata:
    def __init__(self, count):
        self.count = count

    def partitions_for(self, topic):
        return set(range(self.count))


def test_partitions_match_the_default_partitioner_and_follow_a_partition_increase():
    from kafka.partitioner.default import murmur2

    producer = Metadata(6)
    partitions = Partitions(producer)
    keys = [f"case-{i}".encode() for i in range(50)]
    assert [partitions.of("t", k) for k in keys] == [(murmur2(k) & 0x7FFFFFFF) % 6 for k in keys]
    producer.count = 12
    partitions.refresh()
    assert [partitions.of("t", k) for k in keys] == [(murmur2(k) & 0x7FFFFFFF) % 12 for k in keys]
