"""geo: regions, offices, travel time and the routing decision. A pure library: no Kafka, no HTTP.

    from geo import Case, PersonLocation, route, locate
    locate(14.405, 67.28, at="2020-06-01")          # Placement(municipality='1804', region='106', ...)
    route(Case("case-1", [PersonLocation("home", 14.405, 67.28)]), at="2020-06-01T10:00+02:00")

Data (boundary editions, BA-regions, office registry, ownership rules, travel and routing policy) lives in
geo/data, named by geo/data/manifest.yaml; see geo/data/ATTRIBUTION.md for sources and licences.
"""

from geo.baseline import nearest_neighbour
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
from geo.planning import (
    FixedStop,
    NextStep,
    Plan,
    PlanOptions,
    Reason,
    Route,
    Shift,
    Stop,
    Unplanned,
    Visit,
    next_step,
    plan,
    visit_priority,
)
from geo.regions import Edition, Placement, edition_at, editions, locate, region_names
from geo.routing import Router, default_router, route, route_many
from geo.settings import GeoSettings, load_geo_settings, travel_model
from geo.solomon import SolomonInstance, SolomonResult, parse_solomon, read_solomon, solve_solomon
from geo.travel import GreatCircleModel, OsrmTableModel, Spot, TravelModel, default_model
from geo.vrp import Problem, build_problem, direct_vroom, travel_matrix
from geo.windows import WindowRules, day_windows

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
    "plan", "Visit", "Shift", "FixedStop", "PlanOptions", "Plan", "Route", "Stop", "Unplanned", "Reason", "NextStep",
    "visit_priority", "next_step", "WindowRules", "day_windows", "Problem", "build_problem", "travel_matrix",
    "direct_vroom", "nearest_neighbour", "SolomonInstance", "SolomonResult", "read_solomon", "parse_solomon",
    "solve_solomon",
    "GeoError", "GeoDataError", "EditionError", "GeoInputError", "UnknownIdError", "TravelBackendError", "StoreError",
]
