"""Timestamps and dates of the contract: RFC 3339 with a time zone, and calendar dates."""

from __future__ import annotations

from datetime import date, datetime

__all__ = ["is_aware_timestamp", "is_date", "parse_timestamp"]


def parse_timestamp(value: str) -> datetime | None:
    """The timestamp as an aware datetime, or None when it is not one (no zone, impossible date)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def is_aware_timestamp(value: object) -> bool:
    return not isinstance(value, str) or parse_timestamp(value) is not None


def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
