"""The planning repository: field workers' shifts, mobile visits and the stored day routes (migration 0070).

Read functions for the field staff service (each opens and closes its own connection):

    worker_route(database_url, worker_id, day) -> WorkerRoute | None
        The worker's CURRENT route for a date: ordered stops (seq from 1) with estimated arrival and departure,
        the visit's location (lon/lat; None when not stored), location kind, purpose (the service), status,
        language needed and whether the stop was fixed (already started or done when planned). Minimum personal
        data: the case id, no person reference, no name. None when no plan is stored for that worker and date.
    visit_owner(database_url, visit_id) -> str | None
        The worker whose current route holds the visit (else the worker of its last attempt), or None: use it
        to check that a worker acts only on their own visits.

Write functions for the planner (streams.fieldplan) run on a cursor inside one transaction the caller opens
with `connect(database_url)`: fresh (processed ids), lock_team, upsert_shift, case_state, open_visits,
visit_state / update_visit, team_shifts / team_visits / current_stops / previous_workers (what to plan),
store_plans (new current versions; the old ones retired), mark_planned / mark_unplanned, active_teams,
pending_escalations (escalated visits whose office appointment request is still to be sent) and, in its own
transaction once they were sent, mark_escalations_sent.
A lost connection becomes streams.errors.TransientError (retry); a refused statement LedgerRefused.
Coordinates are personal data: only the planner and the worker's own route read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_values

from streams.errors import LedgerRefused, TransientError

__all__ = ["RouteStop", "WorkerRoute", "worker_route", "visit_owner", "connect", "ShiftRow", "VisitRow", "CurrentStop",
           "NewVisit", "StoredPlan", "fresh", "lock_team", "upsert_shift", "case_state", "open_visits",
           "visit_state", "update_visit", "team_shifts", "team_visits", "current_stops", "store_plans",
           "mark_planned", "mark_unplanned", "previous_workers", "active_teams", "cancel_case_visits", "case_teams",
           "Escalation", "pending_escalations", "mark_escalations_sent", "forget", "reopen_started"]
PAGE = 500

SHIFTS, VISITS = sql.Identifier("planning_shifts"), sql.Identifier("planning_visits")
PLANS, STOPS = sql.Identifier("planning_route_plans"), sql.Identifier("planning_route_stops")
PROCESSED = sql.Identifier("planning_processed_events")

SELECT_PLAN = sql.SQL(
    "SELECT plan_id::text, team_id, version, planned_at FROM {} WHERE worker_id = %s AND shift_date = %s "
    "AND is_current").format(PLANS)
SELECT_STOPS = sql.SQL(
    "SELECT s.seq, s.visit_id, v.case_id, s.eta, s.departure, v.location_kind, v.lon, v.lat, v.purpose, v.status, "
    "v.language, s.fixed FROM {} s JOIN {} v USING (visit_id) WHERE s.plan_id = %s ORDER BY s.seq").format(STOPS, VISITS)
SELECT_OWNER = sql.SQL(
    "SELECT p.worker_id FROM {} s JOIN {} p USING (plan_id) WHERE s.visit_id = %s AND p.is_current "
    "ORDER BY p.shift_date DESC, p.planned_at DESC LIMIT 1").format(STOPS, PLANS)
SELECT_LAST_WORKER = sql.SQL("SELECT worker_id FROM {} WHERE visit_id = %s").format(VISITS)


@dataclass(frozen=True)
class RouteStop:
    seq: int
    visit_id: str
    case_id: str
    eta: datetime
    departure: datetime
    location_kind: str
    lon: float | None
    lat: float | None
    purpose: str
    status: str
    language: str | None
    fixed: bool


@dataclass(frozen=True)
class WorkerRoute:
    worker_id: str
    team_id: str
    day: date
    plan_id: str
    version: int
    planned_at: datetime
    stops: tuple[RouteStop, ...]


@contextmanager
def connect(database_url: str) -> Iterator[psycopg2.extensions.connection]:
    """One transaction: committed when the block ends, rolled back on an error; errors translated."""
    try:
        conn = psycopg2.connect(database_url)
    except psycopg2.OperationalError as exc:
        raise TransientError(f"planning database unreachable: {exc}".strip()) from exc
    try:
        with conn:
            yield conn
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        raise TransientError(f"planning database connection lost: {exc}".strip()) from exc
    except psycopg2.DatabaseError as exc:
        raise LedgerRefused(f"the planning database refused: {exc}".strip()) from exc
    finally:
        conn.close()


def worker_route(database_url: str, worker_id: str, day: date) -> WorkerRoute | None:
    """The worker's current route for a date (see the module docstring), or None."""
    with connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(SELECT_PLAN, (worker_id, day))
        plan = cur.fetchone()
        if plan is None:
            return None
        cur.execute(SELECT_STOPS, (plan[0],))
        stops = tuple(RouteStop(*row) for row in cur.fetchall())
    return WorkerRoute(worker_id, plan[1], day, plan[0], plan[2], plan[3], stops)


