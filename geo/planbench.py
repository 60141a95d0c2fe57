"""`veiviser bench plan`: the planner next to a direct VROOM call and the nearest-neighbour baseline.

For each day size (visits, workers) a seeded scenario is drawn from real places (the caller passes them:
name, lon, lat, weight): visits at places in proportion to population (jittered by up to ~1.5 km, so
addresses differ), a mix of home / work / school visits, some young people and complex needs, and a share of
repeat visits that name the person's earlier worker (continuity); workers start from different bases. One
problem and ONE travel matrix (geo's travel model) are built; then, alternating over `rounds`:
    planner  geo.vrp.solve: VROOM, the continuity pass, decoding to routes, reasons for unplanned visits
    direct   one plain VROOM call on the identical problem and matrix at VROOM's own defaults (exploration
             level 5, as many threads as cores; no continuity, no decoding)
    nn       geo.baseline.nearest_neighbour on the same problem and matrix
Solve time is the median over the rounds; travel is the total of the routes (minutes; VROOM is deterministic).
The last default size spreads 60 visits over three days of three workers (multi-day: shifts as vehicles).
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from geo.baseline import nearest_neighbour
from geo.planning import PlanOptions, Shift, Visit, visit_priority
from geo.vrp import build_problem, direct_vroom, route_cost, solve, travel_matrix

__all__ = ["Place", "Figures", "scenario", "run_plan_bench", "SIZES"]

SIZES = ((20, 3, 1), (60, 6, 1), (150, 10, 1), (60, 3, 3))  # visits, workers, days
DIRECT_LEVEL = 5
CORES = max(1, min(4, os.cpu_count() or 1))
KINDS = (("home", 0.6), ("work", 0.25), ("school", 0.15))


@dataclass(frozen=True)
class Place:
    name: str
    lon: float
    lat: float
    weight: int


@dataclass(frozen=True)
class Figures:
    visits: int
    workers: int
    days: int
    matrix_s: float
    solve_s: dict[str, float]  # planner / direct / nn: median seconds
    travel_min: dict[str, float]
    planned: dict[str, int]
    continuity: str


def scenario(places: Sequence[Place], visits: int, workers: int, day: date, seed: int = 7,
             repeat_share: float = 0.2, duration_min: int = 30, days: int = 1) -> tuple[list[Visit], list[Shift]]:
    """Visits that may take place on any of `days` weekdays from `day`; each worker has a shift each day."""
    rng = random.Random(seed)
    weights = [p.weight for p in places]
    bases = sorted(places, key=lambda p: -p.weight)[:workers]
    worker_ids = [f"w{k:02d}" for k in range(workers)]
    dates = [day + timedelta(days=i) for i in range(days)]
    shifts = [Shift(w, d, time(8), time(16), b.lon, b.lat) for d in dates
              for w, b in zip(worker_ids, _cycle(bases, workers), strict=True)]
    out = []
    for i in range(visits):
        place = rng.choices(places, weights)[0]
        lon, lat = _jitter(rng, place)
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        young, complex_needs = rng.random() < 0.3, rng.random() < 0.2
        previous = rng.choice(worker_ids) if rng.random() < repeat_share else None
        out.append(Visit(f"v{i:04d}", f"case-{i:04d}", lon, lat, kind, day, dates[-1], duration_min,
                         priority=visit_priority(young, complex_needs), previous_worker=previous))
    return out, shifts


def _cycle(items: Sequence[Place], n: int) -> list[Place]:
    return [items[i % len(items)] for i in range(n)]


def _jitter(rng: random.Random, place: Place) -> tuple[float, float]:
    dy, dx = rng.uniform(-1.5, 1.5) / 111.2, rng.uniform(-1.5, 1.5) / (111.2 * math.cos(math.radians(place.lat)))
    return place.lon + dx, place.lat + dy


def run_plan_bench(places: Sequence[Place], sizes: Sequence[tuple[int, int, int]] = SIZES, rounds: int = 3,
                   day: date | None = None, say: Callable[[str], None] = lambda _t: None) -> list[Figures]:
    day = day or _next_monday()
    return [_one(places, n, w, d, day, rounds, say) for n, w, d in sizes]


def _one(places, visits: int, workers: int, days: int, day: date, rounds: int, say) -> Figures:
    vs, shifts = scenario(places, visits, workers, day, days=days)
    options = PlanOptions(threads=CORES)
    problem = build_problem(vs, shifts, options)
    started = clock.perf_counter()
    matrix = travel_matrix(problem.points)
    matrix_s = clock.perf_counter() - started
    times: dict[str, list[float]] = {"planner": [], "direct": [], "nn": []}
    results: dict[str, object] = {}
    for r in range(rounds):
        for name, run in (("planner", lambda: solve(problem, matrix)), ("direct", lambda: direct_vroom(problem, matrix, DIRECT_LEVEL, CORES)),
                          ("nn", lambda: nearest_neighbour(problem, matrix))):
            say(f"{visits} visits / {workers} workers / {days} day(s): {name}, round {r + 1} of {rounds}")
            started = clock.perf_counter()
            results[name] = run()
            times[name].append(clock.perf_counter() - started)
    planner, direct, nn = results["planner"], results["direct"], results["nn"]
    travel = {"planner": sum(x.travel_min for x in planner.routes), "direct": route_cost(direct) / 60,
              "nn": nn.travel_min}
    planned = {"planner": sum(len(x.stops) for x in planner.routes),
               "direct": visits - len(direct["unassigned"]) - len(problem.precluded),
               "nn": sum(len(x.stops) for x in nn.routes)}
    return Figures(visits, workers, days, matrix_s, {k: statistics.median(v) for k, v in times.items()}, travel, planned,
                   planner.continuity)


def _next_monday() -> date:
    today = date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)
