"""Publishing events from Python office systems: validate, then send with an idempotent producer.

    with Publisher(bootstrap_servers, producing_system="modia") as publisher:
        result = publisher.publish(event)          # Accepted | Rejected | Failed
        results = publisher.publish_batch(events)  # one result per event, in order

Each event is checked against the contract first (every problem listed, nothing sent when there is one),
then sent to its topic with its ordering key (acks=all, idempotent producer: no duplicates or reordering
from producer retries). A result is Accepted with topic/partition/offset, Rejected with every problem, or
Failed when the broker did not acknowledge in time (safe to retry: the event id does not change).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from events import topics
from events.errors import PublishError
from events.problems import Problem
from events.streaming import ChunkedStream
from events.validation import Verdict, accepted_bytes, check

__all__ = ["Accepted", "Rejected", "Failed", "Result", "Prepared", "prepare", "headers_of", "checked_headers", "Publisher",
           "PRODUCER_DEFAULTS"]

PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "max_in_flight_requests_per_connection": 5,
    "linger_ms": 5,
    "batch_size": 256 * 1024,
    "retries": 2**31 - 1,
    "request_timeout_ms": 30_000,
    "delivery_timeout_ms": 60_000,
}


@dataclass(frozen=True, slots=True)
class Accepted:
    event_id: str
    topic: str
    partition: int
    offset: int
    ok = True


@dataclass(frozen=True, slots=True)
class Rejected:
    event_id: str | None
    problems: tuple[Problem, ...]
    ok = False

    @property
    def reason(self) -> str:
        return "; ".join(str(p) for p in self.problems)


@dataclass(frozen=True, slots=True)
class Failed:
    event_id: str
    error: str
    ok = False


Result = Accepted | Rejected | Failed


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked event ready to send: topic, key, the exact bytes and the headers."""

    event_id: str
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


CONTENT_TYPE = ("content_type", b"application/json")
HEADER_FIELDS = ("event_id", "event_name", "schema_version", "producing_system", "correlation_id", "causation_id")