def visit_owner(database_url: str, visit_id: str) -> str | None:
    """The worker whose current route holds the visit, else the worker of its last attempt, else None."""
    with connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(SELECT_OWNER, (visit_id,))
        row = cur.fetchone()
        if row is None:
            cur.execute(SELECT_LAST_WORKER, (visit_id,))
            row = cur.fetchone()
    return row[0] if row else None


# -- the planner's side: every function below runs on a cursor inside the caller's transaction ----------------

INSERT_PROCESSED = sql.SQL(
    "INSERT INTO {} (consumer, event_id) VALUES %s ON CONFLICT DO NOTHING RETURNING event_id").format(PROCESSED)
DELETE_PROCESSED = sql.SQL("DELETE FROM {} WHERE consumer = %s AND event_id = %s").format(PROCESSED)
LOCK_TEAM = sql.SQL("SELECT pg_advisory_xact_lock(hashtext('planning-team:' || %s))")
UPSERT_SHIFT = sql.SQL(
    "INSERT INTO {} (worker_id, shift_date, team_id, available, starts, ends, base_lon, base_lat, skills, languages, "
    "youth_specialist, max_route_minutes, event_id) VALUES %s ON CONFLICT (worker_id, shift_date) DO UPDATE SET "
    "team_id = EXCLUDED.team_id, available = EXCLUDED.available, starts = EXCLUDED.starts, ends = EXCLUDED.ends, "
    "base_lon = EXCLUDED.base_lon, base_lat = EXCLUDED.base_lat, skills = EXCLUDED.skills, "
    "languages = EXCLUDED.languages, youth_specialist = EXCLUDED.youth_specialist, "
    "max_route_minutes = EXCLUDED.max_route_minutes, event_id = EXCLUDED.event_id, updated_at = now() "
    "").format(SHIFTS)
SELECT_SHIFT_TEAM = sql.SQL("SELECT team_id FROM {} WHERE worker_id = %s AND shift_date = %s").format(SHIFTS)
SELECT_CASE = sql.SQL("SELECT profile, locations FROM {} WHERE case_id = %s").format(
    sql.Identifier("streams_case_state"))
INSERT_VISIT = sql.SQL(
    "INSERT INTO {} (visit_id, case_id, team_id, status, reason, location_kind, lon, lat, purpose, priority, "
    "duration_minutes, language, needs_youth, first_offered, next_offer, latest, followup) VALUES %s "
    "ON CONFLICT (visit_id) DO NOTHING").format(VISITS)
SELECT_VISIT = sql.SQL("SELECT team_id, status, first_offered, attempts FROM {} WHERE visit_id = %s FOR UPDATE").format(
    VISITS)
UPDATE_VISIT = sql.SQL(
    "UPDATE {} SET status = %s, reason = %s, worker_id = COALESCE(%s, worker_id), attempts = attempts + %s, "
    "next_offer = %s, started_at = COALESCE(%s, started_at), finished_at = COALESCE(%s, finished_at), "
    "escalated_by = COALESCE(%s, escalated_by), updated_at = now() WHERE visit_id = %s").format(VISITS)
SELECT_TEAM_SHIFTS = sql.SQL(
    "SELECT worker_id, shift_date, starts, ends, base_lon, base_lat, languages, youth_specialist, max_route_minutes "
    "FROM {} WHERE team_id = %s AND available AND shift_date BETWEEN %s AND %s ORDER BY shift_date, worker_id").format(
    SHIFTS)
SELECT_TEAM_VISITS = sql.SQL(
    "SELECT visit_id, case_id, lon, lat, location_kind, first_offered, next_offer, latest, duration_minutes, "
    "language, needs_youth, priority, status, worker_id, attempts, started_at, finished_at FROM {} "
    "WHERE team_id = %s AND lon IS NOT NULL "
    "AND (status IN ('open', 'planned') OR (status IN ('started', 'completed', 'failed') AND shift_date "
    "BETWEEN %s AND %s)) ORDER BY visit_id").format(VISITS)
SELECT_CURRENT_STOPS = sql.SQL(
    "SELECT p.worker_id, p.shift_date, s.visit_id, s.eta, s.departure FROM {} p JOIN {} s USING (plan_id) "
    "WHERE p.team_id = %s AND p.is_current AND p.shift_date BETWEEN %s AND %s ORDER BY p.worker_id, p.shift_date, "
    "s.seq").format(PLANS, STOPS)
