"""Errors of the health collection (streams/health/).

    HealthError             base
    ├── HealthSettingsProblem   a VEIVISER_HEALTH_* variable or option has a bad value (names it and the fix)
    └── ClusterUnreachable      the brokers (or the database) did not answer; the message names the address
                                and how to bring the stack up

A sample that cannot read one part (say the ledger's latency) still reports the rest: the part is None and
a line in HealthReport.problems says why. Only a cluster that does not answer at all raises.
"""

from __future__ import annotations

__all__ = ["HealthError", "HealthSettingsProblem", "ClusterUnreachable"]


class HealthError(Exception):
    """Base of the health collection's errors."""


class HealthSettingsProblem(HealthError):
    """A health setting is bad; the message names the variable or option, the value and the fix."""


class ClusterUnreachable(HealthError):
    """Kafka did not answer; the message names the bootstrap servers and the fix."""
