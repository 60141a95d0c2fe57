"""Municipality and BA-region outlines for the field page's map, from geo's own boundary data (no tiles).

The boundary edition valid on a day (geo.regions.edition_at) is turned into two GeoJSON feature
collections with geopandas: municipalities, and BA-regions (municipalities dissolved by region). Both are
simplified together with shapely.coverage_simplify, which keeps shared borders shared (no slivers or gaps
between neighbours), to about `tolerance_m` metres; islets under MIN_ISLAND_KM2 are left out and coordinates
rounded to 4 decimals (about 10 m). Regions are dissolved from the simplified municipalities, so their borders
lie exactly on municipality borders. About 100 kB: small enough for a phone on a poor connection, fine enough
to see where a stop lies.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from typing import Any

import shapely

__all__ = ["outlines", "outlines_json", "DEFAULT_TOLERANCE_M"]

DEFAULT_TOLERANCE_M = 1000.0
MIN_ISLAND_KM2 = 1.0
DECIMALS = 4
METRES_PER_DEGREE_LAT = 111_320.0


def outlines(day: date, tolerance_m: float = DEFAULT_TOLERANCE_M) -> dict[str, Any]:
    """{"edition", "municipalities": FeatureCollection, "regions": FeatureCollection, "bbox"} for `day`."""
    from geo.regions import edition_at

    return _outlines(edition_at(day).id, tolerance_m)


def outlines_json(day: date) -> bytes:
    """outlines(day) as compact JSON bytes, made once per boundary edition."""
    from geo.regions import edition_at

    return _json(edition_at(day).id)


@functools.cache
def _json(edition_id: str) -> bytes:
    return json.dumps(_outlines(edition_id, DEFAULT_TOLERANCE_M), separators=(",", ":")).encode()


@functools.cache
def _outlines(edition_id: str, tolerance_m: float) -> dict[str, Any]:
    import geopandas as gpd

    from geo.regions import editions, region_names

    edition = next(e for e in editions() if e.id == edition_id)
    frame = gpd.GeoDataFrame({"code": edition.codes.astype(str), "name": edition.names.astype(str),
                              "region": edition.regions.astype(str)}, geometry=list(edition.geoms), crs="EPSG:4326")
    frame["geometry"] = _simplified(frame.geometry.values, tolerance_m)
    frame = frame[~frame.geometry.is_empty]
    regions = frame.dissolve(by="region", as_index=False)[["region", "geometry"]]
    names = region_names()
    regions["name"] = [names.get(r, r) for r in regions["region"]]
    return {"edition": edition.id, "bbox": [round(float(v), DECIMALS) for v in frame.total_bounds],
            "municipalities": _collection(frame, ["code", "name", "region"]),
            "regions": _collection(regions, ["region", "name"])}


def _simplified(geoms: Any, tolerance_m: float) -> list[shapely.Geometry]:
    """Polygonal parts only (make_valid may leave lines behind), simplified as one coverage, islets dropped."""
    polygonal = [shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"]) for g in geoms]
    simplified = shapely.coverage_simplify(polygonal, tolerance_m / METRES_PER_DEGREE_LAT)
    min_area = MIN_ISLAND_KM2 * 1e6 / METRES_PER_DEGREE_LAT**2 / 0.4  # degrees²: a longitude degree ~ 0.4 x at 66°N
    out = []
    for geom in simplified:
        parts = [p for p in shapely.get_parts(geom) if p.area >= min_area]
        kept = shapely.multipolygons(parts) if parts else shapely.Polygon()
        out.append(shapely.set_precision(kept, 10.0 ** -DECIMALS))  # snapped to the grid, kept valid
    return out


def _collection(frame: Any, columns: list[str]) -> dict[str, Any]:
    features = [{"type": "Feature", "properties": {c: str(row[c]) for c in columns},
                 "geometry": json.loads(shapely.to_geojson(row.geometry))} for _, row in frame.iterrows()]
    return {"type": "FeatureCollection", "features": features}
