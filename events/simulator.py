"""An office-system simulator for Nordland and Trøndelag: realistic, deterministic streams of events.

People are placed at real places (events/data/places.csv) in proportion to population, with a home and
often a work or school location; shares of young people, immigrants and complex needs are configurable.
Cases open, appointments are requested, booked, cancelled, completed or missed, cases are updated and
closed; offices open in the morning and close in the afternoon; field workers get shifts and visit people.
The same seed gives the same events, byte for byte (event ids included).
"""

from __future__ import annotations

import csv
import functools
import math
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from events.errors import SimulatorError

__all__ = ["SimulatorConfig", "Simulator", "Place", "places", "offices", "paced"]

DATA = Path(__file__).parent / "data"
OSLO = ZoneInfo("Europe/Oslo")
SMALL_PLACE = 300
SERVICES = ("financial_assistance", "temporary_housing", "guidance", "work_oriented_follow_up",
            "qualification_programme", "debt_counselling")
REF_LETTERS = "abcdefghjkmnpqrstuvwxyz"  # letters only: a pseudonym never looks like an identity number
LANGUAGES = (("nb", 80), ("en", 4), ("ar", 3), ("so", 3), ("ti", 2), ("uk", 4), ("pl", 3), ("fa", 1))


@dataclass(frozen=True)
class Place:
    name: str
    municipality_number: str
    lat: float
    lon: float
    weight: int


@functools.cache
def places() -> tuple[Place, ...]:
    with (DATA / "places.csv").open(encoding="utf-8") as handle:
        return tuple(Place(r["name"], r["municipality_number"], float(r["lat"]), float(r["lon"]),
                           max(int(r["population"]), SMALL_PLACE)) for r in csv.DictReader(handle))


@functools.cache
def offices() -> tuple[str, ...]:
    """The NAV units (office ids) with a service point in geo's shipped registry (geo/data/offices.yaml):
    one source for the simulator and the router, so every simulated office is one the router knows. Units
    without a NAV unit number (geo names them K<municipality>) cannot be named in an event and are left out."""
    import re

    from events import contract
    from geo.offices import load_registry

    unit_number = re.compile(contract.schema("common")["definitions"]["office_id"]["pattern"])
    units = {point.unit for point in load_registry().points.values()}
    return tuple(sorted(u for u in units if unit_number.fullmatch(u)))


SHIFT_DAYS_AHEAD = 3  # every morning the field workers' shifts of this many working days are (re)scheduled


@functools.cache
def teams() -> tuple[tuple[str, float, float], ...]:
    """geo's mobile teams (id, base lon, lat) from the shipped registry: simulated shifts belong to the teams
    the router sends mobile visits to."""
    from geo.offices import load_registry

    return tuple(sorted((t.id, t.lon, t.lat) for t in load_registry().teams.values()))


def nearest_team(lon: float, lat: float) -> str:
    """The mobile team based nearest to a place (degrees of longitude shrunk by the latitude)."""
    shrink = math.cos(math.radians(lat)) ** 2
    return min(teams(), key=lambda t: (t[1] - lon) ** 2 * shrink + (t[2] - lat) ** 2)[0]


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 1
    producing_system: str = "office-sim"
    start: datetime = datetime(2026, 11, 23, 7, 0, tzinfo=OSLO)
    mean_gap_s: float = 20.0
    young_share: float = 0.30
    immigrant_share: float = 0.22
    complex_share: float = 0.15
    unknown_address_share: float = 0.08
    strictly_confidential_share: float = 0.004
    confidential_share: float = 0.01
    offices_per_day: int = 20
    workers: int = 12


@dataclass
class Case:
    case_id: str
    phase: str = "opened"
    appointment: int = 0
    mode: str = "office"
    visits: int = 0