def headers_of(event: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """Kafka headers of an event: its envelope fields (so consumers can route without parsing the value).

    Headers whose values repeat (event name, schema version, producing system) are shared tuples: a stream
    of events then leaves fewer objects for the garbage collector to trace."""
    get = event.get
    headers = [_header(name, value) for name in HEADER_FIELDS if (value := get(name)) is not None]
    headers.append(CONTENT_TYPE)
    return headers


def checked_headers(event: dict[str, Any]) -> tuple[tuple[str, bytes], ...]:
    """headers_of for an event the contract accepted (so the envelope fields are there), as a tuple."""
    head = (("event_id", str(event["event_id"]).encode()), _header("event_name", event["event_name"]),
            _header("schema_version", event["schema_version"]),
            _header("producing_system", event["producing_system"]),
            ("correlation_id", str(event["correlation_id"]).encode()))
    causation = event.get("causation_id")
    return (*head, CONTENT_TYPE) if causation is None else (*head, ("causation_id", str(causation).encode()),
                                                            CONTENT_TYPE)


_SHARED: dict[tuple[str, Any], tuple[str, bytes]] = {}
REPEATING = frozenset({"event_name", "schema_version", "producing_system"})


def _header(name: str, value: Any) -> tuple[str, bytes]:
    if name not in REPEATING or type(value) not in (str, int):
        return name, str(value).encode()
    found = _SHARED.get((name, value))
    if found is None:
        found = (name, str(value).encode())
        if len(_SHARED) < 10_000:  # bounded: names and systems are few; odd input is not remembered
            _SHARED[(name, value)] = found
    return found


def prepare(event: Any, producing_system: str | None = None, topic_map: Mapping[str, str] | None = None
            ) -> Prepared | Rejected:
    """Check an event and work out where it goes; Rejected (with every problem) when it breaks the contract.

    producing_system: when given, the event must say it was produced by this system.
    topic_map: topic name overrides (canonical name -> actual), e.g. for tests on private topics.
    """
    if type(event) is dict and (value := accepted_bytes(event)) is not None and \
            (producing_system is None or event["producing_system"] == producing_system):
        return _prepared(event, value, topic_map)  # the common case, without a Verdict in between
    verdict = check(event)
    problems = verdict.problems or _impersonation(verdict, producing_system)
    if problems:
        return Rejected(verdict.event_id, tuple(problems))
    return _prepared(verdict.event, verdict.value, topic_map)


def _impersonation(verdict: Verdict, producing_system: str | None) -> tuple[Problem, ...]:
    if producing_system is None or verdict.event["producing_system"] == producing_system:
        return ()
    return (Problem("producing_system", f"differs from the system sending it ({producing_system})",
                    f"a system may only publish as itself: set producing_system to {producing_system!r}"),)


def _prepared(event: dict[str, Any], value: bytes, topic_map: Mapping[str, str] | None) -> Prepared:
    return Prepared(event["event_id"], _topic(event, topic_map), event["ordering_key"].encode(), value,
                    headers_of(event))


def _topic(event: dict[str, Any], topic_map: Mapping[str, str] | None) -> str:
    topic = topics.route(event["event_name"]).topic
    return topic_map.get(topic, topic) if topic_map else topic


class Publisher:
    """An idempotent kafka-python producer that sends only events the contract accepts."""

    def __init__(self, bootstrap_servers: str, *, producing_system: str | None = None,
                 topic_map: Mapping[str, str] | None = None, timeout_s: float = 70.0, producer: Any = None,
                 **producer_config: Any):
        """producer: an existing KafkaProducer to share (it should be idempotent with acks=all)."""
        self.producing_system = producing_system
        self.topic_map = dict(topic_map or {})
        self.timeout_s = timeout_s
        self._producer = producer or _producer(bootstrap_servers, producing_system, producer_config)
        self._partitions = Partitions(self._producer)

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._producer.close(timeout=self.timeout_s)

    def publish(self, event: Any) -> Result:
        """Check and send one event; wait for the broker's acknowledgement."""
        return self.publish_batch([event])[0]

    def publish_batch(self, events: Iterable[Any]) -> list[Result]:
        """Check every event, send those the contract accepts, wait for all acknowledgements.

        Returns one result per event, in the order given."""
        prepared = [prepare(e, self.producing_system, self.topic_map) for e in events]
        sendable = [p for p in prepared if isinstance(p, Prepared)]
        sent = iter(self.send_prepared(sendable))
        return [next(sent) if isinstance(p, Prepared) else p for p in prepared]

    def publish_stream(self, events: Iterable[Any], window: int = 20_000, chunk: int = 5000,
                       max_delay_s: float = 0.05) -> Iterator[Result]:
        """Check and send events as they come, yielding one result per event in order.

        Unlike publish_batch it does not wait for acknowledgements batch by batch: up to `window` events
        are in flight, so a long file or a simulator keeps the producer busy. Events are checked and sent
        a chunk at a time, in one tight send loop that lets the producer fill large record batches; a chunk
        goes out when it holds `chunk` events or when its first event has waited `max_delay_s`, also while
        the source is still waiting for its next event (a paced stream goes out promptly)."""
        stream = ChunkedStream(self._prepare_and_send, functools.partial(_result, timeout_s=self.timeout_s),
                               _settled, chunk, max_delay_s)
        yield from stream.run(events, window, self.flush)

    def _prepare_and_send(self, events: list[Any]) -> list[tuple[str | Rejected, Any]]:
        """Check a chunk, then send it in one tight loop. A checked message waits as a plain tuple of
        strings and bytes (the garbage collector stops tracing those at its first look), its header list
        is made at the send, and only the event id and the future are kept until the result is due."""
        self._partitions.refresh()
        checked = [self._checked(event) for event in events]
        return [(item, None) if isinstance(item, Rejected) else (item[0], self._send_parts(*item[1:]))
                for item in checked]

    def _checked(self, event: Any) -> tuple[str, str, bytes, bytes, tuple] | Rejected:
        if type(event) is dict and (value := accepted_bytes(event)) is not None and \
                (self.producing_system is None or event["producing_system"] == self.producing_system):
            return (event["event_id"], _topic(event, self.topic_map), event["ordering_key"].encode(), value,
                    checked_headers(event))
        item = prepare(event, self.producing_system, self.topic_map)
        return item if isinstance(item, Rejected) else (item.event_id, item.topic, item.key, item.value,
                                                        tuple(item.headers))

    def _send_parts(self, topic: str, key: bytes, value: bytes, headers: tuple) -> Any:
        try:
            return self._producer.send(topic, value=value, key=key, headers=list(headers),
                                       partition=self._partitions.of(topic, key))
        except Exception as exc:  # kafka-python raises at send time for metadata timeouts and full buffers
            return exc

    def send_prepared(self, messages: Iterable[Prepared]) -> list[Accepted | Failed]:
        """Send checked messages in order and wait for their acknowledgements."""
        self._partitions.refresh()
        pending = [(m, self._send(m)) for m in messages]
        self._producer.flush(timeout=self.timeout_s)
        return [_outcome(m, future) for m, future in pending]

    def send_raw(self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> Any:
        """Send bytes without checking them (dead letters); returns the kafka-python future."""
        return self._producer.send(topic, value=value, key=key, headers=headers)

    def flush(self) -> None:
        self._producer.flush(timeout=self.timeout_s)

    def _send(self, message: Prepared) -> Any:
        return self._send_parts(message.topic, message.key, message.value, message.headers)


def _producer(bootstrap_servers: str, producing_system: str | None, overrides: dict[str, Any]) -> Any:
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    config = {**PRODUCER_DEFAULTS, "client_id": f"veiviser-publisher-{producing_system or 'any'}", **overrides}
    try:
        return KafkaProducer(bootstrap_servers=bootstrap_servers, **config)
    except KafkaError as exc:
        raise PublishError(f"cannot reach Kafka at {bootstrap_servers} ({exc}); start the stack with "
                           "`veiviser up` or point VEIVISER_BOOTSTRAP_SERVERS at a running cluster") from None


class Partitions:
    """The partition of each key, as kafka-python's default partitioner picks it (murmur2 of the key over
    all partitions), remembered per key: events of one case come in runs, and hashing in Python is a
    tenth of the cost of a send. `refresh()` (called before every batch or chunk) drops what it remembers
    of a topic whose partition count changed."""

    LIMIT = 200_000

    def __init__(self, producer: Any):
        self._producer = producer
        self._known: dict[tuple[str, bytes], int] = {}
        self._counts: dict[str, int] = {}

    def of(self, topic: str, key: bytes) -> int | None:
        found = self._known.get((topic, key))
        if found is not None:
            return found
        partitions = self._partitions(topic)
        if not partitions:
            return None  # metadata not known yet: let the producer wait for it and pick
        from kafka.partitioner.default import murmur2

        chosen = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
        if len(self._known) >= self.LIMIT:
            self._known.clear()
        self._known[(topic, key)] = chosen
        return chosen

    def refresh(self) -> None:
        for topic in list(self._counts):
            self._partitions(topic)

    def _partitions(self, topic: str) -> list[int]:
        try:
            found = sorted(self._producer.partitions_for(topic) or ())
        except Exception:  # unknown topic or no metadata: the producer reports it on send
            return []
        if self._counts.setdefault(topic, len(found)) != len(found):
            self._counts[topic] = len(found)
            self._known = {k: v for k, v in self._known.items() if k[0] != topic}
        return found


def _settled(future: Any) -> bool:
    return future is None or isinstance(future, Exception) or future.is_done


def _result(item: str | Rejected, future: Any, timeout_s: float) -> Result:
    """The result of a stream item: its Rejected, or the outcome of the send of event id `item`."""
    return item if isinstance(item, Rejected) else _outcome_of(item, future, timeout_s)


def _outcome(message: Prepared, future: Any, timeout_s: float = 0) -> Accepted | Failed:
    return _outcome_of(message.event_id, future, timeout_s)


def _outcome_of(event_id: str, future: Any, timeout_s: float) -> Accepted | Failed:
    if isinstance(future, Exception):
        return Failed(event_id, _describe(future))
    try:
        meta = future.get(timeout=timeout_s)
    except Exception as exc:  # the broker's error, or no acknowledgement within the timeout
        return Failed(event_id, _describe(exc))
    return Accepted(event_id, meta.topic, meta.partition, meta.offset)


def _describe(exc: BaseException) -> str:
    return (f"the broker did not acknowledge the event ({type(exc).__name__}: {exc}); "
            "check that Kafka runs (`veiviser status`) and publish it again: the event id keeps it unique")
