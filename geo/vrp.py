"""The planning problem as VROOM sees it: vehicles (shift x date), jobs (visits) over one duration matrix.

`build_problem` turns visits and shifts into integer seconds on one time axis (seconds from local midnight
of the first shift date) and indexes the locations; `travel_matrix` fills the matrix from geo.travel's model
(great-circle x circuity + ferry legs, land masses from the boundary edition); `solve` runs VROOM (twice when
continuity applies, see geo.planning) and decodes routes and unplanned reasons; `direct_vroom` is the plain
single VROOM call on the same problem (the benchmark's reference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from geo.errors import GeoInputError
from geo.planning import PlanOptions, Reason, Route, Shift, Stop, Unplanned, Visit
from geo.windows import day_windows

__all__ = ["Problem", "build_problem", "travel_matrix", "solve", "direct_vroom", "route_cost", "travel_left",
           "diagnose_all"]

DAY = 86400
YOUTH = 1  # skill ids: 1 youth specialist, 2.. languages, then continuity (one per worker)


@dataclass
class Problem:
    visits: tuple[Visit, ...]  # given to the solver (index j -> VROOM job id j+1)
    shifts: tuple[Shift, ...]  # available shifts (index k -> VROOM vehicle id k+1)
    options: PlanOptions
    epoch: date
    points: list[tuple[float, float]] = field(default_factory=list)
    job_loc: list[int] = field(default_factory=list)
    job_windows: list[tuple[tuple[int, int], ...]] = field(default_factory=list)
    job_skills: list[set[int]] = field(default_factory=list)
    job_continuity: list[int | None] = field(default_factory=list)
    veh_start: list[int] = field(default_factory=list)
    veh_end: list[int] = field(default_factory=list)
    veh_window: list[tuple[int, int]] = field(default_factory=list)
    veh_skills: list[set[int]] = field(default_factory=list)
    veh_max_travel: list[int | None] = field(default_factory=list)
    veh_per_hour: list[int] = field(default_factory=list)
    worker_skill: dict[str, int] = field(default_factory=dict)
    precluded: list[Unplanned] = field(default_factory=list)

    def seconds(self, day: date, clock: time | int) -> int:
        secs = clock if isinstance(clock, int) else clock.hour * 3600 + clock.minute * 60 + clock.second
        return (day - self.epoch).days * DAY + secs

    def moment(self, seconds: int) -> datetime:
        day = self.epoch + timedelta(days=seconds // DAY)
        return datetime.combine(day, time(), ZoneInfo(self.options.tz)) + timedelta(seconds=seconds % DAY)

    def at(self, moment: datetime) -> int:
        local = moment.astimezone(ZoneInfo(self.options.tz))
        return self.seconds(local.date(), local.time().replace(microsecond=0))


class _Points:
    def __init__(self, points: list[tuple[float, float]]) -> None:
        self.points, self.index = points, {}

    def add(self, lon: float, lat: float) -> int:
        key = (round(lon, 7), round(lat, 7))
        if key not in self.index:
            self.index[key] = len(self.points)
            self.points.append((lon, lat))
        return self.index[key]


def build_problem(visits: list[Visit], shifts: list[Shift], options: PlanOptions) -> Problem:
    _check_unique([v.id for v in visits], "visit")
    _check_unique([f"{s.worker_id} {s.day}" for s in shifts], "shift (worker, date)")
    shifts = sorted(shifts, key=lambda s: s.key)
    epoch = min((s.day for s in shifts), default=min((v.earliest for v in visits), default=date.today()))
    problem = Problem((), tuple(shifts), options, epoch)
    points = _Points(problem.points)
    languages = sorted({s for sh in shifts for s in sh.languages} | {v.language for v in visits if v.language})
    lang_skill = {lang: 2 + i for i, lang in enumerate(languages)}
    workers = sorted({s.worker_id for s in shifts})
    problem.worker_skill = {w: 2 + len(languages) + i for i, w in enumerate(workers)}
    fixed_ids = {f.visit_id for s in shifts for f in s.fixed}
    for k, shift in enumerate(shifts):
        _add_vehicle(problem, points, shift, k, lang_skill)
    kept = []
    for visit in sorted(visits, key=lambda v: v.id):
        if visit.id in fixed_ids:
            continue
        windows = _job_windows(problem, visit)
        if not windows:
            problem.precluded.append(Unplanned(visit.id, Reason.NO_SHIFT_IN_WINDOW, (
                f"no worker has a shift between {visit.earliest} and {visit.latest} on a day a {visit.kind} visit "
                "may take place")))
            continue
        kept.append(visit)
        problem.job_loc.append(points.add(visit.lon, visit.lat))
        problem.job_windows.append(windows)
        skills = ({YOUTH} if visit.youth else set()) | ({lang_skill[visit.language]} if visit.language else set())
        problem.job_skills.append(skills)
        problem.job_continuity.append(problem.worker_skill.get(visit.previous_worker or ""))
    problem.visits = tuple(kept)
    return problem


def _check_unique(ids: list[str], what: str) -> None:
    seen = set()
    for i in ids:
        if i in seen:
            raise GeoInputError(f"{what} {i!r} is given twice; give each once")
        seen.add(i)


def _add_vehicle(problem: Problem, points: _Points, shift: Shift, k: int, lang_skill: dict[str, int]) -> None:
    base = points.add(shift.base_lon, shift.base_lat)
    start, opens = base, problem.seconds(shift.day, shift.starts)
    if shift.fixed:
        for stop in shift.fixed:
            points.add(stop.lon, stop.lat)
        last = shift.fixed[-1]
        start, opens = points.add(last.lon, last.lat), max(opens, problem.at(last.departure))
    if problem.options.now is not None:
        opens = max(opens, problem.at(problem.options.now))
    closes = problem.seconds(shift.day, shift.ends)
    problem.veh_start.append(start)
    problem.veh_end.append(base)
    problem.veh_window.append((min(opens, closes), closes))
    skills = {lang_skill[lang] for lang in shift.languages} | ({YOUTH} if shift.youth_specialist else set())
    problem.veh_skills.append(skills | {problem.worker_skill[shift.worker_id]})
    problem.veh_max_travel.append(None if shift.max_route_min is None else shift.max_route_min * 60)
    day_index = (shift.day - problem.epoch).days
    problem.veh_per_hour.append(round(3600 * (1 + problem.options.later_day_cost * day_index)))


def _job_windows(problem: Problem, visit: Visit) -> tuple[tuple[int, int], ...]:
    days = sorted({s.day for s in problem.shifts if visit.earliest <= s.day <= visit.latest})
    out = []
    for day in days:
        out.extend((problem.seconds(day, a), problem.seconds(day, b))
                   for a, b in day_windows(visit.kind, day, problem.options.rules))
    return tuple(out)


def travel_matrix(points: list[tuple[float, float]], model=None) -> np.ndarray:
    """Travel seconds between every pair of points (integers, as VROOM wants them) from geo's travel model."""
    from geo.regions import edition_at, locate_in
    from geo.travel import Spot, default_model

    model = model or default_model()
    if not points:
        return np.zeros((0, 0), dtype=np.int64)
    lons = np.array([p[0] for p in points], dtype=float)
    lats = np.array([p[1] for p in points], dtype=float)
    edition = edition_at(None)
    muni, _, _, land = locate_in(edition, lons, lats)
    spots = [Spot(float(lons[i]), float(lats[i]), int(land[i]), int(land[i]) == edition.mainland,
                  str(edition.regions[muni[i]]) if muni[i] >= 0 else None) for i in range(len(points))]
    minutes = np.array([model.minutes(s, spots) for s in spots], dtype=float)
    minutes[~np.isfinite(minutes)] = 10 * 24 * 60  # unreachable: ten days, never fits a shift
    return np.rint(minutes * 60).astype(np.int64)


