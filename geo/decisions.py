"""The routing decision: what was decided, and why. Never contains coordinates.

A Decision names the outcome, the chosen service point or mobile team and location kind, the travel time,
the candidates considered with their travel times and why each was not chosen, the responsible unit (owner),
and the versions of the data used (boundary edition, policy, registry, ownership table, travel model).
Decisions are records: treat them as immutable (they are slotted, not frozen, because the routing hot path
makes hundreds of thousands of them per second).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

__all__ = ["Outcome", "Tier", "Rejection", "PlacedLocation", "Candidate", "Decision"]


class Outcome(StrEnum):
    OFFICE_APPOINTMENT = "office_appointment"
    MOBILE_VISIT = "mobile_visit"
    DESIGNATED_UNIT = "designated_unit"  # strictly confidential address: the designated national unit takes it
    NOT_PLACEABLE = "not_placeable"  # no location of the person lies in (or near) a known municipality
    MANUAL_PLANNING = "manual_planning"  # no office qualifies and no location may be visited


class Tier(StrEnum):
    SERVING = "serving"  # a unit serving the person's municipality
    REGION = "region"  # the same BA-region
    NEIGHBOUR = "neighbour"  # a neighbouring BA-region


class Rejection(StrEnum):
    CLOSED = "closed"
    CLOSED_FOR_DAY = "closed_for_day"
    NOT_STAFFED = "not_staffed"
    NO_CAPACITY = "no_capacity"
    TOO_FAR = "too_far"
    FARTHER = "farther"  # qualified, but another one of the same tier is nearer (or equal with a lower id)
    CANNOT_TRAVEL = "cannot_travel"


@dataclass(slots=True)
class PlacedLocation:
    kind: str
    placeable: bool
    municipality: str | None
    region: str | None
    snapped: bool
    distance_m: float  # to the municipality it was snapped to, or (not placeable) to the nearest one


@dataclass(slots=True)
class Candidate:
    point_id: str
    unit: str
    tier: Tier
    minutes: float
    from_kind: str  # the person's location the travel time is from
    rejected: Rejection | None  # None: chosen


@dataclass(slots=True)
class Decision:
    case_id: str
    outcome: Outcome
    at: datetime
    owner_unit: str | None
    owner_rule: str | None
    point_id: str | None
    team_id: str | None
    location_kind: str | None
    travel_minutes: float | None
    threshold_minutes: float | None
    appointment_day: date | None
    locations: tuple[PlacedLocation, ...]
    candidates: tuple[Candidate, ...]
    reasons: tuple[str, ...]
    boundary_edition: str
    policy_version: str
    registry_version: str
    ownership_version: str
    travel_model: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: enums as their values, times as ISO strings."""
        return _plain(asdict(self))

    def explain(self) -> list[str]:
        """The decision in plain sentences, for people."""
        lines = [f"case {self.case_id}: {self.outcome.value}" + (f" at {self.point_id}" if self.point_id else "")
                 + (f" by {self.team_id}" if self.team_id else "")]
        lines += list(self.reasons)
        for c in self.candidates:
            verdict = "chosen" if c.rejected is None else f"rejected: {c.rejected.value}"
            lines.append(f"  {c.point_id} ({c.tier.value}, unit {c.unit}): {c.minutes:.0f} min from {c.from_kind}"
                         f" - {verdict}")
        lines.append(f"data: {self.boundary_edition}, {self.policy_version}, registry {self.registry_version}, "
                     f"{self.ownership_version}, travel {self.travel_model}")
        return lines


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
