"""Solomon VRPTW instances (Solomon 1987): read the standard text format and solve one with VROOM.

    C101
    VEHICLE
    NUMBER     CAPACITY
      25         200
    CUSTOMER
    CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME
        0      40         50          0          0       1236          0
        1      45         68         10        912        967         90

Customer 0 is the depot. As in the literature, travel time equals the euclidean distance (not rounded);
VROOM wants integers, so times are scaled by `SCALE` and rounded, and the reported distance is recomputed
in full precision from the routes. Vehicles get a large fixed cost, so the solver uses as few as it can
before it shortens the distance (the hierarchical objective of the published best-known solutions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.errors import GeoInputError

__all__ = ["Customer", "SolomonInstance", "SolomonResult", "read_solomon", "parse_solomon", "solve_solomon",
           "BEST_KNOWN"]

SCALE = 1000
# Best known (vehicles, distance). C101: published best-known solution (Rochat & Taillard 1995), as listed in
# SINTEF's "Solomon benchmark" table (www.sintef.no/projectweb/top/vrptw/solomon-benchmark/); the instance file
# itself is not shipped. VV12: our own instance (tests/data/solomon/VV12.txt); its optimum is proven by the
# exhaustive search in tests/unit/geo/test_planning.py (exact_solomon).
BEST_KNOWN = {"C101": (10, 828.94), "VV12": (4, 385.32)}


@dataclass(frozen=True)
class Customer:
    no: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class SolomonInstance:
    name: str
    vehicles: int
    capacity: int
    depot: Customer
    customers: tuple[Customer, ...]


@dataclass(frozen=True)
class SolomonResult:
    distance: float
    vehicles: int
    unassigned: int
    routes: tuple[tuple[int, ...], ...]  # customer numbers per vehicle


def read_solomon(path: str | Path) -> SolomonInstance:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GeoInputError(f"cannot read Solomon file {path}: {exc.strerror}; give the path of a .txt instance") from None
    return parse_solomon(text, path.name)


def parse_solomon(text: str, source: str = "<text>") -> SolomonInstance:
    numbered = [(n, ln.strip()) for n, ln in enumerate(text.splitlines()) if ln.strip()]
    lines, numbers = [ln for _, ln in numbered], [n for n, _ in numbered]
    upper = [ln.upper() for ln in lines]
    try:
        v_at, c_at = upper.index("VEHICLE"), upper.index("CUSTOMER")
    except ValueError:
        raise GeoInputError(f"{source}: not a Solomon instance (no VEHICLE / CUSTOMER sections); expected the "
                            "standard format: name, VEHICLE, NUMBER CAPACITY, values, CUSTOMER, column header, rows") from None
    if len(lines) < c_at + 3:
        raise GeoInputError(f"{source}: no vehicle numbers or customer rows; expected the standard Solomon format")
    vehicles, capacity = _ints(lines[v_at + 2], 2, source, numbers[v_at + 2])
    rows = [_customer(lines[i], source, numbers[i]) for i in range(c_at + 2, len(lines))]
    if not rows or rows[0].no != 0:
        raise GeoInputError(f"{source}: the first CUSTOMER row must be the depot (CUST NO. 0)")
    return SolomonInstance(lines[0], vehicles, capacity, rows[0], tuple(rows[1:]))


def _ints(line: str, n: int, source: str, at: int) -> list[int]:
    parts = line.split()
    try:
        values = [int(float(p)) for p in parts]
    except ValueError:
        values = []
    if len(values) != n:
        raise GeoInputError(f"{source} line {at + 1}: expected {n} numbers, got {line!r}")
    return values


def _customer(line: str, source: str, at: int) -> Customer:
    parts = line.split()
    try:
        no, x, y, demand, ready, due, service = (float(p) for p in parts)
    except ValueError:
        raise GeoInputError(f"{source} line {at + 1}: a customer row has 7 numbers (CUST NO. XCOORD. YCOORD. "
                            f"DEMAND READY TIME DUE DATE SERVICE TIME), got {line!r}") from None
    if due < ready:
        raise GeoInputError(f"{source} line {at + 1}: customer {int(no)} is due ({due}) before it is ready ({ready})")
    return Customer(int(no), x, y, int(demand), ready, due, service)


def distances(instance: SolomonInstance) -> np.ndarray:
    nodes = (instance.depot, *instance.customers)
    xy = np.array([(c.x, c.y) for c in nodes], dtype=float)
    return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))


def solve_solomon(instance: SolomonInstance, exploration: int = 5, threads: int = 2) -> SolomonResult:
    import vroom

    exact = distances(instance)
    inp = vroom.Input()
    inp.set_durations_matrix(profile="car", matrix_input=np.rint(exact * SCALE).astype(np.uint32))
    depot, fixed = instance.depot, int(10 * SCALE * max(1.0, exact.max()) * (len(instance.customers) + 1))
    inp.add_vehicle([vroom.Vehicle(v + 1, start=0, end=0, capacity=[instance.capacity],
                                   time_window=vroom.TimeWindow(_t(depot.ready), _t(depot.due)),
                                   costs=vroom.VehicleCosts(fixed=fixed)) for v in range(instance.vehicles)])
    inp.add_job([vroom.Job(i + 1, location=i + 1, default_service=_t(c.service), delivery=[c.demand],
                           time_windows=[vroom.TimeWindow(_t(c.ready), _t(c.due))])
                 for i, c in enumerate(instance.customers)])
    solution = inp.solve(exploration_level=exploration, nb_threads=threads).to_dict()
    jobs = tuple(tuple(s["id"] for s in r["steps"] if s["type"] == "job") for r in solution["routes"])
    distance = sum(_length(exact, route) for route in jobs)
    routes = tuple(tuple(instance.customers[j - 1].no for j in route) for route in jobs)
    return SolomonResult(round(distance, 2), len(routes), len(solution["unassigned"]), routes)


def _t(value: float) -> int:
    return int(math.floor(value * SCALE + 0.5))


def _length(exact: np.ndarray, route: tuple[int, ...]) -> float:
    stops = (0, *route, 0)
    return float(sum(exact[a, b] for a, b in zip(stops, stops[1:], strict=False)))
