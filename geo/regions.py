"""Municipalities and housing and labour-market regions (BA-regions), by boundary edition.

Editions, their validity dates and their files are data (geo/data/manifest.yaml). At first use each edition is
loaded once: polygons repaired with shapely.make_valid, split into pieces of at most MAX_VERTICES vertices
(small pieces make point-in-polygon several times faster) and indexed in a shapely 2 STRtree. Points that fall
in no polygon (simplified coastlines) are snapped to the nearest municipality within the manifest's
`snap_tolerance_m`, measured in EPSG:25833 (UTM 33N); farther points are "not placeable", with the distance.

`locate(lons, lats, at=...)` follows shapely 2: scalars in, a Placement of scalars out; arrays in, a Placement of
arrays out. Arrays go through the STRtree in one query; a single point goes through a grid of ~2 km cells
(CellIndex: the pieces near each cell, tested with shapely.intersects_xy), which gives the same answers faster. Land masses (municipality polygons buffered by travel.yaml's `land_join_m` and merged) are recorded
per piece so that the travel model can tell when the sea separates two points.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from geo.datafiles import as_datetime, local_date, manifest, parse_date, read_csv, read_yaml
from geo.errors import EditionError, GeoDataError, GeoInputError

__all__ = ["Edition", "Placement", "locate", "locate_in", "locate_one", "remember", "edition_at", "editions", "region_names",
           "to_utm", "MAX_VERTICES"]

MAX_VERTICES = 32
UTM = 25833
CELL_DEG = (0.04, 0.02)  # cell size (lon, lat) of the scalar lookup grid, about 2 km


@dataclass(frozen=True)
class Placement:
    """Where points are. Scalars for one point, numpy arrays for many.

    municipality/region: codes ("" for arrays, None for a scalar, when not placeable); placeable: bool;
    snapped: placed by snapping to the nearest municipality; distance_m: distance to the municipality it was
    placed in or (not placeable) to the nearest one (0 inside); land: land-mass id (-1 when not placeable).
    """

    municipality: Any
    region: Any
    placeable: Any
    snapped: Any
    distance_m: Any
    land: Any
    edition: str


class CellIndex:
    """A uniform lon/lat grid over an edition: per cell, the pieces whose envelope meets the cell. Finding the
    candidates of one point is then arithmetic, and shapely.intersects_xy tests them without making a Point
    (the scalar hot path; about 3x faster than an STRtree query per point). Same answers as the STRtree."""

    def __init__(self, pieces: np.ndarray, dx: float = CELL_DEG[0], dy: float = CELL_DEG[1]) -> None:
        x0, y0, x1, y1 = shapely.total_bounds(pieces)
        self.x0, self.y0, self.dx, self.dy = x0, y0, dx, dy
        self.nx, self.ny = int((x1 - x0) / dx) + 1, int((y1 - y0) / dy) + 1
        gy, gx = np.divmod(np.arange(self.nx * self.ny), self.nx)
        boxes = shapely.box(x0 + gx * dx, y0 + gy * dy, x0 + (gx + 1) * dx, y0 + (gy + 1) * dy)
        cell, piece = shapely.STRtree(pieces).query(boxes)
        order = np.lexsort((piece, cell))
        cell, piece = cell[order], piece[order]
        bounds = np.searchsorted(cell, np.arange(self.nx * self.ny + 1))
        self.cells: list[tuple[np.ndarray, np.ndarray] | None] = [
            (piece[a:b], pieces[piece[a:b]]) if b > a else None for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def candidates(self, lon: float, lat: float) -> tuple[np.ndarray, np.ndarray] | None:
        """(piece indices, piece geometries) whose envelope meets the point's cell; None: no piece near."""
        ix, iy = math.floor((lon - self.x0) / self.dx), math.floor((lat - self.y0) / self.dy)
        if 0 <= ix < self.nx and 0 <= iy < self.ny:
            return self.cells[iy * self.nx + ix]
        return None