SELECT_VERSIONS = sql.SQL(
    "SELECT worker_id, shift_date, max(version) FROM {} WHERE (team_id = %s OR worker_id = ANY(%s)) "
    "AND shift_date BETWEEN %s AND %s GROUP BY worker_id, shift_date").format(PLANS)
# a worker's plan is per worker and day whatever the team: one who moved team has the old team's plan retired
RETIRE_PLANS = sql.SQL(
    "UPDATE {} SET is_current = false WHERE is_current AND (team_id = %s OR worker_id = ANY(%s)) "
    "AND shift_date BETWEEN %s AND %s").format(PLANS)
INSERT_PLANS = sql.SQL(
    "INSERT INTO {} (plan_id, team_id, worker_id, shift_date, version, planned_at, is_current, stops, travel_minutes, "
    "service_minutes, solver) VALUES %s").format(PLANS)
INSERT_STOPS = sql.SQL("INSERT INTO {} (plan_id, seq, visit_id, eta, departure, fixed) VALUES %s").format(STOPS)
CANCEL_CASE_VISITS = sql.SQL(
    "UPDATE {} SET status = 'cancelled', reason = %s, updated_at = now() WHERE case_id = %s AND visit_id <> %s "
    "AND status IN ('open', 'planned') RETURNING team_id").format(VISITS)
REOPEN_STARTED = sql.SQL(
    "UPDATE {} SET status = 'open', reason = %s, worker_id = NULL, shift_date = NULL, next_offer = NULL, "
    "started_at = NULL, updated_at = now() WHERE worker_id = %s AND shift_date = %s AND status = 'started' "
    "RETURNING visit_id").format(VISITS)
SELECT_CASE_TEAMS = sql.SQL("SELECT DISTINCT team_id FROM {} WHERE case_id = %s").format(VISITS)
SELECT_PREVIOUS = sql.SQL(
    "SELECT DISTINCT ON (case_id) case_id, worker_id FROM {} WHERE case_id = ANY(%s) AND worker_id IS NOT NULL "
    "AND status IN ('started', 'completed', 'failed') ORDER BY case_id, COALESCE(finished_at, started_at) DESC "
    "NULLS LAST").format(VISITS)
SELECT_ACTIVE_TEAMS = sql.SQL(
    "SELECT team_id FROM {} WHERE status IN ('open', 'planned') UNION SELECT team_id FROM {} "
    "WHERE shift_date BETWEEN %s AND %s ORDER BY 1").format(VISITS, SHIFTS)
MARK_PLANNED = sql.SQL(
    "UPDATE {} AS v SET status = 'planned', reason = NULL, worker_id = x.worker_id, shift_date = x.day::date, "
    "updated_at = now() FROM (VALUES %s) AS x(visit_id, worker_id, day) WHERE v.visit_id = x.visit_id "
    "AND v.status IN ('open', 'planned')").format(VISITS)
MARK_UNPLANNED = sql.SQL(
    "UPDATE {} AS v SET status = x.status, reason = x.reason, next_offer = x.next_offer::date, worker_id = NULL, "
    "shift_date = NULL, updated_at = now() FROM (VALUES %s) AS x(visit_id, status, reason, next_offer) "
    "WHERE v.visit_id = x.visit_id AND v.status IN ('open', 'planned')").format(VISITS)

SELECT_PENDING_ESCALATIONS = sql.SQL(
    "SELECT visit_id, case_id, team_id, reason, followup->>'owner_unit', COALESCE(escalated_by, visit_id) FROM {} "
    "WHERE status = 'escalated' AND escalation_sent_at IS NULL AND (%s OR team_id = ANY(%s)) ORDER BY visit_id "
    "LIMIT %s").format(VISITS)
MARK_ESCALATIONS_SENT = sql.SQL(
    "UPDATE {} SET escalation_sent_at = now() WHERE visit_id = ANY(%s) AND escalation_sent_at IS NULL").format(VISITS)


@dataclass(frozen=True)
class ShiftRow:
    worker_id: str
    shift_date: date
    starts: time
    ends: time
    base_lon: float
    base_lat: float
    languages: list[str]
    youth_specialist: bool
    max_route_minutes: int | None


@dataclass(frozen=True)
class VisitRow:
    visit_id: str
    case_id: str
    lon: float
    lat: float
    location_kind: str
    first_offered: date
    next_offer: date | None
    latest: date | None
    duration_minutes: int
    language: str | None
    needs_youth: bool
    priority: int
    status: str
    worker_id: str | None
    attempts: int
    started_at: datetime | None = None  # when the worker reported it started / finished (visit events)
    finished_at: datetime | None = None