@dataclass
class Simulator:
    config: SimulatorConfig = field(default_factory=SimulatorConfig)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.clock = self.config.start
        self.cases: list[Case] = []
        self.opened = 0
        self.next_day = self.config.start.date()

    def events(self, count: int | None = None) -> Iterator[dict[str, Any]]:
        """`count` events (or an endless stream) in the order an office system would send them."""
        if count is not None and count < 0:
            raise SimulatorError(f"count must be 0 or more, not {count}")
        produced = 0
        while count is None or produced < count:
            for event in self._step():
                if count is not None and produced >= count:
                    return
                produced += 1
                yield event

    # --- the course of a day -------------------------------------------------------------------
    def _step(self) -> list[dict[str, Any]]:
        self.clock += timedelta(seconds=self.rng.expovariate(1 / self.config.mean_gap_s))
        if self.clock.date() >= self.next_day and self.clock.hour >= 7:
            self.next_day = self.clock.date() + timedelta(days=1)
            return self._morning()
        if self.rng.random() < 0.02:  # staff fall ill, capacity changes, an office closes early
            return [self._office_status(self.rng.choice(offices()))]
        if not self.cases or self.rng.random() < 0.22:
            return [self._open_case()]
        case = self.rng.choice(self.cases)
        return [self._advance(case)]

    def _morning(self) -> list[dict[str, Any]]:
        chosen = self.rng.sample(offices(), min(self.config.offices_per_day, len(offices())))
        out = [self._office_status(office) for office in chosen]
        out += [self._shift(worker, day) for day in self._working_days(SHIFT_DAYS_AHEAD)
                for worker in range(self.config.workers)]
        return out

    def _working_days(self, count: int) -> list[date]:
        """Today and the next working days (Monday to Friday), `count` in all: shifts are scheduled ahead."""
        days, day = [], self.clock.date()
        while len(days) < count:
            if day.weekday() < 5:
                days.append(day)
            day += timedelta(days=1)
        return days

    # --- cases and appointments ----------------------------------------------------------------
    def _open_case(self) -> dict[str, Any]:
        self.opened += 1
        case = Case(f"sim{self.config.seed}-{self.opened:07d}")
        self.cases.append(case)
        return self._event("case.opened", case.case_id, {"case_id": case.case_id, **self._person()})

    def _advance(self, case: Case) -> dict[str, Any]:
        step = getattr(self, f"_after_{case.phase}")
        return step(case)

    def _after_opened(self, case: Case) -> dict[str, Any]:
        case.appointment += 1
        case.phase = "requested"
        case.mode = self.rng.choices(("office", "mobile_visit", "video", "phone"), (60, 20, 10, 10))[0]
        earliest = self.clock + timedelta(days=self.rng.randint(1, 5))
        return self._appointment("appointment.requested", case, {
            "service": self.rng.choice(SERVICES), "earliest": _ts(earliest),
            "latest": _ts(earliest + timedelta(days=self.rng.randint(2, 14))), "preferred_mode": case.mode})

    def _after_requested(self, case: Case) -> dict[str, Any]:
        if self.rng.random() < 0.12:
            return self._cancel(case)
        case.phase = "booked"
        starts = self.clock.replace(minute=0, second=0, microsecond=0) + timedelta(days=self.rng.randint(1, 10))
        extra = {"office_id": self.rng.choice(offices())} if case.mode == "office" else {}
        return self._appointment("appointment.booked", case, {
            "mode": case.mode, "starts_at": _ts(starts.replace(hour=self.rng.randint(8, 14))),
            "duration_min": self.rng.choice((30, 45, 60)), **extra})

    def _after_booked(self, case: Case) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.12:
            return self._cancel(case)
        if roll < 0.24:
            case.phase = "opened"
            return self._appointment("appointment.no_show", case, {"scheduled_at": _ts(self.clock)})
        if case.mode == "mobile_visit":
            return self._visit(case)
        case.phase = "completed"
        return self._appointment("appointment.completed", case, {
            "completed_at": _ts(self.clock), "outcome": self.rng.choice(("resolved", "follow_up_needed"))})

    def _after_completed(self, case: Case) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.5:
            self.cases.remove(case)
            return self._event("case.closed", case.case_id, {"case_id": case.case_id, "reason": self.rng.choices(
                ("resolved", "withdrawn", "moved_away", "transferred", "other"), (70, 10, 8, 8, 4))[0]})
        case.phase = "opened"
        if roll < 0.7:
            return self._event("case.updated", case.case_id, {"case_id": case.case_id, **self._change()})
        return self._after_opened(case)

    def _cancel(self, case: Case) -> dict[str, Any]:
        case.phase = "opened"
        return self._appointment("appointment.cancelled", case, {
            "cancelled_by": self.rng.choice(("person", "office", "system")),
            "reason": self.rng.choice(("illness", "rescheduled", "no_longer_needed", "office_closed", "other"))})

    def _visit(self, case: Case) -> dict[str, Any]:
        case.visits += 1
        body = {"case_id": case.case_id, "visit_id": f"{case.case_id}-v{case.visits}",
                "worker_id": f"fw-{self.rng.randrange(self.config.workers):03d}"}
        if self.rng.random() < 0.8:
            case.phase = "completed"
            return self._event("visit.completed", case.case_id, {**body, "completed_at": _ts(self.clock)})
        case.phase = "opened"
        reason = self.rng.choices(("not_at_home", "refused", "unsafe", "access_problem", "other"), (60, 15, 5, 15, 5))
        return self._event("visit.failed", case.case_id, {**body, "attempted_at": _ts(self.clock),
                                                           "reason": reason[0]})

    def _appointment(self, name: str, case: Case, body: dict[str, Any]) -> dict[str, Any]:
        appointment_id = f"{case.case_id}-a{case.appointment}"
        return self._event(name, case.case_id, {"case_id": case.case_id, "appointment_id": appointment_id, **body})

    # --- people --------------------------------------------------------------------------------
    def _person(self) -> dict[str, Any]:
        c, rng = self.config, self.rng
        young = rng.random() < c.young_share
        immigrant = rng.random() < c.immigrant_share
        language = rng.choices(*zip(*LANGUAGES, strict=True))[0] if immigrant else "nb"
        return {
            "person_ref": "psn-" + "".join(rng.choices(REF_LETTERS, k=14)),
            "locations": self._locations(young),
            "priority_markers": {"young_under_30": young, "immigrant": immigrant,
                                 "complex_needs": rng.random() < c.complex_share},
            "protected_address": self._protection(),
            "services": rng.sample(SERVICES, rng.choices((1, 2, 3), (60, 30, 10))[0]),
            "language_needs": {"language": language, "interpreter_needed": language != "nb" and rng.random() < 0.5},
            "can_travel": rng.random() < 0.8,
        }

    def _protection(self) -> str:
        roll = self.rng.random()
        if roll < self.config.strictly_confidential_share:
            return "strictly_confidential"
        return "confidential" if roll < self.config.strictly_confidential_share + self.config.confidential_share \
            else "none"

    def _locations(self, young: bool) -> list[dict[str, Any]]:
        home = self._place()
        found = [self._location("home", home)]
        if young and self.rng.random() < 0.45:
            found.append(self._location("school", self._nearby(home)))
        elif self.rng.random() < 0.55:
            found.append(self._location("work", self._nearby(home)))
        return found

    def _place(self) -> Place:
        all_places = places()
        return self.rng.choices(all_places, [p.weight for p in all_places])[0]

    def _nearby(self, home: Place) -> Place:
        if self.rng.random() < 0.7:
            return home
        county = home.municipality_number[:2]
        same = [p for p in places() if p.municipality_number[:2] == county]
        return self.rng.choices(same, [p.weight for p in same])[0]

    def _location(self, kind: str, place: Place) -> dict[str, Any]:
        if self.rng.random() < self.config.unknown_address_share:
            return {"kind": kind, "municipality_number": place.municipality_number}
        lat = round(place.lat + self.rng.uniform(-0.02, 0.02), 5)
        lon = round(place.lon + self.rng.uniform(-0.04, 0.04), 5)
        return {"kind": kind, "coordinates": {"lat": lat, "lon": lon}}

    def _change(self) -> dict[str, Any]:
        if self.rng.random() < 0.5:
            return {"locations": self._locations(self.rng.random() < self.config.young_share)}
        return {"services": self.rng.sample(SERVICES, 1), "can_travel": self.rng.random() < 0.7}

    # --- offices and field workers -------------------------------------------------------------
    def _office_status(self, office: str) -> dict[str, Any]:
        roll = self.rng.random()
        status = "open" if roll < 0.93 else "temporarily_closed" if roll < 0.99 else "closed_for_good"
        staff = self.rng.randint(2, 25) if status == "open" else 0
        hours = [{"weekday": d, "opens": "09:00", "closes": "15:00"} for d in ("mon", "tue", "wed", "thu", "fri")]
        return self._event("office.status_changed", office, {
            "office_id": office, "status": status, "staff_on_duty": staff, "daily_capacity": staff * 6,
            "effective_from": _ts(self.clock), "opening_hours": hours if status == "open" else []})

    def _home(self, worker: int) -> Place:
        """Where a field worker lives and starts the day: the same place every day, near people."""
        all_places = places()
        return random.Random(f"{self.config.seed}:fw-{worker}").choices(all_places, [p.weight for p in all_places])[0]

    def _shift(self, worker: int, on: date) -> dict[str, Any]:
        base = self._home(worker)
        worker_id, day = f"fw-{worker:03d}", on.isoformat()
        return self._event("field_worker.shift_scheduled", f"{worker_id}:{day}", {
            "worker_id": worker_id, "team_id": nearest_team(base.lon, base.lat), "shift_date": day,
            "available": self.rng.random() < 0.9, "starts": "08:00", "ends": "15:30",
            "base": {"lat": base.lat, "lon": base.lon}, "skills": self.rng.sample(SERVICES, 2),
            "languages": ["nb"] + (["en"] if self.rng.random() < 0.6 else [])})

    # --- the envelope --------------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _event(self, name: str, key: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"event_id": self._uuid(), "event_name": name, "schema_version": 1, "occurred_at": _ts(self.clock),
                "producing_system": self.config.producing_system, "correlation_id": self._uuid(),
                "causation_id": None, "ordering_key": key, "payload": payload}


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def paced(items: Iterable[Any], rate: float | None) -> Iterator[Any]:
    """Yield items at `rate` per second (None: as fast as possible)."""
    if rate is not None and rate <= 0:
        raise SimulatorError(f"rate must be more than 0 events/s, not {rate}; leave it out for full speed")
    started = time.monotonic()
    for index, item in enumerate(items):
        if rate is not None:
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        yield item