@dataclass(frozen=True, eq=False)
class Edition:
    """One boundary edition, loaded and indexed."""

    id: str
    valid_from: date
    valid_to: date | None
    codes: np.ndarray  # municipality codes (str), index = municipality number in this edition
    names: np.ndarray
    regions: np.ndarray  # BA-region code per municipality
    reference: np.ndarray  # code used by the office registry and ownership rules
    geoms: np.ndarray  # repaired WGS84 geometry per municipality
    pieces: np.ndarray
    piece_muni: np.ndarray
    piece_land: np.ndarray
    tree: shapely.STRtree
    # utm_tree indexes the same pieces projected to UTM 33N (metres: snapping and distances), same order
    utm_tree: shapely.STRtree
    mainland: int
    neighbours: dict[str, frozenset[str]]

    @functools.cached_property
    def placements(self) -> dict[tuple[float, float], tuple[int, bool, float, int]]:
        """locate_one's memory of points already placed (see PLACEMENT_CACHE_SIZE)."""
        return {}

    @functools.cached_property
    def cell_index(self) -> CellIndex:
        """Built at the first scalar lookup (a fraction of a second)."""
        return CellIndex(self.pieces)

    @functools.cached_property
    def code_list(self) -> list[str]:
        """codes as Python strings (fast scalar access on the routing hot path)."""
        return [str(c) for c in self.codes]

    @functools.cached_property
    def region_list(self) -> list[str]:
        return [str(r) for r in self.regions]

    @functools.cached_property
    def reference_list(self) -> list[str]:
        return [str(r) for r in self.reference]

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def municipality_index(self, code: str) -> int:
        hits = np.flatnonzero(self.codes == code)
        if not len(hits):
            from geo.errors import unknown

            raise unknown("municipality", code, list(self.codes), f"Valid codes are those of edition {self.id}.")
        return int(hits[0])


@functools.cache
def _to_utm() -> Transformer:
    return Transformer.from_crs(4326, UTM, always_xy=True)


def to_utm(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _to_utm().transform(lons, lats)


def _utm_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_utm(xy[:, 0], xy[:, 1]))

    return shapely.transform(geom, move)


def subdivide(geom: shapely.Geometry, max_vertices: int = MAX_VERTICES) -> list[shapely.Geometry]:
    """Split a polygon into polygonal pieces of at most max_vertices vertices (ST_Subdivide in the small)."""
    if shapely.get_num_coordinates(geom) <= max_vertices:
        return [geom]
    x0, y0, x1, y1 = geom.bounds
    if x1 - x0 >= y1 - y0:
        halves = (shapely.box(x0, y0, (x0 + x1) / 2, y1), shapely.box((x0 + x1) / 2, y0, x1, y1))
    else:
        halves = (shapely.box(x0, y0, x1, (y0 + y1) / 2), shapely.box(x0, (y0 + y1) / 2, x1, y1))
    out: list[shapely.Geometry] = []
    for half in halves:
        for part in shapely.get_parts(shapely.intersection(geom, half)):
            if part.geom_type == "Polygon" and not part.is_empty:
                out.extend(subdivide(part, max_vertices))
    return out


def _polygonal(geom: shapely.Geometry) -> list[shapely.Geometry]:
    return [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type == "Polygon" and p.area > 0]


def _read_features(spec: dict) -> tuple[list[str], list[str], list[shapely.Geometry]]:
    from geo.datafiles import DATA

    try:
        features = json.loads((DATA / spec["file"]).read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError) as exc:
        raise GeoDataError(f"boundary file {spec['file']} of edition {spec['id']} cannot be read ({exc}); restore "
                           "it from git or fix geo/data/manifest.yaml") from None
    codes, names, geoms = [], [], []
    for f in features:
        props = f["properties"]
        codes.append(str(props[spec["code_field"]]).zfill(4))
        names.append(next((props[n] for n in spec["name_fields"] if props.get(n)), codes[-1]))
        geoms.append(shapely.geometry.shape(f["geometry"]))
    return codes, names, geoms


