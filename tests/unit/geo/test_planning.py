"""The visit planner (geo.planning over VROOM): windows, shifts and bases, skills, priority, days, continuity,
re-planning with fixed stops, reasons for unplanned visits, escalation, the baseline and Solomon files."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from geo.baseline import nearest_neighbour
from geo.errors import GeoInputError
from geo.planning import (
    FixedStop,
    NextStep,
    PlanOptions,
    Reason,
    Shift,
    Visit,
    next_step,
    plan,
    visit_priority,
)
from geo.solomon import (
    BEST_KNOWN,
    Customer,
    SolomonInstance,
    distances,
    parse_solomon,
    read_solomon,
    solve_solomon,
)
from geo.travel import great_circle_km
from geo.vrp import build_problem, travel_matrix

pytestmark = pytest.mark.unit

OSLO = ZoneInfo("Europe/Oslo")
MON = date(2026, 11, 23)  # a Monday
TUE, SAT = MON + timedelta(days=1), MON + timedelta(days=5)
BODO = (14.405, 67.28)
SOLOMON = Path(__file__).parents[2] / "data" / "solomon" / "VV12.txt"


class Km:
    """A travel model for tests: one minute per great-circle km (60 km/h), no ferries."""

    name = "test"

    def minutes(self, origin, destinations):
        return [great_circle_km(origin.lon, origin.lat, d.lon, d.lat) for d in destinations]


def north(km: float, east_km: float = 0.0) -> tuple[float, float]:
    """A point km north (and east) of Bodø."""
    lat = BODO[1] + km / 111.2
    return BODO[0] + east_km / (111.2 * math.cos(math.radians(lat))), lat


def visit(vid: str, km: float, kind: str = "home", day: date = MON, last: date | None = None, **kw) -> Visit:
    lon, lat = north(km, kw.pop("east", 0.0))
    return Visit(vid, f"case-{vid}", lon, lat, kind, day, last or day, **kw)


def shift(worker: str, day: date = MON, starts: time = time(8), ends: time = time(16), at_km: float = 0.0,
          **kw) -> Shift:
    lon, lat = north(at_km, kw.pop("east", 0.0))
    return Shift(worker, day, starts, ends, lon, lat, **kw)


def run(visits, shifts, **options):
    return plan(visits, shifts, PlanOptions(**options), model=Km())


def local(moment: datetime) -> time:
    return moment.astimezone(OSLO).time()


def test_visits_start_in_the_window_of_their_location_kind():
    visits = [visit("school1", 5, "school"), visit("work1", 6, "work"), visit("work2", 7, "work"),
              visit("home1", 8, "home")]
    result = run(visits, [shift("w1", ends=time(20))])
    etas = {s.visit_id: local(s.eta) for r in result.routes for s in r.stops}
    assert set(etas) == {"school1", "work1", "work2", "home1"}
    assert time(8, 30) <= etas["school1"] <= time(14, 30)
    assert time(9) <= etas["home1"] <= time(15)
    for work in ("work1", "work2"):
        assert time(11) <= etas[work] <= time(12, 30) or time(16) <= etas[work] <= time(19)


def test_routes_start_and_end_at_the_workers_own_base_within_the_shift():
    visits = [visit("near-a", 3), visit("near-b", 103)]
    result = run(visits, [shift("a", at_km=0, starts=time(9), ends=time(13)),
                          shift("b", at_km=100, starts=time(10), ends=time(14))])
    by_worker = {r.worker_id: r for r in result.routes}
    assert [s.visit_id for s in by_worker["a"].stops] == ["near-a"]
    assert [s.visit_id for s in by_worker["b"].stops] == ["near-b"]
    assert local(by_worker["b"].stops[0].eta) >= time(10, 3)  # leaves the base at 10:00, 3 km away
    assert by_worker["b"].travel_min == pytest.approx(6, abs=0.2)  # there and back to ITS base, not a's
    for route in result.routes:
        assert local(route.stops[-1].departure) <= time(14)


def test_skills_language_and_youth_specialist_decide_who_visits():
    visits = [visit("arabic", 10, language="ar"), visit("young", 11, youth=True), visit("plain", 12)]
    shifts = [shift("speaks-ar", languages=frozenset({"ar"})), shift("youth", youth_specialist=True)]
    assignments = run(visits, shifts).assignments()
    assert assignments["arabic"][0] == "speaks-ar"
    assert assignments["young"][0] == "youth"


def test_no_skilled_worker_is_the_reason_when_nobody_speaks_the_language():
    result = run([visit("tigrinya", 5, language="ti")], [shift("w1", languages=frozenset({"en"}))])
    assert [(u.visit_id, u.reason) for u in result.unplanned] == [("tigrinya", Reason.NO_SKILLED_WORKER)]
    assert "speaks ti" in result.unplanned[0].detail


def test_priority_wins_when_not_everything_fits():
    # a two-hour shift fits one 60-minute visit; the young person with complex needs is further away
    visits = [visit("ordinary", 2, duration_min=60, priority=visit_priority(False, False)),
              visit("urgent", 15, duration_min=60, priority=visit_priority(True, True))]
    result = run(visits, [shift("w1", starts=time(9), ends=time(11))])
    assert list(result.assignments()) == ["urgent"]
    assert [(u.visit_id, u.reason) for u in result.unplanned] == [("ordinary", Reason.NO_CAPACITY)]


def test_visit_priority_puts_young_and_complex_needs_first_and_is_bounded():
    assert visit_priority(True, True) > visit_priority(True, False) > visit_priority(False, False)
    assert visit_priority(False, True) > visit_priority(False, False, waited_days=3)
    assert visit_priority(True, True, waited_days=100) == 100


def test_multi_day_a_visit_goes_to_a_later_days_shift_when_its_window_allows():
    # each shift fits one 4-hour visit: the second one moves to Tuesday, inside its own window
    visits = [visit("flexible", 5, last=TUE, duration_min=240), visit("monday-only", 6, duration_min=240)]
    result = run(visits, [shift("w1", MON, starts=time(9), ends=time(14)),
                          shift("w1", TUE, starts=time(9), ends=time(14))])
    assert result.assignments() == {"monday-only": ("w1", MON), "flexible": ("w1", TUE)}
    tuesday = next(r for r in result.routes if r.day == TUE)
    assert tuesday.stops[0].eta.astimezone(OSLO).date() == TUE


def test_multi_day_prefers_the_earliest_day_when_both_fit():
    result = run([visit("v", 5, last=TUE)], [shift("w1", MON), shift("w1", TUE)])
    assert result.assignments() == {"v": ("w1", MON)}


def test_school_and_work_visits_are_not_planned_on_a_weekend():
    result = run([visit("school", 5, "school", day=SAT), visit("home", 6, "home", day=SAT)], [shift("w1", SAT)])
    assert result.assignments() == {"home": ("w1", SAT)}
    assert [(u.visit_id, u.reason) for u in result.unplanned] == [("school", Reason.NO_SHIFT_IN_WINDOW)]


def test_continuity_the_same_worker_visits_a_person_again():
    # 'other' is a little closer, but 'earlier' visited this person before
    result = run([visit("repeat", 10, previous_worker="earlier")],
                 [shift("other", at_km=9), shift("earlier", at_km=12)])
    assert result.assignments() == {"repeat": ("earlier", MON)}
    assert result.continuity == "kept"


def test_continuity_gives_way_when_keeping_it_would_leave_visits_unplanned():
    # the earlier worker's short shift holds only one of the two visits: both are planned by someone
    visits = [visit("repeat1", 5, duration_min=90, previous_worker="earlier"),
              visit("repeat2", 6, duration_min=90, previous_worker="earlier")]
    result = run(visits, [shift("earlier", starts=time(9), ends=time(11)), shift("other", at_km=6)])
    assert set(result.assignments()) == {"repeat1", "repeat2"}
    assert result.continuity == "relaxed"


def test_replanning_keeps_started_and_done_visits_first_and_in_order():
    done = visit("done", 20)
    under_way = visit("under-way", 30)
    fixed = (FixedStop("done", done.lon, done.lat, _at(MON, 8, 30), _at(MON, 9, 15)),
             FixedStop("under-way", under_way.lon, under_way.lat, _at(MON, 9, 25), _at(MON, 10, 10)))
    visits = [done, under_way, visit("new1", 2), visit("new2", 31)]
    result = run(visits, [shift("w1", fixed=fixed)])
    stops = result.routes[0].stops
    assert [s.visit_id for s in stops[:2]] == ["done", "under-way"]
    assert [s.fixed for s in stops] == [True, True, False, False]
    assert {s.visit_id for s in stops[2:]} == {"new1", "new2"}
    assert all(s.eta >= _at(MON, 10, 10) for s in stops[2:])
    assert stops[2].visit_id == "new2"  # it continues from where the fixed stops left it (30 km north)


def test_replanning_during_the_day_starts_nothing_new_before_now():
    result = run([visit("v1", 5), visit("v2", 6)], [shift("w1")], now=_at(MON, 12, 0))
    assert all(s.eta >= _at(MON, 12, 0) for r in result.routes for s in r.stops)
    assert len(result.assignments()) == 2


def test_a_worker_off_sick_is_left_out_and_the_others_take_the_visits():
    visits = [visit("v1", 5), visit("v2", 6)]
    before = run(visits, [shift("sick", at_km=5), shift("well", at_km=40)])
    after = run(visits, [shift("well", at_km=40)])
    assert {w for w, _ in before.assignments().values()} == {"sick"}
    assert {w for w, _ in after.assignments().values()} == {"well"}


def test_out_of_reach_when_the_route_length_limit_forbids_the_trip():
    result = run([visit("far", 80)], [shift("w1", max_route_min=120)])
    assert [(u.visit_id, u.reason) for u in result.unplanned] == [("far", Reason.OUT_OF_REACH)]


def test_no_shift_in_window_when_no_worker_works_that_day():
    result = run([visit("thursday", 5, day=MON + timedelta(days=3))], [shift("w1", MON)])
    assert [(u.visit_id, u.reason) for u in result.unplanned] == [("thursday", Reason.NO_SHIFT_IN_WINDOW)]


def test_an_unplanned_visit_is_offered_again_and_escalated_after_the_wait():
    assert next_step(MON, MON, escalate_after_days=3) == (NextStep.OFFER_AGAIN, TUE)
    assert next_step(MON, MON + timedelta(days=2), 3) == (NextStep.OFFER_AGAIN, MON + timedelta(days=3))
    assert next_step(MON, MON + timedelta(days=3), 3) == (NextStep.ESCALATE, None)


def test_planning_is_deterministic():
    visits = [visit(f"v{i}", 3 * i, east=(i % 4) * 5, kind=("home", "work", "school")[i % 3]) for i in range(15)]
    shifts = [shift("a"), shift("b", at_km=20), shift("c", at_km=40)]
    assert run(visits, shifts) == run(visits, shifts)


def test_bad_input_is_refused_with_the_fix():
    with pytest.raises(GeoInputError, match="swap them"):
        visit("v", 1, day=TUE, last=MON)
    with pytest.raises(GeoInputError, match="given twice"):
        run([visit("v", 1), visit("v", 2)], [shift("w1")])
    with pytest.raises(GeoInputError, match="ends"):
        shift("w1", starts=time(16), ends=time(8))


def test_nearest_neighbour_baseline_respects_windows_and_shifts():
    visits = [visit(f"v{i}", 4 * i, kind=("home", "work", "school")[i % 3]) for i in range(10)]
    problem = build_problem(visits, [shift("w1", ends=time(20)), shift("w2", at_km=30)], PlanOptions())
    baseline = nearest_neighbour(problem, travel_matrix(problem.points, Km()))
    windows = {"home": [(time(9), time(15))], "school": [(time(8, 30), time(14, 30))],
               "work": [(time(11), time(12, 30)), (time(16), time(19))]}
    kinds = {v.id: v.kind for v in visits}
    assert baseline.assignments()
    for route in baseline.routes:
        for stop in route.stops:
            assert any(a <= local(stop.eta) <= b for a, b in windows[kinds[stop.visit_id]])
    assert all(local(r.stops[-1].departure) <= time(20) for r in baseline.routes if r.stops)


# -- Solomon ------------------------------------------------------------------------------------------------

SMALL = """TINY

