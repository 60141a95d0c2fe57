"""Checking an event against the contract, collecting every problem with its field path and a fix.

`check(event)` takes a model, a dict, or JSON text/bytes and returns a `Verdict`: either the exact bytes
to publish, or every problem found. The JSON Schema files are the authority. A fast path answers "valid"
for the common case: the event's schema compiled once into a pydantic-core validator (events.compiled),
then the event serialized once and those bytes (the bytes that are published) scanned for identity
numbers, then the ordering key and the time window. Anything the fast path does not accept goes the full
way: the JSON Schema validator collecting every problem, and the checks a schema cannot express (the
ordering key, national identity numbers, time windows). Both ways give the same verdict (a property
test compares them). Messages name the field and the fix and never echo a value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json

from events import compiled, contract, identity, topics
from events.explain import explain
from events.problems import Problem, render_path
from events.timestamps import parse_timestamp

__all__ = ["Problem", "Verdict", "check", "accepted_bytes", "parse", "MAX_DEPTH"]

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
    value = accepted_bytes(event) if type(event) is dict else None
    return None if value is None else Verdict(value=value, event=event)


def accepted_bytes(event: dict) -> bytes | None:
    """The bytes to publish when the fast path accepts the event (a dict), else None: then only `check`
    can say why, or accept it after all (the fast path is strict about Python types)."""
    try:
        validator = compiled.validators().get((event.get("event_name"), event.get("schema_version")))
        if validator is None:
            return None
        validator.validate_python(event)
        value = to_json(event)  # serialized once: these bytes are scanned and published
    except Exception:  # noqa: BLE001 - invalid, unhashable, unserializable: the full way decides and explains
        return None
    payload = event["payload"]
    if identity.contains_identity_number(value) or \
            topics.key_of(event["event_name"], payload) != event["ordering_key"] or \
            ("earliest" in payload and not _window_ok(payload)):
        return None
    return value


def _window_ok(payload: dict) -> bool:
    first, last = parse_timestamp(payload.get("earliest")), parse_timestamp(payload.get("latest"))
    return not (first and last and first > last)


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
    if not _window_ok(payload):
        yield Problem("payload.latest", "is before payload.earliest", "give a window where earliest <= latest")


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
