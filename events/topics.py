"""Where each event goes: its Kafka topic and the payload fields that make its key.

Keys keep order where it matters: every case-scoped event (case, appointment and visit events) is keyed by
the case id, so all events of one case land on one partition in order. Topic names are fixed by
infra/topics.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.errors import ContractError

__all__ = [
    "CASE_EVENTS", "OFFICE_STATUS", "FIELD_SHIFTS", "VISIT_EVENTS", "ROUTE_PLANS", "DEAD_LETTER",
    "Route", "ROUTES", "route", "key_of", "key_description",
]

CASE_EVENTS = "veiviser.case-events.v1"
OFFICE_STATUS = "veiviser.office-status.v1"
FIELD_SHIFTS = "veiviser.field-shifts.v1"
VISIT_EVENTS = "veiviser.visit-events.v1"
ROUTE_PLANS = "veiviser.route-plans.v1"
DEAD_LETTER = "veiviser.dead-letter.v1"


@dataclass(frozen=True)
class Route:
    topic: str
    key_fields: tuple[str, ...]


_CASE = Route(CASE_EVENTS, ("case_id",))
ROUTES: dict[str, Route] = {
    "case.opened": _CASE,
    "case.updated": _CASE,
    "case.closed": _CASE,
    "appointment.requested": _CASE,
    "appointment.booked": _CASE,
    "appointment.cancelled": _CASE,
    "appointment.completed": _CASE,
    "appointment.no_show": _CASE,
    "office.status_changed": Route(OFFICE_STATUS, ("office_id",)),
    "field_worker.shift_scheduled": Route(FIELD_SHIFTS, ("worker_id", "shift_date")),
    "visit.completed": Route(VISIT_EVENTS, ("case_id",)),
    "visit.failed": Route(VISIT_EVENTS, ("case_id",)),
    "visit.started": Route(VISIT_EVENTS, ("case_id",)),
    "route.planned": Route(ROUTE_PLANS, ("team_id",)),  # produced by the planner (streams.planner)
    "route.changed": Route(ROUTE_PLANS, ("team_id",)),
}


def route(name: str) -> Route:
    """The route of an event name; ContractError names the known events when it has none."""
    try:
        return ROUTES[name]
    except (KeyError, TypeError):
        raise ContractError(f"no topic for event {name!r}; known events: {', '.join(sorted(ROUTES))}") from None


def key_of(name: str, payload: Any) -> str | None:
    """The ordering key an event must carry (case id, office id, 'worker id:shift date'), or None."""
    route = ROUTES.get(name) if isinstance(name, str) else None
    if route is None or not isinstance(payload, dict):
        return None
    if len(route.key_fields) == 1:  # the common case, kept quick
        value = payload.get(route.key_fields[0])
        return value if isinstance(value, str) else None
    values = [payload.get(f) for f in route.key_fields]
    return ":".join(values) if all(isinstance(v, str) for v in values) else None


def key_description(name: str) -> str:
    """How the key of an event is made, for error messages: 'payload.worker_id + ":" + payload.shift_date'."""
    fields = ROUTES[name].key_fields
    return ' + ":" + '.join(f"payload.{f}" for f in fields)