VEHICLE
NUMBER     CAPACITY
  2          10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0        100          0
    1      3          4          5          0         50          1
    2     -3          4          5          0         50          1
    3      0         10          6          0         80          2
"""


def test_solomon_file_is_parsed():
    instance = parse_solomon(SMALL)
    assert (instance.name, instance.vehicles, instance.capacity) == ("TINY", 2, 10)
    assert instance.depot.due == 100
    assert [(c.no, c.x, c.y, c.demand, c.ready, c.due, c.service) for c in instance.customers][0] == \
        (1, 3.0, 4.0, 5, 0.0, 50.0, 1.0)
    assert distances(instance)[0, 1] == pytest.approx(5.0)


def test_solomon_solution_is_feasible_and_uses_euclidean_distance():
    result = solve_solomon(parse_solomon(SMALL))
    assert result.unassigned == 0
    assert result.vehicles == 2  # 5 + 5 + 6 exceeds one vehicle's 10
    assert sorted(c for r in result.routes for c in r) == [1, 2, 3]
    # 3 (demand 6) fits with neither 1 nor 2 (5 each, capacity 10): 0-1-2-0 (5 + 6 + 5) and 0-3-0 (20)
    assert sorted(map(sorted, result.routes)) == [[1, 2], [3]]
    assert result.distance == pytest.approx(36.0, abs=0.01)


def test_committed_solomon_instance_is_solved_within_capacity_and_windows():
    instance = read_solomon(SOLOMON)
    result = solve_solomon(instance)
    assert result.unassigned == 0 and result.vehicles <= instance.vehicles
    by_no = {c.no: c for c in instance.customers}
    d = distances(instance)
    for route in result.routes:
        assert sum(by_no[c].demand for c in route) <= instance.capacity
        now, here = 0.0, 0
        for c in route:
            now = max(now + d[here, c], by_no[c].ready)
            assert now <= by_no[c].due + 1e-3
            now, here = now + by_no[c].service, c
        assert now + d[here, 0] <= instance.depot.due + 1e-3


def exact_solomon(instance: SolomonInstance) -> tuple[int, float]:
    """The optimum (fewest vehicles, then shortest distance) by exhaustive search: every feasible single route
    per customer subset (labels of distance and time, dominated ones dropped), then the best partition."""
    d, cs, n = distances(instance), instance.customers, len(instance.customers)
    labels = {(1 << i, i): [(d[0, i + 1], max(d[0, i + 1], c.ready) + c.service)] for i, c in enumerate(cs)
              if max(d[0, i + 1], c.ready) <= c.due}
    route: dict[int, float] = {}
    for mask in range(1, 1 << n):
        if sum(cs[i].demand for i in range(n) if mask >> i & 1) > instance.capacity:
            continue
        for last in range(n):
            for dist, t in labels.get((mask, last), ()):
                if t + d[last + 1, 0] <= instance.depot.due:
                    route[mask] = min(route.get(mask, math.inf), dist + d[last + 1, 0])
                for j in (j for j in range(n) if not mask >> j & 1):
                    arrive = max(t + d[last + 1, j + 1], cs[j].ready)
                    if arrive <= cs[j].due:
                        _add_label(labels.setdefault((mask | 1 << j, j), []), dist + d[last + 1, j + 1],
                                   arrive + cs[j].service)
    best = {0: (0, 0.0)}
    for mask in range(1, 1 << n):
        low, sub, found = mask & -mask, mask, (math.inf, math.inf)
        while sub:
            if sub & low and sub in route and (mask ^ sub) in best:
                v, dist = best[mask ^ sub]
                found = min(found, (v + 1, dist + route[sub]))
            sub = (sub - 1) & mask
        if found[0] < math.inf:
            best[mask] = found
    return best[(1 << n) - 1]


def _add_label(labels: list, dist: float, t: float) -> None:
    if not any(a <= dist and b <= t for a, b in labels):
        labels[:] = [(a, b) for a, b in labels if not (dist <= a and t <= b)] + [(dist, t)]


def test_committed_instance_is_solved_to_its_proven_optimum():
    instance = read_solomon(SOLOMON)
    vehicles, distance = exact_solomon(instance)
    assert BEST_KNOWN["VV12"] == (vehicles, round(distance, 2))
    result = solve_solomon(instance)
    assert (result.vehicles, result.distance) == (vehicles, pytest.approx(distance, abs=0.01))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_solomon_solutions_are_within_two_percent_of_the_optimum(seed):
    rng = random.Random(seed)
    depot = Customer(0, 50, 50, 0, 0, 400, 0)
    customers = []
    for no in range(1, 12):
        ready = rng.choice([0, 30, 60, 120, 180])
        customers.append(Customer(no, rng.randint(0, 100), rng.randint(0, 100), rng.choice([5, 10, 15]), ready,
                                  ready + rng.choice([80, 120, 200]), 10))
    instance = SolomonInstance(f"R{seed}", 6, 40, depot, tuple(customers))
    vehicles, distance = exact_solomon(instance)
    result = solve_solomon(instance)
    assert result.unassigned == 0 and result.vehicles == vehicles
    assert distance - 0.01 <= result.distance <= distance * 1.02  # distance is rounded to 0.01


def test_solomon_errors_name_the_line_and_the_format():
    with pytest.raises(GeoInputError, match="VEHICLE"):
        parse_solomon("not a solomon file")
    with pytest.raises(GeoInputError, match="line 10: a customer row has 7 numbers"):
        parse_solomon(SMALL.replace("    0      0          0          0          0        100          0",
                                    "    0      0          0          x"))


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), OSLO)


def test_the_route_length_limit_counts_the_travel_to_fixed_stops_already_made():
    done = visit("done", 50)  # 50 km out: 50 minutes of a 120-minute limit used
    fixed = (FixedStop("done", done.lon, done.lat, _at(MON, 9, 0), _at(MON, 9, 45)),)
    # 'further' (80 km out) costs 30 + 80 = 110 more from the fixed stop: within 120 on its own, but 160 in all
    result = run([done, visit("further", 80)], [shift("w1", max_route_min=120, fixed=fixed)])
    assert [(u.visit_id, u.reason) for u in result.unplanned] == [("further", Reason.OUT_OF_REACH)]
    assert result.routes[0].travel_min == pytest.approx(100, abs=0.5)  # out to the fixed stop and back
    nearer = run([done, visit("nearer", 45)], [shift("w1", max_route_min=120, fixed=fixed)])
    assert nearer.assignments() == {"nearer": ("w1", MON)}  # 5 + 45 more: 100 in all


def test_the_baseline_uses_only_the_solver_modules_public_api():
    import ast

    import geo.baseline
    import geo.vrp

    tree = ast.parse(Path(geo.baseline.__file__).read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "geo.vrp" for a in n.names]
    assert imported and all(not name.startswith("_") and name in geo.vrp.__all__ for name in imported), imported
