"""A problem found in an event: where (a field path), what is wrong, and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from events import identity

__all__ = ["Problem", "render_path"]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}. Fix: {self.fix}."

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "fix": self.fix}


def _segment(part: object) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    text = str(part)
    if identity.contains_identity_number(text):
        return ".<key>"
    return "." + (text if len(text) <= 64 else text[:61] + "...")


def render_path(parts: Iterable[object]) -> str:
    """A field path such as payload.locations[0].kind; '$' is the whole event. Keys holding an identity
    number are shown as <key>."""
    text = "".join(_segment(p) for p in parts).lstrip(".")
    return text or "$"
