"""A case as the router keeps it: the state folded from its events, pure (no Kafka, no database).

`fold(state, event)` applies one contract event (a dict already checked by events.validation) to the case's
state and says whether the case must be routed again: on case.opened, on appointment.requested, and on a
case.updated that changes where the person is or what routing depends on; and whether its current decision
is withdrawn (case.closed of an open case, or appointment.cancelled of the newest request before it was
booked). Visit events (visit.started / completed / failed) route nothing: the visit's outcome is kept with
the case's appointments (keyed by visit id) and in its audit trail. An event for a case the router
has not seen (its case.opened went elsewhere or is missing) still gets a state with status "unknown", so
its audit trail is complete and nothing is dropped.

Events are treated as read-only values: a state shares their nested values and never mutates them.
Locations are personal data: they live only in the state (the routing stage); `audit_detail` is the event
as the audit trail keeps it, with coordinates removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["CaseState", "Step", "fold", "audit_detail", "ROUTING_FIELDS", "OPEN", "CLOSED", "UNKNOWN"]

OPEN, CLOSED, UNKNOWN = "open", "closed", "unknown"
PROFILE_FIELDS = ("person_ref", "priority_markers", "protected_address", "services", "language_needs",
                  "can_travel", "office_id")
ROUTING_FIELDS = frozenset({"locations", "priority_markers", "protected_address", "can_travel"})
APPOINTMENT_STATUS = {
    "appointment.requested": "requested",
    "appointment.booked": "booked",
    "appointment.cancelled": "cancelled",
    "appointment.completed": "completed",
    "appointment.no_show": "no_show",
}
VISIT_STATUS = {"visit.started": "visit_started", "visit.completed": "visit_completed", "visit.failed": "visit_failed"}
VISIT_NOTES = {"visit.failed": "the visit did not take place: the planner offers it again or escalates it"}


@dataclass(frozen=True)
class CaseState:
    case_id: str
    status: str
    profile: dict[str, Any] = field(default_factory=dict)
    locations: tuple[dict[str, Any], ...] = ()
    appointments: dict[str, dict[str, Any]] = field(default_factory=dict)
    events_seen: int = 0
    last_event_id: str = ""
    last_event_at: str = ""


@dataclass(frozen=True)
class Step:
    """The state after one event, and whether the case must be routed (again)."""

    state: CaseState
    route: bool
    note: str = ""
    withdraw: bool = False  # its current decision (if any) is withdrawn: the case closed, or the request cancelled


def fold(state: CaseState | None, event: Mapping[str, Any]) -> Step:
    name, payload = event["event_name"], event["payload"]
    base = state or CaseState(payload["case_id"], UNKNOWN)
    base = replace(base, events_seen=base.events_seen + 1, last_event_id=event["event_id"],
                   last_event_at=event["occurred_at"])
    if name == "case.opened":
        return _opened(base, payload, reopened=state is not None)
    if state is None:
        return Step(_apply(base, name, payload), False, f"{name} for a case whose case.opened was not seen")
    if name.startswith("visit."):
        return Step(_visited(base, name, payload), False, VISIT_NOTES.get(name, ""))
    if name == "case.updated":
        return _updated(base, payload)
    if name == "case.closed":
        was_open = base.status == OPEN
        return Step(replace(base, status=CLOSED), False, "" if was_open else f"case was {base.status}", was_open)
    if name == "appointment.cancelled" and _routed_request(base, payload["appointment_id"]) and base.status == OPEN:
        return Step(_apply(base, name, payload), False, "the request it was routed for was cancelled", True)
    step = _apply(base, name, payload)
    routes = name == "appointment.requested" and base.status == OPEN
    return Step(step, routes, "" if routes or name != "appointment.requested" else f"case is {base.status}")


def _routed_request(state: CaseState, appointment_id: str) -> bool:
    """Whether this appointment is the newest request, still unbooked: the one the current decision serves."""
    entry = state.appointments.get(appointment_id) or {}
    requests = [a.get("requested_seq", 0) for a in state.appointments.values() if "requested_seq" in a]
    return entry.get("status") == "requested" and bool(requests) and entry.get("requested_seq") == max(requests)


def _visited(state: CaseState, name: str, payload: Mapping[str, Any]) -> CaseState:
    """A mobile visit's outcome, kept with the case's appointments (keyed by the visit id)."""
    appointments = {k: dict(v) for k, v in state.appointments.items()}
    entry = appointments.setdefault(payload["visit_id"], {"mode": "mobile_visit"})
    entry["status"] = VISIT_STATUS[name]
    if "reason" in payload:
        entry["reason"] = payload["reason"]
    return replace(state, appointments=appointments)


def _opened(state: CaseState, payload: Mapping[str, Any], reopened: bool) -> Step:
    profile = {k: payload[k] for k in PROFILE_FIELDS if k in payload}
    new = replace(state, status=OPEN, profile=profile, locations=tuple(payload["locations"]))
    return Step(new, True, "case opened again: profile replaced" if reopened else "")


def _updated(state: CaseState, payload: Mapping[str, Any]) -> Step:
    changed = {k: v for k, v in payload.items() if k != "case_id"}
    profile = {**state.profile, **{k: v for k, v in changed.items() if k in PROFILE_FIELDS}}
    locations = tuple(changed["locations"]) if "locations" in changed else state.locations
    new = replace(state, profile=profile, locations=locations)
    relevant = bool(ROUTING_FIELDS & changed.keys())
    if state.status != OPEN:
        return Step(new, False, f"case is {state.status}: not routed again")
    return Step(new, relevant, "" if relevant else "no routing field changed")


def _apply(state: CaseState, name: str, payload: Mapping[str, Any]) -> CaseState:
    status = APPOINTMENT_STATUS.get(name)
    if status is None:
        return state
    appointments = {k: dict(v) for k, v in state.appointments.items()}
    entry = appointments.setdefault(payload["appointment_id"], {})
    entry["status"] = status
    if name == "appointment.requested":
        entry["requested_seq"] = state.events_seen  # which request is the newest (jsonb keeps no key order)
    for key in ("service", "preferred_mode", "mode", "starts_at", "office_id"):
        if key in payload:
            entry[key] = payload[key]
    return replace(state, appointments=appointments)


def audit_detail(event: Mapping[str, Any], note: str = "") -> dict[str, Any]:
    """The event as the audit trail keeps it: envelope and payload, coordinates left out."""
    payload = dict(event["payload"])
    if "locations" in payload:
        payload["locations"] = [_without_coordinates(loc) for loc in payload["locations"]]
    detail = {k: event[k] for k in ("event_name", "schema_version", "occurred_at", "producing_system",
                                     "correlation_id") if k in event}
    detail["payload"] = payload
    if note:
        detail["note"] = note
    return detail


def _without_coordinates(location: Mapping[str, Any]) -> dict[str, Any]:
    out = {"kind": location.get("kind"), "given": "coordinates" if "coordinates" in location else "municipality"}
    if "municipality_number" in location:
        out["municipality_number"] = location["municipality_number"]
    return out
