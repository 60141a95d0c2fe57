"""From the contract to geo and back, pure: a case state becomes a geo.Case, a geo.Decision becomes the
routed follow-up (veiviser.followups.v1), and office.status_changed events change the office board.

A location given only as a municipality number is placed at that municipality's service point (its
administrative centre, as the shipped registry places every service point); a municipality without a
service point cannot be placed and the location is left out. A case with no placeable location is not
routable: it gets no decision (its state and audit trail still record every event).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from events.timestamps import parse_timestamp
from geo.cases import Case, PersonLocation
from geo.decisions import Decision
from geo.offices import Registry, ServicePoint, StatusEvent, StatusKind
from streams.cases import CaseState

__all__ = ["to_geo_case", "followup", "withdrawal", "WITHDRAWN", "explanation", "decision_id", "status_events", "MARKERS", "FOLLOWUP_VERSION"]

NAMESPACE = uuid.UUID("0b7e6c43-58a4-4a6a-9a51-7c5f0f0d5e10")
FOLLOWUP_VERSION = 1
EXPLANATION_VERSION = 2  # 1: the whole Decision as geo serializes it (session 1)
MARKERS = {"young_under_30": "young", "immigrant": "immigrant", "complex_needs": "complex_needs"}


def decision_id(event_id: str) -> str:
    """The decision made on an event has an id derived from the event id: the same on every redelivery."""
    return str(uuid.uuid5(NAMESPACE, f"decision:{event_id}"))


def to_geo_case(state: CaseState, registry: Registry) -> Case | None:
    """The case as geo routes it, or None when none of its locations can be placed."""
    locations = [loc for loc in (_location(raw, registry) for raw in state.locations) if loc is not None]
    if not locations:
        return None
    profile = state.profile
    markers = {MARKERS[k] for k, v in (profile.get("priority_markers") or {}).items() if v and k in MARKERS}
    return Case(state.case_id, tuple(locations), protection=profile.get("protected_address", "none"),
                    markers=frozenset(markers), can_travel=bool(profile.get("can_travel", True)))


def _location(raw: Mapping[str, Any], registry: Registry) -> PersonLocation | None:
    if "coordinates" in raw:
        return PersonLocation(raw["kind"], raw["coordinates"]["lon"], raw["coordinates"]["lat"])
    point = _municipality_point(raw.get("municipality_number"), registry)
    return PersonLocation(raw["kind"], point.lon, point.lat) if point else None


def _municipality_point(number: str | None, registry: Registry) -> ServicePoint | None:
    found = [p for p in registry.points.values() if p.municipality == number]
    return min(found, key=lambda p: p.id) if found else None


def followup(decision: Decision, event: Mapping[str, Any], protected: bool = False) -> dict[str, Any]:
    """The routed follow-up for veiviser.followups.v1 (keyed by case id). Never holds coordinates; for a person
    with a protected address not even how far they are from the office (a distance narrows down where they
    live). The kind of place stays: the planner needs it, and escalates such visits to an office."""
    follow = {
        "followup_id": decision_id(event["event_id"]),
        "followup_version": FOLLOWUP_VERSION,
        "kind": decision.outcome.value,
        "case_id": decision.case_id,
        "point_id": decision.point_id,
        "team_id": decision.team_id,
        "owner_unit": decision.owner_unit,
        "location_kind": decision.location_kind,
        "appointment_day": decision.appointment_day.isoformat() if decision.appointment_day else None,
        "travel_minutes": decision.travel_minutes,
        "reasons": list(decision.reasons),
        "decided_at": decision.at.isoformat(),
        "causation_id": event["event_id"],
        "correlation_id": event.get("correlation_id"),
        "caused_by": event["event_name"],
    }
    if protected:
        follow["travel_minutes"] = None
    return follow


WITHDRAWN = "withdrawn"
WITHDRAWN_BECAUSE = {
    "case.closed": "the case was closed: its follow-up is withdrawn",
    "appointment.cancelled": "the requested appointment was cancelled before it was booked: its follow-up is withdrawn",
}


def withdrawal(case_id: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The follow-up that withdraws a case's routed follow-up when the case closes or the request it served is
    cancelled: an office keeps no appointment open for it and a planner drops its open visit. Same id on
    every redelivery."""
    return {
        "followup_id": decision_id(event["event_id"]),
        "followup_version": FOLLOWUP_VERSION,
        "kind": WITHDRAWN,
        "case_id": case_id,
        "point_id": None,
        "team_id": None,
        "owner_unit": None,
        "location_kind": None,
        "appointment_day": None,
        "travel_minutes": None,
        "reasons": [WITHDRAWN_BECAUSE.get(event["event_name"], "its follow-up is withdrawn")],
        "decided_at": event["occurred_at"],
        "causation_id": event["event_id"],
        "correlation_id": event.get("correlation_id"),
        "caused_by": event["event_name"],
    }


def explanation(decision: Decision) -> dict[str, Any]:
    """What the ledger keeps of a decision (no coordinates: a Decision never has them), JSON-ready and small.

    The plain sentences carry every candidate with its tier, unit, travel time and verdict, the reasons and
    the data versions; next to them, the few fields a query filters on, and each location's placement as
    [kind, municipality, region, snapped]. Built by hand: serializing the whole Decision (dataclasses
    walked recursively) was the router's largest cost after geo, and tripled the stored row."""
    return {
        "explanation_version": EXPLANATION_VERSION,
        "explain": decision.explain(),
        "owner_rule": decision.owner_rule,
        "travel_minutes": decision.travel_minutes,
        "threshold_minutes": decision.threshold_minutes,
        "locations": [[loc.kind, loc.municipality, loc.region, loc.snapped] for loc in decision.locations],
    }


def status_events(event: Mapping[str, Any], registry: Registry) -> list[StatusEvent]:
    """An office.status_changed event as geo status events for the service points of that NAV unit."""
    payload = event["payload"]
    at = _moment(payload.get("effective_from") or event["occurred_at"])
    points = sorted(p.id for p in registry.points.values() if p.unit == payload["office_id"])
    status = payload["status"]
    out: list[StatusEvent] = []
    for point in points:
        if status == "closed_for_good":
            out.append(StatusEvent(point, StatusKind.CLOSED_FOR_GOOD, at))
        elif status == "temporarily_closed":
            out.append(StatusEvent(point, StatusKind.CLOSED_FOR_DAY, at))
        else:
            out.append(StatusEvent(point, StatusKind.OPENED, at))
            out.append(StatusEvent(point, StatusKind.STAFF_CHANGE, at, staff=payload["staff_on_duty"]))
    return out


def _moment(text: str) -> datetime:
    moment = parse_timestamp(text)
    if moment is None:
        raise ValueError(f"timestamp {text!r} is not RFC 3339 with a time zone")
    return moment
