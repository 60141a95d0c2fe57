"""When a mobile visit may start, from where it takes place (the person's location kind).

    school  in school hours (default 08:30-14:30), Monday to Friday
    work    at lunchtime (11:00-12:30) or after work (16:00-19:00), Monday to Friday
    home    in working hours (09:00-15:00), any day a worker has a shift

Windows are local clock times (Europe/Oslo) for the START of the visit; the visit's duration may run past
the window's end, never past the worker's shift. `WindowRules` is a value: pass your own to change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from geo.errors import GeoInputError

__all__ = ["WindowRules", "day_windows", "KINDS"]

KINDS = ("home", "work", "school")
Span = tuple[time, time]


def _default_windows() -> dict[str, tuple[Span, ...]]:
    return {
        "school": ((time(8, 30), time(14, 30)),),
        "work": ((time(11, 0), time(12, 30)), (time(16, 0), time(19, 0))),
        "home": ((time(9, 0), time(15, 0)),),
    }


@dataclass(frozen=True)
class WindowRules:
    windows: dict[str, tuple[Span, ...]] = field(default_factory=_default_windows)
    weekdays_only: frozenset[str] = frozenset({"school", "work"})

    def __post_init__(self) -> None:
        missing = set(KINDS) - set(self.windows)
        if missing:
            raise GeoInputError(f"window rules lack the location kind(s) {sorted(missing)}; give windows for each "
                                f"of {KINDS}")
        for kind, spans in self.windows.items():
            for start, end in spans:
                if end <= start:
                    raise GeoInputError(f"window {start}-{end} for {kind!r} ends before it starts; swap the times")


def day_windows(kind: str, day: date, rules: WindowRules) -> tuple[tuple[int, int], ...]:
    """Start windows of a visit of `kind` on `day`, in seconds after local midnight (empty: not that day)."""
    if kind not in rules.windows:
        raise GeoInputError(f"unknown location kind {kind!r}; use one of {KINDS}")
    if kind in rules.weekdays_only and day.weekday() >= 5:
        return ()
    return tuple((_seconds(a), _seconds(b)) for a, b in rules.windows[kind])


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second
