"""The routing input: a case as geo sees it (a plain typed model, independent of the event contract), and the
routing policy (geo/data/policy.yaml).

Coordinates are WGS84 lon/lat. They are personal data: they stay inside the routing stage; a Decision never
contains them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from enum import StrEnum

from geo.datafiles import manifest, read_yaml
from geo.errors import GeoDataError, GeoInputError
from geo.ownership import Protection, protection

__all__ = ["LocationKind", "PersonLocation", "Case", "Policy", "load_policy", "MARKERS"]

MARKERS = ("young", "immigrant", "complex_needs")


class LocationKind(StrEnum):
    HOME = "home"
    WORK = "work"
    SCHOOL = "school"


@dataclass(frozen=True)
class PersonLocation:
    kind: LocationKind
    lon: float
    lat: float

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", LocationKind(self.kind))
        except ValueError:
            raise GeoInputError(f"location kind {self.kind!r} is not one of {[k.value for k in LocationKind]}") from None
        lon, lat = self.lon, self.lat
        if not (isinstance(lon, int | float) and isinstance(lat, int | float) and math.isfinite(lon)
                and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise GeoInputError(f"{self.kind.value} location lon={lon!r}, lat={lat!r} is not WGS84: lon must be in "
                                "-180..180 and lat in -90..90 (did you swap them?)")


@dataclass(frozen=True)
class Case:
    """What routing needs to know about a case.

    theme: service theme (tema) for ownership, e.g. "OPP" (follow-up); protection: address protection grading;
    skjermet: the person is a NAV employee; markers: priority markers (young, immigrant, complex_needs), which
    tighten the travel-time threshold; can_travel: False when the person cannot come to an office.
    """

    case_id: str
    locations: tuple[PersonLocation, ...]
    theme: str = "OPP"
    protection: Protection = Protection.NONE
    skjermet: bool = False
    markers: frozenset[str] = field(default_factory=frozenset)
    can_travel: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "locations", tuple(self.locations))
        object.__setattr__(self, "markers", frozenset(self.markers))
        object.__setattr__(self, "protection", protection(self.protection))
        if not self.case_id:
            raise GeoInputError("case_id is empty; give the case's (pseudonymous) id")
        if not self.locations:
            raise GeoInputError(f"case {self.case_id} has no location; give at least one of home, work, school")
        kinds = [loc.kind for loc in self.locations]
        if len(set(kinds)) != len(kinds):
            raise GeoInputError(f"case {self.case_id} repeats a location kind ({[k.value for k in kinds]}); give "
                                "each of home, work, school at most once")
        unknown = sorted(self.markers - set(MARKERS))
        if unknown:
            raise GeoInputError(f"case {self.case_id}: unknown priority marker(s) {unknown}; valid: {list(MARKERS)}")

    def location(self, kind: LocationKind) -> PersonLocation | None:
        return next((loc for loc in self.locations if loc.kind == kind), None)


@dataclass(frozen=True, eq=False)
class Policy:
    version: str
    threshold_minutes: float
    marker_threshold_minutes: dict[str, float]
    visit_location_order: tuple[LocationKind, ...]
    young_visit_location: LocationKind

    def threshold(self, markers: frozenset[str]) -> float:
        """The threshold for a case: the base one, tightened by each priority marker (the smallest wins)."""
        return _threshold(self, markers)


@functools.lru_cache(maxsize=1024)
def _threshold(policy: Policy, markers: frozenset[str]) -> float:
    return min([policy.threshold_minutes, *(policy.marker_threshold_minutes[m] for m in markers
                                           if m in policy.marker_threshold_minutes)])


@functools.cache
def load_policy() -> Policy:
    raw = read_yaml(manifest()["policy"])
    try:
        return Policy(str(raw["version"]), float(raw["threshold_minutes"]),
                      {str(k): float(v) for k, v in raw["marker_threshold_minutes"].items()},
                      tuple(LocationKind(k) for k in raw["visit_location_order"]),
                      LocationKind(raw["young_visit_location"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise GeoDataError(f"policy.yaml is malformed ({exc!r}); it needs version, threshold_minutes, "
                           "marker_threshold_minutes, visit_location_order, young_visit_location") from None
