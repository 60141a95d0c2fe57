"""The contract's JSON Schemas compiled once into pydantic-core validators: a quick yes for valid events.

`validator_for(name, version)` gives a validator built from events/schemas/<name>/v<version>.json itself
(references resolved, `allOf` merged), cached per schema. It answers one question quickly: does this
JSON value satisfy the schema? It never explains a failure: when it says no, the caller asks the full
JSON Schema check (events.validation), which collects every problem. So it must never say yes where the
JSON Schema says no; it may say no more often (it is strict about Python types: 1.0 is not an integer
here, a tuple is not an array), which only sends the event down the full path.

Keywords it compiles: type (one, or one and "null"), properties, required, additionalProperties (true or
false), enum/const (strings; const integers), pattern, format (those events.contract checks), minimum,
maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, items, minItems, maxItems,
uniqueItems (of strings), minProperties, maxProperties, oneOf whose branches only list required fields,
anyOf, allOf, $ref. A schema using anything else gets no compiled validator (None), and its events always
take the full path: correct, only slower. Draft-07 ignores the siblings of "$ref", and so does this.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from pydantic_core import PydanticCustomError, SchemaError, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from events import contract

__all__ = ["validator_for", "validators", "compile_schema", "Unsupported"]

ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "definitions", "examples",
                         "default", "readOnly", "writeOnly"})
OBJECT_KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "minProperties",
                             "maxProperties", "oneOf"})
STRING_KEYWORDS = frozenset({"type", "pattern", "format", "minLength", "maxLength", "enum", "const"})
NUMBER_KEYWORDS = frozenset({"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
ARRAY_KEYWORDS = frozenset({"type", "items", "minItems", "maxItems", "uniqueItems"})
BOUNDS = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt"}
MAX_NESTING = 40
CLASS_ESCAPES = re.compile(r"\\[dDwWsSbBpPAZz]")


class Unsupported(Exception):
    """The schema uses a keyword or form this compiler does not translate (its events take the full path)."""


def validator_for(name: str, version: int) -> SchemaValidator | None:
    """The compiled validator of an event name and version; None for an unknown event or a schema that
    uses something the compiler does not translate."""
    return validators().get((name, version))


@functools.cache
def validators() -> dict[tuple[str, int], SchemaValidator]:
    """Every event schema of the contract that compiles, by (event name, version); built once."""
    found = {}
    for name in contract.event_names():
        for version in contract.versions(name):
            try:
                found[(name, version)] = compile_schema(contract.schema(name, version))
            except Unsupported:
                continue
    return found


def compile_schema(document: dict[str, Any]) -> SchemaValidator:
    """Compile one schema document (with its "$id", resolved against the contract's registry)."""
    resolver = contract._registry().resolver(document.get("$id", ""))
    return _validator(_node([document], resolver, 0))


def _validator(schema: cs.CoreSchema) -> SchemaValidator:
    try:
        return SchemaValidator(schema)
    except SchemaError as exc:  # e.g. a pattern Rust's regex engine cannot compile
        raise Unsupported(str(exc)) from None


def _node(parts: list[dict[str, Any]], resolver: Any, depth: int) -> cs.CoreSchema:
    """One core schema for a value that must satisfy every schema in `parts` (an allOf)."""
    if depth > MAX_NESTING:
        raise Unsupported("nested too deeply")
    flat = _flatten(parts, resolver)
    if any(not isinstance(p, dict) for p in flat):
        raise Unsupported("boolean schema")
    flat = [p for p in flat if set(p) - ANNOTATIONS]  # {} (or annotations only) allows anything
    if not flat:
        return cs.any_schema()
    literal = _literal(flat, resolver, depth)
    if literal is not None:
        return literal
    if any("anyOf" in p for p in flat):
        return _any_of(flat, resolver, depth)
    if any(_nullable(p) for p in flat):
        if len(flat) != 1:
            raise Unsupported("a nullable type merged with another schema")
        kind = next(k for k in flat[0]["type"] if k != "null")
        return cs.nullable_schema(_node([_Scoped({**flat[0], "type": kind}, flat[0].resolver)], resolver, depth + 1))
    kind = _type(flat)
    builder = {"object": _object, "string": _string, "integer": _number, "number": _number,
               "boolean": _simple, "null": _simple, "array": _array}[kind]
    return builder(flat, resolver, depth, kind)


def _flatten(parts: list[Any], resolver: Any) -> list[Any]:
    """Resolve "$ref" (its siblings ignored, as draft-07 says) and lift allOf members into one list."""
    out: list[Any] = []
    for part in parts:
        resolver = part.resolver if isinstance(part, _Scoped) else resolver
        while isinstance(part, dict) and "$ref" in part:
            resolved = resolver.lookup(part["$ref"])
            part, resolver = resolved.contents, resolved.resolver
        if isinstance(part, dict) and "allOf" in part:
            rest = {k: v for k, v in part.items() if k != "allOf"}
            out.extend(_flatten([rest, *part["allOf"]], resolver))
        else:
            out.append(_Scoped(part, resolver) if isinstance(part, dict) else part)
    return out


class _Scoped(dict):
    """A schema dict that remembers the resolver its "$ref"s are relative to."""

    def __init__(self, schema: dict[str, Any], resolver: Any):
        super().__init__(schema)
        self.resolver = resolver


def _type(parts: list[dict[str, Any]]) -> str:
    kinds = {p["type"] if isinstance(p["type"], str) else tuple(p["type"]) for p in parts if "type" in p}
    if len(kinds) != 1:
        raise Unsupported(f"needs exactly one type, got {kinds or 'none'}")
    kind = kinds.pop()
    if isinstance(kind, tuple):
        raise Unsupported("a list of types")  # [T, "null"] is handled by _nullable before this
    return kind


def _literal(parts: list[dict[str, Any]], resolver: Any, depth: int) -> cs.CoreSchema | None:
    """const/enum of strings (or a const integer): the literal, checked at compile time against the rest."""
    for index, part in enumerate(parts):
        values = [part["const"]] if "const" in part else part.get("enum")
        if values is None:
            continue
        if set(part) - ANNOTATIONS - {"const", "enum", "type"}:
            raise Unsupported("const/enum next to other keywords")
        others = parts[:index] + parts[index + 1:]
        if others:
            check = _validator(_node(others, resolver, depth + 1))
            if not all(_valid(check, v) for v in values):
                raise Unsupported("a const/enum value that the other schemas refuse")
        if "type" in part and not all(_json_type(v) == part["type"] for v in values):
            raise Unsupported("enum values of another type")
        if all(type(v) is str for v in values):
            return cs.literal_schema(list(values))
        if len(values) == 1 and type(values[0]) is int:
            return cs.int_schema(strict=True, ge=values[0], le=values[0])
        raise Unsupported("enum of non-string values")
    return None


def _valid(check: SchemaValidator, value: Any) -> bool:
    try:
        check.validate_python(value)
    except ValidationError:
        return False
    return True


def _json_type(value: Any) -> str:
    return {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}.get(
        type(value), "other")


def _any_of(parts: list[dict[str, Any]], resolver: Any, depth: int) -> cs.CoreSchema:
    if len(parts) != 1 or set(parts[0]) - ANNOTATIONS != {"anyOf"}:
        raise Unsupported("anyOf next to other keywords")
    scope = parts[0].resolver
    choices = [_node([_Scoped(b, scope) if isinstance(b, dict) else b], scope, depth + 1)
               for b in parts[0]["anyOf"]]
    return cs.union_schema(choices, mode="left_to_right")


def _only(parts: list[dict[str, Any]], allowed: frozenset[str]) -> None:
    for part in parts:
        extra = set(part) - ANNOTATIONS - allowed
        if extra:
            raise Unsupported(f"keywords {sorted(extra)}")


def _nullable(part: dict[str, Any]) -> bool:
    kind = part.get("type")
    return isinstance(kind, list) and len(kind) == 2 and "null" in kind


def _bounds(parts: list[dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in parts:
        for keyword, arg in names.items():
            if keyword in part:
                if arg in found:
                    raise Unsupported(f"{keyword} given twice")
                if isinstance(part[keyword], bool) or not isinstance(part[keyword], int | float):
                    raise Unsupported(f"{keyword} is not a number")
                found[arg] = part[keyword]
    return found


def _after(schema: cs.CoreSchema, checks: list[Callable[[Any], bool]], what: str) -> cs.CoreSchema:
    if not checks:
        return schema
    if len(checks) == 1:
        (ok,) = checks

        def validate_one(value: Any) -> Any:
            if not ok(value):
                raise PydanticCustomError("contract", what)
            return value

        return cs.no_info_after_validator_function(validate_one, schema)

    def validate(value: Any) -> Any:
        for ok in checks:
            if not ok(value):
                raise PydanticCustomError("contract", what)
        return value

    return cs.no_info_after_validator_function(validate, schema)


def _string(parts, resolver, depth, kind) -> cs.CoreSchema:
    _only(parts, STRING_KEYWORDS)
    patterns = [p["pattern"] for p in parts if "pattern" in p]
    if len(patterns) > 1 or any(not isinstance(p, str) or CLASS_ESCAPES.search(p) for p in patterns):
        raise Unsupported("two patterns, or a class escape (\\d, \\w, ...) Rust and Python read differently")
    lengths = _bounds(parts, {"minLength": "min_length", "maxLength": "max_length"})
    schema = cs.str_schema(strict=True, pattern=patterns[0] if patterns else None, **lengths)
    formats = {p["format"] for p in parts if p.get("format") in _format_checkers()}
    steps = [step for name in sorted(formats) if name in C_FORMATS for step in C_FORMATS[name]()]
    schema = cs.chain_schema([schema, *steps]) if steps else schema
    return _after(schema, [_format(name) for name in sorted(formats) if name not in C_FORMATS], "format")


def _aware_timestamp() -> list[cs.CoreSchema]:
    """events.timestamps.is_aware_timestamp as C calls: at most 40 characters, datetime.fromisoformat
    takes it, and it has a UTC offset."""
    return [cs.str_schema(max_length=40), cs.no_info_plain_validator_function(datetime.fromisoformat),
            cs.no_info_plain_validator_function(datetime.utcoffset), cs.is_instance_schema(timedelta)]


def _calendar_date() -> list[cs.CoreSchema]:
    """events.timestamps.is_date as a C call: date.fromisoformat takes it."""
    return [cs.no_info_plain_validator_function(date.fromisoformat)]


# The contract's formats as chains of C functions (no Python frame per value). tests/unit/events/
# test_compiled.py checks each against the contract's own format function.
C_FORMATS: dict[str, Callable[[], list[cs.CoreSchema]]] = {"date-time": _aware_timestamp, "date": _calendar_date}


def _format(name: str) -> Callable[[Any], bool]:
    """The contract's own format check, with FormatChecker.conforms' rule: a falsy result or one of the
    declared exceptions is a failure."""
    checkers = _format_checkers()
    func, raises = checkers[name]
    if not raises:
        return func

    def conforms(value: Any) -> bool:
        try:
            return bool(func(value))
        except raises:
            return False

    return conforms


@functools.cache
def _format_checkers() -> dict[str, tuple[Callable[[Any], Any], Any]]:
    return dict(contract.format_checker().checkers)


def _number(parts, resolver, depth, kind) -> cs.CoreSchema:
    _only(parts, NUMBER_KEYWORDS)
    bounds = _bounds(parts, BOUNDS)
    if kind == "integer":
        return cs.int_schema(strict=True, **bounds)
    return cs.float_schema(strict=True, allow_inf_nan=False, **bounds)


def _simple(parts, resolver, depth, kind) -> cs.CoreSchema:
    _only(parts, frozenset({"type"}))
    return cs.bool_schema(strict=True) if kind == "boolean" else cs.none_schema()


def _array(parts, resolver, depth, kind) -> cs.CoreSchema:
    _only(parts, ARRAY_KEYWORDS)
    items = [_Scoped(p["items"], p.resolver) if isinstance(p["items"], dict) else p["items"]
             for p in parts if "items" in p]
    if any(not isinstance(i, dict) for i in items):
        raise Unsupported("items as a list of schemas")
    item = _node(items, resolver, depth + 1) if items else cs.any_schema()
    lengths = _bounds(parts, {"minItems": "min_length", "maxItems": "max_length"})
    schema = cs.list_schema(item, strict=True, **lengths)
    if any(p.get("uniqueItems") is True for p in parts):
        if item.get("type") not in ("str", "literal") or (item["type"] == "literal" and
                                                          not all(type(v) is str for v in item["expected"])):
            raise Unsupported("uniqueItems of values other than strings")
        schema = _after(schema, [lambda v: len(set(v)) == len(v)], "uniqueItems")
    return schema


def _object(parts, resolver, depth, kind) -> cs.CoreSchema:
    _only(parts, OBJECT_KEYWORDS)
    required = set().union(*(p.get("required", ()) for p in parts))
    closed = [set(p.get("properties", {})) for p in parts if p.get("additionalProperties") is False]
    if any(p.get("additionalProperties") not in (None, True, False) for p in parts):
        raise Unsupported("additionalProperties as a schema")
    declared: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        for name, sub in part.get("properties", {}).items():
            declared.setdefault(name, []).append(_Scoped(sub, part.resolver) if isinstance(sub, dict) else sub)
    allowed = set.intersection(*closed) if closed else set(declared) | required
    fields = {name: cs.typed_dict_field(_property(declared.get(name, []), resolver, depth),
                                        required=name in required) for name in allowed}
    if required - allowed:
        raise Unsupported("a required field that is not allowed")
    schema = cs.typed_dict_schema(fields, strict=True, extra_behavior="forbid" if closed else "allow")
    return _after(schema, _object_checks(parts), "object")


def _property(subs: list[dict[str, Any]], resolver: Any, depth: int) -> cs.CoreSchema:
    return _node(subs, resolver, depth + 1) if subs else cs.any_schema()


def _object_checks(parts: list[dict[str, Any]]) -> list[Callable[[Any], bool]]:
    checks: list[Callable[[Any], bool]] = []
    for part in parts:
        if "minProperties" in part:
            checks.append(functools.partial(_at_least, part["minProperties"]))
        if "maxProperties" in part:
            checks.append(functools.partial(_at_most, part["maxProperties"]))
        if "oneOf" in part:
            branches = part["oneOf"]
            if not all(isinstance(b, dict) and set(b) - ANNOTATIONS == {"required"} for b in branches):
                raise Unsupported("oneOf other than a choice of required fields")
            checks.append(_one_of_required([tuple(b["required"]) for b in branches]))
    return checks


def _at_least(count: int, value: dict) -> bool:
    return len(value) >= count


def _at_most(count: int, value: dict) -> bool:
    return len(value) <= count


def _one_of_required(branches: list[tuple[str, ...]]) -> Callable[[dict], bool]:
    """Exactly one branch has all its required fields present."""
    if all(len(branch) == 1 for branch in branches) and len({b[0] for b in branches}) == len(branches):
        names = frozenset(b[0] for b in branches)
        return lambda value: len(names & value.keys()) == 1

    def exactly_one(value: dict) -> bool:
        return sum(all(name in value for name in branch) for branch in branches) == 1

    return exactly_one
