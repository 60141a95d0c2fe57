"""The office registry (as data) and office state over time.

The registry (geo/data/offices.yaml, made by geo/data/derive.py) has NAV units (who), their service points
(where people meet staff) and mobile teams. The shipped registry does NOT know real office addresses: every
service point is placed at its municipality's administrative centre (`location_source: administrative_centre`)
and its opening hours, staff and capacity are assumed defaults. `Registry.location_note` says so; replace the
file with real data (same format) to fix it.

Office state is an `OfficeBoard`: the registry plus status events (opened, closed_for_day, staff_change,
closed_for_good) and bookings. `board.availability(point_id, at)` answers "staffed and with capacity at time t"
for the service day of `at`: the first day, from the Norwegian date of `at` on, on which the point has opening
hours and is not past closing time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from geo.datafiles import OSLO, as_datetime, manifest, read_yaml
from geo.errors import GeoDataError, GeoInputError, unknown

__all__ = ["Unit", "ServicePoint", "MobileTeam", "Registry", "StatusKind", "StatusEvent", "Availability",
           "OfficeBoard", "load_registry"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Unit:
    """A NAV unit (enhet): owns cases; serves municipalities (reference codes)."""

    id: str
    name: str
    kind: str  # local | national
    serves: tuple[str, ...] = ()
    role: str = ""


@dataclass(frozen=True)
class ServicePoint:
    """A place where people meet NAV staff. location_source says how its location is known."""

    id: str
    unit: str
    name: str
    municipality: str
    lon: float
    lat: float
    location_source: str
    opening_hours: dict[str, tuple[time, time]]
    staff: int
    daily_capacity: int

    @property
    def week(self) -> tuple[tuple[time, time] | None, ...]:
        """Opening hours Monday..Sunday (None = closed that weekday)."""
        cached = self.__dict__.get("_week")
        if cached is None:
            cached = tuple(self.opening_hours.get(day) for day in DAYS)
            object.__setattr__(self, "_week", cached)
        return cached


@dataclass(frozen=True)
class MobileTeam:
    """Field workers who visit people where they are; based at a service point, covering BA-regions."""

    id: str
    name: str
    base_point: str
    lon: float
    lat: float
    covers_regions: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Registry:
    version: str
    location_note: str
    units: dict[str, Unit]
    points: dict[str, ServicePoint]
    teams: dict[str, MobileTeam]

    def point(self, point_id: str) -> ServicePoint:
        if point_id not in self.points:
            raise unknown("service point", point_id, list(self.points), "Use an id from geo/data/offices.yaml.")
        return self.points[point_id]

    def serving(self, municipality: str) -> tuple[str, ...]:
        """Ids of the service points of the units serving a municipality (reference code)."""
        units = {u.id for u in self.units.values() if municipality in u.serves}
        return tuple(sorted(p.id for p in self.points.values() if p.unit in units))


def _hours(raw: dict, where: str) -> dict[str, tuple[time, time]]:
    out = {}
    for day, span in (raw or {}).items():
        if day not in DAYS:
            raise GeoDataError(f"{where}: opening-hours day {day!r} is not one of {DAYS}; fix geo/data/offices.yaml")
        out[day] = (time.fromisoformat(span[0]), time.fromisoformat(span[1]))
    return out


def _point(raw: dict) -> ServicePoint:
    try:
        return ServicePoint(str(raw["id"]), str(raw["unit"]), raw["name"], str(raw["municipality"]),
                            float(raw["lon"]), float(raw["lat"]), raw["location_source"],
                            _hours(raw.get("opening_hours"), raw["id"]), int(raw["staff"]), int(raw["daily_capacity"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise GeoDataError(f"service point {raw.get('id')!r} in offices.yaml is malformed ({exc!r}); each needs id, "
                           "unit, name, municipality, lon, lat, location_source, opening_hours, staff, "
                           "daily_capacity") from None


def registry_from(data: dict[str, Any]) -> Registry:
    units = {str(u["id"]): Unit(str(u["id"]), u["name"], u.get("kind", "local"),
                                tuple(str(c) for c in u.get("serves") or ()), u.get("role", ""))
             for u in data["units"]}
    points = {p.id: p for p in map(_point, data["service_points"])}
    for p in points.values():
        if p.unit not in units:
            raise unknown("unit", p.unit, list(units), f"Service point {p.id} names it; add the unit to offices.yaml.")
    teams = {str(t["id"]): MobileTeam(str(t["id"]), t["name"], t["base_point"], float(t["lon"]), float(t["lat"]),
                                      tuple(str(r) for r in t["covers_regions"])) for t in data["mobile_teams"]}
    return Registry(str(data["version"]), data.get("location_note", ""), units, points, teams)


@functools.cache
def load_registry() -> Registry:
    """The shipped registry (geo/data/offices.yaml), loaded once."""
    return registry_from(read_yaml(manifest()["offices"]))


class StatusKind(StrEnum):
    OPENED = "opened"
    CLOSED_FOR_DAY = "closed_for_day"
    STAFF_CHANGE = "staff_change"
    CLOSED_FOR_GOOD = "closed_for_good"


@dataclass(frozen=True)
class StatusEvent:
    """An office status change, known from `at` on. closed_for_day closes `day` (default: the Norwegian date
    of `at`; a closure may be announced in advance); staff_change sets the staff on duty from `at` on; opened
    re-opens a point closed for good."""

    point_id: str
    kind: StatusKind
    at: datetime
    staff: int | None = None
    day: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _kind(self.kind))
        object.__setattr__(self, "at", as_datetime(self.at))
        if self.day is None:
            object.__setattr__(self, "day", self.at.astimezone(OSLO).date())
        if self.kind is StatusKind.STAFF_CHANGE and (self.staff is None or self.staff < 0):
            raise GeoInputError(f"staff_change for {self.point_id} needs staff >= 0, got {self.staff!r}; "
                                "give the number of staff on duty")


def _kind(value: Any) -> StatusKind:
    try:
        return StatusKind(value)
    except ValueError:
        raise GeoInputError(f"status kind {value!r} is not one of {[k.value for k in StatusKind]}") from None


class Availability(NamedTuple):
    """Whether a service point can take an appointment on its service day; reason when it cannot."""

    ok: bool
    day: date | None
    staff: int
    capacity_left: int
    reason: str | None  # closed | closed_for_day | not_staffed | no_capacity


CLOSED = Availability(False, None, 0, 0, "closed")


class OfficeBoard:
    """Office state over time: the registry plus status events and bookings (per point and day)."""

    def __init__(self, registry: Registry, events: dict[str, list[StatusEvent]] | None = None,
                 bookings: dict[tuple[str, date], int] | None = None) -> None:
        self.registry = registry
        self.events = events or {}
        self.bookings = bookings or {}

    def __repr__(self) -> str:
        changes = sum(map(len, self.events.values()))
        return f"OfficeBoard(registry {self.registry.version}, {changes} status event(s), bookings {self.bookings})"

    def apply(self, event: StatusEvent) -> None:
        self.registry.point(event.point_id)
        timeline = self.events.setdefault(event.point_id, [])
        timeline.append(event)
        timeline.sort(key=lambda e: e.at)

    def book(self, point_id: str, day: date, count: int = 1) -> None:
        self.registry.point(point_id)
        self.bookings[(point_id, day)] = self.bookings.get((point_id, day), 0) + count

    def copy(self) -> OfficeBoard:
        return OfficeBoard(self.registry, {k: list(v) for k, v in self.events.items()}, dict(self.bookings))

    def availability(self, point_id: str, at: datetime) -> Availability:
        """Can the point take an appointment on its service day, as known at `at` (aware datetime)?"""
        point = self.registry.points.get(point_id) or self.registry.point(point_id)
        events = self.events.get(point_id)
        if events:
            events = [e for e in events if e.at <= at]
            if _closed_for_good(events):
                return CLOSED
        day = service_day(point, at)
        if day is None:
            return CLOSED
        staff = point.staff
        if events:
            if any(e.kind is StatusKind.CLOSED_FOR_DAY and e.day == day for e in events):
                return Availability(False, day, 0, 0, "closed_for_day")
            staff = next((e.staff for e in reversed(events) if e.kind is StatusKind.STAFF_CHANGE), staff)
        if staff <= 0:
            return Availability(False, day, 0, 0, "not_staffed")
        left = capacity(point, staff) - self.bookings.get((point_id, day), 0)
        if left <= 0:
            return Availability(False, day, staff, 0, "no_capacity")
        return Availability(True, day, staff, left, None)


def _closed_for_good(events: list[StatusEvent]) -> bool:
    for event in reversed(events):
        if event.kind is StatusKind.CLOSED_FOR_GOOD:
            return True
        if event.kind is StatusKind.OPENED:
            return False
    return False


def capacity(point: ServicePoint, staff: int) -> int:
    """Daily appointment capacity with `staff` on duty: the registry's capacity, scaled by staff (floor)."""
    if point.staff <= 0:
        return 0
    return min(point.daily_capacity, point.daily_capacity * staff // point.staff)


def service_day(point: ServicePoint, at: datetime) -> date | None:
    """The first day from the Norwegian date of `at` on which the point is open and not past closing time."""
    local = at.astimezone(OSLO)
    today = local.date()
    week = point.week
    weekday = today.weekday()
    hours = week[weekday]
    if hours is not None and local.time() < hours[1]:
        return today
    for offset in range(1, 8):
        if week[(weekday + offset) % 7] is not None:
            return today + timedelta(days=offset)
    return None
