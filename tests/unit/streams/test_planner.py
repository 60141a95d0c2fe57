"""The planner agent's pure parts: stages, the visit a follow-up asks for, a failed visit's next step, the
route event's shape, settings and wiring."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.validation import check
from geo.planning import Plan, Reason, Route, Stop, Unplanned
from streams import plans as repo
from streams.errors import SettingsProblem
from streams.fieldplan import (
    PlannerConfig,
    TeamPlan,
    actual_times,
    after_failure,
    new_visit,
    office_request,
    route_event,
)
from streams.planner import planner_stages
from streams.stages import Outcome, handle

pytestmark = pytest.mark.unit

OSLO = ZoneInfo("Europe/Oslo")
TODAY = date(2026, 11, 23)
CONFIG = PlannerConfig(window_days=5, escalate_after_days=3, visit_minutes=40)


def followup(**over) -> dict:
    return {"followup_id": str(uuid.uuid4()), "followup_version": 1, "kind": "mobile_visit", "case_id": "case-1",
            "point_id": None, "team_id": "team-106", "owner_unit": "1804", "location_kind": "home",
            "appointment_day": None, "reasons": [], "decided_at": "2026-11-23T08:00:00+01:00", **over}


def shift_event(**over) -> dict:
    payload = {"worker_id": "w-1", "team_id": "team-106", "shift_date": "2026-11-24", "available": True,
               "starts": "08:00", "ends": "16:00", "base": {"lon": 14.4, "lat": 67.28}, "skills": ["guidance"], **over}
    return {"event_id": str(uuid.uuid4()), "event_name": "field_worker.shift_scheduled", "schema_version": 1,
            "occurred_at": "2026-11-23T08:00:00+01:00", "producing_system": "roster", "correlation_id": str(uuid.uuid4()),
            "causation_id": None, "ordering_key": f"{payload['worker_id']}:{payload['shift_date']}", "payload": payload}


def outcome(value) -> tuple[Outcome, list[str]]:
    handled = handle(planner_stages(), value if isinstance(value, bytes) else json.dumps(value).encode())
    return handled.outcome, [p.path for p in handled.problems]


def test_stages_take_follow_ups_shifts_and_visit_events_and_skip_the_rest():
    assert outcome(followup()) == (Outcome.OK, [])
    assert outcome(shift_event()) == (Outcome.OK, [])
    withdrawn = followup(kind="withdrawn", team_id=None, location_kind=None)  # cancels the case's open visit
    assert outcome(withdrawn) == (Outcome.OK, [])
    assert outcome({**shift_event(), "event_name": "case.opened"})[0] is Outcome.SKIPPED
    assert outcome(b"{not json")[0] is Outcome.UNPARSEABLE


def test_stages_reject_a_bad_followup_or_event_naming_every_field():
    assert outcome(followup(team_id=None, location_kind="cabin", appointment_day="soon")) == (
        Outcome.REJECTED, ["team_id", "location_kind", "appointment_day"])
    rejected, paths = outcome(shift_event(starts="8 o'clock"))
    assert rejected is Outcome.REJECTED and any("starts" in p for p in paths)


def test_a_shift_that_ends_before_it_starts_is_rejected_naming_the_fields_and_the_fix():
    handled = handle(planner_stages(), json.dumps(shift_event(starts="16:00", ends="08:00")).encode())
    assert handled.outcome is Outcome.REJECTED
    [problem] = handled.problems
    assert problem.path == "payload.ends" and "16:00" in problem.message and "starts" in problem.message
    assert "HH:MM" in problem.fix
    assert outcome(shift_event(starts="08:00", ends="08:00"))[0] is Outcome.REJECTED
    assert outcome(shift_event(starts="08:00", ends="08:01"))[0] is Outcome.OK


def test_an_escalated_visit_asks_the_owner_unit_for_an_office_appointment_with_a_stable_id():
    escalation = repo.Escalation("visit-1", "case-1", "team-106", "visit failed: unsafe", "1804", "event-9")
    now = datetime(2026, 11, 23, 9, 0, tzinfo=OSLO)
    request = office_request(escalation, now)
    assert request == office_request(escalation, now + timedelta(hours=1)) | {"decided_at": request["decided_at"]}
    assert request["followup_id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "visit-1:escalated"))
    assert (request["kind"], request["case_id"], request["team_id"], request["owner_unit"]) == (
        "office_appointment_requested", "case-1", "team-106", "1804")
    assert (request["escalation_reason"], request["causation_id"], request["location_kind"]) == (
        "visit_failed", "event-9", None)
    other = office_request(repo.Escalation("visit-2", "case-1", "team-106", None, None, "visit-2"), now)
    assert other["followup_id"] != request["followup_id"] and other["escalation_reason"] == "escalated"


def test_the_planner_skips_its_own_office_appointment_requests():
    own = office_request(repo.Escalation("visit-1", "case-1", "team-106", "protected_address", "1804", "visit-1"),
                         datetime(2026, 11, 23, 9, 0, tzinfo=OSLO))
    assert outcome(own)[0] is Outcome.SKIPPED


def test_a_fixed_stop_keeps_the_times_the_worker_reported_else_the_planned_ones():
    eta = datetime(2026, 11, 23, 9, 0, tzinfo=OSLO)
    stop = repo.CurrentStop("w-1", TODAY, "v-1", eta, eta + timedelta(minutes=45))
    row = repo.VisitRow("v-1", "c-1", 14.4, 67.3, "home", TODAY, None, None, 45, None, False, 10, "started", "w-1", 0)
    assert actual_times(stop, row) == (stop.eta, stop.departure)
    began = eta + timedelta(minutes=70)
    assert actual_times(stop, replace(row, started_at=began)) == (began, began + timedelta(minutes=45))
    ended = began + timedelta(minutes=20)
    assert actual_times(stop, replace(row, started_at=began, finished_at=ended, status="completed")) == (began, ended)
    assert actual_times(stop, replace(row, finished_at=eta - timedelta(minutes=5))) == (eta, eta)  # never negative


def state(kind="home", protected="none", young=False, complex_needs=False, interpreter=False, where=None):
    location = {"kind": kind, **({"coordinates": where} if where is not False else {"municipality_number": "1804"})}
    if where is None:
        location["coordinates"] = {"lon": 14.4, "lat": 67.3}
    profile = {"protected_address": protected, "services": ["debt_counselling"],
               "priority_markers": {"young_under_30": young, "immigrant": False, "complex_needs": complex_needs},
               "language_needs": {"language": "ar", "interpreter_needed": interpreter}}
    return profile, [location]


def test_a_visit_takes_the_location_of_the_followups_kind_and_the_persons_needs():
    profile, _ = state(young=True, complex_needs=True, interpreter=True)
    locations = [{"kind": "home", "coordinates": {"lon": 1.0, "lat": 2.0}},
                 {"kind": "work", "coordinates": {"lon": 14.4, "lat": 67.3}}]
    visit = new_visit(followup(location_kind="work"), (profile, locations), CONFIG, TODAY)
    assert (visit.status, visit.location_kind, visit.lon, visit.lat) == ("open", "work", 14.4, 67.3)
    assert visit.purpose == "debt_counselling" and visit.language == "ar" and visit.needs_youth
    assert visit.priority == 90 and visit.duration_minutes == 40
    assert (visit.first_offered, visit.latest) == (TODAY, TODAY + timedelta(days=4))


@pytest.mark.parametrize("protected", ["strictly_confidential", "confidential"])
@pytest.mark.parametrize("kind", ["home", "work", "school"])
def test_a_protected_address_never_gets_a_visit_anywhere_and_no_location_is_kept(protected, kind):
    visit = new_visit(followup(location_kind=kind), state(kind=kind, protected=protected), CONFIG, TODAY)
    assert (visit.status, visit.reason, visit.lon, visit.lat) == ("escalated", "protected_address", None, None)
    assert visit.next_offer is None


def test_a_location_without_coordinates_cannot_be_visited():
    visit = new_visit(followup(), state(where=False), CONFIG, TODAY)
    assert (visit.status, visit.reason, visit.lon) == ("escalated", "no_location", None)
    assert new_visit(followup(), None, CONFIG, TODAY).reason == "no_location"  # case not in the ledger


def test_the_visit_waits_for_the_appointment_day_the_router_proposed():
    visit = new_visit(followup(appointment_day="2026-11-26"), state(), CONFIG, TODAY)
    assert visit.first_offered == date(2026, 11, 26) and visit.next_offer == date(2026, 11, 26)


def test_a_failed_visit_is_offered_again_or_escalated():
    assert after_failure("not_at_home", TODAY, TODAY, CONFIG) == ("open", TODAY + timedelta(days=1))
    assert after_failure("not_at_home", TODAY, TODAY + timedelta(days=3), CONFIG) == ("escalated", None)
    assert after_failure("refused", TODAY, TODAY, CONFIG) == ("escalated", None)
    assert after_failure("unsafe", TODAY, TODAY, CONFIG) == ("escalated", None)


def test_the_route_event_is_valid_and_carries_no_coordinates():
    at = datetime.combine(TODAY, time(9), OSLO)
    stop = Stop("v-1", at, at + timedelta(minutes=45), 12.0)
    row = repo.VisitRow("v-1", "case-1", 14.4, 67.3, "home", TODAY, None, TODAY, 45, None, False, 10, "planned",
                        "w-1", 0)
    team = TeamPlan("team-106", [TODAY], visits={"v-1": row, "v-2": row}, replaced=True)
    team.result = Plan((Route("w-1", TODAY, (stop,), 24.0, 45.0),), (Unplanned("v-2", Reason.NO_CAPACITY, "full"),),
                       "vroom")
    team.stored = [repo.StoredPlan(str(uuid.uuid4()), "w-1", TODAY, 2)]
    team.unplanned = [{"visit_id": "v-2", "case_id": "case-1", "reason": "no_capacity", "next_step": "offer_again",
                       "next_offer": "2026-11-24"}]
    event = route_event(team, "visit_failed", at, None, CONFIG)
    assert check(event).ok, check(event).problems
    assert event["event_name"] == "route.changed" and event["ordering_key"] == "team-106"
    assert event["payload"]["routes"][0]["stops"][0]["eta"] == "2026-11-23T09:00:00+01:00"
    assert "67.3" not in json.dumps(event)


def test_settings_defaults_and_a_bad_value_names_the_variable(monkeypatch):
    from streams.planner_app import load_planner_settings

    monkeypatch.setenv("VEIVISER_PLANNER_YOUTH_SPECIALISTS", "w-1, w-2")
    found = load_planner_settings()
    assert found.route_plans_topic == "veiviser.route-plans.v1" and found.group == "veiviser-planner"
    assert found.config().youth_specialists == {"w-1", "w-2"}
    monkeypatch.setenv("VEIVISER_PLANNER_HORIZON_DAYS", "0")
    with pytest.raises(SettingsProblem, match="VEIVISER_PLANNER_HORIZON_DAYS='0'"):
        load_planner_settings()


def test_bootstrap_wires_the_planner_on_the_configured_topics(tmp_path):
    from streams.planner_app import PlannerSettings, bootstrap_planner

    settings = PlannerSettings(group="plan-wiring", followups_topic="my.follow", field_shifts_topic="my.shifts",
                               visit_events_topic="my.visits", route_plans_topic="my.plans", dead_letter_topic="my.dead")
    wiring = bootstrap_planner("127.0.0.1:1", "postgresql://nobody@127.0.0.1:1/none", str(tmp_path), settings)
    [agent] = wiring.app.agents.values()
    assert sorted(agent.channel.topics) == ["my.follow", "my.shifts", "my.visits"] and agent.concurrency == 1
    assert wiring.agent.route_plans_topic == "my.plans" and wiring.agent.dead_letter_topic == "my.dead"
