"""The routing decision: where a case's follow-up happens, and why. Pure and deterministic.

`route(case, at=...)`:
1. Place each of the person's locations (home, work, school) with the boundary edition valid at `at`.
2. Strictly confidential address: the designated national unit (from the ownership table); the decision
   carries no location, municipality, candidate or travel time. No location placeable: not placeable.
3. Owner: the arbeidsfordeling rule table (geo.ownership), for the primary location (home, else the first).
4. Candidates in tiers, widening only when no candidate of a tier qualifies: service points of the units
   serving the person's municipalities, then of the same BA-regions, then of neighbouring BA-regions. A
   candidate's travel time is the smallest from any of the person's locations. It qualifies when staffed and
   with capacity on its service day (geo.offices.OfficeBoard) and within the threshold (policy, tightened by
   priority markers). The nearest qualifying one of the first tier that has one wins; ties go to the lower id.
5. None qualifies, or the person cannot travel: a mobile visit at the most suitable allowed location (a young
   person with a school location: the school; then the policy's order; never home with a protected address),
   by the mobile team covering that location's region (nearest base, then lowest id). No allowed location:
   manual planning.

`route_many(cases, at=...)` gives the same decisions for many cases at one time; it places all locations in one
vectorized call and asks the office board about each service point once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import numpy as np

from geo.cases import Case, LocationKind, Policy, load_policy
from geo.datafiles import OSLO, as_datetime, local_date
from geo.decisions import Candidate, Decision, Outcome, PlacedLocation, Rejection, Tier
from geo.offices import Availability, OfficeBoard, Registry, load_registry
from geo.ownership import Protection, RuleTable, load_rules
from geo.regions import Edition, edition_at, locate_in, locate_one
from geo.travel import Spot, TravelModel, default_model

__all__ = ["Router", "route", "route_many", "default_router"]

TIERS = (Tier.SERVING, Tier.REGION, Tier.NEIGHBOUR)
STRICT, NO_PROTECTION, HOME = Protection.STRICTLY_CONFIDENTIAL, Protection.NONE, LocationKind.HOME
CANNOT_TRAVEL, TOO_FAR, FARTHER = Rejection.CANNOT_TRAVEL, Rejection.TOO_FAR, Rejection.FARTHER
REJECTION = {"closed": Rejection.CLOSED, "closed_for_day": Rejection.CLOSED_FOR_DAY,
             "not_staffed": Rejection.NOT_STAFFED, "no_capacity": Rejection.NO_CAPACITY}


class _Where(NamedTuple):
    """A placed location of the person (internal: it holds coordinates)."""

    kind: LocationKind
    spot: Spot | None  # None when not placeable
    muni: int
    placed: PlacedLocation


@dataclass
class _View:
    """The registry seen through one boundary edition (precomputed once per edition)."""

    edition: Edition
    spots: dict[str, Spot]
    tiers: dict[int, tuple[tuple[str, ...], ...]] = field(default_factory=dict)


class Router:
    """Routing with its data: registry, office board, ownership table, policy and travel model."""

    def __init__(self, registry: Registry | None = None, rules: RuleTable | None = None,
                 policy: Policy | None = None, travel: TravelModel | None = None) -> None:
        self.registry = registry or load_registry()
        self.rules = rules or load_rules()
        self.policy = policy or load_policy()
        self.travel = travel or default_model()
        self._views: dict[str, _View] = {}
        self._units = {pid: p.unit for pid, p in self.registry.points.items()}
        self._travel_name = getattr(self.travel, "describe", lambda: self.travel.name)()

    # -- data views ---------------------------------------------------------------------------------------------
    def view(self, edition: Edition) -> _View:
        if edition.id not in self._views:
            self._views[edition.id] = _View(edition, self._point_spots(edition))
        return self._views[edition.id]

    def _point_spots(self, edition: Edition) -> dict[str, Spot]:
        ids = sorted(self.registry.points)
        x = np.array([self.registry.points[i].lon for i in ids])
        y = np.array([self.registry.points[i].lat for i in ids])
        muni, _, _, land = locate_in(edition, x, y)
        return {i: Spot(float(x[k]), float(y[k]), int(land[k]), int(land[k]) == edition.mainland,
                        str(edition.regions[muni[k]]) if muni[k] >= 0 else None) for k, i in enumerate(ids)}

    def tiers(self, view: _View, muni: int) -> tuple[tuple[str, ...], ...]:
        """Candidate point ids per tier for a municipality (serving, same region, neighbouring regions)."""
        if muni not in view.tiers:
            edition = view.edition
            region = str(edition.regions[muni])
            serving = set(self.registry.serving(str(edition.reference[muni])))
            same = {p for p, s in view.spots.items() if s.region == region} - serving
            near = edition.neighbours.get(region, frozenset())
            neighbour = {p for p, s in view.spots.items() if s.region in near} - serving - same
            view.tiers[muni] = (tuple(sorted(serving)), tuple(sorted(same)), tuple(sorted(neighbour)))
        return view.tiers[muni]

    # -- the decision -------------------------------------------------------------------------------------------
    def route(self, case: Case, at: datetime | date | str | None = None, board: OfficeBoard | None = None) -> Decision:
        moment = as_datetime(at).astimezone(OSLO)  # Norwegian time: later conversions are no-ops
        edition = edition_at(moment)
        wheres = [self._where(edition, loc.kind, *locate_one(edition, loc.lon, loc.lat), loc.lon, loc.lat)
                  for loc in case.locations]
        board = board if board is not None else _empty_board(self.registry)
        return self._decide(case, moment, edition, wheres, lambda pid: board.availability(pid, moment))

    def route_many(self, cases: Sequence[Case], at: datetime | date | str | None = None,
                   board: OfficeBoard | None = None) -> list[Decision]:
        """route() for many cases at one time, placing all their locations in one vectorized call."""
        moment = as_datetime(at).astimezone(OSLO)  # Norwegian time: later conversions are no-ops
        edition = edition_at(moment)
        flat = [loc for case in cases for loc in case.locations]
        muni, snapped, dist, land = locate_in(edition, np.array([loc.lon for loc in flat]),
                                              np.array([loc.lat for loc in flat]))
        board = board if board is not None else _empty_board(self.registry)
        memo: dict[str, Availability] = {}  # one time and one board for the batch: ask each point once

        def available(pid: str) -> Availability:
            found = memo.get(pid)
            if found is None:
                found = memo[pid] = board.availability(pid, moment)
            return found

        out, k = [], 0
        for case in cases:
            wheres = []
            for loc in case.locations:
                wheres.append(self._where(edition, loc.kind, int(muni[k]), bool(snapped[k]), float(dist[k]),
                                          int(land[k]), loc.lon, loc.lat))
                k += 1
            out.append(self._decide(case, moment, edition, wheres, available))
        return out

    def _where(self, edition: Edition, kind: LocationKind, muni: int, snapped: bool, distance: float, land: int,
               lon: float, lat: float) -> _Where:
        if muni < 0:
            return _Where(kind, None, -1, PlacedLocation(kind, False, None, None, False, distance))
        region = edition.region_list[muni]
        placed = PlacedLocation(kind, True, edition.code_list[muni], region, snapped, distance)
        return _Where(kind, Spot(lon, lat, land, land == edition.mainland, region), muni, placed)

    def _decide(self, case: Case, at: datetime, edition: Edition, wheres: list[_Where],
                available: Callable[[str], Availability]) -> Decision:
        day = local_date(at)
        placed = [w for w in wheres if w.spot is not None]
        if case.protection is STRICT:
            return self._designated(case, at, edition, placed, day)
        if not placed:
            return self._decision(case, at, edition, Outcome.NOT_PLACEABLE, wheres, reasons=(
                "no location of the person lies in or within the snap tolerance of a known municipality: "
                + ", ".join(f"{w.kind.value} {w.placed.distance_m / 1000:.1f} km from the nearest" for w in wheres),))
        owner = self._owner(case, edition, placed, day)
        threshold = self.policy.threshold(case.markers)
        candidates, chosen, appointment_day = self._offices(case, edition, placed, threshold, available)
        if chosen is not None:
            return self._decision(case, at, edition, Outcome.OFFICE_APPOINTMENT, wheres, owner, candidates,
                                  point_id=chosen.point_id, location_kind=chosen.from_kind,
                                  travel_minutes=chosen.minutes, threshold=threshold, day=appointment_day,
                                  reasons=(f"nearest qualifying service point ({chosen.tier.value} tier) within "
                                           f"{threshold:.0f} min",))
        return self._mobile(case, at, edition, wheres, placed, owner, candidates, threshold)

    def _owner(self, case: Case, edition: Edition, placed: list[_Where], day: date):
        primary = next((w for w in placed if w.kind is HOME), placed[0])
        return self.rules.owner(edition.reference_list[primary.muni], primary.spot.region, case.theme,
                                case.protection, case.skjermet, day)

    def _designated(self, case: Case, at: datetime, edition: Edition, placed: list[_Where], day: date) -> Decision:
        muni = str(edition.reference[placed[0].muni]) if placed else "0000"
        region = placed[0].spot.region if placed else None
        owner = self.rules.owner(muni, region, case.theme, case.protection, case.skjermet, day)
        return self._decision(case, at, edition, Outcome.DESIGNATED_UNIT, [], owner, reasons=(
            f"strictly confidential address: routed to the designated unit {owner.unit}; no home visit, and the "
            "person's location is not part of this decision",))

    # -- offices ------------------------------------------------------------------------------------------------
    def _offices(self, case: Case, edition: Edition, placed: list[_Where], threshold: float, available):
        view = self.view(edition)
        considered: list[Candidate] = []
        seen: set[str] = set()
        tiers = [self.tiers(view, w.muni) for w in placed]
        for rank, tier in enumerate(TIERS):
            if len(tiers) == 1:
                ids = [p for p in tiers[0][rank] if p not in seen]
            else:
                ids = sorted({p for t in tiers for p in t[rank]} - seen)
            if not ids:
                continue
            seen.update(ids)
            chosen, day = self._tier(case, view, placed, tier, ids, threshold, available, considered)
            if chosen is not None:
                return considered, chosen, day
        return considered, None, None

    def _tier(self, case, view, placed, tier, ids, threshold, available, out: list[Candidate]):
        """Append the candidates of one tier to `out`; return the chosen one (nearest qualifying, then lowest id)
        and its appointment day, or (None, None)."""
        rows, best = [], None
        for pid, (minutes, kind) in zip(ids, self._times(view, placed, ids), strict=True):
            reason, day = self._reject(case, pid, minutes, threshold, available)
            rows.append((pid, minutes, kind, reason))
            if reason is None and (best is None or (minutes, pid) < (best[1], best[0])):
                best = (pid, minutes, day)
        chosen = None
        for pid, minutes, kind, reason in rows:
            won = best is not None and pid == best[0]
            out.append(Candidate(pid, self._units[pid], tier, minutes, kind, None if won else (reason or FARTHER)))
            if won:
                chosen = out[-1]
        return chosen, (best[2] if best else None)

    def _times(self, view: _View, placed: list[_Where], ids: list[str]) -> list[tuple[float, str]]:
        """Per point (in ids' order): the smallest travel time from any of the person's locations, and from which."""
        spots = [view.spots[p] for p in ids]
        first = placed[0]
        best = [(m, first.kind) for m in self.travel.minutes(first.spot, spots)]
        for w in placed[1:]:
            best = [b if b[0] <= m else (m, w.kind) for b, m in zip(best, self.travel.minutes(w.spot, spots), strict=True)]
        return best

    def _reject(self, case, pid, minutes, threshold, available) -> tuple[Rejection | None, date | None]:
        if not case.can_travel:
            return CANNOT_TRAVEL, None
        state = available(pid)
        if not state.ok:
            return REJECTION[state.reason], None
        if minutes > threshold:
            return TOO_FAR, None
        return None, state.day

    # -- mobile visits ------------------------------------------------------------------------------------------
    def _mobile(self, case, at, edition, wheres, placed, owner, candidates, threshold) -> Decision:
        why = "the person cannot travel" if not case.can_travel else f"no service point qualifies within {threshold:.0f} min"
        target = self._visit_location(case, placed)
        if target is None:
            return self._decision(case, at, edition, Outcome.MANUAL_PLANNING, wheres, owner, candidates,
                                  threshold=threshold, reasons=(why, "no location may be visited (a protected "
                                                                "address is never visited at home): plan manually"))
        team_id, minutes, note = self._team(target)
        return self._decision(case, at, edition, Outcome.MOBILE_VISIT, wheres, owner, candidates, team_id=team_id,
                              location_kind=target.kind.value, travel_minutes=minutes, threshold=threshold,
                              reasons=(why, f"mobile visit at {target.kind.value} ({target.placed.municipality}) by "
                                            f"{team_id}, {note}"))

    def _visit_location(self, case: Case, placed: list[_Where]) -> _Where | None:
        order = list(self.policy.visit_location_order)
        if "young" in case.markers:
            order.insert(0, self.policy.young_visit_location)
        if case.protection is not Protection.NONE:
            order = [k for k in order if k is not LocationKind.HOME]
        by_kind = {w.kind: w for w in placed}
        return next((by_kind[k] for k in order if k in by_kind), None)

    def _team(self, target: _Where) -> tuple[str, float, str]:
        teams = sorted(self.registry.teams.values(), key=lambda t: t.id)
        covering = [t for t in teams if target.spot.region in t.covers_regions]
        pool, note = (covering, "the team covering the region") if covering else (
            teams, f"no team covers region {target.spot.region}: the nearest team")
        bases = [Spot(t.lon, t.lat, region=target.spot.region) for t in pool]
        times = self.travel.minutes(target.spot, bases)
        minutes, team_id = min(zip(times, (t.id for t in pool), strict=True))
        return team_id, minutes, note

    def _decision(self, case, at, edition, outcome, wheres, owner=None, candidates=(), *, point_id=None,
                  team_id=None, location_kind=None, travel_minutes=None, threshold=None, day=None,
                  reasons=()) -> Decision:
        return Decision(case.case_id, outcome, at, owner.unit if owner else None, owner.rule_id if owner else None,
                        point_id, team_id, location_kind, travel_minutes, threshold, day,
                        tuple(w.placed for w in wheres), tuple(candidates), tuple(reasons), edition.id,
                        self.policy.version, self.registry.version, self.rules.version, self._travel_name)


@functools.cache
def _empty_board(registry: Registry) -> OfficeBoard:
    return OfficeBoard(registry)


@functools.cache
def default_router() -> Router:
    """The router over the shipped data, built once."""
    return Router()


def route(case: Case, at: datetime | date | str | None = None, board: OfficeBoard | None = None) -> Decision:
    """Decide where a case's follow-up happens at time `at` (None = now), given office state `board`
    (None = the registry as shipped, no status events or bookings)."""
    return default_router().route(case, at, board)


def route_many(cases: Iterable[Case], at: datetime | date | str | None = None,
               board: OfficeBoard | None = None) -> list[Decision]:
    return default_router().route_many(list(cases), at, board)

