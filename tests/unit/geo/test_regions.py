"""Regions: known places in the right municipality and region, in both boundary editions."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo import EditionError, GeoInputError, edition_at, editions, locate
from geo.datafiles import read_csv

pytestmark = pytest.mark.unit

Y2019, Y2020 = "2019-06-15", "2020-06-15"

# (place, lon, lat, at, municipality, region)
KNOWN = [
    ("Bodø", 14.40501, 67.28, Y2019, "1804", "106"),
    ("Bodø", 14.40501, 67.28, Y2020, "1804", "106"),
    ("Narvik", 17.4272, 68.43838, Y2019, "1805", "107"),
    ("Narvik", 17.4272, 68.43838, Y2020, "1806", "107"),
    ("Kjøpsvik", 16.37416, 68.09696, Y2019, "1850", "131"),
    ("Kjøpsvik", 16.37416, 68.09696, Y2020, "1806", "107"),
    ("Ballangen", 16.83145, 68.34283, Y2019, "1854", "107"),
    ("Ballangen", 16.83145, 68.34283, Y2020, "1806", "107"),
    ("Oppeid", 15.60942, 68.08522, Y2019, "1849", "131"),
    ("Oppeid", 15.60942, 68.08522, Y2020, "1875", "131"),
    ("Inndyr (Gildeskål, in BA-region Bodø)", 14.02, 67.03, Y2020, "1838", "106"),
    ("Terråk (Bindal, in BA-region Nærøysund)", 12.37148, 65.087, Y2020, "1811", "105"),
    ("Trondheim", 10.39506, 63.43049, Y2020, "5001", "90"),
    ("Steinkjer", 11.49537, 64.01487, Y2019, "5004", "91"),
    ("Steinkjer", 11.49537, 64.01487, Y2020, "5006", "91"),
]


@pytest.mark.parametrize(("place", "lon", "lat", "at", "municipality", "region"), KNOWN)
def test_known_places_land_in_their_municipality_and_region(place, lon, lat, at, municipality, region):
    p = locate(lon, lat, at=at)
    assert (p.municipality, p.region, p.placeable) == (municipality, region, True), place


def test_the_edition_follows_the_norwegian_date():
    assert edition_at("2019-12-31").id == "kommuner-2019"
    assert edition_at("2020-01-01").id == "kommuner-2020"
    assert edition_at("2019-12-31T23:30:00+00:00").id == "kommuner-2020"  # 00:30 on 1 Jan in Norway
    assert locate(16.83145, 68.34283, at="2019-12-31T22:59:00+00:00").municipality == "1854"


def test_before_every_edition_is_an_error_naming_the_editions():
    with pytest.raises(EditionError, match="kommuner-2019"):
        edition_at("1850-01-01")


def test_every_administrative_centre_is_placed_in_its_own_2020_municipality():
    rows = read_csv("kommune_adminsenter_punkter_2020_nordland_trondelag.csv")
    got = locate([float(r["lon"]) for r in rows], [float(r["lat"]) for r in rows], at=Y2020)
    assert list(got.municipality) == [r["kommunenummer"] for r in rows]
    outside = {r["kommunenummer"] for r in rows if r["inside_kommune_polygon"] != "yes"}
    assert {c for c, s in zip(got.municipality, got.snapped, strict=True) if s} == outside


def test_solfjellsjoen_just_outside_donna_is_snapped_and_says_so():
    p = locate(12.48333, 66.11667, at=Y2020)
    assert (p.municipality, p.snapped) == ("1827", True)
    assert 5 < p.distance_m < 100


@pytest.mark.parametrize(("lon", "lat", "municipality"), [(12.1, 66.5, "1835"), (12.06, 67.5, "1856")])
def test_island_and_shoreline_points_are_snapped_to_the_nearest_municipality(lon, lat, municipality):
    p = locate(lon, lat, at=Y2020)
    assert (p.placeable, p.snapped, p.municipality) == (True, True, municipality)
    assert 0 < p.distance_m <= 2000


@pytest.mark.parametrize(("place", "lon", "lat", "at_least_km"), [
    ("Kiruna, Sweden", 20.2253, 67.8557, 50), ("Norwegian Sea", 5.0, 67.0, 200), ("Stockholm", 18.07, 59.33, 300),
])
def test_open_sea_and_foreign_points_are_not_placeable_with_the_distance(place, lon, lat, at_least_km):
    for at in (Y2019, Y2020):
        p = locate(lon, lat, at=at)
        assert (p.placeable, p.municipality, p.region, p.snapped) == (False, None, None, False), place
        assert p.distance_m > at_least_km * 1000


def test_scalar_in_scalar_out_and_arrays_in_arrays_out_agree():
    lons, lats = [14.40501, 20.2253, 12.48333, 16.37416], [67.28, 67.8557, 66.11667, 68.09696]
    many = locate(np.array(lons), np.array(lats), at=Y2020)
    assert many.municipality.shape == (4,) and many.placeable.dtype == bool
    for k, (lon, lat) in enumerate(zip(lons, lats, strict=True)):
        one = locate(lon, lat, at=Y2020)
        assert isinstance(one.placeable, bool)
        assert (one.municipality or "", one.region or "", one.snapped) == (
            many.municipality[k], many.region[k], many.snapped[k])
        assert one.distance_m == pytest.approx(many.distance_m[k])


def test_vectorized_locate_matches_a_plain_polygon_test_on_random_points():
    rng = np.random.default_rng(7)
    x, y = rng.uniform(10, 16, 3000), rng.uniform(63, 68, 3000)
    got = locate(x, y, at=Y2020)
    edition = edition_at(Y2020)
    for k in range(0, 3000, 7):
        inside = [c for c, g in zip(edition.codes, edition.geoms, strict=True) if g.intersects(shapely.Point(x[k], y[k]))]
        if inside:
            assert got.municipality[k] == min(inside) and not got.snapped[k]
        else:
            assert got.snapped[k] or not got.placeable[k]


@pytest.mark.parametrize(("lons", "lats", "message"), [
    (67.28, 200.0, "did you swap them"), ([1.0, 2.0], [3.0], "same length"), ("x", 60.0, "must be numbers"),
    (float("nan"), 60.0, "WGS84"),
])
def test_bad_coordinates_are_rejected_with_the_fix(lons, lats, message):
    with pytest.raises(GeoInputError, match=message):
        locate(lons, lats, at=Y2020)


def test_bad_time_is_rejected_with_an_example():
    with pytest.raises(GeoInputError, match="2020-06-01"):
        locate(14.4, 67.28, at="last tuesday")


def test_polygons_are_repaired_and_every_municipality_has_a_region():
    for edition in editions():
        assert shapely.is_valid(edition.geoms).all(), edition.id
        assert all(edition.regions), edition.id
    assert len(edition_at(Y2019).codes) == 92 and len(edition_at(Y2020).codes) == 79
    assert sum(c.startswith("18") for c in edition_at(Y2019).codes) == 44
    assert sum(c.startswith("18") for c in edition_at(Y2020).codes) == 41


def test_neighbouring_regions_are_symmetric_and_sensible():
    n = edition_at(Y2020).neighbours
    assert all(a in n[b] for a in n for b in n[a])
    assert "120" in n["106"]  # Fauske borders Bodø
    assert n["116"] == frozenset()  # Træna is islands only


def test_a_point_on_a_shared_border_goes_to_the_lowest_code_in_both_paths():
    edition = edition_at(Y2020)
    bodo = edition.geoms[edition.municipality_index("1804")]
    shared = next(
        (x, y) for x, y in shapely.get_coordinates(bodo)
        if len({c for c, g in zip(edition.codes, edition.geoms, strict=True) if g.intersects(shapely.Point(x, y))}) > 1)
    owners = sorted(c for c, g in zip(edition.codes, edition.geoms, strict=True) if g.intersects(shapely.Point(*shared)))
    one = locate(float(shared[0]), float(shared[1]), at=Y2020)
    many = locate(np.array([shared[0], 14.40501]), np.array([shared[1], 67.28]), at=Y2020)
    assert one.municipality == many.municipality[0] == owners[0]


def test_an_edition_is_data_a_new_one_needs_no_code():
    from geo.datafiles import manifest
    from geo.regions import _load_edition, locate_in

    spec = {**manifest()["boundary_editions"][1], "id": "kommuner-2024-test", "valid_from": "2024-01-01"}
    edition = _load_edition(spec, manifest(), 150)
    muni = locate_in(edition, np.array([16.37416]), np.array([68.09696]))[0]
    assert (edition.id, edition.codes[muni[0]], edition.valid_to) == ("kommuner-2024-test", "1806", None)


@pytest.mark.parametrize("at", [Y2019, Y2020])
def test_the_scalar_cell_index_gives_the_same_answers_as_the_vectorized_strtree(at):
    rng = np.random.default_rng(11)
    x, y = rng.uniform(7.5, 19, 1500), rng.uniform(62, 69.5, 1500)
    many = locate(x, y, at=at)
    for k in range(len(x)):
        one = locate(float(x[k]), float(y[k]), at=at)
        assert (one.municipality or "", one.snapped, one.land) == (many.municipality[k], many.snapped[k], many.land[k])


def test_remembered_placements_equal_fresh_ones_and_the_memory_is_bounded(monkeypatch):
    from geo import regions

    edition = edition_at("2020-06-01")
    monkeypatch.setattr(regions, "PLACEMENT_CACHE_SIZE", 3)
    edition.placements.clear()
    points = [(14.40, 67.28), (15.39, 67.25), (13.80, 67.60), (17.43, 68.44)]  # on land, snapped, open sea, on land
    first = [regions.locate_one(edition, lon, lat) for lon, lat in points]
    assert first == [regions._locate_one(edition, lon, lat) for lon, lat in points]
    assert [f[1] for f in first] == [False, True, False, False] and first[2][0] == -1
    assert len(edition.placements) == 3 and (14.40, 67.28) not in edition.placements  # the oldest went first
    assert [regions.locate_one(edition, lon, lat) for lon, lat in points] == first
    edition.placements.clear()


def test_points_remembered_in_one_vectorized_call_place_exactly_as_one_by_one():
    from geo import regions

    edition = edition_at("2020-06-01")
    rng = np.random.default_rng(11)
    lons, lats = rng.uniform(11.0, 18.5, 400).round(5), rng.uniform(64.5, 69.5, 400).round(5)  # land, coast, sea
    edition.placements.clear()
    assert regions.remember(edition, lons.tolist(), lats.tolist()) == 400
    assert regions.remember(edition, lons.tolist(), lats.tolist()) == 0  # all known now
    remembered = [edition.placements[(x, y)] for x, y in zip(lons.tolist(), lats.tolist(), strict=True)]
    fresh = [regions._locate_one(edition, x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)]
    assert [r[:2] for r in remembered] == [f[:2] for f in fresh] and [r[3] for r in remembered] == [f[3] for f in fresh]
    assert np.allclose([r[2] for r in remembered], [f[2] for f in fresh])
    assert {r[1] for r in remembered} == {True, False} and min(r[0] for r in remembered) == -1  # all three kinds
    edition.placements.clear()
