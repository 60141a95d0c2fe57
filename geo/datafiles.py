"""Reading geo/data: the manifest, CSV and YAML files, and the time helpers shared by the geo modules.

Only this module knows where the data lives. Errors name the file and what to do about it.
"""

from __future__ import annotations

import csv
import functools
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from geo.errors import GeoDataError, GeoInputError

__all__ = ["DATA", "OSLO", "manifest", "read_csv", "read_yaml", "as_datetime", "local_date", "parse_date"]

DATA = Path(__file__).parent / "data"
OSLO = ZoneInfo("Europe/Oslo")
FIX = "Restore it from git (geo/data is part of the package) or fix geo/data/manifest.yaml."


def _path(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        raise GeoDataError(f"geo data file {path} is missing. {FIX}")
    return path


@functools.cache
def manifest() -> dict[str, Any]:
    return read_yaml("manifest.yaml")


def read_yaml(name: str) -> Any:
    try:
        return yaml.safe_load(_path(name).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GeoDataError(f"{name} is not valid YAML: {exc}. {FIX}") from None


def read_csv(name: str, required: tuple[str, ...] = ()) -> list[dict[str, str]]:
    with open(_path(name), newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise GeoDataError(f"{name} lacks column(s) {missing}; it has {reader.fieldnames}. {FIX}")
        return list(reader)


def parse_date(value: Any, what: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise GeoDataError(f"{what}: {value!r} is not an ISO date (YYYY-MM-DD). {FIX}") from None


def as_datetime(at: datetime | date | str | None) -> datetime:
    """A timezone-aware datetime from `at`: None means now; a date or naive time is Norwegian local time."""
    if at is None:
        return datetime.now(UTC)
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            raise GeoInputError(f"at={at!r} is not an ISO date or time; give e.g. '2020-06-01' or "
                                "'2020-06-01T10:00+02:00'") from None
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=OSLO)
    if isinstance(at, date):
        return datetime.combine(at, time(12), tzinfo=OSLO)
    raise GeoInputError(f"at={at!r} ({type(at).__name__}) is not a time; give a datetime, a date, an ISO string "
                        "or None for now")


def local_date(at: datetime) -> date:
    """The Norwegian calendar date of an aware datetime (validity dates are Norwegian dates)."""
    return at.astimezone(OSLO).date()
