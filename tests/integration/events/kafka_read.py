"""Reading back what was published, from the real broker."""

from __future__ import annotations

import time


def read_all(bootstrap_servers: str, topic: str, expect: int | None = None, timeout_s: float | None = None) -> list:
    """Every record on the topic (all partitions, from the start): waits until `expect` records came (at
    most 20 s), or, without `expect`, reads for `timeout_s` (default 5 s) to see that nothing more comes."""
    timeout_s = timeout_s if timeout_s is not None else 20.0 if expect is not None else 5.0
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                             consumer_timeout_ms=1000)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=500)
        records += [r for rs in batch.values() for r in rs]
        if expect is not None and len(records) >= expect:
            break
    consumer.close()
    return records


def expected_partition(key: bytes, partitions: int) -> int:
    from kafka.partitioner.default import murmur2

    return (murmur2(key) & 0x7FFFFFFF) % partitions