def _vroom_input(problem: Problem, matrix: np.ndarray, continuity: bool):
    import vroom

    inp = vroom.Input()
    inp.set_durations_matrix(profile="car", matrix_input=np.ascontiguousarray(matrix, dtype=np.uint32))
    vehicles = [vroom.Vehicle(k + 1, start=problem.veh_start[k], end=problem.veh_end[k],
                              time_window=vroom.TimeWindow(*problem.veh_window[k]), skills=problem.veh_skills[k],
                              max_travel_time=travel_left(problem, matrix, k),
                              costs=vroom.VehicleCosts(per_hour=problem.veh_per_hour[k]))
                for k in range(len(problem.shifts))]
    jobs = []
    for j, visit in enumerate(problem.visits):
        skills = set(problem.job_skills[j])
        if continuity and problem.job_continuity[j] is not None:
            skills.add(problem.job_continuity[j])
        jobs.append(vroom.Job(j + 1, location=problem.job_loc[j], default_service=visit.duration_min * 60,
                              skills=skills, priority=visit.priority,
                              time_windows=[vroom.TimeWindow(a, b) for a, b in problem.job_windows[j]]))
    if vehicles:
        inp.add_vehicle(vehicles)
    if jobs:
        inp.add_job(jobs)
    return inp


def travel_left(problem: Problem, matrix: np.ndarray, k: int) -> int | None:
    """The route length limit less the travel to the fixed stops already made."""
    limit = problem.veh_max_travel[k]
    return None if limit is None else max(0, limit - _fixed_travel(problem, matrix, problem.shifts[k]))


