"""What the planner does with its messages, in one database transaction: apply them, re-plan, store.

    mobile-visit follow-up ─▶ a visit (location read from the ledger's case state by the follow-up's location kind);
                              the case's earlier open visit, if any, is cancelled (superseded)
    any other follow-up ─▶ the case's open visits cancelled (withdrawn: the case closed; else routed elsewhere)
    field_worker.shift_scheduled ─▶ the worker's shift for that date (unavailable: the worker's visits started but
                                    not finished that day are offered again; those done stay on a route of
                                    their own)
    visit.started / visit.completed / visit.failed ─▶ the visit's status (a failed visit: offered again or escalated)
                       └─────────▶ each affected team re-planned for the coming days (geo.planning) ─▶ stored plans
                                                                        and a route.planned / route.changed event

A person with a protected address (confidential or strictly confidential) never gets a visit anywhere (home, work
or school): every visit of theirs is escalated at once to an office appointment and no location of theirs is stored. A location given only as a municipality cannot be visited: escalated too (reason no_location).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from geo.errors import GeoInputError
from geo.planning import (
    FixedStop,
    NextStep,
    Plan,
    PlanOptions,
    Route,
    Shift,
    Stop,
    Visit,
    next_step,
    plan,
    visit_priority,
)
from streams import plans as repo

__all__ = ["PlannerConfig", "Item", "TeamPlan", "apply_item", "replan", "route_event", "new_visit", "after_failure",
           "office_request", "OFFICE_REQUESTED", "escalation_id", "actual_times"]

log = logging.getLogger(__name__)
TZ = ZoneInfo("Europe/Oslo")
DONE = ("started", "completed", "failed")
MOBILE, WITHDRAWN = "mobile_visit", "withdrawn"
OFFICE_REQUESTED = "office_appointment_requested"  # the planner's own follow-up kind: an escalated visit
ESCALATE_AT_ONCE = frozenset({"refused", "unsafe"})
CAUSES = {"followup": "visit_requested", "field_worker.shift_scheduled": "shift_changed",
          "visit.started": "visit_started", "visit.completed": "visit_completed", "visit.failed": "visit_failed"}


@dataclass(frozen=True)
class PlannerConfig:
    consumer: str = "planner"
    horizon_days: int = 3
    window_days: int = 5
    escalate_after_days: int = 3
    visit_minutes: int = 45
    youth_specialists: frozenset[str] = frozenset()
    max_route_minutes: int | None = None
    producing_system: str = "veiviser-planner"
    exploration: int = 2
    threads: int = 1


@dataclass(frozen=True)
class Item:
    """One valid message: kind is 'followup' or the event name; id is the follow-up or event id."""

    kind: str
    id: str
    body: Mapping[str, Any]

    @property
    def payload(self) -> Mapping[str, Any]:
        return self.body if self.kind == "followup" else self.body["payload"]


@dataclass
class TeamPlan:
    team_id: str
    days: list[date]
    result: Plan | None = None
    stored: list[repo.StoredPlan] = field(default_factory=list)
    unplanned: list[dict[str, Any]] = field(default_factory=list)
    replaced: bool = False  # earlier plans of these days were replaced (route.changed, else route.planned)
    visits: dict[str, repo.VisitRow] = field(default_factory=dict)


def new_visit(followup: Mapping[str, Any], state: tuple[dict, list] | None, config: PlannerConfig,
              today: date) -> repo.NewVisit:
    """The visit a mobile-visit follow-up asks for, with the location of its kind from the case state."""
    profile, locations = state or ({}, [])
    kind = followup.get("location_kind") or "home"
    place = next((loc for loc in locations if loc.get("kind") == kind), None)
    coords = (place or {}).get("coordinates")
    markers = profile.get("priority_markers") or {}
    status, reason = "open", None
    if profile.get("protected_address", "none") != "none":  # confidential / strictly confidential: any place
        status, reason, coords = "escalated", "protected_address", None
    elif coords is None:
        status, reason = "escalated", "no_location"
    earliest = max(today, date.fromisoformat(followup["appointment_day"])) if followup.get("appointment_day") else today
    language = (profile.get("language_needs") or {})
    young, complex_needs = bool(markers.get("young_under_30")), bool(markers.get("complex_needs"))
    return repo.NewVisit(
        str(followup["followup_id"]), followup["case_id"], followup["team_id"], status, reason, kind,
        coords["lon"] if coords else None, coords["lat"] if coords else None, _purpose(profile),
        visit_priority(young, complex_needs), config.visit_minutes,
        language.get("language") if language.get("interpreter_needed") else None, young and complex_needs,
        earliest, earliest if status == "open" else None, earliest + timedelta(days=config.window_days - 1),
        dict(followup))


def _purpose(profile: Mapping[str, Any]) -> str:
    services = profile.get("services") or []
    return services[0] if services else "guidance"


def after_failure(reason: str, first_offered: date, today: date, config: PlannerConfig) -> tuple[str, date | None]:
    """The next step of a failed visit: (status, next offer): offered again, or escalated to an office
    appointment (at once when the person refused or the place was unsafe, else after the configured wait)."""
    if reason in ESCALATE_AT_ONCE:
        return "escalated", None
    step, again = next_step(first_offered, today, config.escalate_after_days)
    return ("escalated", None) if step is NextStep.ESCALATE else ("open", again)


def apply_item(cur, item: Item, config: PlannerConfig, today: date) -> set[str] | None:
    """Apply one new message; the teams whose plans it changes, or None when a visit event names a visit the
    planner does not know (nothing applied)."""
    p = item.payload
    if item.kind == "followup":
        return _followup(cur, p, config, today)
    if item.kind == "field_worker.shift_scheduled":
        before = repo.upsert_shift(cur, p, item.id, p["worker_id"] in config.youth_specialists,
                                   config.max_route_minutes)
        if not p["available"]:  # off sick: what they started but did not finish is offered to the others
            repo.reopen_started(cur, p["worker_id"], date.fromisoformat(p["shift_date"]),
                                f"offered again: {p['worker_id']}'s shift on {p['shift_date']} was cancelled "
                                f"while the visit was under way (event {item.id})")
        return {p["team_id"], *([before] if before else [])}
    return _visit_event(cur, item, config, today)


def _followup(cur, p: Mapping[str, Any], config: PlannerConfig, today: date) -> set[str]:
    if p["kind"] != MOBILE:
        why = "the case was closed" if p["kind"] == WITHDRAWN else f"the case was routed again ({p['kind']})"
        return repo.cancel_case_visits(cur, p["case_id"], f"{why}: follow-up {p['followup_id']}")
    touched = repo.cancel_case_visits(cur, p["case_id"], f"superseded by follow-up {p['followup_id']}",
                                      keep=str(p["followup_id"]))
    repo.open_visits(cur, [new_visit(p, repo.case_state(cur, p["case_id"]), config, today)])
    return touched | {p["team_id"]}


def _visit_event(cur, item: Item, config: PlannerConfig, today: date) -> set[str] | None:
    p = item.payload
    known = repo.visit_state(cur, p["visit_id"])
    if known is None:
        return None
    team, _status, first_offered, _attempts = known
    if item.kind == "visit.started":
        repo.update_visit(cur, p["visit_id"], "started", worker_id=p["worker_id"], started_at=p["started_at"])
    elif item.kind == "visit.completed":
        repo.update_visit(cur, p["visit_id"], "completed", worker_id=p["worker_id"], attempt=True,
                          finished_at=p["completed_at"])
    else:
        status, again = after_failure(p["reason"], first_offered, today, config)
        repo.update_visit(cur, p["visit_id"], status, reason=f"visit failed: {p['reason']}", worker_id=p["worker_id"],
                          attempt=True, next_offer=again, finished_at=p["attempted_at"],
                          escalated_by=item.id if status == "escalated" else None)
    return {team}


def replan(cur, team_id: str, now: datetime, config: PlannerConfig,
           new_id: Callable[[], uuid.UUID] = uuid.uuid4) -> TeamPlan:
    """Plan the team's coming days again from what is stored, store the plans and mark the visits."""
    today = now.astimezone(TZ).date()
    days = [today + timedelta(days=i) for i in range(config.horizon_days)]
    repo.lock_team(cur, team_id)
    shift_rows = repo.team_shifts(cur, team_id, days[0], days[-1])
    rows = repo.team_visits(cur, team_id, days[0], days[-1])
    team = TeamPlan(team_id, days, visits={r.visit_id: r for r in rows})
    fixed = _fixed(repo.current_stops(cur, team_id, days[0], days[-1]), team.visits)
    previous = repo.previous_workers(cur, sorted({r.case_id for r in rows}))
    visits = [_visit(r, previous, today) for r in rows if r.status in ("open", "planned")
              and (r.next_offer or r.first_offered) <= days[-1]]
    shifts = _shifts(team_id, shift_rows, fixed)
    options = PlanOptions(now=now, exploration=config.exploration, threads=config.threads)
    team.result = _with_fixed_only(plan(visits, shifts, options), fixed, {s.key[::-1] for s in shifts})
    team.stored, team.replaced = repo.store_plans(cur, team_id, days[0], days[-1], team.result.routes, now, team.result.solver, new_id)
    repo.mark_planned(cur, team.result.assignments())
    team.unplanned = _unplanned(cur, team, today, config)
    return team


