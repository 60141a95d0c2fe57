"""The operator console's exceptions; each message names the bad value, what is allowed and the fix.

The HTTP API answers them as {"error": str(exc), "fix": exc.fix} (the class's FIX unless one is given).

    OperatorsError                 base of everything below
    ├── DeadLetterNotFound         no dead letter at that topic/partition/offset (or it expired)
    ├── ActionRefused              the dead letter's state forbids the action (already replayed, discarded,
    │                              a replay loop); `force` overrides where that is safe
    └── NotReplayable              the dead letter says nowhere to replay it to (no origin topic)
"""

from __future__ import annotations

__all__ = ["OperatorsError", "DeadLetterNotFound", "ActionRefused", "NotReplayable"]


class OperatorsError(Exception):
    """Base of the operator console's errors."""

    FIX = "read the error, correct the request and send it again"

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.fix = fix or self.FIX


class DeadLetterNotFound(OperatorsError):
    """No such dead letter."""

    FIX = "take the PARTITION:OFFSET from GET /api/deadletters (dead letters past the topic's retention are gone)"


class ActionRefused(OperatorsError):
    """The action conflicts with what was already done to the dead letter."""

    FIX = "give a reason in 'why', or send \"force\": true where the error says forcing is what you want"


class NotReplayable(OperatorsError):
    """The dead letter carries no topic to replay it to."""

    FIX = "discard it with a reason; the sender must send the event again after fixing it"
