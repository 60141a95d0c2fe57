"""geo: regions, offices, travel time and the routing decision. A pure library: no Kafka, no HTTP.

    from geo import Case, PersonLocation, route, locate
    locate(14.405, 67.28, at="2020-06-01")          # Placement(municipality='1804', region='106', ...)
    route(Case("case-1", [PersonLocation("home", 14.405, 67.28)]), at="2020-06-01T10:00+02:00")

Data (boundary editions, BA-regions, office registry, ownership rules, travel and routing policy) lives in
geo/data, named by geo/data/manifest.yaml; see geo/data/ATTRIBUTION.md for sources and licences.
"""

from geo.cases import Case, LocationKind, PersonLocation, Policy, load_policy
from geo.decisions import Candidate, Decision, Outcome, PlacedLocation, Rejection, Tier
from geo.errors import (
    EditionError,
    GeoDataError,
    GeoError,
    GeoInputError,
    StoreError,
    TravelBackendError,
    UnknownIdError,
)
from geo.offices import (
    Availability,
    MobileTeam,
    OfficeBoard,
    Registry,
    ServicePoint,
    StatusEvent,
    StatusKind,
    Unit,
    load_registry,
)
from geo.ownership import Ownership, Protection, RuleTable, load_rules
from geo.regions import Edition, Placement, edition_at, editions, locate, region_names
from geo.routing import Router, default_router, route, route_many
from geo.settings import GeoSettings, load_geo_settings, travel_model
from geo.travel import GreatCircleModel, OsrmTableModel, Spot, TravelModel, default_model

__all__ = [
    "route", "route_many", "locate", "Router", "default_router",
    "Case", "PersonLocation", "LocationKind", "Policy", "load_policy",
    "Decision", "Outcome", "Candidate", "PlacedLocation", "Rejection", "Tier",
    "Placement", "Edition", "edition_at", "editions", "region_names",
    "Registry", "Unit", "ServicePoint", "MobileTeam", "OfficeBoard", "StatusEvent", "StatusKind", "Availability",
    "load_registry",
    "Protection", "Ownership", "RuleTable", "load_rules",
    "TravelModel", "GreatCircleModel", "OsrmTableModel", "Spot", "default_model",
    "GeoSettings", "load_geo_settings", "travel_model",
    "GeoError", "GeoDataError", "EditionError", "GeoInputError", "UnknownIdError", "TravelBackendError", "StoreError",
]
