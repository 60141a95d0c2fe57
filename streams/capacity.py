"""Capacity used by bookings, pure: which service point and day an appointment event books or releases.

appointment.booked at an office (mode office, with the NAV unit's office_id) books one slot at the unit's
service point (the lowest id when a unit has several) on the Norwegian date of starts_at; an
appointment.cancelled of an appointment that was booked that way releases it. Completed and missed
appointments keep the slot (it was used). Other modes (video, phone, mobile visit) use no office capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from events.timestamps import parse_timestamp
from geo.datafiles import OSLO
from geo.offices import Registry
from streams.cases import CaseState

__all__ = ["Slot", "booking_changes", "unit_point"]

Slot = tuple[str, date]


def booking_changes(before: CaseState | None, event: Mapping[str, Any], registry: Registry) -> list[tuple[Slot, int]]:
    """The (point, day) slots this event books (+1) or releases (-1)."""
    name, payload = event["event_name"], event["payload"]
    if name == "appointment.booked":
        slot = _slot(payload, registry)
        return [(slot, 1)] if slot else []
    if name == "appointment.cancelled" and before is not None:
        booked = before.appointments.get(payload["appointment_id"], {})
        slot = _slot(booked, registry) if booked.get("status") == "booked" else None
        return [(slot, -1)] if slot else []
    return []


def _slot(appointment: Mapping[str, Any], registry: Registry) -> Slot | None:
    if appointment.get("mode") != "office" or not appointment.get("office_id"):
        return None
    point = unit_point(appointment["office_id"], registry)
    starts = parse_timestamp(appointment.get("starts_at", ""))
    return (point, starts.astimezone(OSLO).date()) if point and starts else None


def unit_point(unit: str, registry: Registry) -> str | None:
    points = sorted(p.id for p in registry.points.values() if p.unit == unit)
    return points[0] if points else None
