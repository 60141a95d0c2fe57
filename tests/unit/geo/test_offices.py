"""Office registry and office state over time."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from geo import GeoInputError, OfficeBoard, StatusEvent, StatusKind, UnknownIdError, load_registry
from geo.datafiles import OSLO

pytestmark = pytest.mark.unit

WED = datetime(2021, 3, 3, 10, 0, tzinfo=OSLO)


def test_partnerships_serve_their_municipalities():
    reg = load_registry()
    assert reg.units["1841"].serves == ("1839", "1840", "1841", "1845", "1875")  # Indre Salten
    assert reg.units["1837"].serves == ("1836", "1837", "1838")  # Sør-Salten
    assert reg.units["1805"].serves == ("1806",)  # Narvik serves the merged Narvik
    assert reg.serving("1875") == ("sp-1839", "sp-1840", "sp-1841", "sp-1845", "sp-1875")


def test_every_municipality_is_served_and_locations_say_they_are_administrative_centres():
    reg = load_registry()
    served = [c for u in reg.units.values() for c in u.serves]
    assert len(served) == len(set(served)) == 79
    assert {p.location_source for p in reg.points.values()} == {"administrative_centre"}
    assert "administrative centre" in reg.location_note and "not known" in reg.location_note
    assert all(t.covers_regions and t.base_point in reg.points for t in reg.teams.values())


def test_an_open_point_has_capacity_on_its_service_day():
    a = OfficeBoard(load_registry()).availability("sp-1804", WED)
    assert (a.ok, a.day, a.reason) == (True, date(2021, 3, 3), None)
    assert a.capacity_left == load_registry().points["sp-1804"].daily_capacity


@pytest.mark.parametrize(("at", "day"), [
    (datetime(2021, 3, 6, 10, 0, tzinfo=OSLO), date(2021, 3, 8)),  # Saturday -> Monday
    (datetime(2021, 3, 3, 16, 0, tzinfo=OSLO), date(2021, 3, 4)),  # after closing -> next day
])
def test_the_service_day_is_the_next_opening_day(at, day):
    assert OfficeBoard(load_registry()).availability("sp-1804", at).day == day


def test_closed_for_the_day_only_that_day():
    board = OfficeBoard(load_registry())
    board.apply(StatusEvent("sp-1804", "closed_for_day", datetime(2021, 3, 3, 8, 0, tzinfo=OSLO)))
    assert board.availability("sp-1804", WED).reason == "closed_for_day"
    assert board.availability("sp-1804", datetime(2021, 3, 4, 10, 0, tzinfo=OSLO)).ok
    assert board.availability("sp-1804", datetime(2021, 3, 3, 7, 0, tzinfo=OSLO)).ok  # not yet announced


def test_a_closure_can_be_announced_in_advance():
    board = OfficeBoard(load_registry())
    board.apply(StatusEvent("sp-1804", "closed_for_day", datetime(2021, 3, 1, 9, tzinfo=OSLO), day=date(2021, 3, 3)))
    assert board.availability("sp-1804", WED).reason == "closed_for_day"
    assert board.availability("sp-1804", datetime(2021, 3, 2, 10, tzinfo=OSLO)).ok


def test_events_after_the_time_asked_do_not_count():
    board = OfficeBoard(load_registry())
    board.apply(StatusEvent("sp-1804", StatusKind.CLOSED_FOR_GOOD, datetime(2021, 5, 1, tzinfo=OSLO)))
    assert board.availability("sp-1804", WED).ok
    assert board.availability("sp-1804", datetime(2021, 5, 3, 10, tzinfo=OSLO)).reason == "closed"


def test_closed_for_good_until_opened_again():
    board = OfficeBoard(load_registry())
    board.apply(StatusEvent("sp-1804", "closed_for_good", datetime(2021, 1, 1, tzinfo=OSLO)))
    assert board.availability("sp-1804", WED).reason == "closed"
    board.apply(StatusEvent("sp-1804", "opened", datetime(2021, 3, 1, tzinfo=OSLO)))
    assert board.availability("sp-1804", WED).ok


def test_staff_change_scales_capacity_and_zero_staff_is_not_staffed():
    reg = load_registry()
    point = reg.points["sp-1804"]
    board = OfficeBoard(reg)
    board.apply(StatusEvent("sp-1804", "staff_change", datetime(2021, 3, 3, 8, tzinfo=OSLO), staff=point.staff // 2))
    assert board.availability("sp-1804", WED).capacity_left == point.daily_capacity * (point.staff // 2) // point.staff
    board.apply(StatusEvent("sp-1804", "staff_change", datetime(2021, 3, 3, 9, tzinfo=OSLO), staff=0))
    assert board.availability("sp-1804", WED).reason == "not_staffed"


def test_bookings_exhaust_capacity():
    reg = load_registry()
    board = OfficeBoard(reg)
    board.book("sp-1804", date(2021, 3, 3), reg.points["sp-1804"].daily_capacity - 1)
    assert board.availability("sp-1804", WED).capacity_left == 1
    board.book("sp-1804", date(2021, 3, 3))
    assert board.availability("sp-1804", WED).reason == "no_capacity"


def test_bad_status_input_names_the_options():
    with pytest.raises(GeoInputError, match="closed_for_good"):
        StatusEvent("sp-1804", "burnt_down", WED)
    with pytest.raises(GeoInputError, match="staff"):
        StatusEvent("sp-1804", "staff_change", WED)
    with pytest.raises(UnknownIdError, match="sp-1804"):
        OfficeBoard(load_registry()).availability("sp-9999", WED)
