"""The stages every agent runs on one message, as a pure function: no Kafka, no database.

    raw bytes ─ deserialize ─ precondition ─ validate ─ decide ─▶ outputs
                   │              │             │          │
              UNPARSEABLE      SKIPPED      REJECTED     FAILED          (OK when every stage passed)

`handle` never raises for a bad message: every way a message can go wrong becomes an outcome, so the
agent can count it and dead-letter it (`dead_letter`) with the original bytes and the reasons, and the
partition moves on. The one exception is `TransientError` (a database or broker briefly away), which
propagates so the runner can retry the same message with backoff instead of dead-lettering it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from events import identity
from events.deadletters import dead_letter_headers
from events.problems import Problem
from streams.errors import TransientError

__all__ = ["Outcome", "Output", "Origin", "Handled", "Stages", "handle", "dead_letter", "SEVERE"]

T = TypeVar("T")


class Outcome(StrEnum):
    OK = "ok"
    SKIPPED = "skipped"  # precondition: not this agent's message
    REJECTED = "rejected"  # validation found problems
    UNPARSEABLE = "unparseable"  # could not be deserialized
    FAILED = "failed"  # a stage raised: a bug or data the code did not expect


# Kafka refuses a record over ~1 MB (the producer's max.request.size, the broker's message.max.bytes): a dead
# letter larger than this is cut, and the header dlq_truncated_from says how large it was. The whole message
# stays on its origin topic at the partition and offset the headers name.
DEAD_LETTER_MAX_BYTES = 512 * 1024
SEVERE = frozenset({Outcome.UNPARSEABLE, Outcome.FAILED})
DEAD_LETTERED = frozenset({Outcome.REJECTED, Outcome.UNPARSEABLE, Outcome.FAILED})


@dataclass(frozen=True)
class Output:
    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Origin:
    """Where a consumed message came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = None


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    stage: str
    outputs: tuple[Output, ...] = ()
    problems: tuple[Problem, ...] = ()
    error: str = ""
    item: Any = field(default=None, compare=False, repr=False)  # the deserialized message, when OK

    @property
    def dead_lettered(self) -> bool:
        return self.outcome in DEAD_LETTERED


@dataclass(frozen=True)
class Stages(Generic[T]):
    """What one agent does with a message; each function is pure and unit-tested on its own."""

    name: str
    deserialize: Callable[[bytes], T]
    precondition: Callable[[T], bool]
    validate: Callable[[T], Sequence[Problem]]
    decide: Callable[[T], Sequence[Output]]


class _Failed(Exception):
    def __init__(self, stage: str, error: BaseException):
        self.stage, self.error = stage, error


def _run(stage: str, fn: Callable[[Any], Any], arg: Any) -> Any:
    try:
        return fn(arg)
    except TransientError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes an outcome, none is dropped
        raise _Failed(stage, exc) from exc


def handle(stages: Stages[T], raw: bytes) -> Handled:
    """Run the stages on one message; the outcome says how far it got and why it stopped."""
    try:
        item = _run("deserialize", stages.deserialize, raw)
    except _Failed as failed:
        problem = Problem("$", f"the message could not be read: {_describe(failed.error)}",
                          "send a JSON event that matches the published schema")
        return Handled(Outcome.UNPARSEABLE, "deserialize", problems=(problem,), error=_describe(failed.error))
    try:
        if not _run("precondition", stages.precondition, item):
            return Handled(Outcome.SKIPPED, "precondition")
        problems = tuple(_run("validate", stages.validate, item))
        if problems:
            return Handled(Outcome.REJECTED, "validate", problems=problems)
        return Handled(Outcome.OK, "decide", outputs=tuple(_run("decide", stages.decide, item)), item=item)
    except _Failed as failed:
        return Handled(Outcome.FAILED, failed.stage, error=_describe(failed.error))


def _describe(error: BaseException) -> str:
    return identity.mask_text(f"{type(error).__name__}: {error}")[:1000]


def dead_letter(handled: Handled, raw: bytes, origin: Origin, agent: str, topic: str) -> Output:
    """The dead-letter record: original bytes (identity numbers masked), reasons and origin in headers."""
    reason = str(handled.problems[0]) if handled.problems else handled.error or handled.outcome.value
    headers = dead_letter_headers(handled.problems, reason, {
        "dlq_source": f"stream:{agent}",
        "dlq_outcome": handled.outcome.value,
        "dlq_severity": "severe" if handled.outcome in SEVERE else "rejected",
        "dlq_stage": handled.stage,
        "dlq_error": handled.error,
        "dlq_origin_topic": origin.topic,
        "dlq_origin_partition": str(origin.partition),
        "dlq_origin_offset": str(origin.offset),
        "dlq_failed_at": datetime.now(UTC).isoformat(),
    })
    value = identity.mask_bytes(raw)
    if len(value) > DEAD_LETTER_MAX_BYTES:  # it could never be sent: keep its head, the origin keeps the rest
        headers.append(("dlq_truncated_from", str(len(value)).encode()))
        value = value[:DEAD_LETTER_MAX_BYTES]
    key = identity.mask_bytes(origin.key) if origin.key else origin.key
    return Output(topic, key, value, tuple(headers))