def direct_vroom(problem: Problem, matrix: np.ndarray, exploration: int | None = None, threads: int | None = None) -> dict:
    """One plain VROOM solve of the problem (no continuity pass, no decoding): its solution as a dict.
    exploration / threads default to the problem's options."""
    if not problem.shifts or not problem.visits:
        return {"summary": {"cost": 0, "unassigned": len(problem.visits), "priority": 0}, "routes": [],
                "unassigned": [{"id": j + 1} for j in range(len(problem.visits))]}
    inp = _vroom_input(problem, matrix, continuity=False)
    return inp.solve(exploration_level=exploration or problem.options.exploration,
                     nb_threads=threads or problem.options.threads).to_dict()


@dataclass(frozen=True)
class Solved:
    routes: tuple[Route, ...]
    unplanned: tuple[Unplanned, ...]
    solver: str
    continuity: str


def solve(problem: Problem, matrix: np.ndarray) -> Solved:
    free = direct_vroom(problem, matrix)
    chosen, continuity = free, _continuity_of(problem, free)
    if continuity == "broken":
        inp = _vroom_input(problem, matrix, continuity=True)
        kept = inp.solve(exploration_level=problem.options.exploration, nb_threads=problem.options.threads).to_dict()
        chosen, continuity = (kept, "kept") if _prefer_kept(kept, free, problem.options) else (free, "relaxed")
    routes = _decode(problem, matrix, chosen)
    unplanned = [*problem.precluded, *_diagnose(problem, matrix, chosen)]
    return Solved(routes, tuple(unplanned), "vroom", continuity)


def _continuity_of(problem: Problem, solution: dict) -> str:
    """none (no repeat visits), kept (each went to its earlier worker) or broken (a second solve is due)."""
    wanted = {j + 1: c for j, c in enumerate(problem.job_continuity) if c is not None}
    if not wanted or not problem.shifts:
        return "none"
    got = {s["id"]: problem.veh_skills[r["vehicle"] - 1] for r in solution["routes"] for s in r["steps"]
           if s["type"] == "job"}
    return "broken" if any(skill not in got.get(job, ()) for job, skill in wanted.items()) else "kept"


def _prefer_kept(kept: dict, free: dict, options: PlanOptions) -> bool:
    k, f = kept["summary"], free["summary"]
    if (k["priority"], -k["unassigned"]) < (f["priority"], -f["unassigned"]):
        return False
    return k["cost"] <= max(f["cost"] * (1 + options.continuity_tolerance), f["cost"] + options.continuity_slack_min * 60)


def route_cost(solution: dict) -> int:
    """Total travel seconds of a VROOM solution (the 'duration' of its routes)."""
    return sum(r["duration"] for r in solution["routes"])