@dataclass(frozen=True)
class CurrentStop:
    worker_id: str
    shift_date: date
    visit_id: str
    eta: datetime
    departure: datetime


@dataclass(frozen=True)
class NewVisit:
    visit_id: str
    case_id: str
    team_id: str
    status: str  # open, or escalated when it may not be visited (reason says why)
    reason: str | None
    location_kind: str
    lon: float | None
    lat: float | None
    purpose: str
    priority: int
    duration_minutes: int
    language: str | None
    needs_youth: bool
    first_offered: date
    next_offer: date | None
    latest: date
    followup: Mapping[str, Any]


@dataclass(frozen=True)
class StoredPlan:
    plan_id: str
    worker_id: str
    shift_date: date
    version: int


def fresh(cur, consumer: str, event_ids: Sequence[str]) -> set[str]:
    """Record the event ids as processed by `consumer`; the ones not seen before."""
    if not event_ids:
        return set()
    rows = execute_values(cur, INSERT_PROCESSED, [(consumer, e) for e in event_ids], page_size=PAGE, fetch=True)
    return {r[0] for r in rows}


def forget(cur, consumer: str, event_id: str) -> None:
    """Un-record a processed id (a message dead-lettered unapplied: a replay of it is applied, not a duplicate)."""
    cur.execute(DELETE_PROCESSED, (consumer, event_id))


def lock_team(cur, team_id: str) -> None:
    """Serialise re-planning of one team across planner processes (until the transaction ends)."""
    cur.execute(LOCK_TEAM, (team_id,))


def upsert_shift(cur, payload: Mapping[str, Any], event_id: str, youth_specialist: bool,
                 max_route_minutes: int | None) -> str | None:
    """Store a field_worker.shift_scheduled payload; the team the worker was on before for that date, if any."""
    cur.execute(SELECT_SHIFT_TEAM, (payload["worker_id"], payload["shift_date"]))
    before = cur.fetchone()
    row = (payload["worker_id"], payload["shift_date"], payload["team_id"], payload["available"], payload["starts"],
           payload["ends"], payload["base"]["lon"], payload["base"]["lat"], json.dumps(payload["skills"]),
           json.dumps(payload.get("languages", [])), youth_specialist, max_route_minutes, event_id)
    execute_values(cur, UPSERT_SHIFT, [row])
    return before[0] if before else None


