"""The routing decision: examples, and properties checked against a brute-force search."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import (
    Case,
    GeoInputError,
    OfficeBoard,
    Outcome,
    PersonLocation,
    Rejection,
    StatusEvent,
    default_model,
    edition_at,
    load_policy,
    load_registry,
    locate,
    route,
    route_many,
)
from geo.datafiles import OSLO, read_csv
from geo.travel import Spot

pytestmark = pytest.mark.unit

PLACES = [(float(r["longitude"]), float(r["latitude"])) for r in read_csv("geonames_cities500_nordland_trondelag.csv")]
TIMES = [datetime(2019, 6, 5, 10, tzinfo=OSLO), datetime(2021, 3, 3, 10, tzinfo=OSLO),
         datetime(2021, 3, 6, 12, tzinfo=OSLO), datetime(2020, 11, 2, 14, 30, tzinfo=OSLO)]
POINTS = sorted(load_registry().points)
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def home(lon, lat, **kw):
    return Case("case-1", [PersonLocation("home", lon, lat)], **kw)


@st.composite
def locations(draw):
    kinds = draw(st.lists(st.sampled_from(["home", "work", "school"]), min_size=1, max_size=3, unique=True))
    out = []
    for kind in kinds:
        lon, lat = draw(st.sampled_from(PLACES))
        out.append(PersonLocation(kind, lon + draw(st.floats(-0.05, 0.05)), lat + draw(st.floats(-0.02, 0.02))))
    return out


NO_PROTECTION = st.just("none")


@st.composite
def cases(draw, protection=NO_PROTECTION):
    return Case("case-h", draw(locations()), protection=draw(protection),
                markers=draw(st.sets(st.sampled_from(["young", "immigrant", "complex_needs"]))),
                can_travel=draw(st.booleans()) if draw(st.integers(0, 4)) == 0 else True)


@st.composite
def boards(draw, at):
    board = OfficeBoard(load_registry())
    for pid in draw(st.sets(st.sampled_from(POINTS), max_size=25)):
        board.apply(StatusEvent(pid, draw(st.sampled_from(["closed_for_day", "closed_for_good"])), at - timedelta(hours=1)))
    for pid in draw(st.sets(st.sampled_from(POINTS), max_size=10)):
        availability = board.availability(pid, at)
        if availability.ok:
            board.book(pid, availability.day, availability.capacity_left)
    return board


def brute_force(case, at, board):
    """The nearest qualifying point by a plain scan over the whole registry (no precomputed tiers)."""
    edition, reg, model = edition_at(at), load_registry(), default_model()
    threshold = load_policy().threshold(case.markers)
    person = []
    for loc in case.locations:
        p = locate(loc.lon, loc.lat, at=at)
        if p.placeable:
            ref = str(edition.reference[edition.municipality_index(p.municipality)])
            person.append((Spot(loc.lon, loc.lat, p.land, p.land == edition.mainland, p.region), ref, p.region))
    regions = {r for _, _, r in person}
    near = set().union(*(edition.neighbours[r] for r in regions)) if regions else set()
    best = None
    for pid, point in reg.points.items():
        where = locate(point.lon, point.lat, at=at)
        target = Spot(point.lon, point.lat, where.land, where.land == edition.mainland, where.region)
        serves = reg.units[point.unit].serves
        tier = 0 if any(ref in serves for _, ref, _ in person) else 1 if where.region in regions else (
            2 if where.region in near else None)
        if tier is None or not case.can_travel or not board.availability(pid, at).ok:
            continue
        minutes = min(model.minutes(spot, [target])[0] for spot, _, _ in person)
        if minutes <= threshold and (best is None or (tier, minutes, pid) < best):
            best = (tier, minutes, pid)
    return best


@SETTINGS
@given(data=st.data())
def test_the_chosen_office_is_the_nearest_qualifying_one(data):
    at = data.draw(st.sampled_from(TIMES))
    case, board = data.draw(cases()), data.draw(boards(at))
    decision = route(case, at=at, board=board)
    expected = brute_force(case, at, board)
    if expected is None:
        assert decision.outcome is not Outcome.OFFICE_APPOINTMENT
    else:
        assert decision.outcome is Outcome.OFFICE_APPOINTMENT
        assert (decision.point_id, decision.travel_minutes) == (expected[2], pytest.approx(expected[1]))
        assert decision.travel_minutes <= decision.threshold_minutes


def routed_to_an_office(data):
    """Draw a time, case and office state; the decision, or None when it is not an office appointment."""
    at = data.draw(st.sampled_from(TIMES))
    case, board = data.draw(cases()), data.draw(boards(at))
    first = route(case, at=at, board=board)
    return (at, case, board, first) if first.outcome is Outcome.OFFICE_APPOINTMENT else None


@SETTINGS
@given(data=st.data())
def test_closing_the_chosen_office_moves_the_decision(data):
    drawn = routed_to_an_office(data)
    if drawn is None:
        return
    at, case, board, first = drawn
    later = board.copy()
    kind = data.draw(st.sampled_from(["closed_for_day", "closed_for_good"]))
    later.apply(StatusEvent(first.point_id, kind, at, day=first.appointment_day if kind == "closed_for_day" else None))
    second = route(case, at=at, board=later)
    assert second.point_id != first.point_id
    assert {c.point_id: c.rejected for c in second.candidates}[first.point_id] in (
        Rejection.CLOSED, Rejection.CLOSED_FOR_DAY)


@SETTINGS
@given(data=st.data())
def test_exhausted_capacity_moves_the_decision(data):
    drawn = routed_to_an_office(data)
    if drawn is None:
        return
    at, case, board, first = drawn
    later = board.copy()
    later.book(first.point_id, first.appointment_day, board.availability(first.point_id, at).capacity_left)
    second = route(case, at=at, board=later)
    assert second.point_id != first.point_id
    assert {c.point_id: c.rejected for c in second.candidates}[first.point_id] is Rejection.NO_CAPACITY


@SETTINGS
@given(data=st.data())
def test_protected_addresses_never_yield_a_home_visit(data):
    at = data.draw(st.sampled_from(TIMES))
    case = data.draw(cases(protection=st.sampled_from(["confidential", "strictly_confidential"])))
    decision = route(case, at=at, board=data.draw(boards(at)))
    assert not (decision.outcome is Outcome.MOBILE_VISIT and decision.location_kind == "home")
    if case.protection == "strictly_confidential":
        assert decision.outcome is Outcome.DESIGNATED_UNIT and decision.owner_unit == "2103"
        assert decision.locations == () and decision.candidates == () and decision.travel_minutes is None
        text = json.dumps(decision.to_dict())
        assert all(f"{c:.3f}" not in text for loc in case.locations for c in (loc.lon, loc.lat))


@SETTINGS
@given(data=st.data())
def test_decisions_are_deterministic_and_batching_changes_nothing(data):
    at = data.draw(st.sampled_from(TIMES))
    batch = [data.draw(cases()) for _ in range(3)]
    board = data.draw(boards(at))
    single = [route(c, at=at, board=board) for c in batch]
    assert single == [route(c, at=at, board=board) for c in batch]
    assert single == route_many(batch, at=at, board=board)


def test_kjopsvik_changes_office_with_the_2020_merger():
    before = route(home(16.37416, 68.09696), at="2019-06-05T10:00")
    after = route(home(16.37416, 68.09696), at="2021-06-02T10:00")
    assert before.boundary_edition == "kommuner-2019" and before.locations[0].municipality == "1850"
    assert after.boundary_edition == "kommuner-2020" and after.locations[0].municipality == "1806"
    assert after.owner_unit == "1805"  # Nav Narvik owns cases of the merged Narvik


def test_indre_salten_serves_hamaroy_and_the_decision_explains_itself():
    decision = route(home(15.60942, 68.08522), at="2021-03-03T10:00")
    assert decision.outcome is Outcome.OFFICE_APPOINTMENT and decision.point_id == "sp-1875"
    assert decision.owner_unit == "1841"
    assert {c.point_id for c in decision.candidates} >= {"sp-1841", "sp-1840", "sp-1845", "sp-1839", "sp-1875"}
    text = "\n".join(decision.explain())
    assert "sp-1875" in text and "kommuner-2020" in text and "routing-policy" in text
    json.dumps(decision.to_dict())


def test_a_young_person_in_school_who_cannot_travel_is_visited_at_school():
    case = Case("c", [PersonLocation("home", 14.40501, 67.28), PersonLocation("school", 15.39, 67.26)],
                markers={"young"}, can_travel=False)
    decision = route(case, at="2021-03-03T10:00")
    assert (decision.outcome, decision.location_kind, decision.team_id) == (Outcome.MOBILE_VISIT, "school", "team-120")


def test_priority_markers_tighten_the_threshold():
    lon, lat = 15.2, 67.05  # between Fauske and Beiarn: the nearest office is ~50 min away
    plain = route(home(lon, lat), at="2021-03-03T10:00")
    young = route(home(lon, lat, markers={"young"}), at="2021-03-03T10:00")
    assert young.threshold_minutes < plain.threshold_minutes
    assert plain.outcome is Outcome.OFFICE_APPOINTMENT
    if plain.travel_minutes > young.threshold_minutes:
        assert young.outcome is Outcome.MOBILE_VISIT


def test_no_qualifying_office_gives_a_mobile_visit_by_the_covering_team():
    board = OfficeBoard(load_registry())
    at = datetime(2021, 3, 3, 10, tzinfo=OSLO)
    for pid in POINTS:
        board.apply(StatusEvent(pid, "closed_for_day", at - timedelta(hours=2)))
    decision = route(home(14.40501, 67.28), at=at, board=board)
    assert (decision.outcome, decision.location_kind, decision.team_id) == (Outcome.MOBILE_VISIT, "home", "team-106")
    assert {c.rejected for c in decision.candidates} == {Rejection.CLOSED_FOR_DAY}


def test_confidential_person_with_only_a_home_who_cannot_travel_needs_manual_planning():
    decision = route(home(14.40501, 67.28, protection="confidential", can_travel=False), at="2021-03-03T10:00")
    assert decision.outcome is Outcome.MANUAL_PLANNING and decision.location_kind is None


def test_far_away_person_is_not_placeable_with_the_distance():
    decision = route(home(20.2253, 67.8557), at="2021-03-03T10:00")
    assert decision.outcome is Outcome.NOT_PLACEABLE
    assert decision.locations[0].distance_m > 50_000 and "km from the nearest" in decision.reasons[0]


def test_bad_cases_are_rejected_with_the_fix():
    with pytest.raises(GeoInputError, match="at least one"):
        Case("c", [])
    with pytest.raises(GeoInputError, match="valid: "):
        Case("c", [PersonLocation("home", 14.4, 67.28)], markers={"vip"})
    with pytest.raises(GeoInputError, match="swap"):
        PersonLocation("home", 67.28, 140.0 + 60)
    with pytest.raises(GeoInputError, match="home, work, school"):
        Case("c", [PersonLocation("home", 14.4, 67.28), PersonLocation("home", 14.5, 67.28)])


def test_ties_go_to_the_lower_id():
    from geo import Router
    from geo.datafiles import manifest, read_yaml
    from geo.offices import registry_from

    data = read_yaml(manifest()["offices"])
    twin = next(p for p in data["service_points"] if p["id"] == "sp-1804")
    data["service_points"].append({**twin, "id": "sp-1804-a"})  # same unit, same place: a tie
    data["service_points"] = [p for p in data["service_points"] if p["id"] != "sp-1804"] + [{**twin, "id": "sp-1804-b"}]
    router = Router(registry=registry_from(data))
    decision = router.route(home(14.41, 67.281), at="2021-03-03T10:00")
    assert decision.point_id == "sp-1804-a"
    assert [c.rejected for c in decision.candidates] == [None, Rejection.FARTHER]
    assert decision.candidates[0].minutes == decision.candidates[1].minutes


@SETTINGS
@given(data=st.data())
def test_no_decision_contains_coordinates(data):
    at = data.draw(st.sampled_from(TIMES))
    case = data.draw(cases(protection=st.sampled_from(["none", "confidential", "strictly_confidential"])))
    text = json.dumps(route(case, at=at).to_dict())
    assert all(repr(c) not in text for loc in case.locations for c in (loc.lon, loc.lat))
