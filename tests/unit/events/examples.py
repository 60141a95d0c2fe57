"""One valid example of every event of the contract, and ways to break each."""

from __future__ import annotations

import copy
import uuid
from typing import Any

CASE = "case-2026-0001"
LOCATIONS = [
    {"kind": "home", "coordinates": {"lat": 67.28, "lon": 14.40501}},
    {"kind": "work", "municipality_number": "1804"},
    {"kind": "school", "coordinates": {"lat": 63.43, "lon": 10.39}},
]
PAYLOADS: dict[str, dict[str, Any]] = {
    "case.opened": {
        "case_id": CASE, "person_ref": "psn-Qx7vKp2LmN9w", "locations": LOCATIONS,
        "priority_markers": {"young_under_30": True, "immigrant": True, "complex_needs": False},
        "protected_address": "none", "services": ["financial_assistance", "temporary_housing"],
        "language_needs": {"language": "ti", "interpreter_needed": True}, "can_travel": False, "office_id": "1804",
    },
    "case.updated": {"case_id": CASE, "locations": LOCATIONS[:1], "protected_address": "confidential"},
    "case.closed": {"case_id": CASE, "reason": "resolved"},
    "appointment.requested": {"case_id": CASE, "appointment_id": "apt-1", "service": "guidance",
                              "earliest": "2026-11-24T09:00:00+01:00", "latest": "2026-11-30T15:00:00Z",
                              "preferred_mode": "mobile_visit"},
    "appointment.booked": {"case_id": CASE, "appointment_id": "apt-1", "mode": "office",
                           "starts_at": "2026-11-25T10:00:00+01:00", "duration_min": 45, "office_id": "1841"},
    "appointment.cancelled": {"case_id": CASE, "appointment_id": "apt-1", "cancelled_by": "person",
                              "reason": "illness"},
    "appointment.completed": {"case_id": CASE, "appointment_id": "apt-1",
                              "completed_at": "2026-11-25T10:50:00.123+01:00", "outcome": "follow_up_needed"},
    "appointment.no_show": {"case_id": CASE, "appointment_id": "apt-1", "scheduled_at": "2026-11-25T10:00:00+01:00"},
    "office.status_changed": {"office_id": "1837", "status": "open", "staff_on_duty": 7, "daily_capacity": 40,
                              "effective_from": "2026-11-23T08:00:00+01:00",
                              "opening_hours": [{"weekday": "mon", "opens": "09:00", "closes": "15:00"}]},
    "field_worker.shift_scheduled": {"worker_id": "fw-001", "team_id": "team-1841", "shift_date": "2026-11-24",
                                     "available": True, "starts": "08:00", "ends": "15:30",
                                     "base": {"lat": 67.2566, "lon": 15.3914}, "skills": ["guidance"],
                                     "languages": ["nb", "en"]},
    "visit.completed": {"case_id": CASE, "visit_id": "v-1", "worker_id": "fw-001",
                        "completed_at": "2026-11-24T11:00:00+01:00"},
    "visit.failed": {"case_id": CASE, "visit_id": "v-2", "worker_id": "fw-001",
                     "attempted_at": "2026-11-24T12:00:00+01:00", "reason": "not_at_home"},
    "visit.started": {"case_id": CASE, "visit_id": "v-1", "worker_id": "fw-001",
                      "started_at": "2026-11-24T10:30:00+01:00"},
}
ROUTE_PLAN = {
    "team_id": "team-1841", "days": ["2026-11-24"], "planned_at": "2026-11-23T18:00:00+01:00", "solver": "vroom",
    "routes": [{"worker_id": "fw-001", "shift_date": "2026-11-24", "plan_id": "5f0c3e0a-1f1e-4c55-9d1a-2b8f6f1d7c10",
                "version": 1, "travel_minutes": 42.5,
                "stops": [{"seq": 1, "visit_id": "v-1", "case_id": CASE, "eta": "2026-11-24T10:30:00+01:00",
                           "departure": "2026-11-24T11:15:00+01:00", "location_kind": "home", "fixed": False}]}],
    "unplanned": [{"visit_id": "v-9", "case_id": "case-2026-0009", "reason": "no_capacity", "next_step": "offer_again",
                   "next_offer": "2026-11-25"}],
}
PAYLOADS["route.planned"] = ROUTE_PLAN
PAYLOADS["route.changed"] = {**ROUTE_PLAN, "cause": "visit_cancelled"}
KEYS = {"office.status_changed": "1837", "field_worker.shift_scheduled": "fw-001:2026-11-24",
        "route.planned": "team-1841", "route.changed": "team-1841"}

# One way to break each event, and the field path the problem must name.
BREAKS: dict[str, tuple[str, Any, str]] = {
    "case.opened": ("protected_address", "kode6", "payload.protected_address"),
    "case.updated": ("can_travel", "yes", "payload.can_travel"),
    "case.closed": ("reason", "done", "payload.reason"),
    "appointment.requested": ("earliest", "2026-11-24T09:00:00", "payload.earliest"),
    "appointment.booked": ("duration_min", 2, "payload.duration_min"),
    "appointment.cancelled": ("cancelled_by", "cat", "payload.cancelled_by"),
    "appointment.completed": ("completed_at", "2026-02-30T10:00:00Z", "payload.completed_at"),
    "appointment.no_show": ("appointment_id", "a", "payload.appointment_id"),
    "office.status_changed": ("office_id", "NAV Bodø", "payload.office_id"),
    "field_worker.shift_scheduled": ("shift_date", "2026-13-01", "payload.shift_date"),
    "visit.completed": ("visit_id", None, "payload.visit_id"),
    "visit.failed": ("reason", "dog", "payload.reason"),
    "visit.started": ("started_at", "2026-11-24T25:00:00+01:00", "payload.started_at"),
    "route.planned": ("days", [], "payload.days"),
    "route.changed": ("cause", "whim", "payload.cause"),
}


def event(name: str, **changes: Any) -> dict[str, Any]:
    """A valid event of that name (fresh ids), with envelope fields replaced by `changes`."""
    base = {
        "event_id": str(uuid.uuid4()), "event_name": name, "schema_version": 1,
        "occurred_at": "2026-11-23T10:15:00+01:00", "producing_system": "modia",
        "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "ordering_key": KEYS.get(name, CASE), "payload": copy.deepcopy(PAYLOADS[name]),
    }
    base.update(changes)
    return base


def broken(name: str) -> tuple[dict[str, Any], str]:
    field, value, path = BREAKS[name]
    bad = event(name)
    bad["payload"][field] = value
    return bad, path


# Valid national identity numbers and D-numbers (check digits computed, fictitious people).
VALID_FNR = "31129945616"
VALID_DNR = "41019012393"
SYNTHETIC = "15038500713"
INVALID_CHECK = "31129945617"
