"""Folding events into a case state, and translating it for geo."""

from __future__ import annotations

import json

import pytest

from events.validation import check
from geo.offices import StatusKind, load_registry
from geo.routing import route
from streams import routing
from streams.cases import CLOSED, OPEN, UNKNOWN, audit_detail, fold
from tests.unit.streams import factory

pytestmark = pytest.mark.unit


def test_the_factory_builds_valid_events():
    a = factory.case_id()
    for event in (factory.opened(a), factory.requested(a), factory.closed(a), factory.office("1804", "open"),
                  factory.booked(a), factory.cancelled(a), factory.visit_failed(a), factory.visit_completed(a)):
        assert check(event).ok, check(event).problems


def test_opening_routes_and_keeps_the_profile():
    step = fold(None, factory.opened("case-1"))
    assert step.route and step.state.status == OPEN and step.state.events_seen == 1
    assert step.state.profile["can_travel"] is True and step.state.locations[0]["kind"] == "home"


def test_a_request_routes_an_open_case_but_not_a_closed_one():
    opened = fold(None, factory.opened("case-1")).state
    assert fold(opened, factory.requested("case-1")).route
    closed = fold(opened, factory.closed("case-1")).state
    assert closed.status == CLOSED
    step = fold(closed, factory.requested("case-1"))
    assert not step.route and "closed" in step.note


def test_an_update_routes_again_only_when_a_routing_field_changed():
    state = fold(None, factory.opened("case-1")).state
    moved = factory.event("case.updated", {"case_id": "case-1", "locations": [
        {"kind": "home", "municipality_number": "1806"}]})
    services = factory.event("case.updated", {"case_id": "case-1", "services": ["debt_counselling"]})
    step = fold(state, moved)
    assert step.route and step.state.locations == ({"kind": "home", "municipality_number": "1806"},)
    step = fold(state, services)
    assert not step.route and step.state.profile["services"] == ["debt_counselling"]


def test_an_event_for_an_unseen_case_is_kept_with_a_note():
    step = fold(None, factory.requested("case-9"))
    assert not step.route and step.state.status == UNKNOWN and "not seen" in step.note
    assert step.state.appointments["case-9-a1"]["status"] == "requested"


def test_appointment_events_track_the_appointment():
    state = fold(None, factory.opened("case-1")).state
    state = fold(state, factory.requested("case-1")).state
    cancelled = factory.event("appointment.cancelled", {"case_id": "case-1", "appointment_id": "case-1-a1",
                                                        "cancelled_by": "person", "reason": "illness"})
    assert fold(state, cancelled).state.appointments["case-1-a1"]["status"] == "cancelled"
    assert state.appointments["case-1-a1"]["status"] == "requested"  # states are not mutated


def test_the_audit_detail_has_no_coordinates():
    detail = audit_detail(factory.opened("case-1"), note="n")
    assert detail["payload"]["locations"] == [{"kind": "home", "given": "coordinates"}]
    assert "67.28" not in str(detail) and detail["note"] == "n"


def test_a_case_becomes_a_geo_case_with_markers_and_protection():
    event = factory.opened("case-1", protected_address="confidential", can_travel=False,
                           priority_markers={"young_under_30": True, "immigrant": False, "complex_needs": True})
    case = routing.to_geo_case(fold(None, event).state, load_registry())
    assert case.markers == frozenset({"young", "complex_needs"}) and not case.can_travel
    assert case.protection.value == "confidential"
    assert (case.locations[0].lon, case.locations[0].lat) == (14.405, 67.28)


def test_a_municipality_only_location_is_placed_at_its_service_point_or_left_out():
    registry = load_registry()
    event = factory.opened("case-1")
    event["payload"]["locations"] = [{"kind": "home", "municipality_number": "1804"}]
    case = routing.to_geo_case(fold(None, event).state, registry)
    point = registry.points["sp-1804"]
    assert (case.locations[0].lon, case.locations[0].lat) == (point.lon, point.lat)
    event["payload"]["locations"] = [{"kind": "home", "municipality_number": "0301"}]
    assert routing.to_geo_case(fold(None, event).state, registry) is None


def test_a_followup_names_the_decision_and_never_the_coordinates():
    event = factory.opened("case-1")
    case = routing.to_geo_case(fold(None, event).state, load_registry())
    decision = route(case, at=event["occurred_at"])
    follow = routing.followup(decision, event)
    assert follow["followup_id"] == routing.decision_id(event["event_id"])
    assert follow["kind"] == decision.outcome.value and follow["causation_id"] == event["event_id"]
    assert "67.28" not in str(follow) and "14.405" not in str(follow)