def _fixed(stops: list[repo.CurrentStop], visits: Mapping[str, repo.VisitRow]) -> dict[tuple[str, date], tuple]:
    out: dict[tuple[str, date], list[FixedStop]] = {}
    for s in stops:
        v = visits.get(s.visit_id)
        if v is not None and v.status in DONE:
            eta, departure = actual_times(s, v)
            out.setdefault((s.worker_id, s.shift_date), []).append(FixedStop(s.visit_id, v.lon, v.lat, eta,
                                                                             departure))
    return {k: tuple(v) for k, v in out.items()}


def _with_fixed_only(result: Plan, fixed: Mapping[tuple[str, date], tuple], planned: set) -> Plan:
    """A worker whose shift was cancelled during the day (off sick) keeps the stops already done as a route of
    their own, so the day's record stays whole; nothing new goes into it (travel not estimated: 0)."""
    extra = tuple(Route(worker, day, tuple(Stop(f.visit_id, f.eta, f.departure, 0.0, fixed=True) for f in stops), 0.0,
                        round(sum((f.departure - f.eta).total_seconds() for f in stops) / 60, 1))
                  for (worker, day), stops in sorted(fixed.items()) if (worker, day) not in planned)
    return replace(result, routes=result.routes + extra) if extra else result


def actual_times(stop: repo.CurrentStop, visit: repo.VisitRow) -> tuple[datetime, datetime]:
    """A started or done stop's (start, end): the times the worker reported when the visit row has them (a
    started visit is expected to last as long as planned from when it started), else the planned ones."""
    eta = visit.started_at or stop.eta
    departure = visit.finished_at or eta + (stop.departure - stop.eta)
    return eta, max(eta, departure)


