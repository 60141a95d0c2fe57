"""A case as the router keeps it: the state folded from its events, pure (no Kafka, no database).

`fold(state, event)` applies one contract event (a dict already checked by events.validation) to the case's
state and says whether the case must be routed again: on case.opened, on appointment.requested, and on a
case.updated that changes where the person is or what routing depends on; and whether its current decision
is withdrawn (case.closed of an open case). Visit events (visit.completed / visit.failed) change no state:
they are kept in the case's audit trail. An event for a case the router
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
    withdraw: bool = False  # the case closed: its current decision (if any) is withdrawn


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
        return Step(base, False, VISIT_NOTES.get(name, ""))
    if name == "case.updated":
        return _updated(base, payload)
    if name == "case.closed":
        was_open = base.status == OPEN
        return Step(replace(base, status=CLOSED), False, "" if was_open else f"case was {base.status}", was_open)
    step = _apply(base, name, payload)
    routes = name == "appointment.requested" and base.status == OPEN
    return Step(step, routes, "" if routes or name != "appointment.requested" else f"case is {base.status}")


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
