"""Checking an event against the contract, collecting every problem with its field path and a fix.

`check(event)` takes a model, a dict, or JSON text/bytes and returns a `Verdict`: either the exact bytes
to publish, or every problem found. A fast path validates with the pydantic models (which a test keeps in
agreement with the schemas); anything it does not accept goes through the JSON Schema files themselves,
which are the authority, and through the checks a schema cannot express (the ordering key, national
identity numbers, time windows). Messages name the field and the fix and never echo a value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from events import contract, identity, topics
from events.explain import explain
from events.models import model_for
from events.problems import Problem, render_path
from events.timestamps import parse_timestamp

__all__ = ["Problem", "Verdict", "check", "parse", "MAX_DEPTH"]

MAX_DEPTH = 32
IDENTITY_FIX = (
    "events carry a pseudonymous person reference (payload.person_ref, 'psn-...'), never a national "
    "identity number or D-number: remove it from this field"
)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one event: `value` (bytes to publish) when ok, else `problems`."""

    problems: tuple[Problem, ...] = ()
    value: bytes | None = None
    event: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def event_id(self) -> str | None:
        found = self.event.get("event_id") if isinstance(self.event, dict) else None
        return found if isinstance(found, str) and not identity.contains_identity_number(found) else None

    @property
    def event_name(self) -> str | None:
        return self.event.get("event_name") if self.ok else None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse(raw: bytes | str) -> tuple[Any, tuple[Problem, ...]]:
    """Decode JSON text; a problem (never an exception) when it is not UTF-8 JSON."""
    try:
        return json.loads(raw, parse_constant=_reject_constant), ()
    except UnicodeDecodeError:
        return None, (Problem("$", "the body is not UTF-8 text", "send UTF-8 encoded JSON"),)
    except RecursionError:
        return None, (Problem("$", "the JSON is nested too deeply", f"nest at most {MAX_DEPTH} levels"),)
    except ValueError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        return None, (Problem("$", f"not valid JSON{where}", "send one JSON object per event (RFC 8259)"),)


def check(event: Any) -> Verdict:
    """Check one event (model, dict, or JSON bytes/str) against the contract."""
    if isinstance(event, BaseModel):
        event = event.model_dump(mode="json", exclude_unset=True)
    elif isinstance(event, bytes | bytearray | memoryview | str):
        event, problems = parse(bytes(event) if not isinstance(event, str) else event)
        if problems:
            return Verdict(problems)
    fast = _fast(event)
    return fast if fast is not None else _slow(event)


def _fast(event: Any) -> Verdict | None:
    if not isinstance(event, dict):
        return None
    model = model_for(event.get("event_name"), event.get("schema_version"))
    if model is None:
        return None
    try:
        validated = model.__pydantic_validator__.validate_python(event)
    except (ValidationError, RecursionError):
        return None
    value = validated.__pydantic_serializer__.to_json(validated, exclude_unset=True)
    payload = event["payload"]
    if identity.contains_identity_number(value) or not _checked_key(event) or \
            ("earliest" in payload and next(_windows(payload), None)):
        return None  # the slow path names every problem
    return Verdict(value=value, event=event)


def _checked_key(event: dict) -> bool:
    """The ordering key of an event the model accepted is the one its payload calls for."""
    return topics.key_of(event["event_name"], event["payload"]) == event["ordering_key"]


def _slow(event: Any) -> Verdict:
    problems = list(_structure(event))
    if problems:
        return Verdict(tuple(problems), event=event if isinstance(event, dict) else None)
    problems = list(_identity(event)) + list(_schema(event)) + list(_semantic(event))
    if problems:
        return Verdict(tuple(_unique(problems)), event=event)
    return Verdict(value=json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode(), event=event)


def _structure(event: Any) -> Iterator[Problem]:
    if not isinstance(event, dict):
        yield Problem("$", f"an event is a JSON object, not {_json_type(event)}",
                      "send one object with event_id, event_name, schema_version, ... and payload")
        return
    depth = _depth(event)
    if depth > MAX_DEPTH:
        yield Problem("$", f"the event is nested {depth} levels deep", f"nest at most {MAX_DEPTH} levels")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def _identity(event: dict) -> Iterator[Problem]:
    for path in identity.find_in(event):
        yield Problem(render_path(path), "holds a Norwegian national identity number or D-number", IDENTITY_FIX)


def _schema(event: dict) -> Iterator[Problem]:
    name, version = event.get("event_name"), event.get("schema_version")
    known = isinstance(name, str) and name in contract.event_names()
    if not known:
        yield from explain(contract.envelope_validator(), event)
        if isinstance(name, str) and not identity.contains_identity_number(name):
            yield Problem("event_name", "is not an event of the contract",
                          f"use one of: {', '.join(contract.event_names())}")
        return
    if not isinstance(version, int) or isinstance(version, bool) or version not in contract.versions(name):
        yield from explain(contract.envelope_validator(), event)
        yield Problem("schema_version", f"{name} has no such schema version",
                      f"use one of: {', '.join(map(str, contract.versions(name)))}")
        return
    yield from explain(contract.validator(name, version), event)


def _semantic(event: dict, finite_checked: bool = False) -> list[Problem]:
    problems = [] if finite_checked else list(_non_finite(event))
    name, payload = event.get("event_name"), event.get("payload")
    expected = topics.key_of(name, payload)
    if expected is not None and event.get("ordering_key") != expected:
        problems.append(Problem("ordering_key", "does not match the payload",
                                f"set it to {topics.key_description(name)} so the event is ordered with its peers"))
    if isinstance(payload, dict) and "earliest" in payload:
        problems.extend(_windows(payload))
    return problems


def _windows(payload: dict) -> Iterator[Problem]:
    for start, end in (("earliest", "latest"),):
        first, last = parse_timestamp(payload.get(start)), parse_timestamp(payload.get(end))
        if first and last and first > last:
            yield Problem(f"payload.{end}", f"is before payload.{start}", f"give a window where {start} <= {end}")


def _non_finite(value: Any, path: tuple = ()) -> Iterator[Problem]:
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            yield Problem(render_path(where), "is not a finite number", "send a finite decimal number")
        elif isinstance(item, dict):
            stack.extend((v, (*where, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(item))


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _unique(problems: list[Problem]) -> Iterator[Problem]:
    seen = set()
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            yield problem
