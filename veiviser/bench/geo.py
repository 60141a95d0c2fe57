"""Measurements for `veiviser bench geo`: locate() and routing decisions next to raw shapely STRtree queries on the
same geometries (the edition's subdivided municipality pieces), measured in the same run.

Workload: people placed at GeoNames places (cities500, Nordland and Trøndelag) with a small random offset, kept
when they fall inside a municipality polygon ("on land"); a second set adds 5% shoreline points (snapped).
Rates are per CPU second of this single-threaded process (one core, fair on a shared machine), with the wall
clock rate beside them. Each figure is the best of `repeats` rounds; a round runs every measurement once, so a change in machine load
affects baseline and subject alike. One core (the process is single-threaded).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from geo.cases import Case, PersonLocation
from geo.datafiles import read_csv
from geo.regions import Edition, edition_at, locate
from geo.routing import route, route_many

__all__ = ["Figure", "Workload", "workload", "run_all"]

AT = "2021-03-03T10:00:00+01:00"


@dataclass(frozen=True)
class Figure:
    name: str
    per_s: float  # per CPU second of this (single-threaded) process: one core
    per_wall_s: float
    baseline: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Workload:
    edition: Edition
    x: np.ndarray
    y: np.ndarray
    shore_x: np.ndarray
    shore_y: np.ndarray


def workload(n: int, seed: int = 20) -> Workload:
    """n points on land and n points of which 5% are on the shore (outside polygons, within the tolerance)."""
    edition = edition_at(AT)
    rows = read_csv("geonames_cities500_nordland_trondelag.csv")
    lon = np.array([float(r["longitude"]) for r in rows])
    lat = np.array([float(r["latitude"]) for r in rows])
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(rows), 4 * n)
    x, y = lon[pick] + rng.normal(0, 0.01, 4 * n), lat[pick] + rng.normal(0, 0.004, 4 * n)
    inside = np.zeros(len(x), dtype=bool)
    inside[edition.tree.query(shapely.points(x, y), predicate="intersects")[0]] = True
    placed = locate(x[~inside], y[~inside], at=AT)
    shore_x, shore_y = x[~inside][placed.placeable], y[~inside][placed.placeable]
    land_x, land_y = x[inside][:n], y[inside][:n]
    k = min(len(shore_x), n // 20)
    mixed_x = np.concatenate([land_x[: n - k], shore_x[:k]])
    mixed_y = np.concatenate([land_y[: n - k], shore_y[:k]])
    return Workload(edition, land_x, land_y, mixed_x, mixed_y)


def seconds(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) for one run. CPU time is the "one core" figure on a shared
    machine; wall time is shown next to it."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def _raw_vectorized(tree: shapely.STRtree, x: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    return lambda: tree.query(shapely.points(x, y), predicate="intersects")


def _raw_per_call(tree: shapely.STRtree, x: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    def run() -> None:
        for lon, lat in zip(x.tolist(), y.tolist(), strict=True):
            tree.query(shapely.Point(lon, lat), predicate="intersects")
    return run


def _locate_per_call(x: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    def run() -> None:
        for lon, lat in zip(x.tolist(), y.tolist(), strict=True):
            locate(lon, lat, at=AT)
    return run


def _cases(w: Workload, n: int) -> list[Case]:
    rng = np.random.default_rng(7)
    cases = []
    for k in range(n):
        locations = [PersonLocation("home", float(w.x[k]), float(w.y[k]))]
        if k % 3 == 0:  # a third also work somewhere else
            j = int(rng.integers(0, len(w.x)))
            locations.append(PersonLocation("work", float(w.x[j]), float(w.y[j])))
        markers = {"young"} if k % 5 == 0 else set()
        cases.append(Case(f"bench-{k}", locations, markers=markers))
    return cases


def _route_per_call(cases: list[Case]) -> Callable[[], object]:
    def run() -> None:
        for case in cases:
            route(case, at=AT)
    return run


def _plan(w: Workload, n_calls: int) -> list[tuple[str, int, Callable[[], object], str | None, str]]:
    """(name, items per run, run, baseline name, note) for every measurement, all on the same geometries."""
    tree, whole = w.edition.tree, shapely.STRtree(w.edition.geoms)
    xs, ys = w.x[:n_calls], w.y[:n_calls]
    cases = _cases(w, n_calls)
    route_many(cases[:100], at=AT)  # warm the per-edition views
    return [
        ("raw STRtree, vectorized", len(w.x), _raw_vectorized(tree, w.x, w.y), None, "baseline"),
        ("raw STRtree, whole polygons", len(w.x), _raw_vectorized(whole, w.x, w.y),
         "raw STRtree, vectorized", "unsubdivided polygons"),
        ("locate, vectorized", len(w.x), lambda: locate(w.x, w.y, at=AT),
         "raw STRtree, vectorized", "goal >= 0.8"),
        ("locate, vectorized, 5% shore", len(w.shore_x), lambda: locate(w.shore_x, w.shore_y, at=AT),
         "raw STRtree, vectorized", "5% snapped (raw cannot)"),
        ("raw STRtree, per call", n_calls, _raw_per_call(tree, xs, ys), None, "baseline"),
        ("locate, per call", n_calls, _locate_per_call(xs, ys), "raw STRtree, per call", ""),
        ("decisions, route_many", n_calls, lambda: route_many(cases, at=AT), "raw STRtree, per call",
         "goal >= 20,000/s"),
        ("decisions, route per call", n_calls, _route_per_call(cases), "raw STRtree, per call", "goal >= 20,000/s"),
    ]


def run_all(n: int, n_calls: int, repeats: int, step: Callable[[str, Callable[[], Any]], Any]) -> list[Figure]:
    """All figures; `step(label, fn)` runs one measurement (the CLI shows progress there)."""
    w = step("loading boundaries and sampling points", lambda: workload(n))
    plan = step("preparing cases", lambda: _plan(w, n_calls))
    best = {name: (float("inf"), float("inf")) for name, *_ in plan}
    for round_ in range(repeats):  # rounds interleave the measurements, so load changes hit all of them alike
        for name, _, fn, _, _ in plan:
            best[name] = min(best[name], step(f"round {round_ + 1}/{repeats}: {name}", lambda f=fn: seconds(f)))
    return [Figure(name, count / best[name][0], count / best[name][1], base, note)
            for name, count, _, base, note in plan]
