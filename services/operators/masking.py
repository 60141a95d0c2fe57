"""What an operator may see of a dead letter: counts and reasons, not personal data (pure).

Masked in the value: person references, case ids (and what carries them: the ordering key, appointment
ids, the record key), coordinates (lat/lon anywhere, and anything under a location-bearing key such as
"coordinates", "base" or "locations", whatever its shape: [14.4, 67.28] too) and addresses. Kept: event names, times, municipality
numbers, office and team ids, the problems' paths. Every masked value is also masked wherever it appears
in the reasons' text, and text that is not JSON is masked by pattern. Identity numbers were masked before
the message was dead-lettered (events.identity); they are masked here again, in case: in every key and
string of the value (a note field) and in text that is not JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from events import identity

__all__ = ["MASK", "SENSITIVE", "LOCATIONS", "mask_event", "mask_text", "Masker", "render_value"]

MASK = "•••"
SENSITIVE = frozenset({"person_ref", "case_id", "ordering_key", "appointment_id", "lat", "lon", "latitude",
                       "longitude", "address", "street", "street_address", "postal_code", "postcode",
                       "home_address", "name", "phone", "email"})
# Keys whose value is a place, whatever its shape (object, array, text, number): masked as a whole.
LOCATIONS = frozenset({"coordinates", "coords", "location", "locations", "base", "position", "geometry", "point",
                       "home", "where", "address", "home_address", "street_address", "geo", "latlon", "lat_lon",
                       "latlng", "bbox"})
# Texts kept inside a location: what kind of place it is and its municipality, not where it is.
LOCATION_LABELS = frozenset({"kind", "location_kind", "municipality_number", "type", "crs"})
_PERSON_REF = re.compile(r"psn-[A-Za-z0-9_-]{8,64}")
_COORDINATE = re.compile(r"(?<![0-9.])-?[0-9]{1,3}\.[0-9]{3,}(?![0-9])")
# In text that is not JSON: a location-bearing key's number array ([14.4, 67.28], nested or cut short), text
# or number.
_LOCATED = re.compile(r'("(?:' + "|".join(sorted(LOCATIONS)) + r')"\s*:\s*)'
                      r'(\[[0-9.,eE+\-\s\[\]]*(?:\]|$)|"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)')
_KEYED = re.compile(r'("(?:' + "|".join(sorted(SENSITIVE)) + r')"\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)')


def mask_event(value: Any, found: set[str] | None = None, inside_location: bool = False) -> Any:
    """A copy of a parsed JSON value with sensitive fields masked; their values are added to `found`.

    Under a location-bearing key (LOCATIONS: coordinates, base, locations, address, ...) any shape is masked:
    a scalar outright, and inside arrays and objects every number and text, except the labels of
    LOCATION_LABELS ("kind", "municipality_number", ...). Every other string (and every key) has identity
    numbers and person references masked again.
    """
    if isinstance(value, dict):
        return {_mask_key(key): _masked_item(key, item, found, inside_location) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_event(item, found, inside_location) for item in value]
    if inside_location and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return _hide(value, found)
    if isinstance(value, str):
        return _mask_leaf(value)
    return identity.mask_value(value)


def _masked_item(key: str, item: Any, found: set[str] | None, inside_location: bool) -> Any:
    if item is None:
        return None
    if key in SENSITIVE and not isinstance(item, (dict, list)):
        return _hide(item, found)
    if key in LOCATIONS:
        return _hide(item, found) if not isinstance(item, (dict, list)) else mask_event(item, found, True)
    if inside_location and key in LOCATION_LABELS and isinstance(item, str):
        return _mask_leaf(item)
    return mask_event(item, found, inside_location)


def _hide(item: Any, found: set[str] | None) -> str:
    if found is not None:
        found.add(str(item))
    return MASK


def _mask_key(key: str) -> str:
    return identity.mask_text(key) if identity.contains_identity_number(key) else key


def _mask_leaf(text: str) -> str:
    if identity.contains_identity_number(text):
        text = identity.mask_text(text)
    return _PERSON_REF.sub(MASK, text)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text (a reason, an error, a value that is not JSON) with sensitive values masked."""
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _KEYED.sub(lambda m: m.group(1) + f'"{MASK}"', text)
    text = _LOCATED.sub(lambda m: m.group(1) + f'"{MASK}"', text)
    text = _PERSON_REF.sub(MASK, text)
    return identity.mask_text(_COORDINATE.sub(MASK, text))


class Masker:
    """Masks one dead letter consistently: what is masked in its value is masked in its reasons too."""

    def __init__(self, value: bytes | None, key: bytes | None):
        self.secrets: set[str] = set()
        self.event = _parse(value)
        self.masked_event = mask_event(self.event, self.secrets) if self.event is not None else None
        if key:
            self.secrets.add(key.decode("utf-8", "replace"))

    def text(self, text: str) -> str:
        return mask_text(text, self.secrets)

    def value(self, value: bytes | None) -> tuple[str, str]:
        """(encoding, text) of the masked value: 'json' pretty-printed, 'text', or 'empty'."""
        if self.masked_event is not None:
            return "json", json.dumps(self.masked_event, ensure_ascii=False, indent=2)
        if not value:
            return "empty", ""
        return "text", self.text(value.decode("utf-8", "replace"))


def render_value(value: bytes | None) -> tuple[str, str]:
    """(encoding, text) of the unmasked value: 'json' pretty-printed, 'text', 'hex' for binary, or 'empty'."""
    if not value:
        return "empty", ""
    event = _parse(value)
    if event is not None:
        return "json", json.dumps(event, ensure_ascii=False, indent=2)
    try:
        return "text", value.decode("utf-8")
    except UnicodeDecodeError:
        return "hex", value.hex(" ")


def _parse(value: bytes | None) -> Any:
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None
