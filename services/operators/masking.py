"""What an operator may see of a dead letter: counts and reasons, not personal data (pure).

Masked in the value: person references, case ids (and what carries them: the ordering key, appointment
ids, the record key), coordinates (lat/lon anywhere) and addresses. Kept: event names, times, municipality
numbers, office and team ids, the problems' paths. Every masked value is also masked wherever it appears
in the reasons' text, and text that is not JSON is masked by pattern. Identity numbers were masked before
the message was dead-lettered (events.identity); they are masked here again, in case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from events import identity

__all__ = ["MASK", "SENSITIVE", "mask_event", "mask_text", "Masker", "render_value"]

MASK = "•••"
SENSITIVE = frozenset({"person_ref", "case_id", "ordering_key", "appointment_id", "lat", "lon", "latitude",
                       "longitude", "address", "street", "street_address", "postal_code", "postcode",
                       "home_address", "name", "phone", "email"})
_PERSON_REF = re.compile(r"psn-[A-Za-z0-9_-]{8,64}")
_COORDINATE = re.compile(r"(?<![0-9.])-?[0-9]{1,3}\.[0-9]{3,}(?![0-9])")
_KEYED = re.compile(r'("(?:' + "|".join(sorted(SENSITIVE)) + r')"\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)')


def mask_event(value: Any, found: set[str] | None = None) -> Any:
    """A copy of a parsed JSON value with sensitive fields masked; their values are added to `found`."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in SENSITIVE and not isinstance(item, (dict, list)) and item is not None:
                if found is not None:
                    found.add(str(item))
                out[key] = MASK
            else:
                out[key] = mask_event(item, found)
        return out
    if isinstance(value, list):
        return [mask_event(item, found) for item in value]
    return value


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text (a reason, an error, a value that is not JSON) with sensitive values masked."""
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _KEYED.sub(lambda m: m.group(1) + f'"{MASK}"', text)
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
