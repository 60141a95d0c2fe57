"""Routes for the field service's tests, stored in the planner's tables (migration 0070) with plain inserts,
and the router's case state (protected-address grading) for the persons; every row removed afterwards.

`Seeder.route(worker, day, stops)` stores a current plan; a stop is a dict with kind, lon/lat, purpose and
optionally protected ('none', 'confidential', 'strictly_confidential' or None for no case state).
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import pytest

__all__ = ["Seeder", "seeder", "DAY", "BODO", "FAUSKE", "ROGNAN", "uid"]

OSLO = ZoneInfo("Europe/Oslo")
DAY = date(2026, 11, 24)
BODO, FAUSKE, ROGNAN = (14.4049, 67.2804), (15.3941, 67.2589), (15.4031, 67.0960)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Seeder:
    def __init__(self, database_url: str):
        self.database_url = database_url
        self.visits: list[str] = []
        self.plans: list[str] = []
        self.cases: list[str] = []

    def route(self, worker: str, stops: list[dict], day: date = DAY, team: str = "team-1841") -> list[dict]:
        """Store `worker`'s current route of `day`; returns the stops with their visit and case ids."""
        plan = str(uuid.uuid4())
        first = datetime(day.year, day.month, day.day, 9, 0, tzinfo=OSLO)
        stored = []
        with psycopg2.connect(self.database_url) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO planning_route_plans (plan_id, team_id, worker_id, shift_date, version, "
                        "is_current, stops, travel_minutes, service_minutes, solver) "
                        "VALUES (%s, %s, %s, %s, 1, true, %s, 42, 90, 'test')", (plan, team, worker, day, len(stops)))
            for seq, spec in enumerate(stops, start=1):
                stop = {"visit_id": uid("visit"), "case_id": uid("case"), "seq": seq, **spec}
                self._visit(cur, stop, team, worker, day)
                eta = first + timedelta(minutes=75 * (seq - 1))
                cur.execute("INSERT INTO planning_route_stops (plan_id, seq, visit_id, eta, departure) "
                            "VALUES (%s, %s, %s, %s, %s)", (plan, seq, stop["visit_id"], eta, eta + timedelta(minutes=45)))
                stored.append(stop)
        self.plans.append(plan)
        return stored

    def _visit(self, cur, stop: dict, team: str, worker: str, day: date) -> None:
        lon, lat = stop.get("at", (None, None))
        cur.execute("INSERT INTO planning_visits (visit_id, case_id, team_id, status, location_kind, lon, lat, "
                    "purpose, duration_minutes, language, first_offered, worker_id, shift_date) "
                    "VALUES (%s, %s, %s, 'planned', %s, %s, %s, %s, 45, %s, %s, %s, %s)",
                    (stop["visit_id"], stop["case_id"], team, stop.get("kind", "work"), lon, lat,
                     stop.get("purpose", "guidance"), stop.get("language"), day, worker, day))
        self.visits.append(stop["visit_id"])
        if stop.get("protected", "none") is not None:
            self._case_state(cur, stop["case_id"], stop.get("protected", "none"))

    def _case_state(self, cur, case_id: str, protected: str) -> None:
        profile = {"person_ref": "psn-" + uuid.uuid4().hex[:12], "protected_address": protected}
        cur.execute("INSERT INTO streams_case_state (case_id, status, profile, events_seen, audit_seq, last_event_id, "
                    "last_event_at) VALUES (%s, 'open', %s, 1, 1, %s, now())",
                    (case_id, json.dumps(profile), str(uuid.uuid4())))
        self.cases.append(case_id)

    def cleanup(self) -> None:
        with psycopg2.connect(self.database_url) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM field_visit_actions WHERE visit_id = ANY(%s)", (self.visits,))
            cur.execute("DELETE FROM planning_route_plans WHERE plan_id = ANY(%s::uuid[])", (self.plans,))
            cur.execute("DELETE FROM planning_visits WHERE visit_id = ANY(%s)", (self.visits,))
            cur.execute("DELETE FROM streams_case_state WHERE case_id = ANY(%s)", (self.cases,))


@pytest.fixture
def seeder(database_url):
    """A Seeder whose rows are removed after the test."""
    seeder = Seeder(database_url)
    yield seeder
    seeder.cleanup()
