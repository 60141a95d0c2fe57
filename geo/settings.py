"""geo's own settings (pydantic-settings, env prefix VEIVISER_GEO_), read once by the process that routes.

    VEIVISER_GEO_OSRM_URL       base URL of an OSRM server; when set, travel times come from its table service
    VEIVISER_GEO_OSRM_PROFILE   OSRM profile (default driving)
    VEIVISER_GEO_OSRM_TIMEOUT_S HTTP timeout in seconds (default 5)

Unset (the default), the great-circle model of geo/data/travel.yaml is used: no network needed.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.errors import GeoInputError
from geo.travel import OsrmTableModel, TravelModel, default_model

__all__ = ["GeoSettings", "load_geo_settings", "travel_model"]


class GeoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VEIVISER_GEO_", extra="ignore", frozen=True)

    osrm_url: str | None = Field(default=None, pattern=r"^https?://", description="OSRM server base URL.")
    osrm_profile: str = Field(default="driving", pattern=r"^[a-z_-]+$")
    osrm_timeout_s: float = Field(default=5.0, gt=0, le=120)


def load_geo_settings() -> GeoSettings:
    try:
        return GeoSettings()
    except ValidationError as exc:
        problems = "; ".join(f"VEIVISER_GEO_{'_'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
                             for e in exc.errors())
        raise GeoInputError(f"bad geo setting(s): {problems}. Fix or unset the variable(s).") from None


def travel_model(settings: GeoSettings) -> TravelModel:
    """OSRM when configured, else the great-circle model (pass it to geo.Router(travel=...))."""
    if settings.osrm_url:
        return OsrmTableModel(settings.osrm_url, settings.osrm_profile, settings.osrm_timeout_s)
    return default_model()
