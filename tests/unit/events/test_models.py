"""The pydantic models agree with the JSON Schema files, and events survive a round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events import contract
from events.models import MODELS, new_event
from events.validation import check
from tests.unit.events.examples import event

pytestmark = pytest.mark.unit

COMPARED = ("type", "enum", "const", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


def _resolve(schema: dict, root: dict, base: str) -> tuple[dict, dict, str]:
    """Follow $ref (in the schema files: relative files; in pydantic: #/$defs)."""
    while "$ref" in schema:
        ref = schema["$ref"]
        if ref.startswith("#"):
            target, where = root, ref[2:]
        else:
            file, _, where = ref.partition("#")
            name = file.split("/")[-2]
            target = root = contract.schema(name)
            where = where.lstrip("/")
        for part in filter(None, where.split("/")):
            target = target[part]
        schema = target
    return schema, root, base


def _without_null(schema: dict) -> dict:
    options = schema.get("anyOf")
    if options:
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            return rest[0]
    return schema


def _normal(schema: dict) -> dict[str, Any]:
    found = {k: schema[k] for k in COMPARED if k in schema}
    if isinstance(found.get("type"), list) and "null" in found["type"]:  # nullable: compared as its other type
        found["type"] = next(t for t in found["type"] if t != "null")
    if "const" in found:  # pydantic writes a one-value Literal as const; the schema may write enum
        found["enum"] = [found.pop("const")]
    if found.get("type") == "integer" and "minimum" in found:
        found["minimum"] = float(found["minimum"])
    if "maximum" in found:
        found["maximum"] = float(found["maximum"])
    if "minimum" in found:
        found["minimum"] = float(found["minimum"])
    return found


def _compare(file_schema: dict, file_root: dict, model_schema: dict, model_root: dict, path: str) -> list[str]:
    file_schema, file_root, _ = _resolve(file_schema, file_root, "")
    model_schema, model_root, _ = _resolve(_without_null(model_schema), model_root, "")
    model_schema, model_root, _ = _resolve(_without_null(model_schema), model_root, "")
    differences = []
    left, right = _normal(file_schema), _normal(model_schema)
    left.pop("type", None) if "enum" in left else None
    right.pop("type", None) if "enum" in right else None
    if left != right:
        differences.append(f"{path}: schema {left} != model {right}")
    if "properties" in file_schema or "properties" in model_schema:
        differences += _compare_objects(file_schema, file_root, model_schema, model_root, path)
    if "items" in file_schema:
        differences += _compare(file_schema["items"], file_root, model_schema.get("items", {}), model_root, path + "[]")
    return differences


def _compare_objects(file_schema, file_root, model_schema, model_root, path) -> list[str]:
    fp, mp = file_schema.get("properties", {}), model_schema.get("properties", {})
    differences = []
    if set(fp) != set(mp):
        differences.append(f"{path}: fields {sorted(fp)} != model {sorted(mp)}")
    if set(file_schema.get("required", [])) != set(model_schema.get("required", [])):
        differences.append(f"{path}: required {file_schema.get('required')} != model {model_schema.get('required')}")
    if model_schema.get("additionalProperties") is not False or file_schema.get("additionalProperties") is not False:
        differences.append(f"{path}: both must forbid unknown fields")
    for name in set(fp) & set(mp):
        differences += _compare(fp[name], file_root, mp[name], model_root, f"{path}.{name}")
    return differences


def _merged_file_schema(name: str) -> dict:
    document = contract.schema(name)
    envelope = contract.schema("envelope")
    merged = {**envelope, "properties": {**envelope["properties"], **document["properties"]}}
    return merged


# Models are for office systems building events in Python; events Veiviser itself produces (route.planned,
# route.changed by the planner, visit.started by the field service) have schemas and examples but no model.
MODELLED = sorted(name for name, _ in MODELS)


def test_every_event_office_systems_send_has_a_model():
    from tests.unit.events.test_contract import REQUIRED_EVENTS

    assert set(MODELLED) >= REQUIRED_EVENTS


@pytest.mark.parametrize("name", MODELLED)
def test_model_and_schema_agree_field_by_field(name):
    model_schema = MODELS[(name, 1)].model_json_schema()
    differences = _compare(_merged_file_schema(name), contract.schema(name), model_schema, model_schema, name)
    assert differences == []


def test_the_comparison_notices_a_disagreement():
    model_schema = MODELS[("case.closed", 1)].model_json_schema()
    file_schema = _merged_file_schema("case.closed")
    file_schema["properties"]["payload"] = json.loads(json.dumps(file_schema["properties"]["payload"]))
    file_schema["properties"]["payload"]["properties"]["reason"] = {"type": "string", "enum": ["resolved"]}
    assert _compare(file_schema, contract.schema("case.closed"), model_schema, model_schema, "x")


@pytest.mark.parametrize("name", MODELLED)
def test_round_trip_dict_model_json_is_lossless_and_schema_valid(name):
    original = event(name)
    model = MODELS[(name, 1)].model_validate(original)
    text = model.model_dump_json(exclude_unset=True)
    assert json.loads(text) == original
    assert list(contract.validator(name).iter_errors(json.loads(text))) == []
    again = MODELS[(name, 1)].model_validate_json(text)
    assert again == model


def test_new_event_builds_a_valid_event_with_fresh_ids():
    first = new_event("case.closed", {"case_id": "case-9", "reason": "resolved"}, producing_system="modia",
                      ordering_key="case-9")
    second = new_event("case.closed", {"case_id": "case-9", "reason": "resolved"}, producing_system="modia",
                       ordering_key="case-9")
    assert first.event_id != second.event_id
    assert check(first).ok


def test_models_are_strict_no_coercion():
    bad = event("appointment.booked")
    bad["payload"]["duration_min"] = "45"
    with pytest.raises(ValueError):
        MODELS[("appointment.booked", 1)].model_validate(bad)
