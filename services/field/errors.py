"""The field service's exceptions. Every one carries the HTTP status it maps to and a fix.

    FieldError                 base: status, message (what was wrong), fix (what to do)
    ├── NotAuthenticated  401  no bearer token, or one the service does not know
    ├── NotYours          403  the token's worker asks for another worker's route or visit
    ├── NoSuchVisit       404  no planned visit has this id
    ├── BadAction         422  an unknown action, a missing or unknown reason, a bad date
    ├── ActionConflict    409  the visit already has another outcome (completed vs could not meet)
    └── Unavailable       503  the database or the broker did not answer; nothing was lost, send again
"""

from __future__ import annotations

__all__ = ["FieldError", "NotAuthenticated", "NotYours", "NoSuchVisit", "BadAction", "ActionConflict",
           "Unavailable"]


class FieldError(Exception):
    status = 400

    def __init__(self, message: str, fix: str):
        super().__init__(f"{message}; {fix}")
        self.message = message
        self.fix = fix

    def body(self) -> dict[str, str]:
        return {"error": self.message, "fix": self.fix}


class NotAuthenticated(FieldError):
    status = 401


class NotYours(FieldError):
    status = 403


class NoSuchVisit(FieldError):
    status = 404


class BadAction(FieldError):
    status = 422


class ActionConflict(FieldError):
    status = 409


class Unavailable(FieldError):
    status = 503