def _visit(r: repo.VisitRow, previous: Mapping[str, str], today: date) -> Visit:
    earliest = max(today, r.next_offer or r.first_offered)
    return Visit(r.visit_id, r.case_id, r.lon, r.lat, r.location_kind, earliest, max(earliest, r.latest or earliest),
                 r.duration_minutes, r.language, r.needs_youth, r.priority,
                 previous.get(r.case_id) or (r.worker_id if r.status == "planned" else None))


def _shifts(team_id: str, rows: list[repo.ShiftRow], fixed: Mapping[tuple[str, date], tuple]) -> list[Shift]:
    """The stored shifts geo accepts; one it refuses (stored before the planner checked it) is left out and
    logged, so one bad shift never stops planning for the whole team."""
    shifts = []
    for row in rows:
        try:
            shifts.append(_shift(row, fixed.get((row.worker_id, row.shift_date), ())))
        except GeoInputError as exc:
            log.warning("planner: team %s: stored shift of %s on %s left out of planning: %s", team_id,
                        row.worker_id, row.shift_date, exc)
    return shifts


def _shift(s: repo.ShiftRow, fixed: tuple) -> Shift:
    return Shift(s.worker_id, s.shift_date, s.starts, s.ends, s.base_lon, s.base_lat, frozenset(s.languages),
                 s.youth_specialist, s.max_route_minutes, fixed)


