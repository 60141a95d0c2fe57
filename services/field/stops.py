"""What a field worker's page shows of a route: pure functions from the planner's stored route to JSON.

Minimum personal data: per stop the case id (the worker reports against it), the visit id, the estimated
arrival and departure, the kind of place (home, work, school), the municipality, the coordinates, what the
visit is about (the service) and the language needed. No person reference, no name, no national id.

A location of a person with a protected address (confidential or strictly confidential) is never shown,
whatever the place (home, work or school); a home location is shown only when the router's case state says the
person has no protected address (grading 'none'), so an unknown grading withholds a home stop too: fail closed.
Withheld means no coordinates and no municipality (`location: null`; `location_withheld` says why:
'protected_address' or 'protection_unknown'). The planner never plans a protected person's visit (it escalates
it to an office appointment); this is the second lock on that door.

A stop's status is the worker's own latest action when there is one (it is newer than the planner's view,
which learns of it from the visit events), else the planner's status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["route_view", "stop_status", "WITHHELD_PROTECTED", "WITHHELD_UNKNOWN"]

OSLO = ZoneInfo("Europe/Oslo")
WITHHELD_PROTECTED = "protected_address"  # the person has a protected address: never shown, at any place
WITHHELD_UNKNOWN = "protection_unknown"  # no grading known for the case: withheld, ask the office


def stop_status(planner_status: str, start: Any | None, finish: Any | None) -> str:
    """The stop's status: the worker's outcome (completed/failed), else started, else the planner's."""
    if finish is not None:
        return finish.outcome
    if start is not None and planner_status in ("planned", "open"):
        return "started"
    return planner_status


def route_view(route: Any, actions: Mapping[tuple[str, str], Any], protection: Mapping[str, str],
               municipality_of: Callable[[float, float], str | None]) -> dict[str, Any]:
    """The JSON of a route (streams.plans.WorkerRoute) for its worker's page."""
    return {
        "worker_id": route.worker_id,
        "team_id": route.team_id,
        "day": route.day.isoformat(),
        "plan_version": route.version,
        "planned_at": _iso(route.planned_at),
        "stops": [_stop(s, actions, protection, municipality_of) for s in route.stops],
    }


def _stop(stop: Any, actions: Mapping[tuple[str, str], Any], protection: Mapping[str, str],
          municipality_of: Callable[[float, float], str | None]) -> dict[str, Any]:
    finish = actions.get((stop.visit_id, "finish"))
    withheld = _withheld(stop, protection)
    shown = withheld is None and stop.lon is not None
    return {
        "seq": stop.seq,
        "visit_id": stop.visit_id,
        "case_id": stop.case_id,
        "eta": _iso(stop.eta),
        "departure": _iso(stop.departure),
        "duration_minutes": round((stop.departure - stop.eta).total_seconds() / 60),
        "location_kind": stop.location_kind,
        "location": {"lon": round(stop.lon, 5), "lat": round(stop.lat, 5)} if shown else None,
        "municipality": municipality_of(stop.lon, stop.lat) if shown else None,
        "location_withheld": withheld,
        "purpose": stop.purpose,
        "language": stop.language,
        "fixed": stop.fixed,
        "status": stop_status(stop.status, actions.get((stop.visit_id, "start")), finish),
        "reason": finish.reason if finish is not None else None,
    }


def _withheld(stop: Any, protection: Mapping[str, str]) -> str | None:
    grading = protection.get(stop.case_id, "unknown")
    if grading == "none":
        return None
    if grading == "unknown":
        return WITHHELD_UNKNOWN if stop.location_kind == "home" else None
    return WITHHELD_PROTECTED  # a protected person's location never leaves the routing stage, whatever the place


def _iso(moment: datetime) -> str:
    """Local time (Europe/Oslo) with its offset: what the worker's clock shows."""
    return moment.astimezone(OSLO).isoformat()
