"""geo data in PostGIS: load the shipped data into the tables of infra/migrations/0010_geo_tables.sql, and read
them back as GeoDataFrames (geopandas.read_postgis).

Loading replaces the rows of each table in one transaction (the data files are the source of truth). Region
polygons are dissolved in PostGIS from the municipalities of the same edition (ST_Union, polygons only).
"""

from __future__ import annotations

import json
import warnings
from contextlib import closing
from typing import Any

import shapely
from psycopg2 import sql
from psycopg2.extras import execute_values

from geo.errors import StoreError
from geo.offices import Registry, load_registry
from geo.regions import Edition, editions, region_names

__all__ = ["load_all", "ensure_loaded", "stored_versions", "shipped_versions", "read_table", "TABLES"]

TABLES = ("municipalities", "regions", "offices", "mobile_teams")
FIX = "Check that the stack is up (`veiviser status`) and migrations are applied (`veiviser migrate`)."

MUNICIPALITY_ROW = "(%s, %s, %s, %s, %s, %s, %s, ST_Multi(ST_GeomFromWKB(%s, 4326)))"
POINT_ROW_OFFICE = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
POINT_ROW_TEAM = "(%s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
DISSOLVE = """
INSERT INTO regions (edition, code, name, valid_from, valid_to, geom)
SELECT m.edition, m.region, COALESCE(n.name, m.region), min(m.valid_from), max(m.valid_to),
       ST_Multi(ST_CollectionExtract(ST_Union(m.geom), 3))
FROM municipalities m LEFT JOIN (SELECT * FROM unnest(%s::text[], %s::text[]) AS t(code, name)) n ON n.code = m.region
GROUP BY m.edition, m.region, n.name
"""


def _polygons_wkb(geom: shapely.Geometry) -> bytes:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return shapely.to_wkb(shapely.multipolygons(parts))


def municipality_rows(edition: Edition) -> list[tuple]:
    return [(edition.id, str(c), str(n), str(r), str(ref), edition.valid_from, edition.valid_to, _polygons_wkb(g))
            for c, n, r, ref, g in zip(edition.codes, edition.names, edition.regions, edition.reference, edition.geoms,
                                       strict=True)]


def office_rows(registry: Registry) -> list[tuple]:
    hours = lambda p: json.dumps({d: [t.isoformat("minutes") for t in span] for d, span in p.opening_hours.items()})  # noqa: E731
    return [(p.id, p.unit, registry.units[p.unit].name, p.name, p.municipality, p.location_source, hours(p), p.staff,
             p.daily_capacity, registry.version, p.lon, p.lat) for p in sorted(registry.points.values(), key=lambda p: p.id)]


def team_rows(registry: Registry) -> list[tuple]:
    return [(t.id, t.name, t.base_point, list(t.covers_regions), registry.version, t.lon, t.lat)
            for t in sorted(registry.teams.values(), key=lambda t: t.id)]


def load_all(database_url: str) -> dict[str, int]:
    """Replace the geo tables' rows with the shipped data; return row counts per table."""
    import psycopg2

    names = region_names()
    try:
        with closing(psycopg2.connect(database_url)) as conn, conn, conn.cursor() as cur:
            cur.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
            for edition in editions():
                execute_values(cur, "INSERT INTO municipalities VALUES %s", municipality_rows(edition),
                               template=MUNICIPALITY_ROW)
            cur.execute(DISSOLVE, (list(names), list(names.values())))
            registry = load_registry()
            execute_values(cur, "INSERT INTO offices VALUES %s", office_rows(registry), template=POINT_ROW_OFFICE)
            execute_values(cur, "INSERT INTO mobile_teams VALUES %s", team_rows(registry), template=POINT_ROW_TEAM)
            return {t: _count(cur, t) for t in TABLES}
    except psycopg2.Error as exc:
        raise StoreError(f"loading geo data into PostGIS failed: {str(exc).strip()}. {FIX}") from None


def shipped_versions() -> tuple[tuple[str, ...], str]:
    """(boundary edition ids, registry version) of the data shipped in geo/data."""
    return tuple(sorted(e.id for e in editions())), load_registry().version


def stored_versions(database_url: str) -> tuple[tuple[str, ...], str | None]:
    """(boundary edition ids, registry version) of the data in PostGIS."""
    import psycopg2

    try:
        with closing(psycopg2.connect(database_url)) as conn, conn, conn.cursor() as cur:
            cur.execute("SELECT DISTINCT edition FROM municipalities ORDER BY 1")
            stored = tuple(r[0] for r in cur.fetchall())
            cur.execute("SELECT min(registry_version) FROM offices")
            return stored, cur.fetchone()[0]
    except psycopg2.Error as exc:
        raise StoreError(f"reading the stored geo versions failed: {str(exc).strip()}. {FIX}") from None


def ensure_loaded(database_url: str) -> bool:
    """Load the shipped data when PostGIS holds other editions or another registry version (for a process to call
    at start, after migrations). Returns True when it loaded."""
    if stored_versions(database_url) == shipped_versions():
        return False
    load_all(database_url)
    return True


def _count(cur, table: str) -> int:
    cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    return cur.fetchone()[0]


def read_table(database_url: str, table: str, edition: str | None = None) -> Any:
    """A geo table as a GeoDataFrame (geopandas.read_postgis), optionally one boundary edition's rows."""
    import geopandas
    import psycopg2

    if table not in TABLES:
        raise StoreError(f"unknown geo table {table!r}; valid: {', '.join(TABLES)}")
    query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
    params: tuple = ()
    if edition is not None:
        query, params = query + sql.SQL(" WHERE edition = %s"), (edition,)
    try:
        with closing(psycopg2.connect(database_url)) as conn, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*SQLAlchemy.*")  # pandas prefers SQLAlchemy; psycopg2 works
            return geopandas.read_postgis(query.as_string(conn), conn, geom_col="geom", params=params or None)
    except psycopg2.Error as exc:
        raise StoreError(f"reading {table} from PostGIS failed: {str(exc).strip()}. {FIX}") from None
