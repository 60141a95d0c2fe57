"""The office-system simulator: deterministic, valid, realistic for Nordland and Trøndelag."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest

from events.errors import SimulatorError
from events.simulator import Simulator, SimulatorConfig, paced, places
from events.validation import check

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def stream():
    return list(Simulator(SimulatorConfig(seed=7)).events(4000))


def test_same_seed_same_bytes_other_seed_other_events():
    first = json.dumps(list(Simulator(SimulatorConfig(seed=3)).events(500)))
    assert first == json.dumps(list(Simulator(SimulatorConfig(seed=3)).events(500)))
    assert first != json.dumps(list(Simulator(SimulatorConfig(seed=4)).events(500)))


def test_every_simulated_event_is_valid(stream):
    assert [e["event_name"] for e in stream if not check(e).ok] == []


def test_it_exercises_every_event_office_systems_send(stream):
    """Every event of the issue's list; later events come from Veiviser itself (route.planned/changed by
    the planner, visit.started by the field staff service), not from office systems."""
    from tests.unit.events.test_contract import REQUIRED_EVENTS

    assert set(Counter(e["event_name"] for e in stream)) == REQUIRED_EVENTS


def test_appointments_of_a_case_follow_their_lifecycle(stream):
    seen: dict[str, list[str]] = {}
    for e in stream:
        if e["event_name"].startswith("appointment."):
            seen.setdefault(e["payload"]["appointment_id"], []).append(e["event_name"].split(".")[1])
    for history in seen.values():
        assert history[0] == "requested"
        if "booked" in history:
            assert history.index("booked") > 0
    assert any("completed" in h for h in seen.values()) and any("cancelled" in h for h in seen.values())


def test_people_live_in_nordland_and_trondelag_in_proportion_to_population(stream):
    homes = [loc for e in stream if e["event_name"] == "case.opened" for loc in e["payload"]["locations"]
             if loc["kind"] == "home" and "coordinates" in loc]
    assert all(62.2 < h["coordinates"]["lat"] < 69.4 and 8.0 < h["coordinates"]["lon"] < 18.5 for h in homes)
    near_trondheim = sum(abs(h["coordinates"]["lat"] - 63.43) < 0.1 and abs(h["coordinates"]["lon"] - 10.4) < 0.2
                         for h in homes)
    trondheim_share = max(p.weight for p in places()) / sum(p.weight for p in places())
    assert near_trondheim / len(homes) == pytest.approx(trondheim_share, abs=0.08)


def test_shares_of_young_people_and_immigrants_follow_the_config(stream):
    opened = [e["payload"] for e in stream if e["event_name"] == "case.opened"]
    young = sum(p["priority_markers"]["young_under_30"] for p in opened) / len(opened)
    immigrant = sum(p["priority_markers"]["immigrant"] for p in opened) / len(opened)
    assert young == pytest.approx(0.30, abs=0.05) and immigrant == pytest.approx(0.22, abs=0.05)
    assert any(any(loc["kind"] == "school" for loc in p["locations"]) for p in opened)
    assert any("municipality_number" in loc for p in opened for loc in p["locations"])


def test_offices_change_status_over_the_day(stream):
    times = [e["occurred_at"][11:13] for e in stream if e["event_name"] == "office.status_changed"]
    assert len(set(times)) > 2


def test_paced_keeps_the_rate_and_refuses_nonsense():
    import time

    started = time.monotonic()
    assert list(paced(range(5), rate=50)) == [0, 1, 2, 3, 4]
    assert time.monotonic() - started >= 4 / 50
    with pytest.raises(SimulatorError, match="rate"):
        list(paced([1], rate=0))


def test_every_simulated_office_is_one_the_router_knows(stream):
    """Office status events and office bookings name NAV units of geo's registry, so the router applies
    every status change (none skipped as unknown) and books against a real service point."""
    from geo.offices import load_registry
    from streams.routing import status_events

    registry = load_registry()
    statuses = [e for e in stream if e["event_name"] == "office.status_changed"]
    booked = {e["payload"]["office_id"] for e in stream if "office_id" in e["payload"]}
    assert len({e["payload"]["office_id"] for e in statuses}) >= 20
    assert [e["payload"]["office_id"] for e in statuses if not status_events(e, registry)] == []
    assert booked <= {point.unit for point in registry.points.values()}


def test_shifts_belong_to_geos_mobile_teams_and_a_worker_keeps_team_and_base_from_day_to_day():
    from geo.offices import load_registry

    registry = load_registry()
    shifts = [e["payload"] for e in Simulator(SimulatorConfig(seed=5, mean_gap_s=600)).events(1500)
              if e["event_name"] == "field_worker.shift_scheduled"]
    assert len({s["shift_date"] for s in shifts}) >= 2, "the run should span two days"
    assert all(s["team_id"] in registry.teams for s in shifts)
    per_worker = {}
    for s in shifts:
        per_worker.setdefault(s["worker_id"], set()).add((s["team_id"], s["base"]["lat"], s["base"]["lon"]))
    assert all(len(kept) == 1 for kept in per_worker.values()), per_worker
    days = sorted({date.fromisoformat(s["shift_date"]) for s in shifts})
    assert all(day.weekday() < 5 for day in days)  # scheduled on working days only
    first = SimulatorConfig().start.date()
    assert days[:3] == [first + timedelta(days=n) for n in range(3)]  # the first morning plans three days ahead
