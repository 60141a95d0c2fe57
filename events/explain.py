"""Turning JSON Schema errors into problems a person can act on: the field, what is wrong, the fix.

Messages are written here from the schema (the allowed values, the bounds, the field's description), never
from the rejected value, so nothing the sender wrote (such as an identity number) is echoed back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft7Validator, ValidationError

from events.problems import Problem, render_path

__all__ = ["explain"]

TYPES = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
         "object": "an object", "array": "an array", "null": "null"}


def explain(validator: Draft7Validator, event: Any) -> Iterator[Problem]:
    """Every problem the schema finds in the event, sorted by field path."""
    errors = sorted(validator.iter_errors(event), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        yield from _problems(error)


def _problems(error: ValidationError) -> Iterator[Problem]:
    path = tuple(error.absolute_path)
    handler = HANDLERS.get(error.validator, _generic)
    yield from handler(error, path)


def _required(error: ValidationError, path: tuple) -> Iterator[Problem]:
    present = error.instance if isinstance(error.instance, dict) else {}
    for name in error.validator_value:
        if name not in present:
            doc = _doc(error.schema.get("properties", {}).get(name, {}))
            yield Problem(render_path((*path, name)), "is missing", f"add the field{doc}")


def _additional(error: ValidationError, path: tuple) -> Iterator[Problem]:
    allowed = sorted(error.schema.get("properties", {}))
    for name in error.instance:
        if name not in allowed:
            yield Problem(render_path((*path, name)), "is not a field of this event",
                          f"remove it (allowed here: {', '.join(allowed)})")


def _type(error: ValidationError, path: tuple) -> Iterator[Problem]:
    wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    words = " or ".join(TYPES.get(t, t) for t in wanted)
    yield Problem(render_path(path), f"must be {words}", f"send {words}{_doc(error.schema)}")


def _enum(error: ValidationError, path: tuple) -> Iterator[Problem]:
    options = error.validator_value if error.validator == "enum" else [error.validator_value]
    listed = ", ".join(str(o) for o in options)
    yield Problem(render_path(path), "is not an allowed value", f"use one of: {listed}")


def _pattern(error: ValidationError, path: tuple) -> Iterator[Problem]:
    yield Problem(render_path(path), "does not have the required form",
                  f"write it as described{_doc(error.schema) or f' (pattern {error.validator_value})'}")


def _format(error: ValidationError, path: tuple) -> Iterator[Problem]:
    what = {"date-time": "a real RFC 3339 timestamp with a time zone, e.g. 2026-11-23T10:00:00+01:00",
            "date": "a real calendar date YYYY-MM-DD"}.get(error.validator_value, error.validator_value)
    yield Problem(render_path(path), f"is not {what}", f"send {what}")


def _bound(error: ValidationError, path: tuple) -> Iterator[Problem]:
    words = {
        "minimum": "at least {}", "maximum": "at most {}", "exclusiveMinimum": "more than {}",
        "exclusiveMaximum": "less than {}", "minLength": "at least {} characters long",
        "maxLength": "at most {} characters long", "minItems": "a list of at least {} item(s)",
        "maxItems": "a list of at most {} item(s)", "minProperties": "an object with at least {} field(s)",
    }[error.validator].format(error.validator_value)
    yield Problem(render_path(path), f"must be {words}", f"send a value that is {words}")


def _unique_items(error: ValidationError, path: tuple) -> Iterator[Problem]:
    yield Problem(render_path(path), "lists an item more than once", "list each item once")


def _one_of(error: ValidationError, path: tuple) -> Iterator[Problem]:
    branches = [b.get("required", []) for b in error.validator_value]
    if all(len(b) == 1 for b in branches) and isinstance(error.instance, dict):
        names = " or ".join(b[0] for b in branches)
        given = [b[0] for b in branches if b[0] in error.instance]
        what = "gives both" if given else "gives neither"
        yield Problem(render_path(path), f"{what} of {names}", f"give exactly one of {names}")
        return
    yield Problem(render_path(path), "matches none or several of the allowed forms", "see the schema")


def _generic(error: ValidationError, path: tuple) -> Iterator[Problem]:
    yield Problem(render_path(path), f"breaks the schema rule {error.validator!r}",
                  f"see the event's schema in events/schemas ({error.validator}: {error.validator_value!r})")


def _doc(schema: dict[str, Any]) -> str:
    text = schema.get("description") if isinstance(schema, dict) else None
    return f" ({text.rstrip('.')})" if text else ""


HANDLERS = {
    "required": _required, "additionalProperties": _additional, "type": _type, "enum": _enum,
    "const": _enum, "pattern": _pattern, "format": _format, "uniqueItems": _unique_items, "oneOf": _one_of,
    **{name: _bound for name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
                                 "maxLength", "minItems", "maxItems", "minProperties")},
}
