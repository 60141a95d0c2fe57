"""Errors of the stream processors (streams/).

    StreamError             base
    ├── SettingsProblem     a VEIVISER_STREAMS_* variable has a bad value (the message names it and the fix)
    ├── LedgerRefused       the database refused a batch for what is in it (not for being away): the agent
                            splits the batch to find the message and dead-letters it, so nothing stalls
    └── TransientError      the database or broker is briefly away: retry the same message with
                            backoff; never dead-letter it (see streams.retry)

Anything else a stage raises is not an error of the stream: `streams.stages.handle` turns it into the
outcome FAILED and the message goes to the dead-letter topic with the error, so no partition stalls.
"""

from __future__ import annotations

__all__ = ["StreamError", "SettingsProblem", "LedgerRefused", "TransientError"]


class StreamError(Exception):
    """Base of the stream processors' errors."""


class TransientError(StreamError):
    """A dependency is briefly unavailable; the same message is retried with backoff."""


class SettingsProblem(StreamError):
    """A stream worker setting is bad; the message names the variable, the value and the fix."""


class LedgerRefused(StreamError):
    """The database refused the batch's rows (a constraint, a value it cannot store); retrying cannot help."""
