"""Validation: every event type accepts its valid example and rejects a broken one, naming the field;
every problem is listed with a path and a fix; nothing is echoed."""

from __future__ import annotations

import json

import pytest

from events.validation import MAX_DEPTH, check
from tests.unit.events.examples import PAYLOADS, broken, event

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_valid_example_is_accepted_with_canonical_bytes(name):
    original = event(name)
    verdict = check(original)
    assert verdict.ok, verdict.problems
    assert json.loads(verdict.value) == original


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_invalid_example_is_rejected_naming_the_field(name):
    bad, path = broken(name)
    verdict = check(bad)
    assert not verdict.ok
    assert path in [p.path for p in verdict.problems]
    assert all(p.fix for p in verdict.problems)


@pytest.mark.parametrize("form", ["dict", "bytes", "str", "model"])
def test_every_input_form_is_accepted(form):
    from events.models import MODELS

    original = event("case.closed")
    given = {"dict": original, "bytes": json.dumps(original).encode(), "str": json.dumps(original),
             "model": MODELS[("case.closed", 1)].model_validate(original)}[form]
    assert json.loads(check(given).value) == original


def test_every_problem_is_collected_not_just_the_first():
    bad = event("case.opened")
    del bad["occurred_at"]
    bad["payload"]["locations"][0]["kind"] = "cabin"
    bad["payload"]["services"] = []
    bad["payload"]["language_needs"]["interpreter_needed"] = "yes"
    bad["payload"]["unexpected"] = 1
    paths = {p.path for p in check(bad).problems}
    assert {"occurred_at", "payload.locations[0].kind", "payload.services",
            "payload.language_needs.interpreter_needed", "payload.unexpected"} <= paths


def test_location_needs_exactly_one_of_coordinates_or_municipality():
    both = event("case.opened")
    both["payload"]["locations"][0]["municipality_number"] = "1804"
    neither = event("case.opened")
    del neither["payload"]["locations"][0]["coordinates"]
    for bad, word in ((both, "both"), (neither, "neither")):
        problems = check(bad).problems
        assert [p.path for p in problems] == ["payload.locations[0]"]
        assert word in problems[0].message and "exactly one" in problems[0].fix


def test_timestamps_must_carry_a_time_zone():
    bad = event("case.closed", occurred_at="2026-11-23T10:15:00")
    assert "occurred_at" in {p.path for p in check(bad).problems}
    assert check(event("case.closed", occurred_at="2026-11-23T09:15:00Z")).ok


def test_ordering_key_must_be_the_case_id():
    problems = check(event("case.closed", ordering_key="someone-else")).problems
    assert [p.path for p in problems] == ["ordering_key"]
    assert "payload.case_id" in problems[0].fix


def test_shift_key_is_worker_and_date():
    assert check(event("field_worker.shift_scheduled", ordering_key="fw-001:2026-11-24")).ok
    assert not check(event("field_worker.shift_scheduled", ordering_key="fw-001")).ok


def test_unknown_event_and_version_name_the_known_ones():
    unknown = check(event("case.closed", event_name="case.reopened")).problems
    assert any(p.path == "event_name" and "case.opened" in p.fix for p in unknown)
    version = check(event("case.closed", schema_version=7)).problems
    assert any(p.path == "schema_version" and "1" in p.fix for p in version)


def test_case_updated_must_change_something():
    bad = event("case.updated")
    bad["payload"] = {"case_id": bad["payload"]["case_id"]}
    assert "payload" in {p.path for p in check(bad).problems}


def test_explicit_null_for_an_optional_field_is_rejected_like_the_schema_does():
    bad = event("appointment.booked")
    bad["payload"]["office_id"] = None
    assert "payload.office_id" in {p.path for p in check(bad).problems}


def test_trailing_newline_does_not_sneak_past_a_pattern():
    bad = event("office.status_changed")
    bad["payload"]["office_id"] = "1837\n"
    assert not check(bad).ok


@pytest.mark.parametrize("raw", [b"", b"{", b"null", b"[]", b"42", b'"x"', b"\xff\xfe", b"NaN",
                                 b'{"a": NaN}', b"[" * 100000 + b"]" * 100000])
def test_garbage_is_a_problem_not_an_exception(raw):
    verdict = check(raw)
    assert not verdict.ok and verdict.problems[0].path == "$"


def test_deep_nesting_is_refused_with_the_limit():
    deep: dict = {}
    node = deep
    for _ in range(MAX_DEPTH + 5):
        node["x"] = {}
        node = node["x"]
    bad = event("case.closed", payload=deep)
    problems = check(bad).problems
    assert any(str(MAX_DEPTH) in p.fix for p in problems)


def test_messages_never_echo_the_rejected_value():
    secret = "VERY-SECRET-VALUE-123"
    bad = event("case.opened")
    bad["payload"]["protected_address"] = secret
    bad["payload"]["person_ref"] = secret
    bad["unknown_field"] = secret
    problems = json.dumps([p.as_dict() for p in check(bad).problems])
    assert secret not in problems
    assert "unknown_field" in problems  # an unknown field is named so it can be removed


def test_non_finite_numbers_are_rejected():
    bad = event("case.opened")
    bad["payload"]["locations"][0]["coordinates"]["lat"] = float("nan")
    assert not check(bad).ok