def case_state(cur, case_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The ledger's profile and locations of a case (personal data: the planning stage only), or None."""
    cur.execute(SELECT_CASE, (case_id,))
    row = cur.fetchone()
    return (row[0], row[1]) if row else None


def open_visits(cur, visits: Iterable[NewVisit]) -> None:
    rows = [(v.visit_id, v.case_id, v.team_id, v.status, v.reason, v.location_kind, v.lon, v.lat, v.purpose,
             v.priority, v.duration_minutes, v.language, v.needs_youth, v.first_offered, v.next_offer, v.latest,
             json.dumps(dict(v.followup))) for v in visits]
    if rows:
        execute_values(cur, INSERT_VISIT, rows, page_size=PAGE)


def visit_state(cur, visit_id: str) -> tuple[str, str, date, int] | None:
    """(team id, status, first offered, attempts) of a visit, locked for update; None when unknown."""
    cur.execute(SELECT_VISIT, (visit_id,))
    return cur.fetchone()


def update_visit(cur, visit_id: str, status: str, *, reason: str | None = None, worker_id: str | None = None,
                 attempt: bool = False, next_offer: date | None = None, started_at: str | None = None,
                 finished_at: str | None = None, escalated_by: str | None = None) -> None:
    cur.execute(UPDATE_VISIT, (status, reason, worker_id, int(attempt), next_offer, started_at, finished_at,
                               escalated_by, visit_id))


def team_shifts(cur, team_id: str, first: date, last: date) -> list[ShiftRow]:
    cur.execute(SELECT_TEAM_SHIFTS, (team_id, first, last))
    return [ShiftRow(*row) for row in cur.fetchall()]


def team_visits(cur, team_id: str, first: date, last: date) -> list[VisitRow]:
    """Visits to plan (open, planned) and those started or done on the team's shifts in these days."""
    cur.execute(SELECT_TEAM_VISITS, (team_id, first, last))
    return [VisitRow(*row) for row in cur.fetchall()]


def current_stops(cur, team_id: str, first: date, last: date) -> list[CurrentStop]:
    cur.execute(SELECT_CURRENT_STOPS, (team_id, first, last))
    return [CurrentStop(*row) for row in cur.fetchall()]


def store_plans(cur, team_id: str, first: date, last: date, routes: Sequence[Any], planned_at: datetime,
                solver: str, new_id) -> tuple[list[StoredPlan], bool]:
    """Retire the team's current plans for these days and store `routes` (geo.planning.Route) as the new
    current versions; `new_id()` makes plan ids. Returns the stored plans and whether any plan was replaced."""
    workers = sorted({route.worker_id for route in routes})
    cur.execute(SELECT_VERSIONS, (team_id, workers, first, last))
    versions = {(w, d): v for w, d, v in cur.fetchall()}
    cur.execute(RETIRE_PLANS, (team_id, workers, first, last))
    replaced = cur.rowcount > 0
    stored, plans, stops = [], [], []
    for route in routes:
        plan = StoredPlan(str(new_id()), route.worker_id, route.day, versions.get((route.worker_id, route.day), 0) + 1)
        stored.append(plan)
        plans.append((plan.plan_id, team_id, route.worker_id, route.day, plan.version, planned_at, True,
                      len(route.stops), route.travel_min, route.service_min, solver))
        stops.extend((plan.plan_id, seq, s.visit_id, s.eta, s.departure, s.fixed)
                     for seq, s in enumerate(route.stops, start=1))
    if plans:
        execute_values(cur, INSERT_PLANS, plans, page_size=PAGE)
    if stops:
        execute_values(cur, INSERT_STOPS, stops, page_size=PAGE)
    return stored, replaced


def mark_planned(cur, assignments: Mapping[str, tuple[str, date]]) -> None:
    rows = [(v, w, d.isoformat()) for v, (w, d) in sorted(assignments.items())]
    if rows:
        execute_values(cur, MARK_PLANNED, rows, page_size=PAGE)


def mark_unplanned(cur, rows: Sequence[tuple[str, str, str, date | None]]) -> None:
    """(visit id, status open/escalated, reason, next offer) for visits the plan left out."""
    values = [(v, status, reason, d.isoformat() if d else None) for v, status, reason, d in rows]
    if values:
        execute_values(cur, MARK_UNPLANNED, values, page_size=PAGE)


def previous_workers(cur, case_ids: Sequence[str]) -> dict[str, str]:
    """case id -> the worker of the person's latest started or finished visit (continuity)."""
    if not case_ids:
        return {}
    cur.execute(SELECT_PREVIOUS, (list(case_ids),))
    return dict(cur.fetchall())


def active_teams(cur, first: date, last: date) -> list[str]:
    """Teams with visits still to plan, or shifts in these days (the daily re-plan's work list)."""
    cur.execute(SELECT_ACTIVE_TEAMS, (first, last))
    return [r[0] for r in cur.fetchall()]


def cancel_case_visits(cur, case_id: str, reason: str, keep: str = "") -> set[str]:
    """Cancel a case's open and planned visits (but `keep`); the teams whose plans lose them."""
    cur.execute(CANCEL_CASE_VISITS, (reason, case_id, keep))
    return {r[0] for r in cur.fetchall()}


def reopen_started(cur, worker_id: str, shift_date: date, reason: str) -> list[str]:
    """A worker's visits started but not finished on that date back to open (offered again), with the reason."""
    cur.execute(REOPEN_STARTED, (reason, worker_id, shift_date))
    return [r[0] for r in cur.fetchall()]


def case_teams(cur, case_id: str) -> set[str]:
    cur.execute(SELECT_CASE_TEAMS, (case_id,))
    return {r[0] for r in cur.fetchall()}


@dataclass(frozen=True)
class Escalation:
    """An escalated visit whose office appointment request is still to be sent."""

    visit_id: str
    case_id: str
    team_id: str
    reason: str | None
    owner_unit: str | None
    causation_id: str  # the visit.failed event that escalated it, else the visit's own follow-up id


def pending_escalations(cur, teams: Sequence[str] | None, limit: int = PAGE) -> list[Escalation]:
    """Escalated visits of these teams (None: every team) whose request was not sent yet, oldest id first."""
    cur.execute(SELECT_PENDING_ESCALATIONS, (teams is None, list(teams or ()), limit))
    return [Escalation(*row) for row in cur.fetchall()]


def mark_escalations_sent(database_url: str, visit_ids: Sequence[str]) -> None:
    """Record (in its own transaction) that these visits' office appointment requests were sent."""
    if not visit_ids:
        return
    with connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(MARK_ESCALATIONS_SENT, (list(visit_ids),))
