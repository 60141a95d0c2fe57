"""Travel time between a person's location and service points: a pluggable model.

Default: `GreatCircleModel` (no network, deterministic):

    minutes = great-circle km x circuity / road_speed_kmh x 60  +  ferry_legs x ferry_leg_minutes

The great-circle distance uses the haversine formula on a sphere of radius 6371.0088 km. Circuity (roads are
longer than the straight line) and road speed are stated in geo/data/travel.yaml, with overrides per BA-region
(the region of the person's location). Ferry legs are counted where the sea separates the two points: each
point lies on a land mass (municipality polygons buffered by `land_join_m` and merged, see geo.regions); same
land mass -> 0 legs; one of them on the mainland (the largest land mass) -> 1; two different islands -> 2.
Known limits: bridges and tunnels longer than land_join_m are not known (set ferry_leg_minutes to 0 for regions
whose islands are linked by road), and mountains and fjords are only in the circuity factor.

`OsrmTableModel` asks an OSRM server's table service (used only when one is configured, e.g. in deployment).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from geo.datafiles import manifest, read_yaml
from geo.errors import GeoDataError, TravelBackendError

__all__ = ["Spot", "TravelParams", "TravelModel", "GreatCircleModel", "OsrmTableModel", "great_circle_km",
           "default_model"]

EARTH_RADIUS_KM = 6371.0088


class Spot:
    """A point with what the travel model needs: WGS84 lon/lat, land mass id, whether that is the mainland,
    and the BA-region (for per-region parameters). Treat as immutable (a plain slotted class: the routing hot
    path makes one per person location)."""

    __slots__ = ("lon", "lat", "land", "mainland", "region", "trig")

    def __init__(self, lon: float, lat: float, land: int = 0, mainland: bool = True, region: str | None = None):
        self.lon, self.lat, self.land, self.mainland, self.region = lon, lat, land, mainland, region
        phi = math.radians(lat)
        self.trig = (math.radians(lon), phi, math.cos(phi))  # radians lon, lat, cos lat

    def __repr__(self) -> str:
        return f"Spot(lon={self.lon}, lat={self.lat}, land={self.land}, mainland={self.mainland}, region={self.region!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spot) and (self.lon, self.lat, self.land, self.mainland, self.region) == (
            other.lon, other.lat, other.land, other.mainland, other.region)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class TravelParams:
    circuity: float
    road_speed_kmh: float
    ferry_leg_minutes: float

    def __post_init__(self) -> None:
        if self.circuity < 1 or self.road_speed_kmh <= 0 or self.ferry_leg_minutes < 0:
            raise GeoDataError(f"travel parameters {self} are impossible: circuity must be >= 1, road_speed_kmh > 0, "
                               "ferry_leg_minutes >= 0; fix geo/data/travel.yaml")


class TravelModel(Protocol):
    name: str

    def minutes(self, origin: Spot, destinations: Sequence[Spot]) -> list[float]:
        """Travel minutes from origin to each destination (math.inf when unreachable)."""
        ...


def great_circle_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def ferry_legs(a: Spot, b: Spot) -> int:
    if a.land == b.land:
        return 0
    return 1 if (a.mainland or b.mainland) else 2


class GreatCircleModel:
    """Great-circle distance x circuity at a stated speed, plus ferry legs (see the module docstring)."""

    name = "great-circle"

    def __init__(self, default: TravelParams, per_region: dict[str, TravelParams] | None = None) -> None:
        self.default = default
        self.per_region = per_region or {}

    def params(self, region: str | None) -> TravelParams:
        return self.per_region.get(region, self.default) if region is not None else self.default

    def minutes(self, origin: Spot, destinations: Sequence[Spot]) -> list[float]:
        p = self.params(origin.region)
        factor = 2 * EARTH_RADIUS_KM * p.circuity / p.road_speed_kmh * 60.0
        ferry = p.ferry_leg_minutes
        lam1, phi1, cos1 = origin.trig
        land, mainland = origin.land, origin.mainland
        sin, asin, sqrt = math.sin, math.asin, math.sqrt
        out = []
        for d in destinations:  # haversine, inlined: this loop is the routing hot path
            lam2, phi2, cos2 = d.trig
            h = sin((phi2 - phi1) / 2) ** 2 + cos1 * cos2 * sin((lam2 - lam1) / 2) ** 2
            legs = 0 if d.land == land else (1 if (mainland or d.mainland) else 2)
            out.append(asin(min(1.0, sqrt(h))) * factor + legs * ferry)
        return out

    def describe(self) -> str:
        d = self.default
        return (f"great-circle x {d.circuity} at {d.road_speed_kmh} km/h + {d.ferry_leg_minutes} min per ferry leg"
                f" ({len(self.per_region)} regional override(s))")


@functools.cache
def default_model() -> GreatCircleModel:
    """The model configured by geo/data/travel.yaml, loaded once."""
    raw = read_yaml(manifest()["travel"])
    base = dict(raw["default"])
    try:
        default = TravelParams(**base)
        regions = {str(r): TravelParams(**{**base, **over}) for r, over in (raw.get("regions") or {}).items()}
    except TypeError as exc:
        raise GeoDataError(f"travel.yaml: {exc}; the keys are circuity, road_speed_kmh, ferry_leg_minutes") from None
    return GreatCircleModel(default, regions)


class OsrmTableModel:
    """Travel times from an OSRM server's table service (GET /table/v1/{profile}/{coords}?sources=0).

    Used only when configured with the server's base URL; durations are seconds, returned as minutes; a null
    duration (no route) is math.inf. Any HTTP or format problem raises TravelBackendError.
    """

    name = "osrm"

    def __init__(self, base_url: str, profile: str = "driving", timeout_s: float = 5.0, client=None) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.client = client or httpx.Client(timeout=timeout_s)

    def minutes(self, origin: Spot, destinations: Sequence[Spot]) -> list[float]:
        if not destinations:
            return []
        coords = ";".join(f"{s.lon:.6f},{s.lat:.6f}" for s in (origin, *destinations))
        url = f"{self.base_url}/table/v1/{self.profile}/{coords}"
        body = self._get(url)
        try:
            row = body["durations"][0][1:]
            if len(row) != len(destinations):
                raise ValueError(f"{len(row)} durations for {len(destinations)} destinations")
            return [math.inf if d is None else float(d) / 60.0 for d in row]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise TravelBackendError(f"OSRM at {self.base_url} answered an unusable table ({exc!r}); check that it "
                                     "is an OSRM server with the table service and the right profile") from None

    def _get(self, url: str) -> dict:
        import httpx

        try:
            response = self.client.get(url, params={"sources": "0", "annotations": "duration"})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TravelBackendError(f"OSRM request to {self.base_url} failed: {exc}; check the server URL and that "
                                     "it is running, or unconfigure OSRM to use the great-circle model") from None
        if body.get("code") != "Ok":
            raise TravelBackendError(f"OSRM at {self.base_url} said {body.get('code')!r}: {body.get('message')}")
        return body
