"""The operator console's exceptions; each message names the bad value, what is allowed and the fix.

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


class DeadLetterNotFound(OperatorsError):
    """No such dead letter."""


class ActionRefused(OperatorsError):
    """The action conflicts with what was already done to the dead letter."""


class NotReplayable(OperatorsError):
    """The dead letter carries no topic to replay it to."""