def _decode(problem: Problem, matrix: np.ndarray, solution: dict) -> tuple[Route, ...]:
    by_vehicle = {r["vehicle"]: r for r in solution["routes"]}
    routes = []
    for k, shift in enumerate(problem.shifts):
        fixed = tuple(Stop(f.visit_id, f.eta, f.departure, 0.0, True) for f in shift.fixed)
        fixed_travel = _fixed_travel(problem, matrix, shift)
        stops, travel, service = [], 0, 0
        for step in by_vehicle.get(k + 1, {}).get("steps", []):
            if step["type"] != "job":
                continue
            visit = problem.visits[step["id"] - 1]
            begins = step["arrival"] + step["waiting_time"]
            stops.append(Stop(visit.id, problem.moment(begins), problem.moment(begins + step["service"]),
                              round((step["duration"] - travel) / 60, 1)))
            travel, service = step["duration"], service + step["service"]
        total = by_vehicle[k + 1]["duration"] if (k + 1) in by_vehicle else (
            int(matrix[problem.veh_start[k], problem.veh_end[k]]) if shift.fixed else 0)
        fixed_service = sum((f.departure - f.eta).total_seconds() for f in shift.fixed)
        routes.append(Route(shift.worker_id, shift.day, fixed + tuple(stops), round((total + fixed_travel) / 60, 1),
                            round((service + fixed_service) / 60, 1)))
    return tuple(routes)


def _fixed_travel(problem: Problem, matrix: np.ndarray, shift: Shift) -> int:
    if not shift.fixed:
        return 0
    legs = [(shift.base_lon, shift.base_lat)] + [(f.lon, f.lat) for f in shift.fixed]
    pts = [_index_of(problem, lon, lat) for lon, lat in legs]
    return int(sum(matrix[a, b] for a, b in zip(pts, pts[1:], strict=False)))


def _index_of(problem: Problem, lon: float, lat: float) -> int:
    for i, (x, y) in enumerate(problem.points):
        if math.isclose(x, lon, abs_tol=1e-7) and math.isclose(y, lat, abs_tol=1e-7):
            return i
    raise KeyError((lon, lat))


def _diagnose(problem: Problem, matrix: np.ndarray, solution: dict) -> list[Unplanned]:
    return diagnose_all(problem, matrix, sorted(u["id"] - 1 for u in solution["unassigned"]))


def diagnose_all(problem: Problem, matrix: np.ndarray, jobs: list[int]) -> list[Unplanned]:
    """The reason each of these (solver-indexed) visits was left unplanned."""
    return [_reason(problem, matrix, j) for j in jobs]


def _reason(problem: Problem, matrix: np.ndarray, j: int) -> Unplanned:
    visit, windows = problem.visits[j], problem.job_windows[j]
    open_shifts = [k for k in range(len(problem.shifts))
                   if any(a <= problem.veh_window[k][1] and b >= problem.veh_window[k][0] for a, b in windows)]
    if not open_shifts:
        return Unplanned(visit.id, Reason.NO_SHIFT_IN_WINDOW, "no shift is on duty in the visit's time windows")
    skilled = [k for k in open_shifts if problem.job_skills[j] <= problem.veh_skills[k]]
    if not skilled:
        need = " and ".join(filter(None, [f"speaks {visit.language}" if visit.language else "",
                                          "is a youth specialist" if visit.youth else ""]))
        return Unplanned(visit.id, Reason.NO_SKILLED_WORKER, f"no worker on shift in its window {need}")
    if not any(_reachable(problem, matrix, j, k) for k in skilled):
        return Unplanned(visit.id, Reason.OUT_OF_REACH, "no skilled worker can get there and back within the shift "
                         "and route length")
    return Unplanned(visit.id, Reason.NO_CAPACITY, "the shifts in its window are full with visits of higher or "
                     "equal priority")


def _reachable(problem: Problem, matrix: np.ndarray, j: int, k: int) -> bool:
    loc, (opens, closes) = problem.job_loc[j], problem.veh_window[k]
    there, back = int(matrix[problem.veh_start[k], loc]), int(matrix[loc, problem.veh_end[k]])
    limit = travel_left(problem, matrix, k)
    if limit is not None and there + back > limit:
        return False
    for a, b in problem.job_windows[j]:
        begins = max(opens + there, a)
        if begins <= b and begins + problem.visits[j].duration_min * 60 + back <= closes:
            return True
    return False
