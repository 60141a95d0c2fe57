"""The dead-letter topic through kafka-python: scan it for the index, fetch one record, send a replay.

One consumer (no group, nothing committed: the index keeps its own positions) reassigned per call under a
lock, and one producer that waits for every in-sync replica before a replay counts as done.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from services.operators.deadletters import DeadLetter, Ref, from_record
from services.operators.errors import DeadLetterNotFound

__all__ = ["DeadLetterTopic"]


class DeadLetterTopic:
    def __init__(self, bootstrap_servers: str, topic: str, timeout_s: float = 30.0):
        self.bootstrap_servers, self.topic, self.timeout_s = bootstrap_servers, topic, timeout_s
        self._lock = threading.Lock()
        self._consumer: KafkaConsumer | None = None
        self._producer: KafkaProducer | None = None

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
            if self._producer is not None:
                self._producer.close(timeout=self.timeout_s)
            self._consumer = self._producer = None

    def _reader(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(bootstrap_servers=self.bootstrap_servers, group_id=None,
                                           enable_auto_commit=False, client_id="veiviser-operators",
                                           request_timeout_ms=int(self.timeout_s * 1000) + 5000)
        return self._consumer

    def _partitions(self, consumer: KafkaConsumer) -> list[TopicPartition]:
        found = consumer.partitions_for_topic(self.topic)
        if not found:
            raise DeadLetterNotFound(f"the dead-letter topic {self.topic!r} does not exist on "
                                     f"{self.bootstrap_servers}; create it with `veiviser topics apply` or set "
                                     "VEIVISER_OPERATORS_DEAD_LETTER_TOPIC")
        return [TopicPartition(self.topic, p) for p in sorted(found)]

    def scan(self, positions: dict[int, int], batch: int = 500) -> Iterator[tuple[list[DeadLetter], dict[int, int]]]:
        """Every dead letter from `positions` (partition -> next offset) to the end as it was at the start, in
        batches, each with the positions after it."""
        with self._lock:
            consumer = self._reader()
            parts = self._partitions(consumer)
            consumer.assign(parts)
            first, end = consumer.beginning_offsets(parts), consumer.end_offsets(parts)
            at = {tp.partition: max(positions.get(tp.partition, 0), first[tp]) for tp in parts}
            for tp in parts:
                consumer.seek(tp, at[tp.partition])
            goal = {tp.partition: end[tp] for tp in parts}
            while any(at[p] < goal[p] for p in goal):
                letters = self._poll(consumer, at, goal, batch)
                yield letters, dict(at)

    def _poll(self, consumer: KafkaConsumer, at: dict[int, int], goal: dict[int, int], batch: int) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        polled = consumer.poll(timeout_ms=int(self.timeout_s * 1000), max_records=batch)
        if not polled:  # nothing left but control records (transaction markers) or the broker is away
            for p in at:
                at[p] = max(at[p], consumer.position(TopicPartition(self.topic, p)))
            if all(at[p] >= goal[p] for p in goal):
                return letters
            raise DeadLetterNotFound(f"the dead-letter topic {self.topic!r} did not answer within {self.timeout_s} s "
                                     "while reading it; is the broker up (`veiviser status`)?")
        for tp, records in polled.items():
            for record in records:
                if record.offset < goal[tp.partition]:
                    letters.append(from_record(self.topic, tp.partition, record.offset, record.timestamp,
                                               record.key, record.value, record.headers))
            at[tp.partition] = max(at[tp.partition], consumer.position(tp))
        return letters

    def fetch(self, ref: Ref) -> DeadLetter:
        """The dead letter at ref, with its value; DeadLetterNotFound when it is not (or no longer) there."""
        with self._lock:
            consumer = self._reader()
            tp = TopicPartition(ref.topic, ref.partition)
            if tp not in self._partitions(consumer) and ref.topic == self.topic:
                raise DeadLetterNotFound(f"the dead-letter topic has no partition {ref.partition}")
            consumer.assign([tp])
            first, end = consumer.beginning_offsets([tp])[tp], consumer.end_offsets([tp])[tp]
            if not first <= ref.offset < end:
                raise DeadLetterNotFound(f"no dead letter at {ref} (partition {ref.partition} holds offsets {first} to "
                                         f"{end - 1}; older ones have expired): list them with `veiviser deadletters list`")
            consumer.seek(tp, ref.offset)
            for record in consumer.poll(timeout_ms=int(self.timeout_s * 1000), max_records=1).get(tp, []):
                if record.offset == ref.offset:
                    return from_record(ref.topic, ref.partition, record.offset, record.timestamp, record.key,
                                       record.value, record.headers)
        raise DeadLetterNotFound(f"the dead letter at {ref} could not be read within {self.timeout_s} s")

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
             ) -> tuple[str, int, int]:
        """Write one message and wait for the broker's acknowledgement: (topic, partition, offset)."""
        with self._lock:
            if self._producer is None:
                self._producer = KafkaProducer(bootstrap_servers=self.bootstrap_servers, acks="all",
                                               client_id="veiviser-operators-replay", linger_ms=0)
            future = self._producer.send(topic, value=value, key=key, headers=headers)
            self._producer.flush(timeout=self.timeout_s)
            meta = future.get(timeout=self.timeout_s)
        return meta.topic, meta.partition, meta.offset
