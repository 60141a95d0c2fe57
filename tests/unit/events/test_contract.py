"""The contract as data: every schema file is a valid schema, every event has a route and an example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from events import contract, topics
from tests.unit.events.examples import PAYLOADS

pytestmark = pytest.mark.unit

REQUIRED_EVENTS = {
    "case.opened", "case.updated", "case.closed", "appointment.requested", "appointment.booked",
    "appointment.cancelled", "appointment.completed", "appointment.no_show", "office.status_changed",
    "field_worker.shift_scheduled", "visit.completed", "visit.failed",
}


def test_the_contract_defines_every_event_the_issue_asks_for():
    assert set(contract.event_names()) >= REQUIRED_EVENTS
    assert set(PAYLOADS) == set(contract.event_names())  # every event has a valid (and a broken) example


@pytest.mark.parametrize("path", sorted(contract.SCHEMAS.glob("*/v*.json")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_schema_file_is_a_valid_draft7_schema_with_its_own_id(path):
    document = json.loads(path.read_text())
    Draft7Validator.check_schema(document)
    assert document["$id"].endswith(f"/{path.parent.name}/{path.name}")


def test_the_envelope_requires_what_the_contract_promises():
    required = set(contract.schema("envelope")["required"])
    assert required == {"event_id", "event_name", "schema_version", "occurred_at", "producing_system",
                        "correlation_id", "ordering_key", "payload"}


@pytest.mark.parametrize("name", sorted(REQUIRED_EVENTS))
def test_every_event_routes_to_a_topic_of_the_topic_spec(name):
    spec = yaml.safe_load((Path(__file__).parents[3] / "infra" / "topics.yaml").read_text())["topics"]
    assert topics.route(name).topic in spec


def test_case_scoped_events_are_keyed_by_case_id_on_the_case_topic():
    for name in REQUIRED_EVENTS:
        if name.startswith(("case.", "appointment.")):
            assert topics.route(name) == topics.Route(topics.CASE_EVENTS, ("case_id",))
        if name.startswith("visit."):
            assert topics.route(name).key_fields == ("case_id",)


def test_a_case_carries_everything_routing_needs():
    payload = contract.schema("case.opened")["properties"]["payload"]
    assert set(payload["required"]) >= {"person_ref", "locations", "priority_markers", "protected_address",
                                        "services", "language_needs", "can_travel"}
    common = contract.schema("common")["definitions"]
    assert common["protected_address"]["enum"] == ["strictly_confidential", "confidential", "none"]
    assert common["location_kind"]["enum"] == ["home", "work", "school"]
    assert set(common["priority_markers"]["required"]) == {"young_under_30", "immigrant", "complex_needs"}


def test_an_unknown_event_is_a_contract_error_that_lists_the_known_ones():
    with pytest.raises(Exception, match="case.opened"):
        contract.schema("case.reopened")


@pytest.mark.parametrize("name", sorted(REQUIRED_EVENTS))
def test_standalone_schemas_judge_like_the_files(name):
    from tests.unit.events.examples import broken, event

    standalone = Draft7Validator(contract.standalone(name), format_checker=contract.format_checker())
    assert "$ref" not in json.dumps(contract.standalone(name))
    assert not list(standalone.iter_errors(event(name)))
    bad, _ = broken(name)
    assert bool(list(standalone.iter_errors(bad))) == bool(list(contract.validator(name).iter_errors(bad)))
