"""Nearest-neighbour planning: the simple baseline the solver is compared with (`veiviser bench plan`).

Shifts are filled one at a time (by date, then worker id): from where the worker is, go to the nearest visit
that still fits (skills, a start window it can reach, the service done and back at the base before the shift
ends, within the route length), until none fits. Same problem, same matrix and the same Route/Plan shape as
the solver's; no priorities, no continuity.
"""

from __future__ import annotations

import time as clock

import numpy as np

from geo.planning import Plan, Route, Stop
from geo.vrp import Problem, diagnose_all, travel_left

__all__ = ["nearest_neighbour"]


def nearest_neighbour(problem: Problem, matrix: np.ndarray) -> Plan:
    started = clock.perf_counter()
    left = set(range(len(problem.visits)))
    routes = [_fill(problem, matrix, k, left) for k in range(len(problem.shifts))]
    unplanned = [*problem.precluded, *diagnose_all(problem, matrix, sorted(left))]
    return Plan(tuple(routes), tuple(unplanned), "nearest-neighbour", "none", clock.perf_counter() - started)


def _fill(problem: Problem, matrix: np.ndarray, k: int, left: set[int]) -> Route:
    here, now = problem.veh_start[k], problem.veh_window[k][0]
    end, closes, limit = problem.veh_end[k], problem.veh_window[k][1], travel_left(problem, matrix, k)
    travel, service, stops = 0, 0, []
    while True:
        best = None
        for j in sorted(left):
            begins = _fits(problem, matrix, k, j, here, now, travel, closes, limit, end)
            if begins is not None and (best is None or matrix[here, problem.job_loc[j]] < best[0]):
                best = (int(matrix[here, problem.job_loc[j]]), j, begins)
        if best is None:
            break
        leg, j, begins = best
        left.discard(j)
        duration = problem.visits[j].duration_min * 60
        stops.append(Stop(problem.visits[j].id, problem.moment(begins), problem.moment(begins + duration),
                          round(leg / 60, 1)))
        travel, service, here, now = travel + leg, service + duration, problem.job_loc[j], begins + duration
    travel += int(matrix[here, end]) if stops else 0
    shift = problem.shifts[k]
    return Route(shift.worker_id, shift.day, tuple(stops), round(travel / 60, 1), round(service / 60, 1))


def _fits(problem: Problem, matrix: np.ndarray, k: int, j: int, here: int, now: int, travel: int, closes: int,
          limit: int | None, end: int) -> int | None:
    """When visit j would start if done next, or None when it does not fit."""
    if not problem.job_skills[j] <= problem.veh_skills[k]:
        return None
    loc = problem.job_loc[j]
    leg, back = int(matrix[here, loc]), int(matrix[loc, end])
    if limit is not None and travel + leg + back > limit:
        return None
    arrive = now + leg
    for a, b in problem.job_windows[j]:
        begins = max(arrive, a)
        if begins <= b and begins + problem.visits[j].duration_min * 60 + back <= closes:
            return begins
    return None
