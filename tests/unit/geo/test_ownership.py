"""Ownership: the arbeidsfordeling rule table and its one precedence rule."""

from __future__ import annotations

from datetime import date

import pytest

from geo import GeoDataError, editions, load_rules
from geo.ownership import table_from

pytestmark = pytest.mark.unit

DAY = date(2021, 6, 1)


def owner(municipality, region, *, theme="OPP", grading="none", skjermet=False, day=DAY):
    return load_rules().owner(municipality, region, theme, grading, skjermet, day).unit


def test_the_serving_unit_owns_ordinary_cases():
    assert owner("1804", "106") == "1804"
    assert owner("1806", "107") == "1805"
    assert owner("1838", "106") == "1837"


def test_every_municipality_of_every_edition_has_an_owner_on_its_valid_days():
    for edition in editions():
        day = edition.valid_to or DAY
        for ref, region in zip(edition.reference, edition.regions, strict=True):
            assert load_rules().owner(str(ref), str(region), "OPP", "none", False, day).unit


def test_strictly_confidential_goes_to_the_national_unit_whatever_else_matches():
    assert owner("1804", "106", grading="strictly_confidential") == "2103"
    assert owner("5001", "90", grading="strictly_confidential", skjermet=True) == "2103"


def test_confidential_stays_with_the_serving_unit():
    assert owner("1804", "106", grading="confidential") == "1804"


def test_nav_employees_go_to_the_designated_unit_but_not_their_own_office():
    assert owner("1804", "106", skjermet=True) == "1833"
    assert owner("1833", "114", skjermet=True) == "1804"
    assert owner("5001", "90", skjermet=True) == "1719"


def test_validity_dates_pick_the_unit_of_the_day():
    assert owner("1840", "120", day=date(2020, 6, 1)) == "1840"
    assert owner("1840", "120", day=date(2020, 11, 1)) == "1841"
    assert owner("1875", "131", day=date(2020, 10, 31)) == "1849"


ROWS = [
    dict(rule_id="R3", valid_from="2020-01-01", valid_to="", area="ANY", theme="ANY", grading="ANY", skjermet="ANY",
         unit="ANY-UNIT"),
    dict(rule_id="R2", valid_from="2020-01-01", valid_to="", area="region:106", theme="ANY", grading="ANY",
         skjermet="ANY", unit="REGION"),
    dict(rule_id="R1", valid_from="2020-01-01", valid_to="", area="region:106", theme="SYK", grading="ANY",
         skjermet="ANY", unit="REGION-SYK"),
    dict(rule_id="R4", valid_from="2021-01-01", valid_to="", area="region:106", theme="ANY", grading="ANY",
         skjermet="ANY", unit="REGION-NEWER"),
    dict(rule_id="R5", valid_from="2020-01-01", valid_to="", area="ANY", theme="ANY", grading="ANY", skjermet="ANY",
         unit="TIE-HIGHER-ID"),
]


def test_precedence_area_then_theme_then_newest_then_lowest_id():
    table = table_from(ROWS, "test")
    assert table.owner("1804", "106", "SYK", "none", False, DAY).unit == "REGION-SYK"  # specific theme
    assert table.owner("1804", "106", "OPP", "none", False, DAY).unit == "REGION-NEWER"  # latest valid_from
    assert table.owner("1804", "106", "OPP", "none", False, date(2020, 6, 1)).unit == "REGION"
    assert table.owner("1811", "105", "OPP", "none", False, DAY).unit == "ANY-UNIT"  # R3 < R5


def test_a_gap_in_the_table_is_a_data_error_naming_the_case():
    table = table_from(ROWS[1:3], "gappy")
    with pytest.raises(GeoDataError, match="1811.*add a rule"):
        table.owner("1811", "105", "OPP", "none", False, DAY)


def test_malformed_rules_are_rejected():
    with pytest.raises(GeoDataError, match="skjermet"):
        table_from([{**ROWS[0], "skjermet": "maybe"}], "bad")
    with pytest.raises(GeoDataError, match="unique"):
        table_from([ROWS[0], ROWS[0]], "dup")