def _region_table(spec: dict, codes: list[str]) -> tuple[list[str], list[str]]:
    cols = spec["regions"]
    rows = {r[cols["code"]].zfill(4): r for r in read_csv(cols["file"], (cols["code"], cols["region"]))}
    missing = [c for c in codes if c not in rows]
    if missing:
        raise GeoDataError(f"edition {spec['id']}: municipalities {missing} have no BA-region in {cols['file']}; "
                           "add a row for each")
    return ([rows[c][cols["region"]] for c in codes], [rows[c][cols["reference_code"]].zfill(4) for c in codes])


def _land_masses(parts_utm: list[shapely.Geometry], join_m: float) -> tuple[np.ndarray, int]:
    land = shapely.get_parts(shapely.union_all(shapely.buffer(np.array(parts_utm), join_m / 2)))
    tree = shapely.STRtree(land)
    probe = shapely.point_on_surface(np.array(parts_utm))
    src, hit = tree.query(probe, predicate="intersects")  # each part lies inside exactly one land mass
    out = np.zeros(len(parts_utm), dtype=np.int32)
    out[src] = hit
    return out, int(np.argmax(shapely.area(land)))


def _neighbours(parts_utm: np.ndarray, part_region: np.ndarray, within_m: float) -> dict[str, frozenset[str]]:
    left, right = shapely.STRtree(parts_utm).query(parts_utm, predicate="dwithin", distance=within_m)
    pairs = {(a, b) for a, b in zip(part_region[left], part_region[right], strict=True) if a != b}
    out: dict[str, set[str]] = {r: set() for r in set(part_region)}
    for a, b in pairs:
        out[a].add(b)
    return {r: frozenset(v) for r, v in out.items()}


def _pieces(parts, part_muni, part_land) -> tuple[list[shapely.Geometry], np.ndarray, np.ndarray]:
    pieces, muni, land = [], [], []
    for p, m, mass in zip(parts, part_muni, part_land, strict=True):
        for piece in subdivide(p):
            pieces.append(piece)
            muni.append(m)
            land.append(mass)
    return pieces, np.array(muni, dtype=np.int32), np.array(land, dtype=np.int32)


def _load_edition(spec: dict, cfg: dict, join_m: float) -> Edition:
    codes, names, raw = _read_features(spec)
    regions, reference = _region_table(spec, codes)
    geoms = [shapely.make_valid(g) for g in raw]
    parts, part_muni = [], []
    for i, g in enumerate(geoms):
        for p in _polygonal(g):
            parts.append(p)
            part_muni.append(i)
    parts_utm = [_utm_geometry(p) for p in parts]
    part_land, mainland = _land_masses(parts_utm, join_m)
    pieces, piece_muni, piece_land = _pieces(parts, part_muni, part_land)
    utm_pieces = _utm_geometry(np.array(pieces, dtype=object))  # the same pieces, projected in one call
    part_muni_arr = np.array(part_muni, dtype=np.int32)
    region_arr = np.array(regions)
    return Edition(
        id=spec["id"], valid_from=parse_date(spec["valid_from"], "valid_from"),
        valid_to=parse_date(spec.get("valid_to"), "valid_to"), codes=np.array(codes), names=np.array(names),
        regions=region_arr, reference=np.array(reference), geoms=np.array(geoms, dtype=object),
        pieces=np.array(pieces, dtype=object), piece_muni=piece_muni, piece_land=piece_land, tree=shapely.STRtree(pieces),
        utm_tree=shapely.STRtree(utm_pieces), mainland=mainland,
        neighbours=_neighbours(np.array(parts_utm, dtype=object), region_arr[part_muni_arr],
                               float(cfg["neighbour_distance_m"])))


@functools.cache
def editions() -> tuple[Edition, ...]:
    """All boundary editions of the manifest, loaded once (the first call takes about a second)."""
    cfg = manifest()
    join_m = float(read_yaml(cfg["travel"]).get("land_join_m", 150))
    loaded = tuple(_load_edition(spec, cfg, join_m) for spec in cfg["boundary_editions"])
    return tuple(sorted(loaded, key=lambda e: e.valid_from))


