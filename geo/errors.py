"""The exceptions of geo/, one tree. Every message names the bad value, the valid options and the fix.

    GeoError                      base: catch this to catch everything geo raises
    ├── GeoDataError              a data file is missing, malformed or inconsistent (geo/data/manifest.yaml)
    ├── EditionError              no boundary edition is valid at the requested time
    ├── GeoInputError             a caller passed a bad value (coordinates, time, case fields)
    │   └── UnknownIdError        an office, unit, team or municipality id that the data does not know
    ├── TravelBackendError        the configured travel-time backend (OSRM) failed or answered nonsense
    └── StoreError                loading to or reading from PostGIS failed

A point outside every region is not an error: `locate` and `route` return an explicit "not placeable"
outcome with the distance to the nearest region.
"""

from __future__ import annotations

__all__ = [
    "GeoError",
    "GeoDataError",
    "EditionError",
    "GeoInputError",
    "UnknownIdError",
    "TravelBackendError",
    "StoreError",
]


class GeoError(Exception):
    """Base of every error raised by geo/."""


class GeoDataError(GeoError):
    """A data file named by geo/data/manifest.yaml is missing, malformed or inconsistent."""


class EditionError(GeoError):
    """No boundary edition is valid at the requested time."""


class GeoInputError(GeoError, ValueError):
    """A caller passed a bad value."""


class UnknownIdError(GeoInputError, KeyError):
    """An id that the loaded data does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TravelBackendError(GeoError):
    """The configured travel-time backend failed."""


class StoreError(GeoError):
    """Loading geo data to PostGIS or reading it back failed."""


def unknown(kind: str, value: object, known: list[str] | tuple[str, ...], fix: str) -> UnknownIdError:
    """Build an UnknownIdError naming the value, a few valid options and the fix."""
    options = ", ".join(sorted(known)[:12]) + (" ..." if len(known) > 12 else "")
    return UnknownIdError(f"unknown {kind} {value!r}; known: {options}. {fix}")
