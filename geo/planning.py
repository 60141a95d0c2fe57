"""Planning mobile visits into field workers' day routes: a pure library (no Kafka, no database).

    from geo.planning import Visit, Shift, plan
    result = plan(visits, shifts, today=date(2026, 11, 24))
    result.routes          # one Route per available shift: ordered stops with estimated arrival and departure
    result.unplanned       # visits that did not fit, each with a reason code and an explanation

Model (solver: VROOM through pyvroom, travel times from geo.travel's model as a duration matrix):
- A worker's shift on one date is one vehicle: it starts and ends at the worker's base (bases differ), has the
  shift's hours as its time window, the worker's skills (languages, youth specialist) and, when set, a maximum
  route length (travel minutes).
- Multi-day (VROOM has no notion of days): time runs on one axis counted in seconds from midnight of the first
  planned date; each vehicle is one shift on one date, and a visit whose dates allow several days gets one
  start window per allowed day (geo.windows: school hours, lunch or after work, working hours at home), so the
  solver chooses the day by choosing the vehicle. A later day costs slightly more per hour
  (`later_day_cost`), so of two equal plans the earlier visit wins.
- Priority (young people and complex needs first, `visit_priority`) is VROOM's job priority: when not
  everything fits, the solver maximises the priority planned before cost.
- Continuity: a visit that names the worker of the person's earlier visit gets a skill only that worker's
  shifts have. The problem is solved without that skill first; when some repeat visit went to another worker
  it is solved again with the skill (continuity "kept" when the first solve already kept it); the second plan is kept
  unless it plans less (by priority, then count) or costs more than the free plan by over
  `continuity_tolerance` (a share) and `continuity_slack_min` (minutes).
  `Plan.continuity` says which was kept.
- Re-planning: a shift's `fixed` stops (visits started or done) stay, in order, at the start of its route; the
  vehicle starts at the last fixed stop when it departs (or `now`, whichever is later).
- Unplanned visits get a reason (`Unplanned.reason`): no_shift_in_window, no_skilled_worker, out_of_reach,
  no_capacity. `next_step` says whether one is offered again the next day or escalated to an office
  appointment once it has waited `escalate_after_days`.
Deterministic: the same input gives the same plan (ids sorted, a fixed solver thread count).
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from geo.errors import GeoInputError
from geo.windows import WindowRules

__all__ = ["Visit", "Shift", "FixedStop", "PlanOptions", "Stop", "Route", "Unplanned", "Plan", "Reason", "NextStep",
           "plan", "visit_priority", "next_step"]

TZ = "Europe/Oslo"


class Reason(StrEnum):
    NO_SHIFT_IN_WINDOW = "no_shift_in_window"  # no worker has a shift on a day (and hour) the visit may happen
    NO_SKILLED_WORKER = "no_skilled_worker"  # no worker on shift in its window has the language / youth skill
    OUT_OF_REACH = "out_of_reach"  # a skilled worker cannot get there and back within the shift / route length
    NO_CAPACITY = "no_capacity"  # the shifts are full with visits of higher or equal priority


class NextStep(StrEnum):
    OFFER_AGAIN = "offer_again"
    ESCALATE = "escalate"  # to an office appointment


@dataclass(frozen=True)
class Visit:
    id: str
    case_id: str
    lon: float
    lat: float
    kind: str  # home / work / school: decides the time windows
    earliest: date
    latest: date
    duration_min: int = 45
    language: str | None = None  # the worker must speak it
    youth: bool = False  # the worker must be a youth specialist
    priority: int = 10  # 0..100 (visit_priority)
    previous_worker: str | None = None  # the worker of the person's earlier visit (continuity)

    def __post_init__(self) -> None:
        if self.latest < self.earliest:
            raise GeoInputError(f"visit {self.id}: latest {self.latest} is before earliest {self.earliest}; swap them")
        if not 0 <= self.priority <= 100 or self.duration_min <= 0:
            raise GeoInputError(f"visit {self.id}: priority {self.priority} must be 0..100 and duration "
                                f"{self.duration_min} min positive")


@dataclass(frozen=True)
class FixedStop:
    """A visit already started or done on this shift: kept in place at the start of the route."""

    visit_id: str
    lon: float
    lat: float
    eta: datetime
    departure: datetime


@dataclass(frozen=True)
class Shift:
    worker_id: str
    day: date
    starts: time
    ends: time
    base_lon: float
    base_lat: float
    languages: frozenset[str] = frozenset()
    youth_specialist: bool = False
    max_route_min: int | None = None  # most travel minutes on the route
    fixed: tuple[FixedStop, ...] = ()

    def __post_init__(self) -> None:
        if self.ends <= self.starts:
            raise GeoInputError(f"shift of {self.worker_id} on {self.day}: ends {self.ends} not after starts "
                                f"{self.starts}; give local HH:MM with ends later the same day")

    @property
    def key(self) -> tuple[date, str]:
        return self.day, self.worker_id


@dataclass(frozen=True)
class PlanOptions:
    rules: WindowRules = field(default_factory=WindowRules)
    continuity_tolerance: float = 0.10  # continuity may cost this much more travel (share) ...
    continuity_slack_min: float = 15.0  # ... or this many minutes, whichever is more
    later_day_cost: float = 0.01  # extra cost per hour for each day later than the first
    exploration: int = 2  # VROOM's exploration level 1..5 (2: 60 visits in well under 2 s, see bench plan)
    threads: int = 2
    now: datetime | None = None  # re-planning during a day: no new visit starts before this
    tz: str = TZ


@dataclass(frozen=True)
class Stop:
    visit_id: str
    eta: datetime  # when the visit starts (the worker arrives, or waits until the window opens)
    departure: datetime
    travel_min: float  # from the previous stop (or the base)
    fixed: bool = False


@dataclass(frozen=True)
class Route:
    worker_id: str
    day: date
    stops: tuple[Stop, ...]
    travel_min: float  # base -> stops -> base
    service_min: float


@dataclass(frozen=True)
class Unplanned:
    visit_id: str
    reason: Reason
    detail: str


@dataclass(frozen=True)
class Plan:
    routes: tuple[Route, ...]
    unplanned: tuple[Unplanned, ...]
    solver: str
    continuity: str = "none"  # none (no repeat visits) / kept / relaxed
    solve_s: float = field(default=0.0, compare=False)

    @property
    def travel_min(self) -> float:
        return sum(r.travel_min for r in self.routes)

    def assignments(self) -> dict[str, tuple[str, date]]:
        """visit id -> (worker id, date) of every planned (not fixed) stop."""
        return {s.visit_id: (r.worker_id, r.day) for r in self.routes for s in r.stops if not s.fixed}


def visit_priority(young: bool, complex_needs: bool, waited_days: int = 0) -> int:
    """Young people and complex needs first; a visit that has waited gains a little (at most +10)."""
    return min(100, 10 + 40 * bool(young) + 40 * bool(complex_needs) + min(10, 2 * max(0, waited_days)))


def next_step(first_offered: date, today: date, escalate_after_days: int) -> tuple[NextStep, date | None]:
    """An unplanned visit: offered again the next day, or escalated once it waited escalate_after_days."""
    if (today - first_offered).days >= escalate_after_days:
        return NextStep.ESCALATE, None
    return NextStep.OFFER_AGAIN, today + timedelta(days=1)


def plan(visits: list[Visit], shifts: list[Shift], options: PlanOptions | None = None,
         matrix=None, model=None) -> Plan:
    """Plan the visits into the shifts (see the module docstring). `matrix` (seconds, over
    `geo.vrp.build_problem(...).points`) skips the travel model, e.g. to share one matrix in a benchmark."""
    from geo.vrp import build_problem, solve, travel_matrix

    options = options or PlanOptions()
    started = clock.perf_counter()
    problem = build_problem(visits, shifts, options)
    if matrix is None:
        matrix = travel_matrix(problem.points, model)
    result = solve(problem, matrix)
    return Plan(result.routes, result.unplanned, result.solver, result.continuity,
                clock.perf_counter() - started)
