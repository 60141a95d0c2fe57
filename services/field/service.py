"""The field service apart from HTTP: a worker's route of a day, and actions on its stops.

Routes come from the planner's repository (streams.plans.worker_route / visit_owner); what workers did comes
from the service's own table (services.field.store). Every failure is a FieldError naming the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg2

from services.field.actions import ActionResult, Actions
from services.field.auth import require_same
from services.field.errors import BadAction, FieldError, NoSuchVisit, NotYours, Unavailable
from services.field.stops import route_view
from streams.errors import StreamError

__all__ = ["FieldService", "parse_day", "municipality_name"]

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{2,63}$")
DATABASE_ERRORS = (psycopg2.Error, StreamError)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadAction(f"{text!r} is not a date", "write the day as YYYY-MM-DD, e.g. 2026-11-23") from None


def municipality_name(lon: float, lat: float, day: date) -> str | None:
    """The name of the municipality at (lon, lat) on `day`, or None outside the boundary data."""
    from geo.regions import edition_at, locate

    placement = locate(lon, lat, at=day)
    if not placement.placeable:
        return None
    edition = edition_at(day)
    return str(edition.names[edition.municipality_index(placement.municipality)])


class FieldService:
    def __init__(self, database_url: str, store: Any, actions: Actions, *,
                 read_route: Callable[..., Any] | None = None, owner_of: Callable[..., Any] | None = None):
        from streams import plans

        self.database_url = database_url
        self.store = store
        self.actions = actions
        self.read_route = read_route or plans.worker_route
        self.owner_of = owner_of or plans.visit_owner

    def route(self, worker: str, asked: str, day_text: str) -> dict[str, Any]:
        require_same(worker, asked)
        day = parse_day(day_text)
        route = self._database(self.read_route, self.database_url, worker, day)
        if route is None:
            return {"worker_id": worker, "day": day.isoformat(), "plan_version": None, "stops": [],
                    "message": f"no route is planned for you on {day.isoformat()}"}
        ids = [s.visit_id for s in route.stops]
        actions = self._database(self.store.of_day, day, ids, worker)
        cases = sorted({s.case_id for s in route.stops})  # a protected person is withheld at any place
        protection = self._database(self.store.protection, cases)
        return route_view(route, actions, protection, lambda lon, lat: municipality_name(lon, lat, day))

    def act(self, worker: str, asked: str, day_text: str, visit_id: str, action: str,
            reason: str | None) -> ActionResult:
        require_same(worker, asked)
        day = parse_day(day_text)
        if not IDENTIFIER.match(visit_id):
            raise BadAction(f"{visit_id!r} is not a visit id", "use a visit_id from your route (3-64 letters, "
                            "digits, _ . : -)")
        stop = self._stop(worker, day, visit_id)
        try:
            return self.actions.act(worker, day, stop, action, reason)
        except DATABASE_ERRORS as exc:
            raise _unavailable(exc) from None

    def _stop(self, worker: str, day: date, visit_id: str) -> Any:
        route = self._database(self.read_route, self.database_url, worker, day)
        for stop in route.stops if route else ():
            if stop.visit_id == visit_id:
                return stop
        owner = self._database(self.owner_of, self.database_url, visit_id)
        if owner is not None and owner != worker:
            raise NotYours(f"visit {visit_id} is on another worker's route", "act only on the stops of your own "
                           "route; ask the team leader if the visit should be yours")
        if owner == worker:
            raise NoSuchVisit(f"visit {visit_id} is not on your route of {day.isoformat()}",
                              "open the route of the day the visit is planned on")
        raise NoSuchVisit(f"no visit {visit_id} is planned", "use a visit_id from your route")

    @staticmethod
    def _database(call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except FieldError:
            raise
        except DATABASE_ERRORS as exc:
            raise _unavailable(exc) from None


def _unavailable(exc: BaseException) -> Unavailable:
    return Unavailable(f"the field service cannot reach its database ({type(exc).__name__})",
                       "nothing was changed; try again in a moment")
