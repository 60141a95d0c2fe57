"""The event contract: the versioned JSON Schema files in events/schemas, loaded as data.

One folder per event name, one file per version (events/schemas/case.opened/v1.json); the envelope and
the shared definitions live in events/schemas/envelope/ and events/schemas/common/. A breaking change is
a new file (v2.json), never an edit of a published one.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from events.errors import ContractError

__all__ = ["SCHEMAS", "event_names", "versions", "schema", "validator", "envelope_validator", "format_checker",
           "standalone"]

SCHEMAS = Path(__file__).parent / "schemas"
SHARED = ("common", "envelope")


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"schema file {path} cannot be read ({exc}); restore it from git") from None


@functools.cache
def _files() -> dict[tuple[str, int], dict[str, Any]]:
    found = {}
    for path in sorted(SCHEMAS.glob("*/v*.json")):
        found[(path.parent.name, int(path.stem[1:]))] = _load(path)
    if not found:
        raise ContractError(f"no schema files under {SCHEMAS}; restore events/schemas from git")
    return found


def event_names() -> tuple[str, ...]:
    """Every event name the contract defines, sorted."""
    return tuple(sorted({name for name, _ in _files() if name not in SHARED}))


def versions(name: str) -> tuple[int, ...]:
    """The schema versions defined for an event name (empty when the name is unknown)."""
    return tuple(sorted(v for n, v in _files() if n == name))


def schema(name: str, version: int = 1) -> dict[str, Any]:
    """The schema document of one event name and version (or 'envelope'/'common')."""
    try:
        return _files()[(name, version)]
    except KeyError:
        known = ", ".join(event_names())
        raise ContractError(f"no schema for {name!r} version {version}; known events: {known}") from None


@functools.cache
def _registry() -> Registry:
    resources = [(doc["$id"], Resource.from_contents(doc, default_specification=DRAFT7)) for doc in _files().values()]
    return Registry().with_resources(resources)


def format_checker() -> FormatChecker:
    """Formats checked beyond the patterns: real calendar dates and timestamps with a time zone."""
    from events.timestamps import is_aware_timestamp, is_date

    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_aware_timestamp)
    checker.checks("date")(is_date)
    return checker


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA regexes: '$' is the end of the input. Python's '$' also matches
    # before a final newline, which would let "1804\n" pass as a municipality number.
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"does not match {pattern!r}")


StrictDraft7 = validators.extend(Draft7Validator, {"pattern": _pattern})


@functools.cache
def validator(name: str, version: int = 1) -> Draft7Validator:
    """A compiled validator of one event name and version."""
    return StrictDraft7(schema(name, version), registry=_registry(), format_checker=format_checker())


def envelope_validator() -> Draft7Validator:
    return validator("envelope", 1)


def standalone(name: str, version: int = 1) -> dict[str, Any]:
    """The schema of one event with every reference written out in place (for OpenAPI documents)."""
    document = schema(name, version)
    resolved = _inline(document, _registry().resolver(document["$id"]))
    merged = {k: v for k, v in resolved.items() if not k.startswith("$") and k not in ("allOf", "definitions")}
    envelope = resolved["allOf"][0]
    properties = {**envelope["properties"], **resolved["properties"]}
    return {**merged, "type": "object", "additionalProperties": False, "required": envelope["required"],
            "properties": properties}


def _inline(value: Any, resolver: Any) -> Any:
    if isinstance(value, list):
        return [_inline(item, resolver) for item in value]
    if not isinstance(value, dict):
        return value
    if "$ref" in value:
        target = resolver.lookup(value["$ref"])
        return _inline(target.contents, target.resolver)
    return {key: _inline(item, resolver) for key, item in value.items() if key != "definitions"}
