"""Contract events for the streams tests, built by hand (valid by construction; a test checks that)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

BODO = {"lat": 67.28, "lon": 14.405}
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # a Tuesday, offices open


def event(name: str, payload: dict[str, Any], at: datetime = START, key: str | None = None) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "event_name": name, "schema_version": 1,
            "occurred_at": at.isoformat(), "producing_system": "streams-test",
            "correlation_id": str(uuid.uuid4()), "causation_id": None,
            "ordering_key": key or payload.get("case_id") or payload.get("office_id"), "payload": payload}


def opened(case_id: str, where: dict[str, float] = BODO, at: datetime = START, **extra: Any) -> dict[str, Any]:
    payload = {"case_id": case_id, "person_ref": "psn-abcdefghjkmn",
               "locations": [{"kind": "home", "coordinates": dict(where)}],
               "priority_markers": {"young_under_30": False, "immigrant": False, "complex_needs": False},
               "protected_address": "none", "services": ["guidance"],
               "language_needs": {"language": "nb", "interpreter_needed": False}, "can_travel": True, **extra}
    return event("case.opened", payload, at)


def requested(case_id: str, n: int = 1, at: datetime = START + timedelta(minutes=5)) -> dict[str, Any]:
    earliest = at + timedelta(days=1)
    return event("appointment.requested", {"case_id": case_id, "appointment_id": f"{case_id}-a{n}",
                                           "service": "guidance", "earliest": earliest.isoformat(),
                                           "latest": (earliest + timedelta(days=3)).isoformat()}, at)


def cancelled(case_id: str, n: int = 1, at: datetime = START + timedelta(minutes=7)) -> dict[str, Any]:
    return event("appointment.cancelled", {"case_id": case_id, "appointment_id": f"{case_id}-a{n}",
                                           "cancelled_by": "person", "reason": "no_longer_needed"}, at)


def booked(case_id: str, n: int = 1, at: datetime = START + timedelta(minutes=6)) -> dict[str, Any]:
    starts = (at + timedelta(days=1)).isoformat()
    return event("appointment.booked", {"case_id": case_id, "appointment_id": f"{case_id}-a{n}",
                                        "mode": "video", "starts_at": starts, "duration_min": 30}, at)


def closed(case_id: str, at: datetime = START + timedelta(minutes=9)) -> dict[str, Any]:
    return event("case.closed", {"case_id": case_id, "reason": "resolved"}, at)


def visit_failed(case_id: str, visit_id: str = "v-1", at: datetime = START + timedelta(hours=3)) -> dict[str, Any]:
    return event("visit.failed", {"case_id": case_id, "visit_id": visit_id, "worker_id": "w-bodo-1",
                                  "attempted_at": at.isoformat(), "reason": "not_at_home"}, at)


def visit_completed(case_id: str, visit_id: str = "v-1", at: datetime = START + timedelta(hours=4)) -> dict[str, Any]:
    return event("visit.completed", {"case_id": case_id, "visit_id": visit_id, "worker_id": "w-bodo-1",
                                     "completed_at": at.isoformat()}, at)


def office(office_id: str, status: str, at: datetime = START, staff: int = 5) -> dict[str, Any]:
    return event("office.status_changed", {"office_id": office_id, "status": status,
                                           "staff_on_duty": staff if status == "open" else 0,
                                           "daily_capacity": 30, "effective_from": at.isoformat()}, at)


def case_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"
