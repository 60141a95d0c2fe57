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

Write functions for the planner (streams.planner) run inside one transaction the caller opens with
`connect(database_url)`: upsert_shift, open_visit, set_visit_status, store_plans, team_problem. A lost
connection becomes streams.errors.TransientError (retry); a refused statement LedgerRefused.
Coordinates are personal data: only the planner and the worker's own route read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import psycopg2
from psycopg2 import sql

from streams.errors import LedgerRefused, TransientError

__all__ = ["RouteStop", "WorkerRoute", "worker_route", "visit_owner", "connect"]

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
