"""geo data in PostGIS: loaded with execute_values, read back with geopandas.read_postgis, and queried."""

from __future__ import annotations

import psycopg2
import pytest

from geo.regions import edition_at, locate
from geo.store import ensure_loaded, load_all, read_table, shipped_versions, stored_versions

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def loaded(database_url):
    return load_all(database_url)


def test_load_counts_every_row(loaded):
    assert loaded == {"municipalities": 92 + 79, "regions": loaded["regions"], "offices": 79, "mobile_teams": 44}
    assert loaded["regions"] == len(set(edition_at("2019-06-01").regions)) + len(set(edition_at("2021-01-01").regions))


def test_read_back_as_geodataframes_in_wgs84(database_url, loaded):
    municipalities = read_table(database_url, "municipalities", edition="kommuner-2020")
    assert len(municipalities) == 79 and municipalities.crs.to_epsg() == 4326
    assert municipalities.geometry.is_valid.all()
    assert set(municipalities.code) == set(edition_at("2021-01-01").codes)
    offices = read_table(database_url, "offices")
    assert set(offices.location_source) == {"administrative_centre"}


@pytest.mark.parametrize(("lon", "lat", "edition", "code"), [
    (16.37416, 68.09696, "kommuner-2019", "1850"), (16.37416, 68.09696, "kommuner-2020", "1806"),
    (15.60942, 68.08522, "kommuner-2019", "1849"), (15.60942, 68.08522, "kommuner-2020", "1875"),
])
def test_postgis_agrees_with_locate(database_url, loaded, lon, lat, edition, code):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT code FROM municipalities WHERE edition = %s AND "
                    "ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (edition, lon, lat))
        assert [r[0] for r in cur.fetchall()] == [code]
    conn.close()
    at = "2019-06-01" if edition.endswith("2019") else "2021-06-01"
    assert locate(lon, lat, at=at).municipality == code


def test_dissolved_regions_cover_their_offices(database_url, loaded):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("""SELECT o.id FROM offices o WHERE NOT EXISTS (
                         SELECT 1 FROM regions r WHERE r.edition = 'kommuner-2020'
                         AND ST_DWithin(r.geom::geography, o.geom::geography, 2000))""")
        assert cur.fetchall() == []
        cur.execute("SELECT count(*) FROM regions WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)")
        assert cur.fetchone()[0] == 0
    conn.close()


def test_loading_twice_replaces_rather_than_duplicates(database_url, loaded):
    assert load_all(database_url) == loaded


def test_ensure_loaded_loads_only_when_the_stored_data_differs(database_url, loaded):
    assert stored_versions(database_url) == shipped_versions()
    assert ensure_loaded(database_url) is False
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM municipalities WHERE edition = 'kommuner-2019'")
    conn.close()
    assert ensure_loaded(database_url) is True
    assert stored_versions(database_url) == shipped_versions()
