"""Which slot an appointment event books or releases."""

from __future__ import annotations

from datetime import date

import pytest

from geo.offices import load_registry
from streams.capacity import booking_changes, unit_point
from streams.cases import fold
from tests.unit.streams import factory

pytestmark = pytest.mark.unit


def booked(case_id, mode="office", office="1804", starts="2026-11-25T23:30:00+00:00"):
    extra = {"office_id": office} if office else {}
    return factory.event("appointment.booked", {"case_id": case_id, "appointment_id": f"{case_id}-a1",
                                                "mode": mode, "starts_at": starts, "duration_min": 30, **extra})


def cancelled(case_id):
    return factory.event("appointment.cancelled", {"case_id": case_id, "appointment_id": f"{case_id}-a1",
                                                   "cancelled_by": "person", "reason": "illness"})


def test_an_office_booking_uses_a_slot_on_the_norwegian_day():
    registry = load_registry()
    state = fold(None, factory.opened("c1")).state
    # 23:30 UTC on the 25th is the 26th in Norway
    assert booking_changes(state, booked("c1"), registry) == [(("sp-1804", date(2026, 11, 26)), 1)]


def test_other_modes_and_unknown_units_use_no_office_capacity():
    registry = load_registry()
    state = fold(None, factory.opened("c1")).state
    assert booking_changes(state, booked("c1", mode="video", office=None), registry) == []
    assert booking_changes(state, booked("c1", office="9999"), registry) == []


def test_cancelling_a_booked_appointment_releases_its_slot_once():
    registry = load_registry()
    state = fold(fold(None, factory.opened("c1")).state, booked("c1")).state
    assert booking_changes(state, cancelled("c1"), registry) == [(("sp-1804", date(2026, 11, 26)), -1)]
    after = fold(state, cancelled("c1")).state
    assert booking_changes(after, cancelled("c1"), registry) == []  # already released
    assert booking_changes(None, cancelled("c1"), registry) == []  # never seen booked


def test_the_point_of_a_unit_is_its_lowest_service_point():
    registry = load_registry()
    assert unit_point("1804", registry) == min(p.id for p in registry.points.values() if p.unit == "1804")
    assert unit_point("9999", registry) is None