def test_office_status_closes_every_service_point_of_the_unit():
    registry = load_registry()
    closing = routing.status_events(factory.office("1804", "closed_for_good"), registry)
    assert {e.point_id for e in closing} == {p.id for p in registry.points.values() if p.unit == "1804"}
    assert all(e.kind is StatusKind.CLOSED_FOR_GOOD for e in closing)
    opening = routing.status_events(factory.office("1804", "open", staff=3), registry)
    assert {e.kind for e in opening} == {StatusKind.OPENED, StatusKind.STAFF_CHANGE}


def test_the_explanation_keeps_the_sentences_the_placements_and_no_coordinates():
    event = factory.opened("case-1")
    case = routing.to_geo_case(fold(None, event).state, load_registry())
    decision = route(case, at=event["occurred_at"])
    plain = routing.explanation(decision)
    assert plain["explain"] == decision.explain()
    assert any("min from" in line for line in plain["explain"]), "candidates with travel times are explained"
    assert plain["locations"] == [[loc.kind, loc.municipality, loc.region, loc.snapped] for loc in decision.locations]
    assert plain["owner_rule"] == decision.owner_rule and plain["travel_minutes"] == decision.travel_minutes
    text = json.dumps(plain)
    for loc in case.locations:
        assert str(loc.lon) not in text and str(loc.lat) not in text


def test_closing_an_open_case_withdraws_its_decision_but_closing_a_closed_or_unseen_one_does_not():
    opened = fold(None, factory.opened("case-1")).state
    step = fold(opened, factory.closed("case-1"))
    assert step.withdraw and step.state.status == CLOSED and not step.route
    assert not fold(step.state, factory.closed("case-1")).withdraw
    assert not fold(None, factory.closed("case-2")).withdraw


def test_the_withdrawal_follow_up_is_stable_and_names_its_cause():
    event = factory.closed("case-1")
    first, again = routing.withdrawal("case-1", event), routing.withdrawal("case-1", event)
    assert first == again and first["kind"] == routing.WITHDRAWN and first["causation_id"] == event["event_id"]
    assert first["followup_id"] == routing.decision_id(event["event_id"]) and first["point_id"] is None


def test_visit_events_change_no_state_and_route_nothing_but_say_what_happened():
    opened = fold(None, factory.opened("case-1")).state
    failed = fold(opened, factory.visit_failed("case-1"))
    assert not failed.route and not failed.withdraw and "planner" in failed.note
    assert (failed.state.status, failed.state.locations, failed.state.events_seen) == (OPEN, opened.locations, 2)
    assert failed.state.appointments["v-1"]["status"] == "visit_failed"
    done = fold(failed.state, factory.visit_completed("case-1"))
    assert not done.route and done.note == ""
    assert "not seen" in fold(None, factory.visit_completed("case-2")).note


def test_cancelling_the_newest_unbooked_request_withdraws_its_decision_and_nothing_else_does():
    state = fold(None, factory.opened("case-1")).state
    state = fold(state, factory.requested("case-1", 1)).state
    newest = fold(state, factory.requested("case-1", 2)).state
    assert not fold(newest, factory.cancelled("case-1", 1)).withdraw  # an older request: the decision stays
    step = fold(newest, factory.cancelled("case-1", 2))
    assert step.withdraw and "cancelled" in step.note and step.state.appointments["case-1-a2"]["status"] == "cancelled"
    booked = fold(newest, factory.booked("case-1", 2)).state
    assert not fold(booked, factory.cancelled("case-1", 2)).withdraw  # booked first: capacity, not routing
    assert routing.withdrawal("case-1", factory.cancelled("case-1", 2))["reasons"][0].startswith("the requested")


def test_a_visit_outcome_is_kept_with_the_cases_appointments():
    state = fold(None, factory.opened("case-1")).state
    failed = fold(state, factory.visit_failed("case-1", "v-9")).state
    assert failed.appointments["v-9"] == {"mode": "mobile_visit", "status": "visit_failed", "reason": "not_at_home"}
    done = fold(failed, factory.visit_completed("case-1", "v-9")).state
    assert done.appointments["v-9"]["status"] == "visit_completed"


def test_a_protected_persons_follow_up_does_not_say_how_far_they_live_from_the_office():
    event = factory.opened("case-1", protected_address="confidential")
    case = routing.to_geo_case(fold(None, event).state, load_registry())
    decision = route(case, at=event["occurred_at"])
    assert decision.travel_minutes is not None  # geo measured it; the follow-up does not pass it on
    assert routing.followup(decision, event, protected=True)["travel_minutes"] is None
    assert routing.followup(decision, event)["travel_minutes"] == decision.travel_minutes
