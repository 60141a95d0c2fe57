"""The fast path (schemas compiled to pydantic-core validators) gives the same verdict as the full JSON Schema
check: on valid events, on mutated ones, and on lookalikes a lax validator would let through."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from events import compiled, contract
from events.simulator import Simulator, SimulatorConfig
from events.timestamps import is_aware_timestamp, is_date
from events.validation import accepted_bytes, check
from tests.unit.events.examples import PAYLOADS, event
from tests.unit.events.strategies import json_values, mutated_events, nearly_valid_events

pytestmark = pytest.mark.unit
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same_verdict(value) -> None:
    """check() (fast path first) and the full check alone agree: both accept the same JSON, or both reject
    with the same problems."""
    quick = check(value)
    with mock.patch("events.validation._fast", return_value=None):
        full = check(value)
    assert quick.ok == full.ok, (quick.problems, full.problems)
    if quick.ok:
        assert json.loads(quick.value) == json.loads(full.value)
    else:
        assert quick.problems == full.problems


def _schema_accepts(value) -> bool:
    name = value.get("event_name") if isinstance(value, dict) else None
    if name not in contract.event_names() or value.get("schema_version") not in contract.versions(name):
        return False
    return not list(contract.validator(name, value["schema_version"]).iter_errors(value))


def test_every_event_schema_of_the_contract_compiles():
    """Otherwise that event always takes the slow path (correct, but slow): a schema change that uses a
    keyword the compiler lacks shows up here."""
    expected = {(name, v) for name in contract.event_names() for v in contract.versions(name)}
    assert set(compiled.validators()) == expected


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_the_fast_path_accepts_every_valid_example(name):
    original = event(name)
    value = accepted_bytes(original)
    assert value is not None
    assert json.loads(value) == original


def test_the_fast_path_accepts_every_simulated_event():
    """The simulator drives the benchmark: its events must not fall back to the slow path."""
    events = list(Simulator(SimulatorConfig(seed=11)).events(3000))
    assert [e["event_name"] for e in events if accepted_bytes(e) is None] == []


@PROPERTY
@given(mutated_events())
def test_mutated_events_get_the_same_verdict_both_ways(value):
    _same_verdict(value)


@PROPERTY
@given(nearly_valid_events())
@example(event("case.closed", schema_version=True))
@example(event("case.closed", schema_version=1.0))
@example(event("case.closed", occurred_at="2026-11-23T10:15:00+01:00\n"))
@example(event("appointment.booked", causation_id=float("nan")))
def test_lookalike_values_get_the_same_verdict_both_ways(value):
    _same_verdict(value)


def _changed(name: str, change) -> dict:
    value = event(name)
    change(value["payload"])
    return value


@pytest.mark.parametrize("value", [
    _changed("case.opened", lambda p: p["locations"][0].update(municipality_number="1804")),  # both (oneOf)
    _changed("case.opened", lambda p: p["locations"][0].pop("coordinates")),  # neither (oneOf)
    _changed("case.updated", lambda p: [p.pop(k) for k in list(p) if k != "case_id"]),  # minProperties
    _changed("case.opened", lambda p: p.update(services=["guidance", "guidance"])),  # uniqueItems
    _changed("appointment.requested", lambda p: p.update(latest="2026-11-20T09:00:00Z")),  # window
    _changed("appointment.booked", lambda p: p.update(office_id=None)),  # null for an optional field
    _changed("case.closed", lambda p: p.update(case_id="31129945616")),  # identity number
])
def test_rules_beyond_types_get_the_same_verdict_both_ways(value):
    assert not check(value).ok
    _same_verdict(value)


@PROPERTY
@given(st.one_of(mutated_events(), nearly_valid_events()))
def test_a_compiled_validator_never_accepts_what_the_schema_refuses(value):
    try:
        validator = compiled.validators().get((value.get("event_name"), value.get("schema_version")))
        validator.validate_python(value)
    except Exception:  # noqa: BLE001 - refused (any way) is always safe
        return
    assert _schema_accepts(value)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_gets_the_same_verdict_both_ways(value):
    _same_verdict(value)


TIMESTAMPISH = st.one_of(
    st.text(max_size=45),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat()),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})\Z"),
)


def _passes(steps: list, value: str) -> bool:
    try:
        SchemaValidator(cs.chain_schema([cs.str_schema(), *steps])).validate_python(value)
    except Exception:  # noqa: BLE001
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(TIMESTAMPISH)
def test_the_compiled_date_time_format_is_the_contracts(text):
    assert _passes(compiled.C_FORMATS["date-time"](), text) == is_aware_timestamp(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=12), st.dates().map(str), st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")))
def test_the_compiled_date_format_is_the_contracts(text):
    assert _passes(compiled.C_FORMATS["date"](), text) == is_date(text)


def test_a_keyword_the_compiler_lacks_leaves_the_event_to_the_full_check():
    schema = {"$id": "https://schemas.veiviser.example/events/test/v1.json", "type": "object",
              "properties": {"a": {"not": {"type": "string"}}}}
    with pytest.raises(compiled.Unsupported):
        compiled.compile_schema(schema)


def test_patterns_keep_json_schema_meaning():
    """A pattern is searched, not matched from the start, and '$' is the very end (no trailing newline)."""
    anchored = compiled.compile_schema({"type": "string", "pattern": "^[0-9]{4}$"})
    loose = compiled.compile_schema({"type": "string", "pattern": "[0-9]{4}"})
    assert anchored.validate_python("1804")
    assert loose.validate_python("office 1804 Bodø")
    for bad in ("1804\n", "\u0661\u0668\u0660\u0664", " 1804"):
        with pytest.raises(Exception):  # noqa: B017
            anchored.validate_python(bad)
