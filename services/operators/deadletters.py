"""A dead letter as the console sees it, read from one record of the dead-letter topic (pure, no I/O).

The record's value is the original message (identity numbers already masked) and its headers say why
(events.deadletters): dlq_reason, dlq_problems, dlq_source, and for stream agents dlq_stage, dlq_outcome,
dlq_error and the origin dlq_origin_topic/partition/offset. The record's key is the original key.

Replaying sends the value back where it came from with the same key, and headers marking the replay
(REPLAY_OF, REPLAY_GENERATION) so a message that keeps failing can be told from a new one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from events import topics
from services.operators.errors import NotReplayable
from streams.delivery import REPLAY_HEADER

__all__ = ["DeadLetter", "Target", "from_record", "replay_target", "replay_headers", "Ref", "parse_ref",
           "REPLAY_OF", "REPLAY_GENERATION", "REPLAYED_AT"]

REPLAY_OF = REPLAY_HEADER  # the router retries a stored routing error only for a message carrying it
REPLAY_GENERATION = "veiviser_replay_generation"
REPLAYED_AT = "veiviser_replayed_at"


@dataclass(frozen=True)
class Ref:
    """Where a dead letter is: its topic, partition and offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}"


def parse_ref(text: str, topic: str) -> Ref:
    """'PARTITION:OFFSET' (as `veiviser deadletters list` prints it) -> Ref; ValueError names the fix."""
    partition, sep, offset = text.strip().partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise ValueError(f"{text!r} is not PARTITION:OFFSET; copy the id `veiviser deadletters list` prints, e.g. 0:42")
    return Ref(topic, int(partition), int(offset))


@dataclass(frozen=True)
class DeadLetter:
    ref: Ref
    dead_at: datetime
    source: str
    reason: str
    problems: tuple[Mapping[str, str], ...] = ()
    error: str = ""
    stage: str = ""
    outcome: str = ""
    origin_topic: str | None = None
    origin_partition: int | None = None
    origin_offset: int | None = None
    event_name: str | None = None
    event_id: str | None = None
    size: int = 0
    key: bytes | None = field(default=None, repr=False)
    value: bytes | None = field(default=None, repr=False)
    replay_of: str | None = None  # the REPLAY_OF header, when the dead-lettered message was itself a replay


@dataclass(frozen=True)
class Target:
    topic: str
    key: bytes | None


def _text(headers: Mapping[str, bytes], name: str) -> str:
    raw = headers.get(name)
    return raw.decode("utf-8", "replace") if raw is not None else ""


def _int(text: str) -> int | None:
    return int(text) if text.strip().lstrip("-").isdigit() else None


def _problems(text: str) -> tuple[Mapping[str, str], ...]:
    try:
        listed = json.loads(text) if text else []
    except ValueError:
        return ({"path": "$", "message": text[:1000], "fix": ""},)
    return tuple({k: str(p.get(k, "")) for k in ("path", "message", "fix")} for p in listed if isinstance(p, dict))


def _event(value: bytes | None) -> dict[str, Any] | None:
    try:
        event = json.loads(value) if value else None
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def from_record(topic: str, partition: int, offset: int, timestamp_ms: int, key: bytes | None,
                value: bytes | None, headers: Iterable[tuple[str, bytes]]) -> DeadLetter:
    """The dead letter in one record of the dead-letter topic (a record without dlq_ headers still counts)."""
    named = {name: raw for name, raw in headers or () if raw is not None}
    event = _event(value) or {}
    return DeadLetter(
        ref=Ref(topic, partition, offset), dead_at=datetime.fromtimestamp(timestamp_ms / 1000, UTC),
        source=_text(named, "dlq_source") or "unknown", reason=_text(named, "dlq_reason") or "no reason given",
        problems=_problems(_text(named, "dlq_problems")), error=_text(named, "dlq_error"),
        stage=_text(named, "dlq_stage") or ("intake" if _text(named, "dlq_source") == "intake" else ""),
        outcome=_text(named, "dlq_outcome") or ("rejected" if _text(named, "dlq_source") == "intake" else ""),
        origin_topic=_text(named, "dlq_origin_topic") or None,
        origin_partition=_int(_text(named, "dlq_origin_partition")),
        origin_offset=_int(_text(named, "dlq_origin_offset")),
        event_name=event.get("event_name") if isinstance(event.get("event_name"), str) else None,
        event_id=_uuid(event.get("event_id")), size=len(value or b""), key=key, value=value,
        replay_of=_text(named, REPLAY_OF) or None)


def _uuid(value: Any) -> str | None:
    import uuid

    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def replay_target(letter: DeadLetter) -> Target:
    """Where a replay goes: the origin topic with the original key; for the intake's dead letters (which
    have no origin topic) the topic and key the event contract gives the event's name."""
    if letter.origin_topic:
        return Target(letter.origin_topic, letter.key)
    event = _event(letter.value)
    name = event.get("event_name") if event else None
    if not isinstance(name, str) or name not in topics.ROUTES:
        raise NotReplayable(f"dead letter {letter.ref} names no origin topic and its value is no event the contract "
                            f"routes (event_name {name!r}); the sender must send it again after fixing it")
    key = topics.key_of(name, event.get("payload"))
    return Target(topics.ROUTES[name].topic, key.encode() if key is not None else None)


def replay_headers(letter: DeadLetter, generation: int, at: datetime) -> list[tuple[str, bytes]]:
    """Headers of a replayed message: which dead letter it replays and how many replays deep it is."""
    return [(REPLAY_OF, f"{letter.ref.topic}:{letter.ref.partition}:{letter.ref.offset}".encode()),
            (REPLAY_GENERATION, str(generation).encode()), (REPLAYED_AT, at.isoformat().encode())]