@functools.cache
def region_names() -> dict[str, str]:
    spec = manifest()["region_names"]
    return {r[spec["code"]]: r[spec["name"]] for r in read_csv(spec["file"], (spec["code"], spec["name"]))}


@functools.cache
def _edition_on(day: date) -> Edition:
    for edition in editions():
        if edition.valid_on(day):
            return edition
    spans = ", ".join(f"{e.id} ({e.valid_from}..{e.valid_to or 'open'})" for e in editions())
    raise EditionError(f"no boundary edition is valid on {day}; editions: {spans}. Use a time inside one of them "
                       "or add an edition to geo/data/manifest.yaml")


def edition_at(at: datetime | date | str | None = None) -> Edition:
    """The boundary edition valid at `at` (Norwegian calendar date; None = now)."""
    return _edition_on(local_date(as_datetime(at)))


def _coordinates(lons: Any, lats: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lons) == 0 and np.ndim(lats) == 0
    try:
        x = np.atleast_1d(np.asarray(lons, dtype=float))
        y = np.atleast_1d(np.asarray(lats, dtype=float))
    except (TypeError, ValueError):
        raise GeoInputError(f"lons={lons!r}, lats={lats!r}: coordinates must be numbers (WGS84 degrees)") from None
    if x.shape != y.shape:
        raise GeoInputError(f"lons has shape {x.shape} but lats has {y.shape}; pass arrays of the same length")
    bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeoInputError(f"coordinate #{i} (lon={x[i]}, lat={y[i]}) is not a WGS84 lon/lat: lon must be in "
                            "-180..180 and lat in -90..90 (did you swap them?)")
    return x, y, scalar


