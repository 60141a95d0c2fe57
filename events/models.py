"""Pydantic models of the events: a convenient, fast way for Python producers to build valid events.

The JSON Schema files in events/schemas are the contract; these models mirror them field by field, and
tests/unit/events/test_models.py checks that they agree (fields, required fields, types, patterns, bounds,
enums), so an event the model accepts is an event the schema accepts. Models are strict: no coercion of
"1" into 1, no unknown fields. Timestamps are kept as the RFC 3339 text the schema asks for; an aware
`datetime` is accepted when building a model and turned into that text.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from events.timestamps import parse_timestamp

__all__ = ["EventModel", "MODELS", "model_for", "new_event"]

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
TS_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"
ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{2,63}$"


def _timestamp_text(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("timestamp has no time zone; give an aware datetime (e.g. tzinfo=UTC)")
        return value.isoformat()
    if isinstance(value, str) and parse_timestamp(value) is None and len(value) <= 40:
        raise ValueError("not a real timestamp with a time zone, e.g. 2026-11-23T10:00:00+01:00")
    return value


def _date_text(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a real calendar date YYYY-MM-DD") from None
    return value


def pattern(regex: str, **kw: Any) -> Any:
    return Annotated[str, StringConstraints(pattern=regex, **kw)]


Uuid = pattern(UUID_RE)
Timestamp = Annotated[pattern(TS_RE), BeforeValidator(_timestamp_text)]
Day = Annotated[pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), BeforeValidator(_date_text)]
ClockTime = pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
Identifier = pattern(ID_RE)
CaseId = pattern(ID_RE)
PersonRef = pattern(r"^psn-[A-Za-z0-9_-]{8,64}$")
OfficeId = pattern(r"^[0-9]{4}$")
MunicipalityNumber = pattern(r"^[0-9]{4}$")
Language = pattern(r"^[a-z]{2,3}$")
Service = Literal[
    "financial_assistance", "temporary_housing", "guidance", "work_oriented_follow_up",
    "qualification_programme", "debt_counselling",
]
def _unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("lists an item twice; list each item once")
    return values


Services = Annotated[list[Service], Field(min_length=1, max_length=6), AfterValidator(_unique)]
Mode = Literal["office", "mobile_visit", "video", "phone"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class Coordinates(Strict):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class Location(Strict):
    kind: Literal["home", "work", "school"]
    coordinates: Coordinates = None  # type: ignore[assignment]
    municipality_number: MunicipalityNumber = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_place(self) -> Location:
        if (self.coordinates is None) == (self.municipality_number is None):
            raise ValueError("give exactly one of coordinates or municipality_number")
        return self


class PriorityMarkers(Strict):
    young_under_30: bool
    immigrant: bool
    complex_needs: bool


class LanguageNeeds(Strict):
    language: Language
    interpreter_needed: bool


class OpeningHours(Strict):
    weekday: Weekday
    opens: ClockTime
    closes: ClockTime


Locations = Annotated[list[Location], Field(min_length=1, max_length=10)]
Protection = Literal["strictly_confidential", "confidential", "none"]


class Payload(Strict):
    """Base of the payloads."""


class CaseOpenedPayload(Payload):
    case_id: CaseId
    person_ref: PersonRef
    locations: Locations
    priority_markers: PriorityMarkers
    protected_address: Protection
    services: Services
    language_needs: LanguageNeeds
    can_travel: bool
    office_id: OfficeId = None  # type: ignore[assignment]


class CaseUpdatedPayload(Payload):
    case_id: CaseId
    locations: Locations = None  # type: ignore[assignment]
    priority_markers: PriorityMarkers = None  # type: ignore[assignment]
    protected_address: Protection = None  # type: ignore[assignment]
    services: Services = None  # type: ignore[assignment]
    language_needs: LanguageNeeds = None  # type: ignore[assignment]
    can_travel: bool = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _something_changed(self) -> CaseUpdatedPayload:
        if len(self.model_fields_set - {"case_id"}) < 1:
            raise ValueError("case.updated must carry at least one changed field besides case_id")
        return self


class CaseClosedPayload(Payload):
    case_id: CaseId
    reason: Literal["resolved", "withdrawn", "moved_away", "transferred", "other"]


class AppointmentPayload(Payload):
    case_id: CaseId
    appointment_id: Identifier


class AppointmentRequestedPayload(AppointmentPayload):
    service: Service
    earliest: Timestamp
    latest: Timestamp
    preferred_mode: Mode = None  # type: ignore[assignment]


class AppointmentBookedPayload(AppointmentPayload):
    mode: Mode
    starts_at: Timestamp
    duration_min: Annotated[int, Field(ge=5, le=480)]
    office_id: OfficeId = None  # type: ignore[assignment]


class AppointmentCancelledPayload(AppointmentPayload):
    cancelled_by: Literal["person", "office", "system"]
    reason: Literal["illness", "rescheduled", "no_longer_needed", "office_closed", "other"]


class AppointmentCompletedPayload(AppointmentPayload):
    completed_at: Timestamp
    outcome: Literal["resolved", "follow_up_needed"]


class AppointmentNoShowPayload(AppointmentPayload):
    scheduled_at: Timestamp


class OfficeStatusChangedPayload(Payload):
    office_id: OfficeId
    status: Literal["open", "temporarily_closed", "closed_for_good"]
    staff_on_duty: Annotated[int, Field(ge=0, le=1000)]
    daily_capacity: Annotated[int, Field(ge=0, le=100000)]
    effective_from: Timestamp
    opening_hours: Annotated[list[OpeningHours], Field(max_length=14)] = None  # type: ignore[assignment]


class ShiftScheduledPayload(Payload):
    worker_id: Identifier
    team_id: Identifier
    shift_date: Day
    available: bool
    starts: ClockTime
    ends: ClockTime
    base: Coordinates
    skills: Services
    languages: Annotated[list[Language], Field(max_length=20), AfterValidator(_unique)] = None  # type: ignore[assignment]


class VisitPayload(Payload):
    case_id: CaseId
    visit_id: Identifier
    worker_id: Identifier


class VisitCompletedPayload(VisitPayload):
    completed_at: Timestamp


class VisitFailedPayload(VisitPayload):
    attempted_at: Timestamp
    reason: Literal["not_at_home", "refused", "unsafe", "access_problem", "other"]


class EventModel(Strict):
    """The envelope; each event class narrows event_name, schema_version and payload."""

    event_id: Uuid
    event_name: pattern(r"^[a-z_]+\.[a-z_]+$")
    schema_version: Annotated[int, Field(ge=1)]
    occurred_at: Timestamp
    producing_system: pattern(r"^[a-z][a-z0-9-]{1,39}$")
    correlation_id: Uuid
    causation_id: Uuid | None = None
    ordering_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    payload: Payload


def _event_class(name: str, payload: type[Payload]) -> type[EventModel]:
    title = "".join(part.title() for part in name.replace(".", "_").split("_"))
    fields = {
        "event_name": (Literal[name], ...),  # type: ignore[valid-type]
        "schema_version": (Literal[1], ...),
        "payload": (payload, ...),
    }
    from pydantic import create_model

    return create_model(title, __base__=EventModel, __module__=__name__, **fields)


PAYLOADS: dict[str, type[Payload]] = {
    "case.opened": CaseOpenedPayload,
    "case.updated": CaseUpdatedPayload,
    "case.closed": CaseClosedPayload,
    "appointment.requested": AppointmentRequestedPayload,
    "appointment.booked": AppointmentBookedPayload,
    "appointment.cancelled": AppointmentCancelledPayload,
    "appointment.completed": AppointmentCompletedPayload,
    "appointment.no_show": AppointmentNoShowPayload,
    "office.status_changed": OfficeStatusChangedPayload,
    "field_worker.shift_scheduled": ShiftScheduledPayload,
    "visit.completed": VisitCompletedPayload,
    "visit.failed": VisitFailedPayload,
}
MODELS: dict[tuple[str, int], type[EventModel]] = {(n, 1): _event_class(n, p) for n, p in PAYLOADS.items()}


def model_for(name: Any, version: Any) -> type[EventModel] | None:
    """The model of an event name and schema version, or None when the contract has no such event."""
    try:
        return MODELS.get((name, version))
    except TypeError:  # unhashable name or version
        return None


def new_event(name: str, payload: dict[str, Any], *, producing_system: str, ordering_key: str,
              correlation_id: str | None = None, causation_id: str | None = None,
              occurred_at: datetime | None = None, version: int = 1) -> EventModel:
    """Build a validated event with a fresh event id (raises pydantic.ValidationError when invalid)."""
    model = MODELS[(name, version)]
    return model.model_validate({
        "event_id": str(uuid.uuid4()),
        "event_name": name,
        "schema_version": version,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "producing_system": producing_system,
        "correlation_id": correlation_id or str(uuid.uuid4()),
        "causation_id": causation_id,
        "ordering_key": ordering_key,
        "payload": payload,
    })