def _unplanned(cur, team: TeamPlan, today: date, config: PlannerConfig) -> list[dict[str, Any]]:
    rows, out = [], []
    for u in team.result.unplanned:
        visit = team.visits[u.visit_id]
        step, again = next_step(visit.first_offered, today, config.escalate_after_days)
        status = "escalated" if step is NextStep.ESCALATE else "open"
        rows.append((u.visit_id, status, f"{u.reason.value}: {u.detail}", again))
        out.append({"visit_id": u.visit_id, "case_id": visit.case_id, "reason": u.reason.value,
                    "next_step": step.value, "next_offer": again.isoformat() if again else None})
    repo.mark_unplanned(cur, rows)
    return out


def route_event(team: TeamPlan, cause: str, now: datetime, causation_id: str | None,
                config: PlannerConfig) -> dict[str, Any]:
    """route.planned (the team's first plans for these days) or route.changed, without coordinates."""
    by_key = {(r.worker_id, r.day): r for r in team.result.routes}
    routes = [_route_payload(s, by_key[(s.worker_id, s.shift_date)], team.visits) for s in team.stored]
    first = not team.replaced
    payload = {"team_id": team.team_id, "days": [d.isoformat() for d in team.days],
               "planned_at": _stamp(now), "solver": team.result.solver, "routes": routes,
               "unplanned": team.unplanned}
    if not first:
        payload["cause"] = cause
    return {"event_id": str(uuid.uuid4()), "event_name": "route.planned" if first else "route.changed",
            "schema_version": 1, "occurred_at": _stamp(now), "producing_system": config.producing_system,
            "correlation_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"veiviser-plan:{team.team_id}:{team.days[0]}")),
            "causation_id": causation_id, "ordering_key": team.team_id, "payload": payload}


def _route_payload(stored: repo.StoredPlan, route, visits: Mapping[str, repo.VisitRow]) -> dict[str, Any]:
    return {"worker_id": stored.worker_id, "shift_date": stored.shift_date.isoformat(), "plan_id": stored.plan_id,
            "version": stored.version, "travel_minutes": route.travel_min,
            "stops": [{"seq": i, "visit_id": s.visit_id, "case_id": visits[s.visit_id].case_id, "eta": _stamp(s.eta),
                       "departure": _stamp(s.departure), "location_kind": visits[s.visit_id].location_kind,
                       "fixed": s.fixed} for i, s in enumerate(route.stops, start=1)]}


def escalation_id(visit_id: str) -> str:
    """The office appointment request's follow-up id: the same for every redelivery of one escalated visit."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{visit_id}:escalated"))


def office_request(escalation: repo.Escalation, now: datetime) -> dict[str, Any]:
    """The follow-up (veiviser.followups.v1, key case id) asking the owner unit for an office appointment
    instead of the escalated mobile visit. No location: the office books the person in."""
    code = (escalation.reason or "escalated").split(":")[0].strip().replace(" ", "_") or "escalated"
    return {
        "followup_id": escalation_id(escalation.visit_id),
        "followup_version": 1,
        "kind": OFFICE_REQUESTED,
        "case_id": escalation.case_id,
        "visit_id": escalation.visit_id,
        "point_id": None,
        "team_id": escalation.team_id,
        "owner_unit": escalation.owner_unit,
        "location_kind": None,
        "appointment_day": None,
        "escalation_reason": code,
        "reasons": [escalation.reason or "escalated"],
        "decided_at": _stamp(now),
        "causation_id": escalation.causation_id,
        "correlation_id": None,
        "caused_by": "planner.visit_escalated",
    }


def _stamp(moment: datetime) -> str:
    return moment.astimezone(TZ).isoformat(timespec="seconds")