def locate_in(edition: Edition, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Core of locate: municipality index (-1 = none), snapped flag, distance in metres, land mass, per point."""
    n = len(x)
    muni = np.full(n, -1, dtype=np.int64)
    land = np.full(n, -1, dtype=np.int32)
    points, pieces = edition.tree.query(shapely.points(x, y), predicate="intersects")
    if len(points):
        _assign_hits(edition, points, pieces, muni, land)
    distance = np.zeros(n)
    snapped = np.zeros(n, dtype=bool)
    missing = np.flatnonzero(muni < 0)
    if len(missing):
        _snap(edition, x, y, missing, muni, land, distance, snapped)
    return muni, snapped, distance, land


def _assign_hits(edition: Edition, points: np.ndarray, pieces: np.ndarray, muni: np.ndarray, land: np.ndarray) -> None:
    """Municipality and land mass of each hit point. A point in several pieces (on a shared border): the lowest
    municipality index wins, so the answer is deterministic."""
    hit_muni = edition.piece_muni[pieces]
    if np.bincount(points, minlength=len(muni)).max() <= 1:  # the usual case: one piece per point
        muni[points], land[points] = hit_muni, edition.piece_land[pieces]
        return
    order = np.lexsort((hit_muni, points))[::-1]  # later writes win: lowest municipality written last
    muni[points[order]] = hit_muni[order]
    land[points[order]] = edition.piece_land[pieces[order]]


def _snap(edition, x, y, missing, muni, land, distance, snapped) -> None:
    """Snap points near the coast; for the rest record the distance to the nearest municipality."""
    tolerance = float(manifest()["snap_tolerance_m"])
    ux, uy = to_utm(x[missing], y[missing])
    points = shapely.points(ux, uy)
    src, piece = edition.utm_tree.query(points, predicate="dwithin", distance=tolerance)
    near = np.full(len(missing), np.inf)
    best = np.full(len(missing), -1)
    if len(src):
        d = shapely.distance(points[src], edition.utm_tree.geometries[piece])
        order = np.lexsort((edition.piece_muni[piece], d, src))  # nearest, then lowest municipality index
        first = np.unique(src[order], return_index=True)[1]
        near[src[order][first]], best[src[order][first]] = d[order][first], piece[order][first]
    ok = best >= 0
    idx = missing[ok]
    muni[idx], land[idx] = edition.piece_muni[best[ok]], edition.piece_land[best[ok]]
    snapped[idx], distance[idx] = True, near[ok]
    far = np.flatnonzero(~ok)
    if len(far):
        dist = edition.utm_tree.query_nearest(points[far], return_distance=True, all_matches=False)[1]
        distance[missing[far]] = dist


PLACEMENT_CACHE_SIZE = 100_000


def locate_one(edition: Edition, lon: float, lat: float) -> tuple[int, bool, float, int]:
    """locate_in for one point without array overhead (the routing hot path). Answers are remembered per
    edition (the last PLACEMENT_CACHE_SIZE points): a case is routed again on every request and change of
    the same addresses, and a point near the coast costs a snap search (~0.25 ms) each time otherwise."""
    cache = edition.placements
    found = cache.get((lon, lat))
    if found is None:
        found = _locate_one(edition, lon, lat)
        if len(cache) >= PLACEMENT_CACHE_SIZE:
            cache.pop(next(iter(cache)), None)  # the oldest entry (dicts keep insertion order)
        cache[(lon, lat)] = found
    return found


def remember(edition: Edition, lons: Sequence[float], lats: Sequence[float]) -> int:
    """Place many points in one vectorized call into locate_one's memory, so that routing them one by one
    afterwards costs a lookup: a batch of events pays one tree query (and one snap search) for all its new
    addresses instead of one each. Returns how many points were new."""
    cache = edition.placements
    todo = list(dict.fromkeys(p for p in zip(lons, lats, strict=True) if p not in cache))
    if not todo:
        return 0
    x, y = np.array([p[0] for p in todo], dtype=float), np.array([p[1] for p in todo], dtype=float)
    muni, snapped, distance, land = locate_in(edition, x, y)
    for i, point in enumerate(todo):
        cache[point] = (int(muni[i]), bool(snapped[i]), float(distance[i]), int(land[i]))
    for _ in range(len(cache) - PLACEMENT_CACHE_SIZE):
        cache.pop(next(iter(cache)), None)
    return len(todo)


def _locate_one(edition: Edition, lon: float, lat: float) -> tuple[int, bool, float, int]:
    near = edition.cell_index.candidates(lon, lat)
    if near is not None:
        hits = near[0][shapely.intersects_xy(near[1], lon, lat)]
        if len(hits):
            piece = hits[0] if len(hits) == 1 else hits[np.argmin(edition.piece_muni[hits])]
            return int(edition.piece_muni[piece]), False, 0.0, int(edition.piece_land[piece])
    muni, snapped, distance, land = locate_in(edition, np.array([lon]), np.array([lat]))
    return int(muni[0]), bool(snapped[0]), float(distance[0]), int(land[0])


def _scalar_placement(edition: Edition, lon: float, lat: float) -> Placement:
    muni, snapped, distance, land = locate_one(edition, lon, lat)
    if muni < 0:
        return Placement(None, None, False, False, distance, -1, edition.id)
    return Placement(edition.code_list[muni], edition.region_list[muni], True, snapped, distance, land, edition.id)


def locate(lons: Any, lats: Any, at: datetime | date | str | None = None) -> Placement:
    """Municipality and BA-region of WGS84 points at time `at` (None = now). Scalar in, scalar out."""
    edition = edition_at(at)
    if type(lons) is float and type(lats) is float and -180 <= lons <= 180 and -90 <= lats <= 90:
        return _scalar_placement(edition, lons, lats)  # plain floats: skip the array checks (NaN fails above)
    x, y, scalar = _coordinates(lons, lats)
    if scalar:
        return _scalar_placement(edition, float(x[0]), float(y[0]))
    muni, snapped, distance, land = locate_in(edition, x, y)
    placeable = muni >= 0
    codes = np.where(placeable, edition.codes[muni], "")
    regions = np.where(placeable, edition.regions[muni], "")  # muni -1 indexes the last row: masked here
    return Placement(codes, regions, placeable, snapped, distance, land, edition.id)
